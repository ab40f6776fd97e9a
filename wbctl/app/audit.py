"""The audit log: one JSON line per applied (or failed) plan, for the post-incident review.

The file is opened before anything is written to the backend, so a change that cannot be
audited is refused rather than made silently. Each entry is timed by the Session's clock when it
is written, after the settings loaded: in the sandbox that is the simulated clock the signals
are on, so an entry and the signals around it agree. `sandbox reset` appends a mark (a line of
its own) to the sandbox's log: the story restarts, its clock at wall time again, and the
changes before the mark belong to a rehearsal that no longer exists. `read_changes` is the one
reader (the runbook's "changes made with wbctl in the window").
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from wbctl.core.model import AuditRecord, Change, Plan
from wbctl.environment import Environment
from wbctl.errors import BackendError, PartialWriteError, RefusedError
from wbctl.redact import Redactor

RESET = "reset"  # the `event` of the line `sandbox reset` appends


def audit_path(env: Environment) -> Path:
    return env.xdg_dir("XDG_STATE_HOME", ".local/state") / "wbctl" / "audit.jsonl"


def rehearsal_path(sandbox_dir: Path) -> Path:
    """The sandbox's own log, in its directory: rehearsals stay out of the real audit trail."""
    return sandbox_dir / "audit.jsonl"


def _append(path: Path) -> IO[str]:
    """The log opened for appending, created readable by its owner only."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        return os.fdopen(fd, "a", encoding="utf-8")
    except OSError as exc:
        raise RefusedError(
            f"cannot write the audit log {path} ({exc.strerror or exc}): nothing changed; "
            "fix its permissions or set XDG_STATE_HOME"
        ) from None


def _stamp(env: Environment) -> str:
    return env.now().isoformat(timespec="seconds").replace("+00:00", "Z")


def mark_reset(path: Path, env: Environment) -> None:
    """Mark a `sandbox reset` in the sandbox's log: `read_changes` ignores what came before.

    A mark by position, not by time: the reset story's clock starts at wall time again, which
    can stand before (or, after `sandbox advance`, far behind) the entries already written.
    No log yet, no mark: there is nothing to forget, and a reset of nothing writes nothing."""
    if not path.exists():
        return
    with _append(path) as stream:
        stream.write(json.dumps({"time": _stamp(env), "user": env.user(), "event": RESET}) + "\n")


@dataclass
class AuditLog:
    path: Path
    env: Environment
    redact: Redactor
    command: list[str]

    def open(self) -> IO[str]:
        return _append(self.path)

    def record(
        self,
        stream: IO[str],
        plan: Plan,
        result: str,
        error: str | None = None,
        written: PartialWriteError | None = None,
    ) -> None:
        """One line; `written` (a write that stopped midway) adds which changes were applied,
        which not, and which unknown (only when some are)."""
        entry: dict[str, Any] = {
            "time": _stamp(self.env),
            "user": self.env.user(),
            "context": plan.context,
            "command": self.command,
            "target": plan.target,
            "changes": [change.to_json() for change in plan.changes],
            "result": result,
        }
        if error:
            entry["error"] = error
        if written is not None:
            entry["applied"] = [change.to_json() for change in written.applied]
            entry["not_applied"] = [change.to_json() for change in written.not_applied]
            if written.unknown:
                entry["unknown"] = [change.to_json() for change in written.unknown]
        stream.write(json.dumps(self.redact.value(entry), default=str) + "\n")
        stream.flush()


def _change(item: dict[str, Any]) -> Change:
    """An entry's change as written by `Change.to_json` (its path is the applier's, not kept)."""
    return Change(str(item.get("target", "")), str(item.get("key", "")), item.get("before"), item.get("after"))


TAIL_BYTES = 1 << 20  # the window's changes are at the end: read the last MiB, not a year of history


def read_changes(
    path: Path, *, context: str, since: datetime, until: datetime, since_reset: bool = True
) -> list[AuditRecord]:
    """The entries of `context` timed within [since, until], oldest first (unparseable lines
    skipped); with `since_reset`, only those after the last `sandbox reset` mark.

    `since` and `until` are on the clock the entries were timed with, the signals' (the
    sandbox's simulated clock in a rehearsal). The runbook reads its window this way; a
    command listing the changes of an incident can share it."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - TAIL_BYTES))
            text = stream.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackendError(f"cannot read the audit log {path}: {exc.strerror or exc}") from None
    lines = text.splitlines()[1:] if size > TAIL_BYTES else text.splitlines()
    records: list[AuditRecord] = []
    for line in lines:
        try:
            entry = json.loads(line)
            if since_reset and entry.get("event") == RESET:
                records.clear()
                continue
            if entry.get("context") != context:
                continue
            moment = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError, AttributeError):
            continue
        if moment.tzinfo is not None and since <= moment <= until:
            command = " ".join(str(word) for word in entry.get("command") or [])
            changes = tuple(_change(item) for item in entry.get("changes") or () if isinstance(item, dict))
            user, result = str(entry.get("user", "?")), str(entry.get("result", "?"))
            records.append(AuditRecord(moment, user, command, result, changes))
    return sorted(records, key=lambda record: record.time)
