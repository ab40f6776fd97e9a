"""What changed, on one time axis: the observations `wbctl changes` (and the runbook's changes
before the rise) are made of, each turned into `Happening`s and merged oldest first.

Why one module: the sources (wbctl's audit log, the WeightsAndBiases resource, ReplicaSet
revisions, Events, Bigtable's node count, the discard key, the queue's rise) each say "when,
what, from what to what" in their own shape; here they become one shape, so the list, its
filters (`--since`, `--service`) and its two renderings (lines and JSON) are written once.
Pure: the adapters read, this judges.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wbctl.core import catalog
from wbctl.core.kube import Pod
from wbctl.core.model import AuditRecord
from wbctl.core.redis_settings import DiscardState

# the sources, as `source` names them (and the JSON's "source")
WBCTL, RESOURCE, ROLLOUT, SCALING, PODS, BIGTABLE, DISCARD, QUEUE = (
    "wbctl",
    "resource",
    "rollout",
    "scaling",
    "pods",
    "bigtable",
    "discard",
    "queue",
)
SOURCES = (WBCTL, RESOURCE, ROLLOUT, SCALING, PODS, BIGTABLE, DISCARD, QUEUE)

# the Events that are changes or trouble (Kubernetes' own reasons: kubelet, scheduler, HPA, KEDA)
SCALING_REASONS = frozenset({"SuccessfulRescale", "FailedRescale", "KEDAScalersStarted", "KEDAScaleTargetActivated"})
TROUBLE_REASONS = frozenset(
    {"OOMKilling", "OOMKilled", "BackOff", "Evicted", "FailedScheduling", "Killing", "Unhealthy", "Failed"}
)
RISE_LOOKBACK = timedelta(hours=1)  # how far before the queue's rise the runbook looks for its cause
REVISION = "deployment.kubernetes.io/revision"  # what the Deployment controller writes on its ReplicaSets


@dataclass(frozen=True)
class Happening:
    """One change: when, where it was seen (`source`), what it concerns (`subject`, e.g.
    `deployment/wandb-flat-run-fields-updater`), in words, and from what to what when known.
    `service` is the guide's service name when the change is one service's (for --service)."""

    time: datetime
    source: str
    subject: str
    what: str
    before: Any = None
    after: Any = None
    service: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {
            "time": iso(self.time),
            "source": self.source,
            "subject": self.subject,
            "what": self.what,
            "from": self.before,
            "to": self.after,
            "service": self.service,
        }

    def line(self) -> str:
        return line(self.to_json())


MOVED_KEYS_SHOWN = 3  # a change of more keys than this (a dashboard's tiles) is named, not spelt out


def line(item: dict[str, Any]) -> str:
    """One change as `wbctl changes` prints it, from its JSON form (what the command holds)."""
    before, after = item["from"], item["to"]
    moved = f" ({before} -> {after})" if before is not None or after is not None else ""
    if isinstance(before, dict) or isinstance(after, dict):
        keys = list(dict.fromkeys([*(before or {}), *(after or {})]))
        if len(keys) > MOVED_KEYS_SHOWN:
            moved = f" ({len(keys)} keys: {', '.join(keys[:MOVED_KEYS_SHOWN])}, ...; -o json lists each)"
    return f"{item['time']}  {item['source']:<8}  {item['subject']}: {item['what']}{moved}"


# --- the observations, as the adapters hand them over ----------------------------------------


@dataclass(frozen=True)
class Revision:
    """A Deployment's ReplicaSet: its revision, when it was made, and its containers' images."""

    deployment: str
    name: str
    revision: int
    created: datetime
    images: tuple[str, ...]
    service: str | None = None  # the app.kubernetes.io/name label's catalog name


@dataclass(frozen=True)
class KubeEvent:
    """An Event as the API server keeps it (core/v1): about which object, why, how often, when."""

    kind: str
    name: str
    reason: str
    message: str
    type: str
    count: int
    first: datetime | None
    last: datetime | None
    component: str = ""


@dataclass(frozen=True)
class FieldWrite:
    """One managedFields entry: who wrote the resource, how, and when."""

    manager: str
    operation: str
    time: datetime | None
    subresource: str = ""


@dataclass(frozen=True)
class ConditionChange:
    type: str
    status: str
    reason: str
    time: datetime | None


@dataclass(frozen=True)
class ResourceHistory:
    """What the WeightsAndBiases resource says of its own changes."""

    name: str
    generation: int | None
    writes: tuple[FieldWrite, ...] = ()
    conditions: tuple[ConditionChange, ...] = ()


@dataclass(frozen=True)
class NodeCount:
    """Bigtable's node count series over the window: (time, nodes) points."""

    cluster: str
    points: tuple[tuple[datetime, float], ...] = ()


@dataclass
class Sources:
    """Everything one `changes` read found; a source that could not be read is a note."""

    now: datetime
    audit: Sequence[AuditRecord] = ()
    resource: ResourceHistory | None = None
    revisions: Sequence[Revision] = ()
    events: Sequence[KubeEvent] = ()
    nodes: Sequence[NodeCount] = ()
    discard: DiscardState | None = None
    rise_began: datetime | None = None
    pods: Sequence[Pod] = ()  # their statuses: a container's last end (an OOM kill) leaves no Pod Event
    notes: list[str] = field(default_factory=list)


# --- each source as Happenings ---------------------------------------------------------------


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds").replace("+00:00", "Z")


def _service_of(subject: str) -> str | None:
    """The guide's service a Kubernetes object name belongs to (`wandb-api`, the chart's
    `<instance>-api`, a pod `wandb-api-5d9...`): the longest catalog name it ends or starts
    with after its instance prefix."""
    best: str | None = None
    for spec in catalog.CATALOG:
        for word in (spec.name, spec.short, spec.label):
            if subject == word or f"-{word}-" in f"-{subject}-":
                if best is None or len(spec.name) > len(best):
                    best = spec.name
    return best


def from_audit(records: Iterable[AuditRecord]) -> list[Happening]:
    found: list[Happening] = []
    for record in records:
        targets = sorted({change.target for change in record.changes}) or ["wbctl"]
        before = {c.key: c.before for c in record.changes} or None
        after = {c.key: c.after for c in record.changes} or None
        what = f"{record.user} ran `{record.command}` ({record.result})"
        found.append(Happening(record.time, WBCTL, ", ".join(targets), what, before, after, _audit_service(record)))
    return found


def _audit_service(record: AuditRecord) -> str | None:
    for change in record.changes:
        for text in (change.key, change.target):
            service = _service_of(text.split(".")[0]) if text else None
            if service:
                return service
    return _service_of(record.command.replace(" ", "-"))


def from_revisions(revisions: Iterable[Revision]) -> list[Happening]:
    """Each revision after a Deployment's first, as a rollout from the previous one's images."""
    by_deployment: dict[str, list[Revision]] = {}
    for revision in revisions:
        by_deployment.setdefault(revision.deployment, []).append(revision)
    found: list[Happening] = []
    for deployment, items in by_deployment.items():
        ordered = sorted(items, key=lambda r: r.revision)
        for previous, current in zip([None, *ordered], ordered, strict=False):
            before = ", ".join(previous.images) if previous else None
            after = ", ".join(current.images)
            tags = _tags(previous.images, current.images) if previous else None
            if previous is None:
                what = f"revision {current.revision} created"
            elif tags:
                what = f"rolled out {tags[1]} (revision {current.revision}, from {tags[0]})"
            else:
                what = f"rolled out revision {current.revision} (its pod template changed)"
            found.append(
                Happening(
                    current.created,
                    ROLLOUT,
                    f"deployment/{deployment}",
                    what,
                    before,
                    after,
                    current.service or _service_of(deployment),
                )
            )
    return found


def _tags(before: Sequence[str], after: Sequence[str]) -> tuple[str, str] | None:
    """The tags of the first image that changed (`0.70.0`, `0.70.1`)."""
    for old, new in zip(before, after, strict=False):
        if old != new:
            return old.rpartition(":")[2] or old, new.rpartition(":")[2] or new
    return None


def from_events(events: Iterable[KubeEvent]) -> list[Happening]:
    """Scaling and pod trouble of W&B's services: each Event once, at its last occurrence, with
    its count (an Event about another app's object in the namespace is left out)."""
    found: list[Happening] = []
    for event in events:
        when = event.last or event.first
        if when is None:
            continue
        if event.reason in SCALING_REASONS:
            source = SCALING
        elif event.reason in TROUBLE_REASONS or event.type == "Warning":
            source = PODS
        else:
            continue
        service = _service_of(event.name)
        if service is None:  # another app's pod or autoscaler in the same namespace
            continue
        times = f" x{event.count}" if event.count > 1 else ""
        what = f"{event.reason}{times}: {event.message}".strip()
        subject = f"{event.kind.lower()}/{event.name}"
        found.append(Happening(when, source, subject, what, service=service))
    return found


def from_pod_statuses(pods: Iterable[Pod]) -> list[Happening]:
    """A container's previous run ending (OOMKilled, Error) as the kubelet reports it in the pod's
    status: the kubelet writes no Event for an OOM kill, so without this it is missing."""
    found: list[Happening] = []
    for pod in pods:
        if pod.last_terminated_at is None or not pod.last_terminated:
            continue
        service = _service_of(pod.name)
        if service is None:
            continue
        reasons = ", ".join(dict.fromkeys(pod.last_terminated))
        what = f"{reasons}: a container's previous run ended ({pod.restarts} restart(s) so far)"
        found.append(Happening(pod.last_terminated_at, PODS, f"pod/{pod.name}", what, service=service))
    return found


def from_resource(resource: ResourceHistory | None) -> list[Happening]:
    if resource is None:
        return []
    subject = f"weightsandbiases/{resource.name}"
    found = [
        Happening(
            write.time,
            RESOURCE,
            subject,
            f"{write.operation.lower() or 'written'} by {write.manager}"
            + (f" ({write.subresource})" if write.subresource else "")
            + (f", generation {resource.generation}" if resource.generation and not write.subresource else ""),
        )
        for write in resource.writes
        if write.time is not None
    ]
    found += [
        Happening(
            c.time, RESOURCE, subject, f"condition {c.type} became {c.status}" + (f" ({c.reason})" if c.reason else "")
        )
        for c in resource.conditions
        if c.time is not None
    ]
    return found


def from_nodes(series: Iterable[NodeCount]) -> list[Happening]:
    found: list[Happening] = []
    for count in series:
        for (_, before), (moment, after) in zip(count.points, count.points[1:], strict=False):
            if after != before:
                what = "node count changed"
                found.append(Happening(moment, BIGTABLE, f"cluster/{count.cluster}", what, int(before), int(after)))
    return found


def from_discard(key: DiscardState | None, audit: Iterable[AuditRecord], now: datetime) -> list[Happening]:
    """Set and replaced: the audit log's discard entries; expired (or expiring): the key's TTL."""
    found: list[Happening] = []
    for record in audit:
        if "run discard" in record.command or "run restore" in record.command:
            for change in record.changes:
                verb = "replaced" if change.before not in (None, "") and change.after else "set"
                verb = "cleared" if not change.after else verb
                found.append(
                    Happening(
                        record.time,
                        DISCARD,
                        change.target or "discard key",
                        f"{verb} by wbctl",
                        change.before,
                        change.after,
                    )
                )
    if key is not None and key.run_id and key.ttl_seconds is not None:
        ends = now + timedelta(seconds=key.ttl_seconds)
        found.append(Happening(ends, DISCARD, "discard key", f"expires (run {key.run_id})", key.run_id, None))
    return found


def from_rise(rise_began: datetime | None) -> list[Happening]:
    if rise_began is None:
        return []
    return [Happening(rise_began, QUEUE, "run-updates queue", "the backlog began to rise (the runbook's judgement)")]


# --- one list --------------------------------------------------------------------------------


def timeline(sources: Sources, *, since: datetime, service: str | None = None) -> list[Happening]:
    """Every source's happenings within [since, now] (a discard key's expiry may lie after
    now: it is what will change next), oldest first; `service` keeps one service's and the
    ones that belong to no service (the queue, Bigtable), which explain it."""
    happenings = [
        *from_audit(sources.audit),
        *from_resource(sources.resource),
        *from_revisions(sources.revisions),
        *from_events(sources.events),
        *from_pod_statuses(sources.pods),
        *from_nodes(sources.nodes),
        *from_discard(sources.discard, sources.audit, sources.now),
        *from_rise(sources.rise_began),
    ]
    kept = [h for h in happenings if h.time >= since and (h.time <= sources.now or h.source == DISCARD)]
    if service is not None:
        kept = [h for h in kept if h.service == service]
    return sorted(kept, key=lambda h: (h.time, SOURCES.index(h.source), h.subject))


def before_rise(happenings: Sequence[Happening], rise_began: datetime | None) -> list[Happening]:
    """The changes that precede the rise (the queue's own line left out): the runbook's list."""
    if rise_began is None:
        return [h for h in happenings if h.source != QUEUE]
    return [h for h in happenings if h.time <= rise_began and h.source != QUEUE]


def relative(happening: Happening, rise_began: datetime | None) -> str:
    """ "the updater rolled out 0.70.1 12 minutes before the rise began" style words."""
    if rise_began is None:
        return happening.what
    minutes = int((rise_began - happening.time).total_seconds() // 60)  # whole minutes: the rise is on a minute
    when = (
        "as the rise began" if minutes == 0 else f"{minutes} minute{'s' if minutes != 1 else ''} before the rise began"
    )
    who = happening.service.removeprefix(catalog.PREFIX) if happening.service else happening.subject
    return f"{who} {happening.what}, {when}"


def document(
    happenings: Sequence[Happening], *, since: datetime, now: datetime, notes: Sequence[str]
) -> dict[str, Any]:
    """The JSON `wbctl changes -o json` prints (and `support bundle` stores)."""
    return {
        "since": iso(since),
        "until": iso(now),
        "changes": [h.to_json() for h in happenings],
        "unknown": list(notes),
    }
