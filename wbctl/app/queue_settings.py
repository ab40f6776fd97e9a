"""How a queue is named and judged from the settings alone: its address (the queue-* settings
over what was discovered, else W&B's Terraform names) and its policy (allowed backlog and age,
retention). Apart from app/reads.py, which imports the read models, so that `alerts rules` and
`dashboards` (settings only) start without them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from wbctl.core import queue_source
from wbctl.core.queue import Policy
from wbctl.core.queue_source import QueueAddress, QueueKind

if TYPE_CHECKING:
    from wbctl.app.session import Session


def resolved(
    session: Session, discovered: QueueAddress | None, kind: QueueKind = queue_source.RUN_UPDATES
) -> QueueAddress:
    """A queue's address from what was discovered (None: nothing, as `alerts rules` has no
    cluster) and the queue-* settings (which name the run-updates queue only)."""
    settings = session.settings()
    return queue_source.resolve(
        discovered,
        source=settings["queue-source"],
        subscription=settings["queue-subscription"],
        topic=settings["queue-topic"],
        project=settings["gcp-project"],
        install=settings["instance"],
        partitions=settings["queue-partitions"],
        kind=kind,
    )


def policy(session: Session, address: QueueAddress, kind: QueueKind = queue_source.RUN_UPDATES) -> Policy:
    """How a queue is judged: the allowed backlog and age for both queues; the retention the
    settings give (queue-retention names the run-updates queue), else Pub/Sub's 7 days."""
    settings = session.settings()
    retention = settings["queue-retention"] if kind.configurable else None
    if retention is None and address.source == "pubsub":
        retention = Policy().retention  # the W&B Terraform module's 7 days
    return Policy(
        allowed_backlog=float(settings["queue-allowed-backlog"]),
        allowed_age=float(settings["queue-allowed-age"]),
        retention=float(retention) if retention is not None else None,
    )
