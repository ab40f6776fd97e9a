"""`wbctl check` as metrics: each finding's status and the numbers behind the runbook.

So that the page an on-call engineer gets names the wbctl command to run, the judgements wbctl
already makes become gauges that alert rules (docs/alerts/) match: one series per finding and
status (1 for the status the finding has, 0 for the other three, so a rule can match either
way), the queue's verdict the same way, and the observed numbers the runbook reads (backlog,
oldest age, time to drain, headroom before the retention drops messages, Bigtable's nodes and
CPU, the updater's replicas). Names follow Prometheus's conventions
(https://prometheus.io/docs/practices/naming/): base units (`_seconds`, `_ratio`, `_messages`),
no high-cardinality labels (a check id, a group, a Bigtable cluster; never a run id). A value
wbctl could not read is left out rather than exported as zero: an absent series is unknown.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from wbctl.core.bigtable import BigtableObservation, cpu_goal
from wbctl.core.context_label import UNNAMED_CONTEXT as UNNAMED_CONTEXT  # re-exported: its users import it here
from wbctl.core.model import AuditRecord, Report, Status
from wbctl.core.queue import Judgement, Verdict
from wbctl.core.series import SignalData

# name -> help: every family wbctl exports, in the order it exports them
FAMILIES: dict[str, str] = {
    "wbctl_check_status": "A finding of wbctl check: 1 for its status, 0 for the other three (ok, warn, fail, unknown).",
    "wbctl_check_last_run_timestamp_seconds": "When wbctl check finished (Unix time).",
    "wbctl_check_duration_seconds": "How long wbctl check took to read a group's backends.",
    "wbctl_queue_verdict": "A queue's verdict (docs/runbook.md; label queue: run-updates or filestream): 1 for the current one, 0 for the others.",
    "wbctl_queue_backlog_messages": "Messages waiting in a queue (Pub/Sub undelivered, Kafka consumer lag).",
    "wbctl_queue_oldest_age_seconds": "Age of the oldest unacknowledged message in a queue.",
    "wbctl_queue_backlog_trend_messages_per_second": "The backlog's robust trend over the check's window (Theil-Sen slope).",
    "wbctl_queue_publish_messages_per_second": "Messages published to a queue per second.",
    "wbctl_queue_consume_messages_per_second": "Messages a queue's consumer (flat-run-fields-updater, filestream) acknowledges per second.",
    "wbctl_queue_drain_eta_seconds": "Time to work through the backlog at the current rates (only while it drains).",
    "wbctl_queue_retention_seconds": "How long the queue keeps a message before dropping it.",
    "wbctl_queue_retention_headroom_seconds": "Time left before the oldest message would be dropped, counting the time to drain.",
    "wbctl_queue_data_loss_projected": "1 when messages are projected to outlive the queue's retention (data loss), else 0.",
    "wbctl_bigtable_nodes": "Nodes serving a Bigtable cluster.",
    "wbctl_bigtable_min_nodes": "A Bigtable cluster's autoscaling minimum (its node count when autoscaling is off).",
    "wbctl_bigtable_max_nodes": "A Bigtable cluster's autoscaling maximum (its node count when autoscaling is off).",
    "wbctl_bigtable_cpu_target_ratio": "A Bigtable cluster's autoscaling CPU target (0.7 when autoscaling is off, as wbctl check judges it).",
    "wbctl_bigtable_cpu_ratio": "A Bigtable cluster's newest CPU load.",
    "wbctl_updater_replicas": "Ready replicas of the flat-run-fields-updater.",
    "wbctl_updater_max_replicas": "The flat-run-fields-updater's autoscaling maximum (its replicas when not autoscaled).",
    "wbctl_audit_last_change_timestamp_seconds": "When wbctl last changed the deployment with a command of this kind (Unix time; label kind: the command, e.g. bigtable autoscale), from the audit log of the machine that ran the check.",
}

Labels = tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Sample:
    name: str  # a key of FAMILIES
    labels: Labels
    value: float

    @classmethod
    def of(cls, name: str, value: float, **labels: str) -> Sample:
        if name not in FAMILIES:
            raise ValueError(f"{name} is not a wbctl metric family")
        return cls(name, tuple(labels.items()), float(value))


@dataclass(frozen=True)
class UpdaterReplicas:
    ready: int
    max_replicas: int | None  # None: not autoscaled (its replicas are its ceiling)


def finding_samples(group: str, report: Report) -> list[Sample]:
    """Four series per finding of one group."""
    return [
        Sample.of(
            "wbctl_check_status",
            1 if finding.status is status else 0,
            check=finding.check,
            group=group,
            status=status.value,
        )
        for finding in report.findings
        for status in Status
    ]


def queue_samples(judgement: Judgement, queue: str = "run-updates") -> list[Sample]:
    """A queue's verdict and numbers, labelled `queue` (a QueueKind's name) so the run-updates
    queue's series and the filestream's stand side by side under the same names."""
    samples = [
        Sample.of("wbctl_queue_verdict", 1 if judgement.verdict is verdict else 0, queue=queue, verdict=verdict.value)
        for verdict in Verdict
    ]
    numbers = {
        "wbctl_queue_backlog_messages": judgement.backlog,
        "wbctl_queue_oldest_age_seconds": judgement.oldest_age,
        "wbctl_queue_backlog_trend_messages_per_second": judgement.rate_per_second,
        "wbctl_queue_publish_messages_per_second": judgement.publish_rate,
        "wbctl_queue_consume_messages_per_second": judgement.consume_rate,
        "wbctl_queue_drain_eta_seconds": judgement.drain_seconds,
    }
    loss = judgement.loss
    numbers["wbctl_queue_retention_seconds"] = loss.retention if loss is not None else judgement.policy.retention
    numbers["wbctl_queue_retention_headroom_seconds"] = headroom(judgement)
    samples += [Sample.of(name, value, queue=queue) for name, value in numbers.items() if value is not None]
    if loss is not None:
        samples.append(Sample.of("wbctl_queue_data_loss_projected", 1 if loss.projected else 0, queue=queue))
    return samples


def headroom(judgement: Judgement) -> float | None:
    """The retention left once the oldest message's age and the time to work through the
    backlog at the current consumption are spent: negative means messages will be dropped.
    Unknown without a retention, an age, or (with a backlog) a consumption to drain it."""
    retention = judgement.loss.retention if judgement.loss is not None else judgement.policy.retention
    age, backlog, consume = judgement.oldest_age, judgement.backlog or 0.0, judgement.consume_rate
    if retention is None or age is None:
        return None
    if backlog <= 0:
        return retention - age
    if consume is None or consume <= 0:
        return None
    return retention - age - backlog / consume


def bigtable_samples(observation: BigtableObservation, cpu: SignalData) -> list[Sample]:
    samples = []
    for cluster in observation.clusters:
        scaling = cluster.autoscaling
        labels = {"cluster": cluster.cluster_id}
        samples.append(Sample.of("wbctl_bigtable_nodes", cluster.serve_nodes, **labels))
        samples.append(
            Sample.of("wbctl_bigtable_min_nodes", scaling.min_nodes if scaling else cluster.serve_nodes, **labels)
        )
        samples.append(
            Sample.of("wbctl_bigtable_max_nodes", scaling.max_nodes if scaling else cluster.serve_nodes, **labels)
        )
        samples.append(Sample.of("wbctl_bigtable_cpu_target_ratio", cpu_goal(cluster) / 100, **labels))
        series = cpu.for_label("cluster", cluster.cluster_id)
        if series is not None and series.latest is not None:
            samples.append(Sample.of("wbctl_bigtable_cpu_ratio", series.latest, **labels))
    return samples


def updater_samples(updater: UpdaterReplicas) -> list[Sample]:
    ceiling = updater.max_replicas if updater.max_replicas is not None else updater.ready
    return [Sample.of("wbctl_updater_replicas", updater.ready), Sample.of("wbctl_updater_max_replicas", ceiling)]


def run_samples(finished: datetime, durations: Mapping[str, float]) -> list[Sample]:
    return [
        Sample.of("wbctl_check_last_run_timestamp_seconds", finished.timestamp()),
        *(Sample.of("wbctl_check_duration_seconds", seconds, group=group) for group, seconds in durations.items()),
    ]


CHANGE_RESULTS = ("applied", "accepted", "partial")  # the audit results that changed something


def change_kind(command: str, groups: Collection[str]) -> str:
    """A command's kind, its group and verb (`bigtable autoscale`), whatever global options come
    before them (`wbctl --context prod bigtable autoscale --max 9`): a label of few values."""
    words = command.split()
    for index, word in enumerate(words):
        if word in groups:
            verb = next((w for w in words[index + 1 :] if not w.startswith("-")), "")
            return f"{word} {verb}".strip()
    return "other"


def change_samples(records: Iterable[AuditRecord], groups: Collection[str]) -> list[Sample]:
    """The newest change of each kind among the audit records: the dashboards' annotations
    (a graph shows when a limit was raised). A record that changed nothing is left out."""
    newest: dict[str, float] = {}
    for record in records:
        if record.result not in CHANGE_RESULTS:
            continue
        kind = change_kind(record.command, groups)
        newest[kind] = max(newest.get(kind, 0.0), record.time.timestamp())
    return [
        Sample.of("wbctl_audit_last_change_timestamp_seconds", seconds, kind=kind)
        for kind, seconds in sorted(newest.items())
    ]


def labelled(samples: Iterable[Sample], **labels: str) -> list[Sample]:
    """The samples with more labels: a textfile has no Pushgateway to add the context."""
    return [Sample(sample.name, (*sample.labels, *labels.items()), sample.value) for sample in samples]


def ordered(samples: Iterable[Sample]) -> list[Sample]:
    """Samples grouped by family in FAMILIES' order (an exposition lists a family once)."""
    rank = {name: index for index, name in enumerate(FAMILIES)}
    return sorted(samples, key=lambda sample: rank[sample.name])
