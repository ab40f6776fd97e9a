"""A Prometheus holding 40 minutes of real history (tests/prometheus.py: `openmetrics`,
`BackfilledPrometheus`, the `backfilled_prometheus` factory), read back over the HTTP API.

The history is bufstream's consumer-group lag as the runbook tests will need it: three consumer
groups x 4 partitions, one sample a minute from now-40m to now-1m, the lag of
flat-run-fields-updater growing linearly and the others flat, plus a counter of committed offsets
growing at a fixed rate per partition (so `rate()` has an exact expected value).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.prometheus import BackfilledPrometheus, Family, openmetrics

LAG = "bufstream_kafka_consumer_group_offset_lag"
COMMITTED = "bufstream_kafka_consumer_group_committed_offset_total"
TOPIC = "wandb-run-updates-shadow"
PARTITIONS = ["0", "1", "2", "3"]
GROWING = "flat-run-fields-updater"
FLAT = {"metric-observer": 5, "history-updater": 50}  # lag per partition, constant
GROUPS = [GROWING, *FLAT]
# committed offsets per second, per partition (the sum per group: 20, 100 and 50)
RATE = {
    GROWING: {p: 2.0 * (int(p) + 1) for p in PARTITIONS},
    "metric-observer": {p: 25.0 for p in PARTITIONS},
    "history-updater": {p: 12.5 for p in PARTITIONS},
}
MINUTES = 40


def lag(group: str, partition: str, minute: int) -> int:
    """The lag at the `minute`-th sample (0 = now-40m); the growing group's total is 1000 + 100*minute."""
    if group == GROWING:
        return 100 * (int(partition) + 1) + 10 * (int(partition) + 1) * minute
    return FLAT[group]


def labels(group: str, partition: str) -> dict[str, str]:
    return {"kafka_consumer_group_id": group, "kafka_topic_name": TOPIC, "kafka_topic_partition": partition}


def history(now: int) -> tuple[list[int], str]:
    times = [now - 60 * (MINUTES - minute) for minute in range(MINUTES)]  # now-40m .. now-1m
    lag_family = Family(
        LAG,
        "gauge",
        "Consumer group lag, in offsets.",
        [
            (labels(group, partition), [(ts, lag(group, partition, minute)) for minute, ts in enumerate(times)])
            for group in GROUPS
            for partition in PARTITIONS
        ],
    )
    committed_family = Family(
        COMMITTED,
        "counter",
        "Offsets committed by the consumer group.",
        [
            (
                labels(group, partition),
                [(ts, 1_000_000 + RATE[group][partition] * 60 * minute) for minute, ts in enumerate(times)],
            )
            for group in GROUPS
            for partition in PARTITIONS
        ],
    )
    return times, openmetrics([lag_family, committed_family])


@pytest.fixture(scope="module")
def backfilled(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[BackfilledPrometheus, list[int]]]:
    times, text = history(int(time.time()))
    with BackfilledPrometheus(tmp_path_factory.mktemp("backfill-lag"), text) as prometheus:
        yield prometheus, times


def value_at(times: list[int], minute_value, at: float) -> float:
    """What an instant query at `at` sees: the latest sample at or before it (within the 5m lookback)."""
    minute = max(i for i, ts in enumerate(times) if ts <= at)
    assert at - times[minute] <= 300
    return minute_value(minute)


def test_backfill_covers_the_last_40_minutes_and_starts_fast(backfilled) -> None:
    prometheus, times = backfilled
    assert prometheus.url.startswith("http://127.0.0.1:")
    assert (prometheus.min_time, prometheus.max_time) == (times[0], times[-1])
    assert times[-1] - times[0] == 39 * 60 and time.time() - times[-1] >= 60
    assert prometheus.blocks and prometheus.startup_seconds < 5, prometheus.startup_seconds


def test_growing_total_lag_over_the_last_30_minutes(backfilled) -> None:
    prometheus, times = backfilled
    end = time.time()
    [series] = prometheus.query_range(f'sum({LAG}{{kafka_consumer_group_id="{GROWING}"}})', end - 1800, end, 60)
    assert series["metric"] == {}
    points = [(ts, float(value)) for ts, value in series["values"]]
    assert len(points) == 31 and points[-1][0] == pytest.approx(end, abs=0.001)
    for ts, value in points:
        assert value == value_at(times, lambda minute: 1000 + 100 * minute, ts), ts
    values = [value for _, value in points]
    # one step a minute, one sample a minute: +100 a step; the step at `now` still sees the last
    # sample (now-1m) through the 5m lookback.
    assert values == sorted(values) and len(set(values)) >= 30 and values[-1] == 1000 + 100 * (MINUTES - 1)


def test_per_partition_series(backfilled) -> None:
    prometheus, times = backfilled
    query = f'sum by (kafka_topic_partition) ({LAG}{{kafka_consumer_group_id="{GROWING}"}})'
    result = prometheus.query(query)
    assert {s["metric"]["kafka_topic_partition"]: float(s["value"][1]) for s in result} == {
        p: lag(GROWING, p, MINUTES - 1) for p in PARTITIONS
    }
    end = time.time()
    ranged = prometheus.query_range(query, end - 1800, end, 60)
    assert sorted(s["metric"]["kafka_topic_partition"] for s in ranged) == PARTITIONS
    for series in ranged:
        values = [float(v) for _, v in series["values"]]
        assert len(values) == 31 and values[0] < values[-1]


def test_the_consumer_groups_are_distinct(backfilled) -> None:
    prometheus, times = backfilled
    result = prometheus.query(f"sum by (kafka_consumer_group_id) ({LAG})")
    assert {s["metric"]["kafka_consumer_group_id"]: float(s["value"][1]) for s in result} == {
        GROWING: 1000 + 100 * (MINUTES - 1),
        "metric-observer": 20,
        "history-updater": 200,
    }
    end = time.time()
    for group in FLAT:
        [series] = prometheus.query_range(f'sum({LAG}{{kafka_consumer_group_id="{group}"}})', end - 1800, end, 60)
        assert {float(v) for _, v in series["values"]} == {4 * FLAT[group]}
    [series] = prometheus.query(f'count({LAG}{{kafka_topic_name="{TOPIC}"}})')
    assert series["value"][1] == str(len(GROUPS) * len(PARTITIONS))


def test_consumption_rate_from_the_committed_offsets(backfilled) -> None:
    prometheus, times = backfilled
    last = times[-1]
    # At the last sample the 5m window is full of samples both ends: rate() is the exact slope.
    [total] = prometheus.query(f'sum(rate({COMMITTED}{{kafka_consumer_group_id="{GROWING}"}}[5m]))', at=last)
    assert float(total["value"][1]) == pytest.approx(20.0)
    by_group = prometheus.query(f"sum by (kafka_consumer_group_id) (rate({COMMITTED}[5m]))", at=last)
    assert {s["metric"]["kafka_consumer_group_id"]: float(s["value"][1]) for s in by_group} == pytest.approx(
        {group: sum(RATE[group].values()) for group in GROUPS}
    )
    [series] = prometheus.query_range(
        f'sum(rate({COMMITTED}{{kafka_consumer_group_id="{GROWING}"}}[5m]))', last - 1800, last, 60
    )
    assert len(series["values"]) == 31
    assert [float(v) for _, v in series["values"]] == pytest.approx([20.0] * 31)


def test_factory_starts_and_stops_servers(backfilled_prometheus) -> None:
    now = int(time.time())
    # a label value that needs escaping, a counter given with its _total, seconds with milliseconds
    text = openmetrics(
        [
            Family(
                "wbctl_backfill_probe",
                "gauge",
                'a "probe"\nof escaping',
                [
                    ({"value": 'quote " backslash \\ newline \n'}, [(now - 90, 2), (now - 120.25, 1)]),
                ],
            ),
            Family("wbctl_backfill_events_total", "counter", "", [({}, [(now - 60, 3)])]),
        ]
    )
    prometheus = backfilled_prometheus(text)
    assert prometheus.startup_seconds < 5
    [series] = prometheus.query("wbctl_backfill_probe", at=now - 100)
    assert series["metric"]["value"] == 'quote " backslash \\ newline \n'
    assert series["value"][1] == "1"  # the samples were given out of order: sorted, not dropped
    assert prometheus.query("wbctl_backfill_probe", at=now - 90)[0]["value"][1] == "2"
    assert prometheus.query("wbctl_backfill_probe", at=now - 120.251) == []  # to the millisecond
    [events] = prometheus.query("wbctl_backfill_events_total")
    assert events["value"][1] == "3"
    assert prometheus.min_time == now - 120.25 and prometheus.max_time == now - 60
    second = backfilled_prometheus(text)
    assert second.url != prometheus.url


def test_openmetrics_text() -> None:
    text = openmetrics(
        [
            Family("jobs", "counter", "Jobs.", [({"q": "a"}, [(20, 2), (10.5, 1)])]),
            Family("depth", "gauge", "", [({}, [(10, 0.5)])]),
        ]
    )
    assert text == (
        "# HELP jobs Jobs.\n"
        "# TYPE jobs counter\n"
        'jobs_total{q="a"} 1 10.500\n'
        'jobs_total{q="a"} 2 20\n'
        "# TYPE depth gauge\n"
        "depth 0.5 10\n"
        "# EOF\n"
    )
    with pytest.raises(ValueError, match="two samples"):
        openmetrics([Family("x", "gauge", "", [({}, [(10, 1), (10, 2)])])])
    with pytest.raises(ValueError, match="two series"):
        openmetrics([Family("x", "gauge", "", [({"a": "1"}, [(10, 1)]), ({"a": "1"}, [(20, 1)])])])
    with pytest.raises(ValueError, match="already written"):
        openmetrics([Family("x", "counter", "", []), Family("x_total", "gauge", "", [])])
    with pytest.raises(ValueError, match="counter"):
        openmetrics([Family("x", "counter", "", [({}, [(10, -1)])])])
    with pytest.raises(ValueError, match="label name"):
        openmetrics([Family("x", "gauge", "", [({"bad-name": "1"}, [(10, 1)])])])
    with pytest.raises(ValueError, match="type"):
        openmetrics([Family("x", "histogram", "", [])])


def test_promtool_failures_are_reported(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="does not end with # EOF"):
        BackfilledPrometheus(tmp_path / "no-eof", "# TYPE x gauge\nx 1 100\n").start()
    with pytest.raises(RuntimeError, match="expected timestamp"):
        BackfilledPrometheus(tmp_path / "no-timestamp", "# TYPE x gauge\nx 1\n# EOF\n").start()
    with pytest.raises(RuntimeError, match="no block"):
        BackfilledPrometheus(tmp_path / "empty", openmetrics([])).start()
