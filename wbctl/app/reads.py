"""The named reads behind `wbctl check` and `wbctl runbook queue-backlog`, for wbctl.app.gather.

Each read asks one backend for one thing, so a failure stays with what it feeds: every
metric signal is a read of its own, the queue's address is read (from the updater's
Deployment) before its signals, and the core receives each result as a value or unknown.
Like mutation.py and gather.py this is orchestration between the CLI and the adapters.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from wbctl.app.gather import Gathering, Missing, Reader
from wbctl.core import queue_source
from wbctl.core.bigtable import default_instance
from wbctl.core.model import Observed
from wbctl.core.queue import Policy, QueueReadings, Reading
from wbctl.core.queue_source import QueueAddress
from wbctl.core.runbook import BigtableEvidence, RunLoad
from wbctl.core.series import SignalData

if TYPE_CHECKING:
    from wbctl.cli.state import State

STEP = 60  # the runbook reads every signal at one-minute resolution
BIGTABLE_SIGNALS = ("bigtable-cpu", "bigtable-cpu-hottest", "bigtable-nodes")
PUBSUB_SIGNALS = {  # reading name -> (signal, selects by topic?)
    "backlog": ("queue-undelivered", False),
    "oldest_age": ("queue-oldest-age", False),
    "consumed": ("queue-acked", False),
    "published": ("queue-published", True),
    "expired": ("queue-expired", False),
}
KAFKA_SIGNALS = {"backlog": "queue-lag", "consumed": "queue-consumed", "partitions": "queue-lag-partitions"}


def bigtable_instance(state: State) -> str:
    settings = state.settings()
    return settings["bigtable-instance"] or default_instance(settings["instance"])


def queue_address(state: State, gathering: Gathering, kube_read: str = "kube") -> QueueAddress:
    """The updater's queue: its Deployment's variable, expanded; else the config; else Terraform's
    names. An unreadable Deployment is not fatal: the config and Terraform's names remain."""
    from wbctl.core.service_view import UPDATER, service_named

    settings = state.settings()
    discovered: QueueAddress | None = None
    if settings["queue-source"] != "none":
        try:
            observation = gathering.need(kube_read)
        except Missing:
            observation = None
        if observation is not None:
            view = service_named(observation, UPDATER)
            workload = view.workload if view else None
            needed = queue_source.config_maps_needed(workload)
            maps = state.kube().config_maps(needed) if needed else {}
            discovered = queue_source.discover(workload, maps)
    return queue_source.resolve(
        discovered,
        source=settings["queue-source"],
        subscription=settings["queue-subscription"],
        topic=settings["queue-topic"],
        project=settings["gcp-project"],
        install=settings["instance"],
        partitions=settings["queue-partitions"],
    )


def policy(state: State, address: QueueAddress) -> Policy:
    settings = state.settings()
    retention = settings["queue-retention"]
    if retention is None and address.source == "pubsub":
        retention = Policy().retention  # the W&B Terraform module's 7 days
    return Policy(
        allowed_backlog=float(settings["queue-allowed-backlog"]),
        allowed_age=float(settings["queue-allowed-age"]),
        retention=float(retention) if retention is not None else None,
    )


def _signal_reader(state: State, signal: str, window: int, now: datetime, select: Any) -> Reader:
    """A read of one signal; `select(gathering)` gives the value of its selecting label."""

    def read(gathering: Gathering) -> SignalData:
        value = select(gathering)
        source = state.metrics(_source_for(state, signal, gathering))
        return source.fetch_one(_signal(signal), value, window, now, STEP)

    return read


def _signal(name: str) -> Any:
    from wbctl.adapters.metrics import SIGNALS

    return SIGNALS[name]


def _source_for(state: State, signal: str, gathering: Gathering | None) -> str:
    """Kafka lag is read from Prometheus whatever `metrics-source` says (bufstream exports it
    there); everything else from the configured source."""
    if signal in KAFKA_SIGNALS.values():
        return "prometheus"
    return state.settings()["metrics-source"]


def add_bigtable(
    readers: dict[str, Reader], state: State, window: int, now: datetime, signals=BIGTABLE_SIGNALS
) -> None:
    readers["bigtable-admin"] = lambda _: state.bigtable().observe()
    for signal in signals:
        readers[signal] = _signal_reader(state, signal, window, now, lambda _: bigtable_instance(state))


def add_queue(readers: dict[str, Reader], state: State, window: int, now: datetime, kube_read: str = "kube") -> None:
    """The queue's address, then each of its signals (the source decides which)."""
    readers["queue-address"] = lambda gathering: queue_address(state, gathering, kube_read)

    def address(gathering: Gathering) -> QueueAddress:
        return gathering.need("queue-address")

    def pubsub(name: str, signal: str, by_topic: bool) -> Reader:
        def select(gathering: Gathering) -> str:
            found = address(gathering)
            if found.source != "pubsub":
                raise Missing(f"the queue is {found.source}")
            return (found.topic if by_topic else found.subscription) or ""

        return _signal_reader(state, signal, window, now, select)

    def kafka(signal: str) -> Reader:
        def select(gathering: Gathering) -> str:
            found = address(gathering)
            if found.source != "kafka":
                raise Missing(f"the queue is {found.source}")
            return found.group or queue_source.CONSUMER_GROUP

        return _signal_reader(state, signal, window, now, select)

    for name, (signal, by_topic) in PUBSUB_SIGNALS.items():
        readers[f"pubsub-{name}"] = pubsub(name, signal, by_topic)
    for name, signal in KAFKA_SIGNALS.items():
        readers[f"kafka-{name}"] = kafka(signal)


def _reading(name: str, result: Observed[Any]) -> Reading:
    if not result.known:
        return Reading(name, (), result.reason)
    data: SignalData = result.value
    total = data.total()
    if total is None:
        return Reading(name, (), data.reason, no_data=data.no_data)
    return Reading(name, total.points)


def queue_readings(results: Mapping[str, Observed[Any]], address: QueueAddress) -> QueueReadings:
    if address.source == "kafka":
        partitions_data = results.get("kafka-partitions")
        partitions = None
        if partitions_data is not None and partitions_data.known and partitions_data.value.series:
            partitions = {s.labels.get("partition", "?"): s.latest or 0.0 for s in partitions_data.value.series}
        consumed = results.get("kafka-consumed", Observed.unknown("not read"))
        return QueueReadings(
            "kafka",
            backlog=_reading("backlog", results["kafka-backlog"]),
            oldest_age=Reading("oldest_age", (), "estimated from the consumption"),
            published=Reading("published", (), "derived from the consumption and the lag"),
            consumed=_reading("consumed", consumed),
            partitions=partitions,
        )
    return QueueReadings(
        "pubsub",
        **{name: _reading(name, results[f"pubsub-{name}"]) for name in PUBSUB_SIGNALS},
    )


def signal_data(result: Observed[Any] | None, name: str) -> SignalData:
    if result is None:
        return SignalData.unknown(name, "not read")
    return result.value if result.known else SignalData.unknown(name, result.reason)


def bigtable_evidence(results: Mapping[str, Observed[Any]]) -> BigtableEvidence:
    return BigtableEvidence(
        results["bigtable-admin"],
        signal_data(results.get("bigtable-cpu"), "bigtable-cpu"),
        signal_data(results.get("bigtable-cpu-hottest"), "bigtable-cpu-hottest"),
        signal_data(results.get("bigtable-nodes"), "bigtable-nodes"),
    )


def add_noisy_runs(readers: dict[str, Reader], state: State, now: datetime) -> bool:
    """The noisy-run query's load per run, when one is configured (`promql:` or `filter:`)."""
    query = (state.settings()["noisy-run-query"] or "").strip()
    if not query:
        return False
    label = state.settings()["noisy-run-label"]

    def read(_: Gathering) -> list[RunLoad]:
        kind, _, text = query.partition(":")
        if kind not in ("promql", "filter") or not text.strip():
            raise Missing("noisy-run-query must start with promql: or filter: (see docs/configuration.md)")
        source = state.metrics("prometheus" if kind == "promql" else "cloud-monitoring")
        return source.run_loads(text.strip(), label, now)

    readers["noisy-runs"] = read
    return True


def add_changes(readers: dict[str, Reader], state: State, window: int, now: datetime) -> None:
    from wbctl.app.audit import read_since

    readers["changes"] = lambda _: read_since(state.audit_path(), now - timedelta(seconds=window))
