"""The Cloud Monitoring fake on counters, latency and connections, driven only through the real
google-cloud-monitoring client (a transport on `grpc.insecure_channel(google_api.address)`, explicit
timeouts, retry=None): what the queue runbook and the `--watch` benchmark rely on."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.api.metric_pb2 import MetricDescriptor
from google.api_core import exceptions as gexc
from google.cloud.monitoring_v3 import Aggregation, MetricServiceClient
from google.cloud.monitoring_v3.services.metric_service.transports import (
    MetricServiceGrpcTransport,
)

from wbctl.sandbox.google.api import (
    ACK_MESSAGE_COUNT,
    OLDEST_UNACKED_AGE,
    SEND_MESSAGE_COUNT,
    FakeGoogleAPIs,
)

PROJECT = "wandb-sandbox"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
MetricKind, ValueType = MetricDescriptor.MetricKind, MetricDescriptor.ValueType
RATE_SUM = {
    "alignment_period": {"seconds": 60},
    "per_series_aligner": Aggregation.Aligner.ALIGN_RATE,
    "cross_series_reducer": Aggregation.Reducer.REDUCE_SUM,
}


def _client(channel: grpc.Channel) -> MetricServiceClient:
    return MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))


@pytest.fixture
def metrics(google_api: FakeGoogleAPIs) -> Iterator[MetricServiceClient]:
    channel = grpc.insecure_channel(google_api.address)
    yield _client(channel)
    channel.close()


def _list(metrics: MetricServiceClient, filter_: str, minutes: int = 5, **extra: Any) -> list[Any]:
    request = {
        "name": f"projects/{PROJECT}",
        "filter": filter_,
        "interval": {"start_time": NOW - timedelta(minutes=minutes), "end_time": NOW},
        **extra,
    }
    return list(metrics.list_time_series(request=request, timeout=5, retry=None))


def _minutes(values: list[int]) -> list[tuple[datetime, int]]:
    """One point a minute, oldest first, the last at NOW."""
    return [(NOW - timedelta(minutes=len(values) - 1 - i), v) for i, v in enumerate(values)]


def _acks(google_api: FakeGoogleAPIs, subscription: str, counts: list[int]) -> None:
    google_api.add_series(
        PROJECT,
        ACK_MESSAGE_COUNT,
        "pubsub_subscription",
        {"project_id": PROJECT, "subscription_id": subscription},
        _minutes(counts),
        value_type="INT64",
        metric_kind="DELTA",
    )


# -- DELTA counters and rates -------------------------------------------------------------------


def test_delta_series_answers_with_its_kind_and_sample_intervals(
    google_api: FakeGoogleAPIs, metrics: MetricServiceClient
) -> None:
    _acks(google_api, "wandb-flat-run-fields-updater", [60, 120, 180])
    (one,) = _list(metrics, f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert one.metric_kind == MetricKind.DELTA and one.value_type == ValueType.INT64
    newest = one.points[0]
    assert newest.value.int64_value == 180 and newest.interval.end_time == NOW
    assert newest.interval.start_time == NOW - timedelta(seconds=60)  # the count's sample period


def test_align_rate_and_reduce_sum_give_per_second_rates(
    google_api: FakeGoogleAPIs, metrics: MetricServiceClient
) -> None:
    _acks(google_api, "wandb-flat-run-fields-updater", [60, 120, 180, 240, 300])
    _acks(google_api, "wandb-filestream-gorilla", [30, 30, 30, 30, 30])
    (total,) = _list(metrics, f'metric.type = "{ACK_MESSAGE_COUNT}"', aggregation=RATE_SUM)
    assert total.metric_kind == MetricKind.GAUGE and total.value_type == ValueType.DOUBLE  # a rate is a gauge
    assert [p.value.double_value for p in total.points] == pytest.approx([5.5, 4.5, 3.5, 2.5, 1.5])
    assert total.points[0].interval.start_time == total.points[0].interval.end_time == NOW
    per_subscription = _list(
        metrics,
        f'metric.type = "{ACK_MESSAGE_COUNT}"',
        aggregation={**RATE_SUM, "group_by_fields": ["resource.labels.subscription_id"]},
    )
    assert {s.resource.labels["subscription_id"]: s.points[0].value.double_value for s in per_subscription} == {
        "wandb-flat-run-fields-updater": 5.0,
        "wandb-filestream-gorilla": 0.5,
    }
    (delta,) = _list(
        metrics,
        f'metric.type = "{ACK_MESSAGE_COUNT}" AND resource.labels.subscription_id = "wandb-filestream-gorilla"',
        aggregation={"alignment_period": {"seconds": 300}, "per_series_aligner": Aggregation.Aligner.ALIGN_DELTA},
    )
    assert delta.metric_kind == MetricKind.DELTA and delta.value_type == ValueType.INT64
    assert [p.value.int64_value for p in delta.points] == [150]
    assert delta.points[0].interval.start_time == NOW - timedelta(minutes=5)


def test_topic_publishes_filtered_by_response_code(google_api: FakeGoogleAPIs, metrics: MetricServiceClient) -> None:
    topic = {"project_id": PROJECT, "topic_id": "wandb-run-updates-shadow"}
    for code, counts in (("success", [600, 900, 1200]), ("unavailable", [6, 0, 12])):
        google_api.add_series(
            PROJECT,
            SEND_MESSAGE_COUNT,
            "pubsub_topic",
            topic,
            _minutes(counts),
            metric_labels={"response_code": code},
            value_type="INT64",
            metric_kind="DELTA",
        )
    (sent,) = _list(
        metrics,
        f'metric.type = "{SEND_MESSAGE_COUNT}" AND resource.type = "pubsub_topic" '
        'AND metric.labels.response_code = "success"',
        minutes=3,
        aggregation=RATE_SUM,
    )
    assert [p.value.double_value for p in sent.points] == pytest.approx([20.0, 15.0, 10.0])
    both = _list(
        metrics,
        f'metric.type = "{SEND_MESSAGE_COUNT}"',
        minutes=3,
        aggregation={**RATE_SUM, "group_by_fields": ["metric.labels.response_code"]},
    )
    assert {s.metric.labels["response_code"]: s.points[0].value.double_value for s in both} == {
        "success": 20.0,
        "unavailable": 0.2,
    }


def test_align_rate_on_a_gauge_is_invalid_argument(google_api: FakeGoogleAPIs, metrics: MetricServiceClient) -> None:
    google_api.add_series(
        PROJECT,
        OLDEST_UNACKED_AGE,
        "pubsub_subscription",
        {"project_id": PROJECT, "subscription_id": "s"},
        _minutes([5, 7]),
        value_type="INT64",
    )
    with pytest.raises(gexc.InvalidArgument) as caught:
        _list(metrics, f'metric.type = "{OLDEST_UNACKED_AGE}"', aggregation=RATE_SUM)
    assert caught.value.message == (
        'Field aggregation.perSeriesAligner had an invalid value of "ALIGN_RATE": The aligner cannot be applied '
        "to metrics with kind GAUGE and value type INT64."
    )


def test_add_series_validates_the_kind(google_api: FakeGoogleAPIs) -> None:
    with pytest.raises(ValueError, match="metric_kind"):
        google_api.add_series(PROJECT, ACK_MESSAGE_COUNT, "pubsub_subscription", {}, [], metric_kind="RATE")
    _acks(google_api, "s", [1])
    with pytest.raises(ValueError, match="metric_kind 'DELTA'"):
        google_api.add_series(
            PROJECT,
            ACK_MESSAGE_COUNT,
            "pubsub_subscription",
            {"project_id": PROJECT, "subscription_id": "s"},
            [],
            value_type="INT64",
        )


# -- latency and connections ------------------------------------------------------------------


def test_latency_all_delays_concurrent_calls_side_by_side(
    google_api: FakeGoogleAPIs, metrics: MetricServiceClient
) -> None:
    _acks(google_api, "s", [60, 60])
    google_api.latency_all(0.3)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: _list(metrics, f'metric.type = "{ACK_MESSAGE_COUNT}"'), range(4)))
    elapsed = time.monotonic() - started
    assert all(len(a) == 1 for a in answers)
    assert 0.3 <= elapsed < 0.9, elapsed  # serialised behind a lock it would take 1.2 s
    google_api.latency("ListTimeSeries", 0.0)  # a per-method latency overrides latency_all
    started = time.monotonic()
    _list(metrics, f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert time.monotonic() - started < 0.25
    google_api.reset_faults()
    google_api.latency_all(0.3)
    google_api.reset_faults()
    started = time.monotonic()
    _list(metrics, f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert time.monotonic() - started < 0.25


def _own_channel(google_api: FakeGoogleAPIs) -> grpc.Channel:
    """A channel with a connection of its own. By default gRPC shares one connection between all
    open channels with the same target and options (its global subchannel pool), and a channel
    left open by an earlier test on a reused port would join in: so a fresh channel is not
    always a fresh connection, and a test that counts them gives each channel its own pool."""
    return grpc.insecure_channel(google_api.address, options=[("grpc.use_local_subchannel_pool", 1)])


def test_connections_count_client_connections_not_calls(google_api: FakeGoogleAPIs) -> None:
    _acks(google_api, "s", [60])
    first, second = _own_channel(google_api), _own_channel(google_api)
    client = _client(first)
    _list(client, f'metric.type = "{ACK_MESSAGE_COUNT}"')
    _list(client, f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert google_api.count("ListTimeSeries") == 2 and google_api.connections() == 1  # a kept channel: one connection
    _list(_client(second), f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert google_api.connections() == 2
    google_api.reset_calls()
    assert google_api.connections() == 0
    _list(client, f'metric.type = "{ACK_MESSAGE_COUNT}"')  # the next round on the kept channel: nothing new
    assert google_api.connections() == 0 and google_api.count() == 1
    third = _own_channel(google_api)
    _list(_client(third), f'metric.type = "{ACK_MESSAGE_COUNT}"')
    assert google_api.connections() == 1
    third.close()
    first.close()
    second.close()
