"""What the metrics sources share: the signals wbctl reads (`Signal`, `SIGNALS`: the Cloud
Monitoring metric and its alignment, the default PromQL), the interface the commands use
(`MetricsSource`: several signals fetched concurrently), and the step, window end and no-data
rules both sources apply. No SDK: the sources (cloud_monitoring.py, prometheus.py) import theirs
on first use.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime

from wbctl.core.runbook import RunLoad
from wbctl.core.series import Series, SignalData

POINTS_PER_WINDOW = 30
NOISY_RUN_WINDOW = 600  # the noisy-run query is read as a rate over 10 minutes


@dataclass(frozen=True)
class Signal:
    name: str
    metric_type: str  # Cloud Monitoring ("" when the signal exists on Prometheus only)
    resource_type: str
    filter_label: str  # resource label that selects ours (its value comes from the request)
    group_label: str  # label that tells the series apart
    label: str  # how wbctl names that label in a Series
    aligner: str  # ALIGN_RATE for DELTA counters (read as per-second rates)
    prometheus: str | None  # default PromQL ({value}: the selecting label's value); None: must be configured
    reducer: str | None = None  # cross-series reducer, e.g. REDUCE_SUM of the rates of every response code
    metric_filter: str = ""  # more of the Cloud Monitoring filter


_STACKDRIVER = "stackdriver_pubsub_{kind}_pubsub_googleapis_com_{kind}_{metric}"


def _pubsub_promql(kind: str, metric: str, label: str, rate: bool = False) -> str:
    selector = _STACKDRIVER.format(kind=kind, metric=metric) + f'{{{{{label}="{{value}}"}}}}'
    return f"sum(rate({selector}[5m]))" if rate else f"max({selector})"


_LAG = 'bufstream_kafka_consumer_group_offset_lag{{kafka_consumer_group_id="{value}"}}'

SIGNALS: dict[str, Signal] = {
    signal.name: signal
    for signal in (
        Signal(
            "bigtable-cpu",
            "bigtable.googleapis.com/cluster/cpu_load",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MEAN",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-cpu-hottest",
            "bigtable.googleapis.com/cluster/cpu_load_hottest_node",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MAX",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load_hottest_node{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-nodes",
            "bigtable.googleapis.com/cluster/node_count",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MAX",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_node_count{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-storage",
            "bigtable.googleapis.com/cluster/storage_utilization",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MEAN",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_storage_utilization{{bigtable_instance="{value}"}})',
        ),
        # Pub/Sub: the two backlog gauges, and the counters read as rates (docs/sources.md, "Queue")
        Signal(
            "queue-undelivered",
            "pubsub.googleapis.com/subscription/num_undelivered_messages",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_MAX",
            _pubsub_promql("subscription", "num_undelivered_messages", "subscription_id"),
        ),
        Signal(
            "queue-oldest-age",
            "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_MAX",
            _pubsub_promql("subscription", "oldest_unacked_message_age", "subscription_id"),
        ),
        Signal(
            "queue-acked",
            "pubsub.googleapis.com/subscription/ack_message_count",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_RATE",
            _pubsub_promql("subscription", "ack_message_count", "subscription_id", rate=True),
            reducer="REDUCE_SUM",
        ),
        Signal(
            "queue-published",
            "pubsub.googleapis.com/topic/send_message_operation_count",
            "pubsub_topic",
            "topic_id",
            "topic_id",
            "topic",
            "ALIGN_RATE",
            _pubsub_promql("topic", "send_message_operation_count", "topic_id", rate=True),
            reducer="REDUCE_SUM",
            metric_filter='metric.labels.response_code = "success"',
        ),
        Signal(
            "queue-expired",
            "pubsub.googleapis.com/subscription/expired_ack_deadlines_count",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_RATE",
            _pubsub_promql("subscription", "expired_ack_deadlines_count", "subscription_id", rate=True),
            reducer="REDUCE_SUM",
        ),
        # Kafka / bufstream (Prometheus only): the flat-run-fields-updater group's lag, in total and per
        # partition; two other groups read the same topic, hence the group filter
        Signal("queue-lag", "", "", "", "kafka_consumer_group_id", "group", "", f"sum({_LAG})"),
        Signal(
            "queue-lag-partitions",
            "",
            "",
            "",
            "kafka_topic_partition",
            "partition",
            "",
            f"sum by (kafka_topic_partition) ({_LAG})",
        ),
        Signal("queue-consumed", "", "", "", "kafka_consumer_group_id", "group", "", None),
    )
}


def step_for(window: int) -> int:
    """Seconds between points by default: about POINTS_PER_WINDOW points, never under a minute."""
    return max(60, math.ceil(window / POINTS_PER_WINDOW))


def floor_to(moment: datetime, step: int) -> datetime:
    """The last whole `step` at or before `moment`: where an interval of whole buckets ends."""
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, tz=UTC)


class MetricsSource:
    """The interface the commands use; `fetch` reads several signals at once."""

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime, step: int | None) -> SignalData:
        raise NotImplementedError

    def fetch(
        self, wanted: Mapping[str, str], window: int, now: datetime, *, step: int | None = None
    ) -> dict[str, SignalData]:
        """`wanted`: signal name -> the value of its selecting label (instance, subscription,
        topic, consumer group). `step`: seconds between points (default: ~30 points per window),
        with the interval ending at the last whole step and its partial last bucket dropped."""
        with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
            futures = {
                name: pool.submit(self.fetch_one, SIGNALS[name], value, window, now, step)
                for name, value in wanted.items()
            }
            return {name: future.result() for name, future in futures.items()}

    def run_loads(self, query: str, label: str, now: datetime) -> list[RunLoad]:
        """The noisy-run query's load per run (highest first), as a rate over 10 minutes."""
        raise NotImplementedError

    def close(self) -> None:
        pass


def signal_data(signal: Signal, series: list[Series], window: int) -> SignalData:
    """The series a source read; none with points is no data (unknown, never zero)."""
    with_points = tuple(s for s in series if s.points)
    if not with_points:
        return SignalData(signal.name, None, f"no {signal.name} data in the last {window // 60} min", no_data=True)
    return SignalData(signal.name, with_points)
