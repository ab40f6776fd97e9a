"""The named reads behind `wbctl check` and `wbctl runbook queue-backlog`, for wbctl.app.gather.

Each read asks one backend for one thing, so a failure stays with what it feeds: every
metric signal is a read of its own, the queue's address is read (from the updater's
Deployment) before its signals, and the core receives each result as a value or unknown.
Every read's name is a typed constant here (`KUBE`, `QUEUE_ADDRESS`, `PUBSUB["backlog"]`, ...),
so `results[KUBE]` is an `Observed[KubeObservation]` and no module spells a name of its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from wbctl.app.gather import Gathering, Missing, Read, Reader, Results
from wbctl.app.queue_settings import policy as policy
from wbctl.app.queue_settings import resolved as resolved
from wbctl.core import queue_source
from wbctl.core.bigtable import BigtableObservation
from wbctl.core.kube import KubeObservation
from wbctl.core.model import AuditRecord, Observed
from wbctl.core.mysql import MysqlObservation
from wbctl.core.queue import QueueReadings, Reading
from wbctl.core.queue_source import QueueAddress, QueueKind
from wbctl.core.redis_settings import DiscardState, RedisObservation
from wbctl.core.runbook import BigtableEvidence, RunLoad
from wbctl.core.series import SignalData

if TYPE_CHECKING:
    from wbctl.app.session import Session

STEP = 60  # the runbook reads every signal at one-minute resolution

KUBE = Read[KubeObservation]("kube")
REDIS = Read[RedisObservation]("redis")
MYSQL = Read[MysqlObservation]("mysql")
DISCARD = Read[DiscardState]("discard")
BIGTABLE_ADMIN = Read[BigtableObservation]("bigtable-admin")
QUEUE_ADDRESS = Read[QueueAddress]("queue-address")
NOISY_RUNS = Read[list[RunLoad]]("noisy-runs")
CHANGES = Read[list[AuditRecord]]("changes")

# the metric signals, each a read named after its signal (wbctl.adapters.metrics.SIGNALS)
BIGTABLE_PREFIX, PUBSUB_PREFIX, KAFKA_PREFIX = "bigtable-", "pubsub-", "kafka-"
BIGTABLE_CPU = Read[SignalData]("bigtable-cpu")
BIGTABLE_CPU_HOTTEST = Read[SignalData]("bigtable-cpu-hottest")
BIGTABLE_NODES = Read[SignalData]("bigtable-nodes")
BIGTABLE_SIGNALS = (BIGTABLE_CPU, BIGTABLE_CPU_HOTTEST, BIGTABLE_NODES)
PUBSUB_SIGNALS = {  # reading name -> (signal, selects by topic?)
    "backlog": ("queue-undelivered", False),
    "oldest_age": ("queue-oldest-age", False),
    "consumed": ("queue-acked", False),
    "published": ("queue-published", True),
    "expired": ("queue-expired", False),
}
KAFKA_SIGNALS = {"backlog": "queue-lag", "consumed": "queue-consumed", "partitions": "queue-lag-partitions"}
PUBSUB = {name: Read[SignalData](f"{PUBSUB_PREFIX}{name}") for name in PUBSUB_SIGNALS}
KAFKA = {name: Read[SignalData](f"{KAFKA_PREFIX}{name}") for name in KAFKA_SIGNALS}
# the filestream service's own subscription: the same Pub/Sub signals, selected by its names
FILESTREAM_PREFIX = "filestream-"
FILESTREAM_ADDRESS = Read[QueueAddress]("filestream-address")
FILESTREAM = {name: Read[SignalData](f"{FILESTREAM_PREFIX}{name}") for name in PUBSUB_SIGNALS}


@dataclass(frozen=True)
class QueueReads:
    """One queue's reads: its address, then its signals (Kafka's none: a queue not measured there)."""

    kind: QueueKind
    address: Read[QueueAddress]
    pubsub: Mapping[str, Read[SignalData]]
    kafka: Mapping[str, Read[SignalData]]
    prefixes: tuple[str, ...]  # what its read names start with (check's duration of its section)


RUN_UPDATES_QUEUE = QueueReads(
    queue_source.RUN_UPDATES, QUEUE_ADDRESS, PUBSUB, KAFKA, (QUEUE_ADDRESS, PUBSUB_PREFIX, KAFKA_PREFIX)
)
FILESTREAM_QUEUE = QueueReads(queue_source.FILESTREAM, FILESTREAM_ADDRESS, FILESTREAM, {}, (FILESTREAM_PREFIX,))

Readers = dict[str, Reader]


def queue_address(session: Session, gathering: Gathering, kind: QueueKind = queue_source.RUN_UPDATES) -> QueueAddress:
    """A queue's address (`kind`: the updater's by default): its Deployment's variable, expanded;
    else the config; else Terraform's names. An unreadable Deployment is not fatal: the config and
    Terraform's names remain. The filestream's is `none` when the namespace runs no filestream."""
    from wbctl.core.service_view import service_named

    settings = session.settings()
    discovered: QueueAddress | None = None
    if settings["queue-source"] != "none" or not kind.configurable:
        try:
            observation: KubeObservation | None = gathering.need(KUBE)
        except Missing:
            observation = None
        if observation is not None:
            view = service_named(observation, kind.service)
            workload = view.workload if view else None
            needed = queue_source.config_maps_needed(workload, kind)
            maps = session.backends.kube().config_maps(needed) if needed else {}
            discovered = queue_source.discover(workload, maps, kind)
            if workload is None and not kind.configurable:
                discovered = QueueAddress("none", f"no {kind.service} workload in namespace {observation.namespace}")

    address = resolved(session, discovered, kind)
    if address.source == "pubsub" and not address.project and not settings["gcp-project"]:
        session.backends.locate()  # the project only the WeightsAndBiases resource may name
        address = resolved(session, discovered, kind)
    return address


def _signal_reader(
    session: Session, signal: str, window: int, now: datetime, select: Callable[[Gathering], str]
) -> Reader:
    """A read of one signal; `select(gathering)` gives the value of its selecting label."""

    def read(gathering: Gathering) -> SignalData:
        value = select(gathering)
        source = session.backends.metrics(_source_for(session, signal))
        return source.fetch_one(_signal(signal), value, window, now, STEP)

    return read


def _signal(name: str) -> Any:
    from wbctl.adapters.metrics import SIGNALS

    return SIGNALS[name]


def _source_for(session: Session, signal: str) -> str:
    """Kafka lag is read from Prometheus whatever `metrics-source` says (bufstream exports it
    there); everything else from the configured source."""
    if signal in KAFKA_SIGNALS.values():
        return "prometheus"
    return session.settings()["metrics-source"]


def signal_reader(session: Session, read: Read[SignalData], window: int, now: datetime) -> Reader:
    """One Bigtable signal's read (`wbctl changes` reads the node count alone)."""
    return _signal_reader(session, read, window, now, lambda _: session.backends.bigtable_instance())


def add_bigtable(
    readers: Readers,
    session: Session,
    window: int,
    now: datetime,
    signals: tuple[Read[SignalData], ...] = BIGTABLE_SIGNALS,
) -> None:
    readers[BIGTABLE_ADMIN] = lambda _: session.backends.bigtable().observe()
    for signal in signals:
        readers[signal] = _signal_reader(session, signal, window, now, lambda _: session.backends.bigtable_instance())


def add_queue(
    readers: Readers, session: Session, window: int, now: datetime, queue: QueueReads = RUN_UPDATES_QUEUE
) -> None:
    """A queue's address, then each of its signals (the source decides which)."""
    readers[queue.address] = lambda gathering: queue_address(session, gathering, queue.kind)

    def address(gathering: Gathering) -> QueueAddress:
        return gathering.need(queue.address)

    def pubsub(name: str, signal: str, by_topic: bool) -> Reader:
        def select(gathering: Gathering) -> str:
            found = address(gathering)
            if found.source != "pubsub":
                raise Missing(f"the queue is {found.source}")
            return (found.topic if by_topic else found.subscription) or ""

        return _signal_reader(session, signal, window, now, select)

    def kafka(signal: str) -> Reader:
        def select(gathering: Gathering) -> str:
            found = address(gathering)
            if found.source != "kafka":
                raise Missing(f"the queue is {found.source}")
            return found.group or queue.kind.consumer_group or ""

        return _signal_reader(session, signal, window, now, select)

    for name, (signal, by_topic) in PUBSUB_SIGNALS.items():
        readers[queue.pubsub[name]] = pubsub(name, signal, by_topic)
    for name, read in queue.kafka.items():
        readers[read] = kafka(KAFKA_SIGNALS[name])


def _reading(name: str, result: Observed[SignalData] | None) -> Reading:
    if result is None:
        return Reading(name, (), "not read")
    data = result.value
    if data is None:
        return Reading(name, (), result.reason)
    total = data.total()
    if total is None:
        return Reading(name, (), data.reason, no_data=data.no_data)
    return Reading(name, total.points)


def queue_readings(results: Results, address: QueueAddress, queue: QueueReads = RUN_UPDATES_QUEUE) -> QueueReadings:
    if address.source == "kafka" and not queue.kafka:
        why = f"{queue.kind.words} on Kafka is not measured"
        return QueueReadings(
            "kafka",
            backlog=Reading("backlog", (), why),
            oldest_age=Reading("oldest_age", (), why),
            published=Reading("published", (), why),
            consumed=Reading("consumed", (), why),
        )
    if address.source == "kafka":
        kafka = queue.kafka
        partitions_read = results.get(kafka["partitions"])
        partitions_data = partitions_read.value if partitions_read is not None else None
        partitions = None
        if partitions_data is not None and partitions_data.series:
            partitions = {s.labels.get("partition", "?"): s.latest or 0.0 for s in partitions_data.series}
        consumed = results.get(kafka["consumed"])
        return QueueReadings(
            "kafka",
            backlog=_reading("backlog", results.get(kafka["backlog"])),
            oldest_age=Reading("oldest_age", (), "estimated from the consumption"),
            published=Reading("published", (), "derived from the consumption and the lag"),
            consumed=_reading("consumed", consumed),
            partitions=partitions,
        )
    pubsub = queue.pubsub
    return QueueReadings(
        "pubsub",
        backlog=_reading("backlog", results.get(pubsub["backlog"])),
        oldest_age=_reading("oldest_age", results.get(pubsub["oldest_age"])),
        published=_reading("published", results.get(pubsub["published"])),
        consumed=_reading("consumed", results.get(pubsub["consumed"])),
        expired=_reading("expired", results.get(pubsub["expired"])),
    )


def signal_data(results: Results, read: Read[SignalData]) -> SignalData:
    """The signal `read` found, or an unknown one saying why (not read at all, or unreadable)."""
    result = results.get(read)
    if result is None:
        return SignalData.unknown(read, "not read")
    return result.value if result.value is not None else SignalData.unknown(read, result.reason)


def bigtable_evidence(results: Results) -> BigtableEvidence:
    return BigtableEvidence(
        results[BIGTABLE_ADMIN],
        signal_data(results, BIGTABLE_CPU),
        signal_data(results, BIGTABLE_CPU_HOTTEST),
        signal_data(results, BIGTABLE_NODES),
    )


def add_noisy_runs(readers: Readers, session: Session, now: datetime) -> bool:
    """The noisy-run query's load per run, when one is configured (`promql:` or `filter:`)."""
    query = (session.settings()["noisy-run-query"] or "").strip()
    if not query:
        return False
    label = session.settings()["noisy-run-label"]

    def read(_gathering: Gathering) -> list[RunLoad]:
        kind, _, text = query.partition(":")
        if kind not in ("promql", "filter") or not text.strip():
            raise Missing("noisy-run-query must start with promql: or filter: (see docs/configuration.md)")
        source = session.backends.metrics("prometheus" if kind == "promql" else "cloud-monitoring")
        return source.run_loads(text.strip(), label, now)

    readers[NOISY_RUNS] = read
    return True


def add_changes(readers: Readers, session: Session, window: int, now: datetime) -> None:
    """What wbctl changed in this context within [now - window, now]: `now` is the signals'
    clock (the sandbox's in a rehearsal), and a rehearsal's log starts at its last reset."""
    from wbctl.app.audit import read_changes

    context, since = session.settings().context_label, now - timedelta(seconds=window)
    readers[CHANGES] = lambda _: read_changes(session.audit_path(), context=context, since=since, until=now)
