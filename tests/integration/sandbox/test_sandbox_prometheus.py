"""The sandbox's Prometheus (wbctl/sandbox/prometheus.py) over real HTTP, serving the operator-v2
story's Kafka lag (sim/kafka.py): read with wbctl's own Prometheus source (the adapter the
commands use) and with urllib3 where the raw answer matters."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import urllib3

from wbctl.adapters.metrics import SIGNALS, Prometheus
from wbctl.errors import BackendError
from wbctl.sandbox.prometheus import FakePrometheus
from wbctl.sandbox.sim.clock import SimClock
from wbctl.sandbox.sim.kafka import METRIC, PARTITIONS, KafkaLag
from wbctl.sandbox.sim.queue_model import Change
from wbctl.sandbox.sim.scenarios import NAMES, SCENARIOS
from wbctl.sandbox.sim.world import World

GROUP = "flat-run-fields-updater"
START = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
STORY_START = START - timedelta(hours=1)  # the story's hour has run: the lag has built up


@pytest.fixture
def world() -> World:
    scenario = SCENARIOS["operator-v2"]
    clock = SimClock(START, 0.0, speed=0.0, wall=lambda: 0.0)  # stopped: only advance moves it
    return World(scenario.story, NAMES, clock, STORY_START, v2=True)


@pytest.fixture
def prometheus(world: World) -> Iterator[FakePrometheus]:
    fake = FakePrometheus(KafkaLag(world)).start()
    try:
        yield fake
    finally:
        fake.stop()


@pytest.fixture
def source(prometheus: FakePrometheus) -> Iterator[Prometheus]:
    client = Prometheus(url=prometheus.url, timeout=5)
    try:
        yield client
    finally:
        client.close()


def _get(url: str, path: str, **params: str) -> tuple[int, dict]:
    response = urllib3.request("GET", f"{url}{path}", fields=params, timeout=5, retries=False)
    return response.status, json.loads(response.data)


def test_the_lag_is_the_models_backlog_minute_by_minute(world: World, source: Prometheus) -> None:
    data = source.fetch_one(SIGNALS["queue-lag"], GROUP, 1800, START, 60)
    expected = [
        (moment, float(round(world.sample_at(moment).backlog)))
        for moment in (START - timedelta(minutes=30) + timedelta(minutes=k) for k in range(31))
    ]
    assert list(data.total().points) == expected


def test_the_lag_is_split_over_the_topics_96_partitions(source: Prometheus) -> None:
    total = source.fetch_one(SIGNALS["queue-lag"], GROUP, 600, START, 60).total()
    partitions = source.fetch_one(SIGNALS["queue-lag-partitions"], GROUP, 600, START, 60)
    assert (len(partitions.series), sum(s.latest for s in partitions.series)) == (PARTITIONS, total.latest)


def test_the_lag_falls_once_the_updaters_bounds_are_raised(world: World, source: Prometheus) -> None:
    world.simulation.advance(world.seconds(START))
    world.simulation.apply(Change(at=world.seconds(START), hpa=(10, 20)))  # what --fix sets
    later = world.clock.advance(30 * 60)
    data = source.fetch_one(SIGNALS["queue-lag"], GROUP, 1800, later, 60).total()
    assert data.latest < data.points[0][1] / 10


def test_another_group_has_no_lag(source: Prometheus) -> None:
    data = source.fetch_one(SIGNALS["queue-lag"], "metric-observer", 600, START, 60)
    assert data.total().latest == 0


def test_an_unknown_group_is_no_data(source: Prometheus) -> None:
    data = source.fetch_one(SIGNALS["queue-lag"], "no-such-group", 600, START, 60)
    assert (data.series, data.no_data) == (None, True)


def test_nothing_is_served_past_the_lookback_of_the_newest_sample(prometheus: FakePrometheus) -> None:
    later = START + timedelta(minutes=20)  # the clock stays at START: no sample after it
    status, body = _get(
        prometheus.url,
        "/api/v1/query_range",
        query=f'sum(bufstream_kafka_consumer_group_offset_lag{{kafka_consumer_group_id="{GROUP}"}})',
        start=str(START.timestamp()),
        end=str(later.timestamp()),
        step="60",
    )
    assert (status, len(body["data"]["result"][0]["values"])) == (200, 6)  # START and the 5 minutes after


def test_an_instant_query_is_a_vector_at_the_simulated_now(world: World, prometheus: FakePrometheus) -> None:
    query = f'sum(bufstream_kafka_consumer_group_offset_lag{{kafka_consumer_group_id="{GROUP}"}})'
    status, body = _get(prometheus.url, "/api/v1/query", query=query)
    expected = {
        "resultType": "vector",
        "result": [{"metric": {}, "value": [int(START.timestamp()), str(round(world.sample_at(START).backlog))]}],
    }
    assert (status, body) == (200, {"status": "success", "data": expected})


def test_any_other_query_is_refused_as_prometheus_refuses_it(prometheus: FakePrometheus) -> None:
    status, body = _get(prometheus.url, "/api/v1/query", query="rate(up[5m])")
    assert (status, body["status"], body["errorType"]) == (400, "error", "bad_data")


def test_a_bad_step_is_refused_with_prometheus_message(prometheus: FakePrometheus) -> None:
    status, body = _get(
        prometheus.url,
        "/api/v1/query_range",
        query="bufstream_kafka_consumer_group_offset_lag",
        start="1",
        end="2",
        step="0",
    )
    assert (status, body["error"]) == (
        400,
        'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
        "Try a positive integer",
    )


def test_the_adapter_reports_a_refused_query_in_one_line(prometheus: FakePrometheus) -> None:
    client = Prometheus(url=prometheus.url, timeout=5, queries={"queue-lag": "rate(up[5m])"})
    try:
        with pytest.raises(BackendError, match=r"refused the query for queue-lag: HTTP 400 .*bad_data"):
            client.fetch_one(SIGNALS["queue-lag"], GROUP, 600, START, 60)
    finally:
        client.close()


def test_only_the_v2_sandbox_serves_one_and_stopping_ends_it(tmp_path) -> None:
    from wbctl.sandbox import Sandbox

    v2 = Sandbox(SCENARIOS["operator-v2"], tmp_path, speed=0).start()
    try:
        url = v2.settings()["prometheus-url"]
        answered = _get(url, "/api/v1/query", query=f"sum({METRIC})")[0]
    finally:
        v2.stop()
    with pytest.raises(urllib3.exceptions.HTTPError):
        _get(url, "/api/v1/query", query=f"sum({METRIC})")
    v1 = Sandbox(SCENARIOS["healthy"], tmp_path, speed=0).start()
    try:
        v1_settings = v1.settings()
    finally:
        v1.stop()
    assert (answered, "prometheus-url" in v1_settings, v1_settings["metrics-source"]) == (
        200,
        False,
        "cloud-monitoring",
    )
