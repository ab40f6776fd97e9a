"""The queue's verdict, its data-loss projection and its `wbctl check` findings, from
synthetic minute-spaced readings (the SPEC of `wbctl runbook queue-backlog`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.support.points import NOW, flat, minutes, ramp
from wbctl.core import queue
from wbctl.core.model import Report, Status
from wbctl.core.queue import Judgement, Policy, QueueReadings, Reading, Verdict

WINDOW = 1800  # trend span max(10 min, 30 min / 3) = 10 min
DAY = 86400
WEEK = 7 * DAY
REMEDY = "wbctl --context prod runbook queue-backlog"


Values = "list[float] | Reading | None"


def reading(name: str, values: list[float] | Reading | None, end: datetime = NOW) -> Reading:
    if isinstance(values, Reading):
        return values
    if values is None:
        return Reading(name, reason="not read")
    return Reading(name, minutes(values, end))


def readings(
    source: str = "pubsub",
    *,
    backlog=None,
    age=None,
    published=None,
    consumed=None,
    end: datetime = NOW,
    partitions=None,
) -> QueueReadings:
    return QueueReadings(
        source,
        backlog=reading("backlog", backlog, end),
        oldest_age=reading("oldest_age", age, end),
        published=reading("published", published, end),
        consumed=reading("consumed", consumed, end),
        partitions=partitions,
    )


def judge(raw: QueueReadings, policy: Policy | None = None, *, window: int = WINDOW, now: datetime = NOW) -> Judgement:
    return queue.judge(raw, window=window, now=now, policy=policy or Policy())


# --- scenarios ------------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    raw: QueueReadings
    verdict: Verdict
    policy: Policy = field(default_factory=Policy)
    reason: str = ""  # a word the reason must hold


NONE = Case(readings(backlog=flat(0), age=flat(0), published=flat(50), consumed=flat(50)), Verdict.NONE)
NONE_ALLOWED = Case(
    readings(backlog=ramp(0, 45), age=flat(20), published=flat(50), consumed=flat(49)),
    Verdict.NONE,
    Policy(allowed_backlog=1000),
)
GROWING = Case(
    readings(backlog=ramp(0, 1000), age=ramp(30, 30), published=flat(500), consumed=flat(300)),
    Verdict.GROWING,
    reason="growing",
)
DRAINING = Case(
    readings(backlog=ramp(30000, -1000), age=ramp(900, -30), published=flat(100), consumed=flat(300)),
    Verdict.DRAINING,
    reason="draining",
)
STEADY = Case(
    readings(
        backlog=[5000 + (10 if i % 2 else -10) for i in range(21)],
        age=flat(60),
        published=flat(200),
        consumed=flat(200),
    ),
    Verdict.STEADY,
)
STEADY_AGE_SLOW = Case(
    readings(backlog=flat(5000), age=ramp(60, 30), published=flat(50), consumed=flat(50)), Verdict.STEADY
)  # the age rises at 0.5 s/s: not the ~1 s/s of a stall
STALLED_ACKS = Case(
    readings(backlog=ramp(0, 500), age=ramp(60, 60), published=flat(100), consumed=flat(0.5)),
    Verdict.STALLED,
    reason="acknowledgements",
)
STALLED_AGE = Case(
    readings(backlog=flat(5000), age=ramp(60, 60), published=flat(50), consumed=flat(50)), Verdict.STALLED, reason="age"
)
UNKNOWN_NO_BACKLOG = Case(
    readings(backlog=Reading("backlog", reason="permission denied"), age=flat(10), published=flat(5), consumed=flat(5)),
    Verdict.UNKNOWN,
    reason="permission denied",
)
UNKNOWN_FEW_POINTS = Case(
    readings(backlog=[100, 200, 300], age=flat(10, 3), published=flat(5, 3), consumed=flat(5, 3)),
    Verdict.UNKNOWN,
    reason="at least 5",
)
UNKNOWN_SPARSE = Case(  # 7 points 3 minutes apart: only 4 in the last 10 minutes
    readings(
        backlog=Reading("backlog", tuple((NOW - timedelta(minutes=3 * (6 - i)), 1000.0 * i) for i in range(7))),
        age=flat(10),
        published=flat(5),
        consumed=flat(5),
    ),
    Verdict.UNKNOWN,
    reason="at least 5",
)
UNKNOWN_STALE = Case(
    readings(
        backlog=ramp(0, 1000),
        age=ramp(30, 30),
        published=flat(500),
        consumed=flat(300),
        end=NOW - timedelta(minutes=10),
    ),
    Verdict.UNKNOWN,
    reason="stale",
)


@pytest.mark.parametrize(
    "case",
    [
        pytest.param(NONE, id="none"),
        pytest.param(NONE_ALLOWED, id="none-within-allowed-backlog"),
        pytest.param(GROWING, id="growing"),
        pytest.param(DRAINING, id="draining"),
        pytest.param(STEADY, id="steady"),
        pytest.param(STEADY_AGE_SLOW, id="steady-age-rising-slowly"),
        pytest.param(STALLED_ACKS, id="stalled-by-acks"),
        pytest.param(STALLED_AGE, id="stalled-by-age"),
        pytest.param(UNKNOWN_NO_BACKLOG, id="unknown-no-backlog"),
        pytest.param(UNKNOWN_FEW_POINTS, id="unknown-too-few-points"),
        pytest.param(UNKNOWN_SPARSE, id="unknown-too-few-points-in-the-trend-span"),
        pytest.param(UNKNOWN_STALE, id="unknown-stale-backlog"),
    ],
)
def test_verdict(case: Case) -> None:
    judgement = judge(case.raw, case.policy)
    assert judgement.verdict is case.verdict, judgement.reason
    assert case.reason in judgement.reason


def test_growing_reports_its_rate_and_when_the_rise_began() -> None:
    judgement = judge(GROWING.raw)
    assert judgement.rate_per_second == pytest.approx(1000 / 60)
    assert judgement.backlog == 20000
    assert judgement.oldest_age == 630
    assert judgement.publish_rate == pytest.approx(500) and judgement.consume_rate == pytest.approx(300)
    assert judgement.rise_began == NOW - timedelta(minutes=20)
    assert judgement.drain_seconds is None


def test_draining_gives_the_time_to_empty() -> None:
    judgement = judge(DRAINING.raw)
    assert judgement.verdict is Verdict.DRAINING
    assert judgement.rate_per_second == pytest.approx(-1000 / 60)
    assert judgement.drain_seconds == pytest.approx(10000 / (1000 / 60))  # backlog / -slope = 600 s


def test_the_trend_span_is_a_third_of_a_long_window() -> None:
    # 3 h window: the trend is read over the last hour; a rise before it does not count
    values = ramp(0, 1000, 120) + flat(119000, 61)
    judgement = judge(
        readings(backlog=values, age=flat(60, 181), published=flat(10, 181), consumed=flat(10, 181)), window=3 * 3600
    )
    assert judgement.trend_seconds == 3600
    assert judgement.verdict is Verdict.STEADY


def test_one_spike_does_not_make_a_trend() -> None:
    values = flat(5000)
    values[-1] = 500000  # one scrape hiccup at the newest point
    judgement = judge(readings(backlog=values, age=flat(60), published=flat(10), consumed=flat(10)))
    assert judgement.verdict is Verdict.STEADY


def test_a_stale_counter_is_unknown_beside_a_fresh_backlog() -> None:
    raw = readings(
        backlog=ramp(0, 1000),
        age=ramp(30, 30),
        published=flat(500),
        consumed=Reading("consumed", minutes(flat(300), end=NOW - timedelta(minutes=8))),
    )
    judgement = judge(raw)
    assert judgement.consume_rate is None
    assert not judgement.readings.consumed.known
    assert "stale" in judgement.readings.consumed.reason
    assert judgement.verdict is Verdict.GROWING


# --- Pub/Sub's silent DELTA counters read zero ----------------------------------------


def test_pubsub_counters_without_data_beside_fresh_backlog_read_zero() -> None:
    raw = readings(
        backlog=flat(0),
        age=flat(0),
        published=Reading("published", no_data=True, reason="no data"),
        consumed=Reading("consumed", no_data=True, reason="no data"),
    )
    judgement = judge(raw)
    assert judgement.publish_rate == 0.0 and judgement.consume_rate == 0.0
    backlog_times = [t for t, _ in judgement.readings.backlog.points]
    assert [t for t, _ in judgement.readings.consumed.points] == backlog_times
    assert all(value == 0.0 for _, value in judgement.readings.published.points)
    assert judgement.verdict is Verdict.NONE


def test_pubsub_counters_without_data_stay_unknown_beside_a_stale_backlog() -> None:
    raw = readings(
        backlog=flat(0),
        age=flat(0),
        end=NOW - timedelta(minutes=10),
        published=Reading("published", no_data=True),
        consumed=Reading("consumed", no_data=True),
    )
    judgement = judge(raw)
    assert judgement.verdict is Verdict.UNKNOWN
    assert not judgement.readings.consumed.known


def test_an_unreadable_counter_is_not_zero() -> None:
    raw = readings(
        backlog=flat(0),
        age=flat(0),
        published=Reading("published", reason="permission denied"),
        consumed=Reading("consumed", reason="permission denied"),
    )
    judgement = judge(raw)
    assert judgement.publish_rate is None and judgement.consume_rate is None


# --- Kafka: age and publishing derived from the lag -----------------------------------


def test_kafka_age_is_lag_over_consumption_and_publishing_is_consumption_plus_the_lags_change() -> None:
    raw = readings(
        "kafka",
        backlog=ramp(1000, 60),
        consumed=flat(10),
        age=Reading("oldest_age", reason="no Kafka age metric"),
        published=Reading("published", reason="no Kafka publish metric"),
    )
    judgement = judge(raw)
    assert judgement.oldest_age == pytest.approx(2200 / 10)
    ages = [value for _, value in judgement.readings.oldest_age.points]
    assert ages == pytest.approx([v / 10 for v in ramp(1000, 60)])
    published = [value for _, value in judgement.readings.published.points]
    assert len(published) == 20 and published == pytest.approx([10 + 60 / 60] * 20)
    assert judgement.publish_rate == pytest.approx(11)
    assert judgement.verdict is Verdict.GROWING


def test_kafka_keeps_a_measured_publish_rate() -> None:
    raw = readings("kafka", backlog=ramp(1000, 60), consumed=flat(10), published=flat(42))
    assert judge(raw).publish_rate == pytest.approx(42)


@pytest.mark.parametrize(
    "consumed",
    [
        pytest.param(Reading("consumed", reason="no query (prometheus-query-queue-consumed)"), id="no-query"),
        pytest.param(Reading("consumed", no_data=True), id="no-data-is-not-zero-on-kafka"),
        pytest.param(Reading("consumed", minutes(flat(10), end=NOW - timedelta(minutes=9))), id="stale"),
    ],
)
def test_kafka_without_consumption_has_no_age(consumed: Reading) -> None:
    raw = readings("kafka", backlog=ramp(1000, 60), consumed=consumed, age=None, published=None)
    judgement = judge(raw)
    assert judgement.oldest_age is None
    assert not judgement.readings.oldest_age.known
    assert "unknown" in judgement.readings.oldest_age.reason
    assert judgement.verdict is Verdict.GROWING  # judged on the lag alone
    report = queue.check(judgement, "kafka topic", REMEDY)
    assert {f.check: f.status for f in report.findings}[queue.AGE_CHECK] is Status.UNKNOWN


# --- data loss ------------------------------------------------------------------------


@dataclass(frozen=True)
class Loss:
    raw: QueueReadings
    policy: Policy
    projected: bool
    seconds_left: float | None
    reason: str


LOSSES = [
    pytest.param(
        Loss(
            readings(backlog=flat(200_000), age=flat(1800), published=flat(100), consumed=flat(100)),
            Policy(retention=3600),
            True,
            1800,
            "to work through",
        ),
        id="projected-by-drain",
    ),
    pytest.param(
        Loss(
            readings(backlog=flat(5000), age=flat(1000), published=flat(0), consumed=flat(0)),
            Policy(),
            True,
            WEEK - 1000,
            "nothing is being consumed",
        ),
        id="projected-nothing-consumed",
    ),
    # the oldest is 6d 8h old and ages 1 s/s (a stuck message) on a 7d retention: lost in ~15h 13m
    pytest.param(
        Loss(
            readings(backlog=ramp(0, 1000), age=ramp(550_000 - 1200, 60), published=flat(500), consumed=flat(300)),
            Policy(),
            True,
            WEEK - 550_000,
            "rises",
        ),
        id="projected-by-rising-age-within-a-day",
    ),
    pytest.param(
        Loss(
            readings(backlog=ramp(0, 1000), age=ramp(1200 - 1200, 60), published=flat(500), consumed=flat(300)),
            Policy(retention=7200),
            True,
            7200 - 1200,
            "rises",
        ),
        id="projected-by-rising-age-short-retention",
    ),
    pytest.param(
        Loss(
            readings(
                backlog=ramp(800_000, 10_000), age=ramp(3000 - 2400, 120), published=flat(300), consumed=flat(100)
            ),  # drain: 4200 s left; the age's rise: (7200 - 3000) / 2 = 2100 s
            Policy(retention=7200),
            True,
            2100,
            "rises",
        ),
        id="projected-the-smallest-time",
    ),
    pytest.param(Loss(GROWING.raw, Policy(), False, None, "would reach it in"), id="not-projected-beyond-a-day"),
    pytest.param(
        Loss(
            readings(backlog=ramp(0, 1000), age=ramp(600, 30), published=flat(500), consumed=flat(300)),
            Policy(retention=7200),
            False,
            None,
            "retention left",
        ),
        id="not-projected-beyond-the-retention",
    ),  # eta 12000 s > min(1 day, 2 h)
    pytest.param(Loss(GROWING.raw, Policy(retention=None), False, None, "retention unknown"), id="retention-unknown"),
    pytest.param(Loss(NONE.raw, Policy(), False, None, "retention left"), id="none-nothing-to-lose"),
    pytest.param(Loss(DRAINING.raw, Policy(), False, None, "retention left"), id="draining-fast"),
]


@pytest.mark.parametrize("loss", LOSSES)
def test_data_loss(loss: Loss) -> None:
    judgement = judge(loss.raw, loss.policy)
    assert judgement.loss is not None
    assert judgement.loss.projected is loss.projected, judgement.loss.reason
    if loss.seconds_left is None:
        assert judgement.loss.seconds_left is None
    else:
        assert judgement.loss.seconds_left == pytest.approx(loss.seconds_left, abs=1)
    assert loss.reason in judgement.loss.reason
    assert judgement.loss.retention == loss.policy.retention


def test_unknown_consumption_is_not_nothing_consumed() -> None:
    """A counter that could not be read is unknown, never zero (wbctl.core.series): it must not
    project a data loss as if nothing were consumed."""
    raw = readings(
        backlog=flat(5000), age=flat(60), published=flat(50), consumed=Reading("consumed", reason="permission denied")
    )
    judgement = judge(raw)
    assert judgement.consume_rate is None
    assert judgement.loss is not None
    assert not judgement.loss.projected, judgement.loss.reason


def test_needs_capacity() -> None:
    assert judge(GROWING.raw).needs_capacity
    assert judge(STEADY.raw).needs_capacity
    assert not judge(DRAINING.raw).needs_capacity
    assert not judge(STALLED_ACKS.raw).needs_capacity
    assert not judge(NONE.raw).needs_capacity
    slow_drain = readings(backlog=ramp(100_000, -1000), age=flat(3000), published=flat(100), consumed=flat(100))
    judgement = judge(slow_drain, Policy(retention=3600))
    assert judgement.verdict is Verdict.DRAINING and judgement.loss is not None and judgement.loss.projected
    assert judgement.needs_capacity


# --- queue.check ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "policy", "backlog_status", "age_status"),
    [
        pytest.param(NONE.raw, Policy(), Status.OK, Status.OK, id="none"),
        pytest.param(STEADY.raw, Policy(), Status.WARN, Status.OK, id="steady"),
        pytest.param(DRAINING.raw, Policy(), Status.WARN, Status.OK, id="draining"),
        pytest.param(GROWING.raw, Policy(), Status.FAIL, Status.WARN, id="growing-age-over-allowed"),
        pytest.param(STALLED_ACKS.raw, Policy(), Status.FAIL, Status.WARN, id="stalled"),
        pytest.param(UNKNOWN_NO_BACKLOG.raw, Policy(), Status.UNKNOWN, Status.UNKNOWN, id="unknown"),
        pytest.param(
            readings(backlog=flat(200_000), age=flat(1800), published=flat(100), consumed=flat(100)),
            Policy(retention=3600),
            Status.FAIL,  # data loss projected: fail, as the runbook's step 1 says
            Status.FAIL,
            id="loss-projected",
        ),
        pytest.param(
            readings(backlog=flat(5000), age=flat(400), published=flat(100), consumed=flat(100)),
            Policy(allowed_age=600),
            Status.WARN,
            Status.OK,
            id="age-within-allowed",
        ),
    ],
)
def test_check(raw: QueueReadings, policy: Policy, backlog_status: Status, age_status: Status) -> None:
    report = queue.check(judge(raw, policy), "projects/p/subscriptions/s", REMEDY)
    findings = {f.check: f for f in report.findings}
    assert set(findings) == set(queue.CHECK_IDS)
    assert findings[queue.BACKLOG_CHECK].status is backlog_status
    assert findings[queue.AGE_CHECK].status is age_status
    for finding in report.findings:
        assert finding.target == "projects/p/subscriptions/s"
        assert (finding.remedy == REMEDY) is (finding.status in (Status.WARN, Status.FAIL)), finding
        assert finding.remedy in ("", REMEDY)


def test_check_observes_the_backlog() -> None:
    findings = {f.check: f for f in queue.check(judge(GROWING.raw), "t", REMEDY).findings}
    assert findings[queue.BACKLOG_CHECK].observed == 20000
    assert "growing" in findings[queue.BACKLOG_CHECK].message


def test_an_unknown_queue_makes_both_its_checks_unknown() -> None:
    report = Report.all_unknown(queue.CHECK_IDS, "t", "no queue configured")
    assert [f.check for f in report.findings] == list(queue.CHECK_IDS)
    assert [f.status for f in report.findings] == [Status.UNKNOWN, Status.UNKNOWN]
    assert all(f.remedy == "" and "no queue configured" in f.message for f in report.findings)


# --- the verdict at any size (properties) ---------------------------------------------

SIZES = st.floats(min_value=1, max_value=1e10)  # the backlog at the start of the series
RATES = st.floats(min_value=1, max_value=1e5)  # messages per second published


@settings(deadline=None)
@given(start=SIZES, publish=RATES, share=st.floats(min_value=0.05, max_value=0.95))
@example(start=5_400_000, publish=1000, share=0.25)  # the sandbox's story six hours in
def test_a_backlog_rising_at_a_fixed_rate_is_growing_at_every_size(start: float, publish: float, share: float) -> None:
    consume = publish * (1 - share)
    rise = (publish - consume) * 60  # per minute: what the rates say the backlog gains
    raw = readings(backlog=ramp(start, rise), age=flat(600), published=flat(publish), consumed=flat(consume))
    judgement = judge(raw)
    assert judgement.verdict is Verdict.GROWING, judgement.reason


@settings(deadline=None)
@given(start=SIZES, rise=st.floats(min_value=1, max_value=1e6))
def test_a_rise_without_rates_is_growing_at_every_size(start: float, rise: float) -> None:
    judgement = judge(readings(backlog=ramp(start, rise), age=flat(600)))
    assert judgement.verdict is Verdict.GROWING, judgement.reason


@settings(deadline=None)
@given(size=SIZES, publish=RATES, share=st.floats(min_value=0.05, max_value=0.95))
def test_a_backlog_falling_at_a_fixed_rate_is_draining_at_every_size(size: float, publish: float, share: float) -> None:
    consume = publish * (1 + share)
    fall = (consume - publish) * 60
    start = size + fall * 21  # still above zero at the newest point
    raw = readings(backlog=ramp(start, -fall), age=flat(600), published=flat(publish), consumed=flat(consume))
    judgement = judge(raw)
    assert judgement.verdict is Verdict.DRAINING, judgement.reason


@settings(deadline=None)
@given(size=SIZES, publish=RATES)
def test_a_flat_backlog_beside_equal_rates_is_steady_at_every_size(size: float, publish: float) -> None:
    raw = readings(backlog=flat(size), age=flat(600), published=flat(publish), consumed=flat(publish))
    assert judge(raw).verdict is Verdict.STEADY


@settings(deadline=None)
@given(size=SIZES, publish=RATES, share=st.floats(min_value=0.05, max_value=0.95))
def test_consumption_persistently_under_publishing_is_growth_whatever_the_backlog(
    size: float, publish: float, share: float
) -> None:
    # the backlog gauge lags or is flat (a coarse gauge): the rates alone say it grows
    raw = readings(backlog=flat(size), age=flat(600), published=flat(publish), consumed=flat(publish * (1 - share)))
    judgement = judge(raw)
    assert judgement.verdict is Verdict.GROWING, judgement.reason
    assert "consum" in judgement.reason


# --- the filestream queue: the same judgement, its own ids ------------------------------


def test_the_filestream_queue_is_judged_under_its_own_ids() -> None:
    judgement = judge(GROWING.raw)
    run_updates = queue.check(judgement, "t", REMEDY)
    filestream = queue.check(judgement, "t", REMEDY, "filestream")
    assert [f.check for f in filestream.findings] == ["queue.filestream.backlog", "queue.filestream.oldest-age"]
    assert list(queue.FILESTREAM_CHECK_IDS) == [f.check for f in filestream.findings]
    # the same statuses and words: one judgement, only the ids differ
    assert [(f.status, f.message) for f in filestream.findings] == [(f.status, f.message) for f in run_updates.findings]


def test_an_unknown_filestream_queue_is_unknown_under_its_ids() -> None:
    report = queue.check(judge(readings()), "t", REMEDY, "filestream")
    assert {f.check: f.status for f in report.findings} == {
        queue.FILESTREAM_BACKLOG_CHECK: Status.UNKNOWN,
        queue.FILESTREAM_AGE_CHECK: Status.UNKNOWN,
    }
