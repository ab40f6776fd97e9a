"""The shapes every command shares: findings and reports (judgements), changes and plans.

Their `to_json` methods are the JSON contract of docs/output.md, so every command's machine output
has the same form.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any, ClassVar, Generic, Protocol, TypeVar

T = TypeVar("T")


class Status(str, Enum):
    OK = "ok"
    WARN = "warn"
    FAIL = "fail"
    UNKNOWN = "unknown"


class Proposal(Protocol):
    """A change a finding or a diagnosis recommends, as data: the command a human would type
    (`argv`) and, through the request's own `plan`, the plan that command applies. So a
    pasted remedy and `runbook queue-backlog --fix` take the same planning code and the same
    mutation path.
    """

    backend: ClassVar[str]  # which adapter applies it: "bigtable", "kube", "redis"

    def argv(self) -> tuple[str, ...]:
        """The wbctl arguments after `wbctl` (global options are the caller's: see `command`)."""
        ...


def command(proposal: Proposal, prefix: str = "wbctl") -> str:
    return " ".join([prefix, shlex.join(proposal.argv())])


_WBCTL_COMMAND = re.compile(r"(?<![\w-])wbctl (?=[a-z])")


def invoked_as(text: str, prefix: str) -> str:
    """`text` with every `wbctl <command>` in it carrying this invocation's global options
    (`--context prod`, `--sandbox --scenario x`), so a pasted remedy reaches the same place."""
    if prefix == "wbctl" or not text:
        return text
    return _WBCTL_COMMAND.sub(prefix + " ", text)


@dataclass(frozen=True)
class Observed(Generic[T]):
    """A value read from a backend, or why it is unknown (what it feeds becomes unknown too)."""

    value: T | None
    reason: str = ""

    @property
    def known(self) -> bool:
        return self.value is not None

    @classmethod
    def unknown(cls, reason: str) -> Observed[Any]:
        return cls(None, reason)


@dataclass(frozen=True)
class Finding:
    check: str  # stable dotted id, e.g. "redis.bigtablev3.filestream.write_cache_size"
    status: Status
    target: str
    observed: Any
    expected: Any
    message: str
    remedy: str = ""  # a command that works when pasted, or the step to take
    proposal: Proposal | None = field(default=None, compare=False)  # the remedy as data, when it is a change

    def __post_init__(self) -> None:
        if self.proposal is not None and not self.remedy:
            object.__setattr__(self, "remedy", command(self.proposal))

    def to_json(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "status": self.status.value,
            "target": self.target,
            "observed": self.observed,
            "expected": self.expected,
            "message": self.message,
            "remedy": self.remedy,
        }


@dataclass(frozen=True)
class Report:
    findings: tuple[Finding, ...]

    @classmethod
    def all_unknown(cls, check_ids: Iterable[str], target: str, reason: str) -> Report:
        """Every one of `check_ids` unknown on `target`, for `reason` (what they read failed)."""
        return cls(tuple(Finding(check_id, Status.UNKNOWN, target, None, None, reason) for check_id in check_ids))

    @property
    def summary(self) -> dict[str, int]:
        counts = {status.value: 0 for status in Status}
        for finding in self.findings:
            counts[finding.status.value] += 1
        return counts

    def has(self, *statuses: Status) -> bool:
        return any(finding.status in statuses for finding in self.findings)

    def invoked_as(self, prefix: str) -> Report:
        """The report with its remedies carrying this invocation's global options."""
        from dataclasses import replace

        return Report(tuple(replace(f, remedy=invoked_as(f.remedy, prefix)) for f in self.findings))

    def to_json(self) -> dict[str, Any]:
        return {"findings": [f.to_json() for f in self.findings], "summary": self.summary}


@dataclass(frozen=True)
class Expiry:
    """A key's time to live around a change, in seconds (None: no expiry)."""

    before: int | None
    after: int | None


@dataclass(frozen=True)
class Change:
    target: str
    key: str
    before: Any  # None: absent
    after: Any  # None: removed
    expiry: Expiry | None = None
    path: tuple[str, ...] = ()  # where `key` lives inside the target's object, for appliers

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"target": self.target, "key": self.key, "before": self.before, "after": self.after}
        if self.expiry is not None:
            doc["ttl_seconds"] = {"before": self.expiry.before, "after": self.expiry.after}
        return doc


@dataclass(frozen=True)
class KubeWrite:
    """What a Kubernetes write needs beyond its changes."""

    resource_version: str = ""  # the version the diff was made from: the write's precondition
    create: dict[str, Any] | None = None  # the manifest of an object the write creates (an HPA)
    api_version: str = ""  # the WeightsAndBiases version a CR patch is sent at ("": apps.wandb.com/v1)


@dataclass(frozen=True)
class AutoscalingWrite:
    """The whole autoscaling config a Bigtable cluster ends with: the API replaces it as a unit."""

    min_nodes: int
    max_nodes: int
    cpu_target: int
    storage_gib: int | None = None


Write = KubeWrite | AutoscalingWrite


@dataclass(frozen=True)
class Plan:
    """What a command will change, shown as a diff before anything is written.

    `summary` names the effect in words for the confirmation prompt (what an SRE must know
    before saying yes); `notes` are facts about the plan the diff alone does not show.
    """

    context: str
    target: str  # the backend the changes go to, without credentials
    changes: tuple[Change, ...]
    summary: str
    notes: tuple[str, ...] = field(default_factory=tuple)
    nothing_to_do: str = "no changes"
    writes: dict[str, Write] = field(default_factory=dict)  # per target, what its applier needs beyond the changes

    @property
    def empty(self) -> bool:
        return not self.changes

    def by_target(self) -> dict[str, list[Change]]:
        """The changes grouped by the object they change, in order: one write per object."""
        grouped: dict[str, list[Change]] = {}
        for change in self.changes:
            grouped.setdefault(change.target, []).append(change)
        return grouped

    def to_json(self, applied: bool) -> dict[str, Any]:
        return {
            "context": self.context,
            "target": self.target,
            "changes": [c.to_json() for c in self.changes],
            "applied": applied,
        }


@dataclass(frozen=True)
class AuditRecord:
    """A change wbctl made (from its audit log), shown as what happened in the window."""

    time: datetime
    user: str
    command: str
    result: str
    changes: tuple[Change, ...] = ()  # what it changed (target, key, before, after): a raise just made is known
