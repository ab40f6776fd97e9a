"""What the runbook's diagnosis reads and what it says: evidence, steps, the diagnosis.

The shapes shared by the diagnosis (core/runbook/__init__.py) and its capacity and noisy-run
steps (core/runbook/steps.py), with the thresholds they judge by. Pure data; no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from wbctl.core.bigtable import BigtableObservation
from wbctl.core.kube import KubeObservation
from wbctl.core.model import AuditRecord, Observed, Proposal, Status
from wbctl.core.queue import Judgement, Verdict
from wbctl.core.queue_source import QueueAddress
from wbctl.core.redis_settings import DiscardState
from wbctl.core.series import SignalData
from wbctl.core.timeline import Happening

READ_PREFIX = re.compile(r"^read \S+ of ")  # "read <metric type> of projects/p: why": the same why for every metric
DOMINANT_SHARE = 0.5
DOMINANT_RATIO = 3.0
TOP_RUNS = 5
DISCARD_TTL = 2 * 3600
HOT_PARTITION_SHARE = 0.5


@dataclass(frozen=True)
class RunLoad:
    """One run's load as the noisy-run query measures it (per second, over 10 minutes)."""

    run: str
    rate: float


@dataclass(frozen=True)
class BigtableEvidence:
    admin: Observed[BigtableObservation]
    cpu: SignalData
    hottest: SignalData
    nodes: SignalData


@dataclass(frozen=True)
class Evidence:
    """Everything the diagnosis reads, each piece known or unknown with its reason."""

    now: datetime
    address: QueueAddress
    judgement: Judgement
    bigtable: BigtableEvidence
    kube: Observed[KubeObservation]
    discard: Observed[DiscardState]
    loads: Observed[list[RunLoad]] | None  # None: no noisy-run-query configured
    changes: Observed[list[AuditRecord]]
    invocation: str = "wbctl"  # how a printed wbctl command starts (`wbctl --context prod`)
    kubectl: str = "kubectl"  # how a printed kubectl command starts (`kubectl --context c -n ns`)
    filestream_address: QueueAddress | None = None  # the filestream's own queue; None: not read
    filestream: Judgement | None = None  # its judgement (None: not read, or no queue: `none`)
    timeline: tuple[Happening, ...] = ()  # what changed in the window, every source (core/timeline.py)


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    next: str = ""  # the command (or instruction) to act on this step
    proposals: tuple[Proposal, ...] = ()  # the changes `next` makes, as data
    fixable: bool = False  # --fix applies these proposals (never a discard)
    wait_until: datetime | None = None  # the step says wait (a fix takes effect, the backlog drains): until then


@dataclass(frozen=True)
class Diagnosis:
    judgement: Judgement
    address: QueueAddress
    steps: tuple[Step, ...]
    changes: tuple[AuditRecord, ...] = ()
    changes_reason: str = ""
    headline: str = ""
    next: str = ""
    filestream: Judgement | None = None  # the filestream queue, shown in step 1 beside the run-updates queue
    filestream_address: QueueAddress | None = None  # its address (None: not read or `none`)
    before_rise: tuple[Happening, ...] = ()  # the window's changes that precede the rise (timeline.before_rise)

    @property
    def loss_projected(self) -> bool:
        return self.judgement.loss is not None and self.judgement.loss.projected

    @property
    def fixes(self) -> tuple[Proposal, ...]:
        """What `--fix` applies: on growing, steady, or draining with projected loss; never on a
        stall; only raised limits, never a discard."""
        if not self.judgement.needs_capacity:
            return ()
        return tuple(p for step in self.steps if step.fixable for p in step.proposals)

    @property
    def exit_status(self) -> int:
        if self.judgement.verdict is Verdict.UNKNOWN:
            return 3
        if self.judgement.verdict is not Verdict.NONE or self.loss_projected:
            return 1
        return 0


# --- how numbers and times read -------------------------------------------------------


def amount(value: float | None, unit: str = "") -> str:
    if value is None:
        return "unknown"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k{unit}" if abs(value) < 10_000_000 else f"{value / 1e6:,.1f}M{unit}"
    return f"{value:,.0f}{unit}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}{unit}"


def clock(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%H:%M} UTC"
