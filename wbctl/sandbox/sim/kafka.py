"""The v2 install's Kafka queue as bufstream exports it to Prometheus: the consumer groups' lag
per partition (`bufstream_kafka_consumer_group_offset_lag`), from the queue model.

Why from the model: the lag must tell the story the pods' logs, the HPA and `sandbox status`
tell, and react to what a rehearsal changes (the updater's bounds raised in
spec.wandb.applications -> more consumers -> the lag drains), as the Pub/Sub backlog does for
a v1 install (stories.publish_pubsub). The flat-run-fields-updater group's lag is the model's
backlog, split evenly across the topic's partitions (the v2 server manifest's
`flat-run-fields-updater` topic: partitionCount 96): the runs' updates are spread over them,
no partition hot. The two other groups reading the topic (metric-observer, history-updater)
keep up: their lag is zero, and only a query filtering on the group reads the updater's.
A sample stands for the minute it ends, on the simulated clock.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wbctl.sandbox.kube.objects.operator_v2 import RUNS_V2_TOPIC, UPDATER

METRIC = "bufstream_kafka_consumer_group_offset_lag"
PARTITIONS = 96  # the server manifest's partitionCount of the flat-run-fields-updater topic
GROUPS = (UPDATER, "metric-observer", "history-updater")  # the topic's consumer groups; the updater's first


def split(total: int, partitions: int = PARTITIONS) -> list[int]:
    """`total` messages spread over `partitions` as evenly as whole offsets allow."""
    share, rest = divmod(max(0, total), partitions)
    return [share + (1 if index < rest else 0) for index in range(partitions)]


class KafkaLag:
    """The sandbox's Prometheus source (sandbox/prometheus.py `Source`) over a World."""

    metric = METRIC

    def __init__(self, world: Any) -> None:
        self.world = world
        self._series = [
            {"kafka_consumer_group_id": group, "kafka_topic_name": RUNS_V2_TOPIC, "kafka_topic_partition": str(index)}
            for group in GROUPS
            for index in range(PARTITIONS)
        ]

    def sync(self) -> None:
        self.world.sync()

    def now(self) -> float:
        moment: datetime = self.world.clock.now()
        return moment.timestamp()

    def series(self) -> Sequence[Mapping[str, str]]:
        return self._series

    def at(self, moment: float) -> tuple[float, Sequence[float]] | None:
        sample = self.world.sample_at(datetime.fromtimestamp(moment, UTC))
        if sample is None:
            return None
        updater = split(round(sample.backlog))
        others = [0] * (PARTITIONS * (len(GROUPS) - 1))
        return self.world.moment(sample.time).timestamp(), [*updater, *others]
