"""The Monitoring fake's select on counters: DELTA and CUMULATIVE series, ALIGN_RATE and ALIGN_DELTA,
and the aligners the real API refuses per metric kind. Pure: no gRPC, no client."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wbctl.sandbox.google.errors import InvalidArgument
from wbctl.sandbox.google.monitoring import (
    Aggregation,
    Series,
    parse_filter,
    select,
)

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
ACKS = "pubsub.googleapis.com/subscription/ack_message_count"
MINUTE = timedelta(minutes=1)


def _acks(subscription: str, counts: list[int], kind: str = "DELTA") -> Series:
    """counts oldest first, one a minute, the last at NOW."""
    times = [NOW - MINUTE * (len(counts) - 1 - i) for i in range(len(counts))]
    return Series(
        "p",
        ACKS,
        "pubsub_subscription",
        {"subscription_id": subscription},
        {},
        "INT64",
        list(zip(times, counts)),
        metric_kind=kind,
        start_time=times[0] - MINUTE,
    )


def _select(
    series: list[Series], aligner: str, seconds: int = 60, reducer: str = "REDUCE_NONE", minutes: int = 5
) -> list[Series]:
    agg = Aggregation(timedelta(seconds=seconds), aligner, reducer, ())
    return select(
        series,
        project="p",
        predicate=parse_filter(f'metric.type = "{ACKS}"'),
        start=NOW - MINUTE * minutes,
        end=NOW,
        agg=agg,
    )


def test_align_rate_divides_each_bucket_by_its_period() -> None:
    (one,) = _select([_acks("s", [60, 120, 180, 240, 300])], "ALIGN_RATE")
    assert one.metric_kind == "GAUGE" and one.value_type == "DOUBLE"  # a rate is a gauge, as Google documents
    assert [v for _, v in one.points] == [5.0, 4.0, 3.0, 2.0, 1.0]  # newest first
    assert one.point_start(NOW) == NOW
    (wide,) = _select([_acks("s", [60, 120, 180, 240, 300])], "ALIGN_RATE", seconds=300)
    assert wide.points == [(NOW, 900 / 300)]


def test_align_rate_then_reduce_sum_adds_the_rates() -> None:
    (total,) = _select(
        [_acks("a", [60, 60, 60]), _acks("b", [120, 0, 30])], "ALIGN_RATE", reducer="REDUCE_SUM", minutes=3
    )
    assert [v for _, v in total.points] == [1.5, 1.0, 3.0] and total.metric_kind == "GAUGE"


def test_align_delta_keeps_the_kind_and_sums_the_counts() -> None:
    (one,) = _select([_acks("s", [1, 2, 3, 4, 5])], "ALIGN_DELTA", seconds=120, minutes=4)
    assert one.metric_kind == "DELTA" and one.value_type == "INT64"
    assert one.points == [(NOW, 9), (NOW - 2 * MINUTE, 5)]
    assert one.point_start(NOW) == NOW - 2 * MINUTE  # a DELTA point covers its (alignment) period


def test_raw_delta_points_cover_their_sample_period() -> None:
    (one,) = _select([_acks("s", [7, 8])], "ALIGN_NONE")
    assert one.metric_kind == "DELTA" and one.points[0] == (NOW, 8)
    assert one.point_start(NOW) == NOW - MINUTE


def test_cumulative_counts_are_differenced_and_a_reset_restarts_them() -> None:
    series = _acks("s", [100, 160, 220, 10, 70], kind="CUMULATIVE")
    (rate,) = _select([series], "ALIGN_RATE", minutes=4)
    assert [v for _, v in rate.points] == [1.0, 10 / 60, 1.0, 1.0]
    (raw,) = _select([series], "ALIGN_NONE")
    assert raw.point_start(NOW) == NOW - 5 * MINUTE  # counting since the series began


@pytest.mark.parametrize(
    ("kind", "aligner"),
    [("GAUGE", "ALIGN_RATE"), ("GAUGE", "ALIGN_DELTA"), ("DELTA", "ALIGN_NEXT_OLDER"), ("CUMULATIVE", "ALIGN_MEAN")],
)
def test_aligners_refused_on_the_wrong_kind(kind: str, aligner: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        _select([_acks("s", [1, 2], kind=kind)], aligner)
    assert str(caught.value) == (
        f'Field aggregation.perSeriesAligner had an invalid value of "{aligner}": '
        f"The aligner cannot be applied to metrics with kind {kind} and value type INT64."
    )


def test_gauge_aligners_still_apply_to_deltas() -> None:
    (one,) = _select([_acks("s", [1, 5, 3])], "ALIGN_MAX", seconds=180, minutes=3)
    assert one.points == [(NOW, 5)] and one.metric_kind == "DELTA"
