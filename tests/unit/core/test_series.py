"""Series as every judgement reads them: the robust slope, the window cut, the sum of series."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wbctl.core.series import Series, SignalData, since, theil_sen

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def seconds_apart(values: list[float], step: float = 60.0, end: datetime = NOW) -> tuple[tuple[datetime, float], ...]:
    count = len(values)
    return tuple((end - timedelta(seconds=step * (count - 1 - i)), float(v)) for i, v in enumerate(values))


# --- theil_sen ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("values", "step", "slope"),
    [
        pytest.param([0, 60, 120, 180, 240], 60, 1.0, id="rising-1-per-second"),
        pytest.param([600, 480, 360, 240, 120, 0], 60, -2.0, id="falling-2-per-second"),
        pytest.param([42] * 8, 60, 0.0, id="flat"),
        pytest.param([0, 10], 5, 2.0, id="two-points"),
    ],
)
def test_theil_sen_of_a_line_is_its_slope(values: list[float], step: float, slope: float) -> None:
    assert theil_sen(seconds_apart(values, step)) == pytest.approx(slope)


@pytest.mark.parametrize("outlier_at", [0, 5, 10, 19], ids=lambda i: f"outlier-at-{i}")
def test_one_wild_outlier_keeps_the_slope(outlier_at: int) -> None:
    values = [100.0 + 30.0 * i for i in range(20)]  # 0.5 per second at one point a minute
    values[outlier_at] = 1e9
    assert theil_sen(seconds_apart(values)) == pytest.approx(0.5, rel=0.05)


def test_one_wild_dip_keeps_the_slope() -> None:
    values = [1000.0 - 60.0 * i for i in range(15)]  # -1 per second
    values[7] = -1e9
    assert theil_sen(seconds_apart(values)) == pytest.approx(-1.0, rel=0.05)


@pytest.mark.parametrize(
    "points",
    [
        pytest.param((), id="no-points"),
        pytest.param(((NOW, 3.0),), id="one-point"),
        pytest.param(((NOW, 3.0), (NOW, 7.0)), id="two-points-same-time"),
    ],
)
def test_theil_sen_is_none_without_two_distinct_times(points: tuple) -> None:
    assert theil_sen(points) is None


@pytest.mark.parametrize("count", [241, 1000, 5000])
def test_a_long_series_is_thinned_and_stays_close(count: int) -> None:
    # 3 per second with a deterministic wobble, one point every 10 s
    values = [3.0 * 10 * i + (7 if i % 3 == 0 else -5) for i in range(count)]
    slope = theil_sen(seconds_apart(values, step=10))
    assert slope == pytest.approx(3.0, rel=0.02)


def test_a_long_series_with_outliers_stays_close() -> None:
    values = [2.0 * 15 * i for i in range(2000)]
    for i in range(0, 2000, 37):  # ~3 % spikes
        values[i] = 1e12
    assert theil_sen(seconds_apart(values, step=15)) == pytest.approx(2.0, rel=0.02)


# --- since ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "expected"),
    [
        pytest.param(NOW - timedelta(minutes=2), [2.0, 3.0, 4.0], id="start-on-a-point-is-included"),
        pytest.param(NOW - timedelta(minutes=2, seconds=30), [2.0, 3.0, 4.0], id="between-points"),
        pytest.param(NOW - timedelta(hours=1), [0.0, 1.0, 2.0, 3.0, 4.0], id="before-all"),
        pytest.param(NOW, [4.0], id="at-the-newest"),
        pytest.param(NOW + timedelta(seconds=1), [], id="after-all"),
    ],
)
def test_since(start: datetime, expected: list[float]) -> None:
    points = seconds_apart([0, 1, 2, 3, 4])
    assert [value for _, value in since(points, start)] == expected


def test_since_of_nothing() -> None:
    assert since((), NOW) == []


# --- SignalData.total -----------------------------------------------------------------


def test_total_of_an_unknown_signal_is_none() -> None:
    assert SignalData.unknown("queue-undelivered", "permission denied").total() is None


def test_total_of_no_series_is_none() -> None:
    assert SignalData("queue-undelivered", ()).total() is None


def test_total_of_one_series_is_that_series() -> None:
    series = Series({"subscription": "s"}, seconds_apart([1, 2, 3]))
    assert SignalData("queue-undelivered", (series,)).total() == series


def test_total_sums_aligned_series_point_by_point() -> None:
    a = Series({"partition": "0"}, seconds_apart([1, 2, 3]))
    b = Series({"partition": "1"}, seconds_apart([10, 20, 30]))
    c = Series({"partition": "2"}, seconds_apart([100, 200, 300]))
    total = SignalData("queue-lag", (a, b, c)).total()
    assert total is not None
    assert total.points == seconds_apart([111, 222, 333])
    assert total.latest == 333 and total.newest == NOW


def test_total_keeps_times_only_some_series_have_in_order() -> None:
    a = Series({"partition": "0"}, seconds_apart([1, 2, 3]))
    b = Series({"partition": "1"}, seconds_apart([10, 20], end=NOW - timedelta(seconds=30)))
    total = SignalData("queue-lag", (a, b)).total()
    assert total is not None
    times = [t for t, _ in total.points]
    assert times == sorted(times) and len(times) == 5
    assert sum(v for _, v in total.points) == 36


def test_for_label_and_known() -> None:
    a = Series({"cluster": "c1"}, seconds_apart([1]))
    data = SignalData("bigtable-cpu", (a,))
    assert data.known and data.for_label("cluster", "c1") is a and data.for_label("cluster", "c2") is None
    assert not SignalData.unknown("bigtable-cpu", "x").known
