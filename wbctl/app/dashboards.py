"""`wbctl dashboards`: the dashboards rendered from the context's settings, written atomically,
and the Cloud Monitoring one applied through the Dashboards API on the one mutation path.

Rendering reads the settings only (app/alert_settings.py with locate=False): no backend is
contacted, so a dashboard is made on a laptop and provisioned wherever it runs. Applying reads
the live dashboard (GetDashboard), diffs it against the rendered one (core/dashboard_diff.py),
and, once confirmed, creates it or updates it with the etag the diff was made from; a
dashboard edited in between is read again and diffed again (mutation.execute's re-plan), never
overwritten blind. The renderers are core/dashboards/ (pure: one catalogue of signals,
core/signals.py, feeds them and the alerts).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wbctl.app.alert_settings import alert_settings
from wbctl.app.session import Session
from wbctl.core import dashboard_diff
from wbctl.core.model import Plan
from wbctl.errors import UsageError, VerificationError

if TYPE_CHECKING:
    from wbctl.adapters.google.dashboards import DashboardsAdapter

APPLIED_FORMAT = (
    "cloud-monitoring"  # the one format wbctl applies itself (Grafana, Datadog: provisioned by their users)
)


@dataclass(frozen=True)
class Rendered:
    """A dashboard document and what to say about it on stderr."""

    document: dict[str, Any]
    notes: tuple[str, ...]


def render(session: Session, fmt: str) -> Rendered:
    """The `fmt` dashboard for this context, from its settings alone (no backend connection)."""
    from wbctl.core import dashboards

    if fmt not in dashboards.FORMATS:
        raise UsageError(f"dashboard format {fmt}: expected one of {', '.join(dashboards.FORMATS)}")
    settings = alert_settings(session, locate=False)
    return Rendered(dashboards.render(fmt, settings), tuple(dashboards.notes(fmt, settings)))


def document_text(session: Session, document: dict[str, Any]) -> str:
    """The JSON as stdout shows it (through the secret redactor, as everything wbctl writes)."""
    return json.dumps(session.terminal().redact.value(document), indent=2, default=str) + "\n"


# --- --out FILE ---------------------------------------------------------------------------


def check_out(text: str) -> Path:
    """--out: a file in an existing, writable directory (an existing file is replaced: a
    dashboard is regenerated, not archived). Checked before anything is rendered."""
    from wbctl.config.writer import check_target

    path = Path(text)
    check_target(path, "--out")
    if path.exists() and not os.access(path, os.W_OK):
        raise UsageError(f"--out {text}: the file exists and is not writable")
    return path


def write_out(path: Path, text: str) -> None:
    """`text` to `path` atomically (config.writer.write_atomically): a reader, a Grafana
    provisioner polling the directory, sees the old file or the new one, never half. A new file
    is readable by all (a dashboard is no secret); an existing one keeps its permissions."""
    from wbctl.config.writer import write_atomically

    try:
        write_atomically(path, text, new_mode=0o644)
    except OSError as exc:
        raise UsageError(f"--out {path}: cannot write it: {exc.strerror or exc}") from None


# --- apply cloud-monitoring -----------------------------------------------------------------


class DashboardApplier:
    """The mutation path's applier for one dashboard: it plans from a fresh read (and keeps the
    etag that read gave), creates or updates, and reads back."""

    def __init__(self, adapter: DashboardsAdapter, name: str, desired: dict[str, Any], context: str) -> None:
        self.adapter = adapter
        self.name = name
        self.desired = desired  # canonical (DashboardsAdapter.canonical)
        self.context = context
        self.observed: dashboard_diff.DashboardObservation | None = None

    def plan(self) -> Plan:
        self.observed = self.adapter.observe(self.name)
        return dashboard_diff.plan(self.observed, self.desired, self.context)

    def _write(self, *, validate_only: bool) -> None:
        observed = self.observed
        assert observed is not None, "plan() reads the dashboard before anything is written"
        if observed.exists:
            self.adapter.update(self.name, self.desired, observed.etag, validate_only=validate_only)
        else:
            self.adapter.create(self.name, self.desired, validate_only=validate_only)

    def validate(self, plan: Plan) -> None:
        """--dry-run: the API's own check of the write (validate_only), nothing saved."""
        self._write(validate_only=True)

    def apply(self, plan: Plan) -> None:
        self._write(validate_only=False)

    def read_back(self, plan: Plan) -> bool:
        """The dashboard read again is the one written, by the diff's own rule (a field the
        API added is no difference); VerificationError names the first that differs."""
        found = self.adapter.observe(self.name)
        if not found.exists:
            raise VerificationError(f"read-back of the dashboard {self.name}: it is missing")
        left = dashboard_diff.differences(found, self.desired)
        if left:
            raise VerificationError(
                f"read-back of the dashboard {self.name}: {left[0].key} is {left[0].before!r}, not {left[0].after!r}"
            )
        return True


def apply_cloud_monitoring(session: Session, *, dry_run: bool, yes: bool) -> bool:
    """Create or update this context's Cloud Monitoring dashboard; True when it was written.
    The project is the context's (or the WeightsAndBiases resource's, as for every Google
    call), and Bigtable's instance is located the same way: the dashboard applied to a real
    project selects the real instance."""
    from wbctl.core import dashboards

    adapter = session.backends.dashboards()
    settings = alert_settings(session, locate=True)
    name = adapter.name(dashboards.cloud_monitoring.dashboard_id(settings))
    desired = adapter.canonical(dashboards.render(APPLIED_FORMAT, settings))
    applier = DashboardApplier(adapter, name, desired, session.settings().context_label)
    written = session.apply(applier.plan(), applier, dry_run=dry_run, yes=yes, replan=applier.plan)
    for note in dashboards.notes(APPLIED_FORMAT, settings):  # after the outcome: a failure stays one line
        session.terminal().info(f"note: {note}")
    return written
