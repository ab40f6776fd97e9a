"""The settings the alerts and the dashboards take (core.alerts.AlertSettings), from the context.

One builder for `alerts rules` and `dashboards ...`, so a dashboard's thresholds and the alert
about the same signal come from the same numbers. `locate` says whether the WeightsAndBiases
resource may be read (one Kubernetes GET, app/locate.py) for an unset gcp-project or
bigtable-instance: `alerts rules` does, as it always has; the dashboards' render commands read
the settings only (no backend connection: a dashboard file is made on a laptop and provisioned
elsewhere), so the instance comes from the settings or W&B's Terraform naming rule
(core.bigtable.default_instance).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from wbctl.app.queue_settings import policy as queue_policy
from wbctl.app.queue_settings import resolved
from wbctl.core import alerts, queue_source

if TYPE_CHECKING:
    from wbctl.app.session import Session


def alert_settings(session: Session, *, locate: bool = True) -> alerts.AlertSettings:
    """The queues' names as wbctl derives them without a cluster (the config, else W&B's
    Terraform names; the filestream's with Pub/Sub only), the retention as the runbook judges
    it, and Bigtable's instance (`locate`: from the resource when unset, else the naming rule)."""
    settings = session.settings()
    if locate:
        bigtable_instance = session.backends.bigtable_instance()  # first: it may fill gcp-project from the resource
    else:
        from wbctl.core.bigtable import default_instance  # only when unset: core.bigtable costs ~8 ms to import

        bigtable_instance = settings["bigtable-instance"] or default_instance(settings["instance"])
    address = resolved(session, None)
    filestream = resolved(session, None, queue_source.FILESTREAM)
    policy = queue_policy(session, address)
    return alerts.AlertSettings(
        context=settings.context,
        queue_source=address.source,
        queue=alerts.queue_words(address),
        subscription=address.subscription,
        project=settings["gcp-project"],
        bigtable_instance=bigtable_instance,
        retention=policy.retention,
        allowed_backlog=policy.allowed_backlog,
        allowed_age=policy.allowed_age,
        auditor_interval=float(settings["alerts-auditor-interval"]),
        runbook_url=settings["alerts-runbook-url"],
        filestream_subscription=filestream.subscription if filestream.source == "pubsub" else None,
        namespace=settings["namespace"],
    )
