"""The Prometheus metrics source against a real Prometheus fed by a pushgateway."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from tests.support.prometheus import PrometheusStack
from wbctl.adapters.metrics import Prometheus
from wbctl.errors import BackendError

CPU = "stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load"
LAG = "bufstream_kafka_consumer_group_offset_lag"


def test_signals_as_short_series_and_unknown_when_absent(prometheus_stack: PrometheusStack) -> None:
    prometheus_stack.push(
        "wbctl-adapter-test",
        f"# TYPE {CPU} gauge\n"
        f'{CPU}{{bigtable_instance="adapter-test",cluster="adapter-test-c1"}} 0.42\n'
        f'{CPU}{{bigtable_instance="adapter-test",cluster="adapter-test-c2"}} 0.77\n'
        f"# TYPE {LAG} gauge\n"
        f'{LAG}{{kafka_consumer_group_id="adapter-test-group",kafka_topic_partition="0"}} 1000\n'
        f'{LAG}{{kafka_consumer_group_id="adapter-test-group",kafka_topic_partition="1"}} 234\n'
        f'{LAG}{{kafka_consumer_group_id="adapter-test-other",kafka_topic_partition="0"}} 99999\n',
    )
    prometheus_stack.wait_for_samples(f'{CPU}{{cluster="adapter-test-c2"}}', count=3)
    prometheus_stack.wait_for_samples(f'{LAG}{{kafka_consumer_group_id="adapter-test-other"}}', count=3)
    source = Prometheus(url=prometheus_stack.url, timeout=5)
    # the Prometheus is shared by the session: names of this test's own keep other tests' series out
    data = source.fetch(
        {
            "bigtable-cpu": "adapter-test",
            "queue-lag": "adapter-test-group",
            "queue-lag-partitions": "adapter-test-group",
            "bigtable-storage": "adapter-test",
        },
        60,
        datetime.now(UTC),
    )
    cpu = data["bigtable-cpu"]
    assert cpu.for_label("cluster", "adapter-test-c1").peak == 0.42
    assert cpu.for_label("cluster", "adapter-test-c2").latest == 0.77
    assert 2 <= len(cpu.for_label("cluster", "adapter-test-c1").points) <= 61
    assert data["queue-lag"].series[0].latest == 1234  # the group's lag, summed over its partitions only
    partitions = data["queue-lag-partitions"]
    assert {s.labels["partition"]: s.latest for s in partitions.series} == {"0": 1000, "1": 234}
    assert data["bigtable-storage"].series is None and "no bigtable-storage data" in data["bigtable-storage"].reason
    prometheus_stack.delete("wbctl-adapter-test")


def test_configured_query_and_errors(prometheus_stack: PrometheusStack) -> None:
    source = Prometheus(
        url=prometheus_stack.url,
        timeout=5,
        queries={"bigtable-cpu": 'vector(0.5) * on() group_left() (up{job="pushgateway"})'},
    )
    data = source.fetch({"bigtable-cpu": "x"}, 60, datetime.now(UTC))
    assert data["bigtable-cpu"].series is not None
    bad = Prometheus(url=prometheus_stack.url, timeout=5, queries={"bigtable-cpu": "sum(("})
    with pytest.raises(BackendError, match="refused the query for bigtable-cpu"):
        bad.fetch({"bigtable-cpu": "x"}, 60, datetime.now(UTC))
    unreachable = Prometheus(url="http://127.0.0.1:1", timeout=2)
    with pytest.raises(BackendError, match="cannot query Prometheus at http://127.0.0.1:1"):
        unreachable.fetch({"bigtable-cpu": "x"}, 60, datetime.now(UTC))
