"""Is the queue in front of the flat-run-fields-updater backing up? One verdict from the series.

Never from one sample: the verdict reads the backlog's robust trend (the Theil-Sen slope over
the last max(10 min, window / 3), at least 5 points), beside the publish and consumption
rates and the oldest message's age, in this order (docs/runbook.md):

- `none`     the backlog is within `queue-allowed-backlog` and the oldest message within
             `queue-allowed-age` at the newest point;
- `stalled`  acknowledgements under 1 % of publishes for 5 minutes, or the oldest age rising
             at ~1 s/s for 10 minutes while the backlog is flat: a message that cannot be
             processed (with ordering on it blocks its run's ordering key), not load;
- `growing` / `draining`  a significant rise / fall: the slope beyond max(1 % of the
             throughput, 3 x the backlog's jitter around its trend line over the span), or,
             the trend not significant, consumption under (over) publishing by more than 1 %
             at every point of the last 5 minutes;
- `steady`   otherwise.

Significance is judged against the queue's throughput and the series' own noise, never its
size: against a share of the median backlog, the larger the backlog the faster it could
grow unnoticed (a 5.8M backlog gaining 15,000 a minute read "steady").

Data loss is judged beside the verdict: the retention (Pub/Sub: 7 days in W&B's Terraform
module) against the oldest age plus the time to work through the backlog, and against the
age's own rise. This is Burrow's idea (judge consumer lag over a window, not a threshold on
one sample) carried to the rates and the retention that time series allow.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import Enum

from wbctl.core.durations import format_duration
from wbctl.core.model import Finding, Report, Status
from wbctl.core.series import HasPoints, Point, mean_value, since, theil_sen

MIN_WINDOW = 600
MIN_POINTS = 5
STALE_AFTER = 300
STALL_ACK_SHARE = 0.01
STALL_ACK_SECONDS = 300
STALL_AGE_SECONDS = 600
STALL_AGE_RATE = 0.8  # s/s: "rising at ~1 s/s" with room for sampling jitter
SIGNIFICANT_SHARE = 0.01  # of the throughput (the larger of publish and consume rates), per second
NOISE_FACTOR = 3.0  # a change within 3 x the median distance from the trend line is jitter
PUBSUB_RETENTION = 7 * 86400
AGE_RISE = 60.0  # the oldest message aging by more than a minute over the trend span is a rise
LOSS_HORIZON = 86400  # an age trend is extrapolated a day ahead at most: past that it is noise, not a projection

BACKLOG_CHECK = "queue.backlog"
AGE_CHECK = "queue.oldest-age"
CHECK_IDS = (BACKLOG_CHECK, AGE_CHECK)
# the filestream service's own subscription, judged the same way (docs/sources.md, "The filestream queue")
FILESTREAM_BACKLOG_CHECK = "queue.filestream.backlog"
FILESTREAM_AGE_CHECK = "queue.filestream.oldest-age"
FILESTREAM_CHECK_IDS = (FILESTREAM_BACKLOG_CHECK, FILESTREAM_AGE_CHECK)
QUEUE_CHECK_IDS = {"run-updates": CHECK_IDS, "filestream": FILESTREAM_CHECK_IDS}  # by QueueKind.name


class Verdict(str, Enum):
    NONE = "none"
    STALLED = "stalled"
    GROWING = "growing"
    DRAINING = "draining"
    STEADY = "steady"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Reading(HasPoints):
    """One queue signal as the judge sees it: points oldest first, or why there are none.

    `no_data`: the source answered but held nothing (for a Pub/Sub counter, beside fresh
    gauges, that means zero); otherwise an empty reading could not be read at all.
    """

    name: str
    points: tuple[Point, ...] = ()
    reason: str = ""
    no_data: bool = False

    @property
    def known(self) -> bool:
        return bool(self.points)


@dataclass(frozen=True)
class QueueReadings:
    source: str  # pubsub | kafka
    backlog: Reading  # undelivered messages (Kafka: the consumer group's lag)
    oldest_age: Reading  # seconds (Kafka: estimated as lag / consumption)
    published: Reading  # messages per second
    consumed: Reading  # messages per second
    expired: Reading = field(default_factory=lambda: Reading("expired", reason="not read"))  # Pub/Sub: per second
    partitions: Mapping[str, float] | None = None  # Kafka: the newest lag per partition


@dataclass(frozen=True)
class Policy:
    allowed_backlog: float = 0.0
    allowed_age: float = 300.0
    retention: float | None = PUBSUB_RETENTION  # None: unknown
    stale_after: float = STALE_AFTER


@dataclass(frozen=True)
class DataLoss:
    projected: bool
    seconds_left: float | None
    retention: float | None
    reason: str


@dataclass(frozen=True)
class Judgement:
    verdict: Verdict
    reason: str  # why, in one line
    readings: QueueReadings  # as judged: stale ones unknown, silent counters zero
    backlog: float | None = None
    oldest_age: float | None = None
    rate_per_second: float | None = None  # the backlog's trend
    publish_rate: float | None = None
    consume_rate: float | None = None
    drain_seconds: float | None = None
    rise_began: datetime | None = None
    loss: DataLoss | None = None
    trend_seconds: int = MIN_WINDOW
    policy: Policy = field(default_factory=Policy)

    @property
    def needs_capacity(self) -> bool:
        """The queue is not clearing by itself: what `--fix` acts on (never a stall)."""
        projected = self.loss is not None and self.loss.projected
        return self.verdict in (Verdict.GROWING, Verdict.STEADY) or (self.verdict is Verdict.DRAINING and projected)


def trend_seconds(window: int) -> int:
    return max(MIN_WINDOW, window // 3)


# --- preparing the readings -----------------------------------------------------------


def _stale(reading: Reading, now: datetime, stale_after: float) -> Reading:
    newest = reading.newest
    if newest is None or (now - newest).total_seconds() <= stale_after:
        return reading
    age = format_duration((now - newest).total_seconds())
    return Reading(reading.name, (), f"stale: the newest point is {age} old ({newest:%H:%M} UTC)")


def _zero_like(reading: Reading, times: list[datetime]) -> Reading:
    return Reading(reading.name, tuple((t, 0.0) for t in times), "no points: none published (zero)")


def prepare(readings: QueueReadings, now: datetime, policy: Policy) -> QueueReadings:
    """Stale signals become unknown; a Pub/Sub counter with no points beside fresh gauge
    points reads zero (Pub/Sub reports no DELTA point for a minute with nothing in it)."""
    fresh = {
        name: _stale(getattr(readings, name), now, policy.stale_after)
        for name in ("backlog", "oldest_age", "published", "consumed", "expired")
    }
    gauge = fresh["backlog"]
    if readings.source == "pubsub" and gauge.known:
        times = [t for t, _ in gauge.points]
        for name in ("published", "consumed", "expired"):
            if fresh[name].no_data:
                fresh[name] = _zero_like(fresh[name], times)
    if readings.source == "kafka":
        fresh.update(_kafka_derived(fresh["backlog"], fresh["consumed"], fresh["published"]))
    return replace(
        readings,
        backlog=fresh["backlog"],
        oldest_age=fresh["oldest_age"],
        published=fresh["published"],
        consumed=fresh["consumed"],
        expired=fresh["expired"],
    )


def _kafka_derived(lag: Reading, consumed: Reading, published: Reading) -> dict[str, Reading]:
    """Kafka has no age or publish metric per group here: age ~ lag / consumption, and
    publishing = consumption + the lag's change, point by point."""
    derived: dict[str, Reading] = {}
    if not consumed.known or not lag.known:
        why = consumed.reason or "no consumption query (prometheus-query-queue-consumed)"
        derived["oldest_age"] = Reading("oldest_age", (), f"unknown: estimated from the consumption, which is {why}")
        return derived
    rates = dict(consumed.points)
    ages = [(t, value / rates[t]) for t, value in lag.points if rates.get(t, 0) > 0]
    derived["oldest_age"] = Reading("oldest_age", tuple(ages), "" if ages else "no consumption: age unbounded")
    if not published.known:
        pairs = list(zip(lag.points, lag.points[1:]))
        publish = [
            (t1, max(0.0, rates[t1] + (v1 - v0) / (t1 - t0).total_seconds()))
            for (t0, v0), (t1, v1) in pairs
            if t1 in rates and t1 > t0
        ]
        derived["published"] = Reading("published", tuple(publish), "" if publish else "not enough points")
    return derived


# --- the verdict ----------------------------------------------------------------------


def judge(raw: QueueReadings, *, window: int, now: datetime, policy: Policy) -> Judgement:
    readings = prepare(raw, now, policy)
    backlog = readings.backlog
    span = trend_seconds(window)
    if backlog.newest is None:  # not known
        return Judgement(
            Verdict.UNKNOWN, f"cannot read the backlog: {backlog.reason}", readings, trend_seconds=span, policy=policy
        )
    recent = since(backlog.points, backlog.newest - timedelta(seconds=span))
    base = _measured(readings, backlog.newest, span, policy)
    if len(recent) < MIN_POINTS:
        return replace(
            base,
            reason=f"only {len(recent)} backlog point(s) in the last {format_duration(span)} "
            f"(at least {MIN_POINTS} needed for a trend)",
        )
    slope = theil_sen(recent) or 0.0
    judged = replace(base, rate_per_second=slope, rise_began=_rise_began(backlog.points) if slope > 0 else None)
    judged = replace(judged, loss=_data_loss(judged, readings, span, policy))
    return _verdict(judged, readings, recent, slope, policy)


def _measured(readings: QueueReadings, newest: datetime, span: int, policy: Policy) -> Judgement:
    """The numbers every verdict carries (the backlog, the oldest age, the rates), not yet judged."""
    return Judgement(
        Verdict.UNKNOWN,
        "",
        readings,
        backlog=readings.backlog.latest,
        oldest_age=readings.oldest_age.latest,
        publish_rate=mean_value(since(readings.published.points, newest - timedelta(minutes=5))),
        consume_rate=mean_value(since(readings.consumed.points, newest - timedelta(minutes=5))),
        trend_seconds=span,
        policy=policy,
    )


def _verdict(
    judged: Judgement, readings: QueueReadings, recent: list[Point], slope: float, policy: Policy
) -> Judgement:
    """None, stalled, growing, draining or steady, from the backlog's trend over `recent`
    (and, where the trend is within its noise, from the publish and consume rates)."""
    span, age = judged.trend_seconds, judged.oldest_age
    floor = _significant_rate(judged, recent, slope)
    latest = readings.backlog.latest or 0.0
    if latest <= policy.allowed_backlog and (age is None or age <= policy.allowed_age):
        return replace(
            judged,
            verdict=Verdict.NONE,
            reason=f"backlog {latest:,.0f} within the allowed {policy.allowed_backlog:,.0f}"
            + (f", oldest {format_duration(age)}" if age is not None else ""),
        )
    stalled = _stalled(readings, recent, floor)
    if stalled:
        return replace(judged, verdict=Verdict.STALLED, reason=stalled)
    trend = f"{slope * 60:+,.0f} msg/min over the last {format_duration(span)}"
    if slope > floor:
        return replace(judged, verdict=Verdict.GROWING, reason=f"the backlog is growing: {trend}")
    if slope < -floor:
        return _draining(judged, latest, -slope, f"the backlog is draining: {trend}")
    gap = _rate_gap(readings)
    if gap is not None and gap > 0:
        reason = f"the backlog is growing: consumption under publishing by {gap:,.0f}/s for the last 5m ({trend})"
        return replace(judged, verdict=Verdict.GROWING, reason=reason)
    if gap is not None and gap < 0:
        return _draining(
            judged, latest, -gap, f"the backlog is draining: consumption over publishing by {-gap:,.0f}/s ({trend})"
        )
    return replace(judged, verdict=Verdict.STEADY, reason=f"the backlog holds at about {latest:,.0f} ({trend})")


def _draining(judged: Judgement, latest: float, fall: float, reason: str) -> Judgement:
    """Draining at `fall` messages per second: the time to empty is the backlog over it."""
    return replace(judged, verdict=Verdict.DRAINING, drain_seconds=latest / fall, rise_began=None, reason=reason)


def _significant_rate(judged: Judgement, recent: list[Point], slope: float) -> float:
    """The slope (messages per second) beyond which the backlog rises or falls: a share of
    what flows through the queue, or the series' own jitter over the span if that is larger.
    Never a share of the backlog: how fast a queue may grow unnoticed must not scale with
    how much it holds already."""
    throughput = max(judged.publish_rate or 0.0, judged.consume_rate or 0.0)
    start, end = recent[0][0], recent[-1][0]
    seconds = (end - start).total_seconds() or 1.0
    centre = _median([(t, value - slope * (t - start).total_seconds()) for t, value in recent])
    residuals = [(t, abs(value - slope * (t - start).total_seconds() - centre)) for t, value in recent]
    return max(SIGNIFICANT_SHARE * throughput, NOISE_FACTOR * _median(residuals) / seconds)


def _rate_gap(readings: QueueReadings) -> float | None:
    """Publishing minus consumption (per second, the mean over the last 5 minutes) when one
    stays beyond the other by more than SIGNIFICANT_SHARE at every common point (at least 4);
    None when they cross, or are not both known."""
    published, consumed = readings.published, readings.consumed
    if published.newest is None or consumed.newest is None:
        return None
    start = min(published.newest, consumed.newest) - timedelta(seconds=STALL_ACK_SECONDS)
    pubs, acks = dict(since(published.points, start)), dict(since(consumed.points, start))
    common = sorted(set(pubs) & set(acks))
    if len(common) < 4:
        return None
    gaps = [(pubs[t] - acks[t], SIGNIFICANT_SHARE * max(pubs[t], acks[t])) for t in common]
    if all(gap > margin for gap, margin in gaps) or all(gap < -margin for gap, margin in gaps):
        return sum(gap for gap, _ in gaps) / len(gaps)
    return None


def _median(points: list[Point]) -> float:
    values = sorted(value for _, value in points)
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def _stalled(readings: QueueReadings, recent: list[Point], floor: float) -> str:
    published, consumed = readings.published, readings.consumed
    if published.newest is not None and consumed.newest is not None:  # both known
        start = min(published.newest, consumed.newest) - timedelta(seconds=STALL_ACK_SECONDS)
        pubs = dict(since(published.points, start))
        acks = dict(since(consumed.points, start))
        common = sorted(set(pubs) & set(acks))
        if len(common) >= 4 and all(pubs[t] > 0 and acks[t] < STALL_ACK_SHARE * pubs[t] for t in common):
            return (
                f"acknowledgements under {STALL_ACK_SHARE:.0%} of publishes for the last "
                f"{format_duration(STALL_ACK_SECONDS)}: the consumers take nothing off the queue"
            )
    age = readings.oldest_age
    if age.known:
        assert age.newest is not None
        window = since(age.points, age.newest - timedelta(seconds=STALL_AGE_SECONDS))
        flat_window = since(recent, recent[-1][0] - timedelta(seconds=STALL_AGE_SECONDS))
        age_slope = theil_sen(window) if len(window) >= MIN_POINTS else None
        backlog_slope = theil_sen(flat_window) if len(flat_window) >= 2 else None
        if age_slope is not None and age_slope >= STALL_AGE_RATE and backlog_slope is not None:
            flat = abs(backlog_slope) <= floor
            if flat:
                return (
                    f"the oldest message's age rises {age_slope:.1f} s/s for {format_duration(STALL_AGE_SECONDS)} "
                    "while the backlog is flat: a message that cannot be processed (a poison message), not load"
                )
    return ""


def _rise_began(points: tuple[Point, ...]) -> datetime | None:
    """When the backlog last stood at its lowest in the window: where the rise began."""
    lowest = min(value for _, value in points)
    return max(t for t, value in points if value == lowest)


def _data_loss(judged: Judgement, readings: QueueReadings, span: int, policy: Policy) -> DataLoss:
    retention = policy.retention
    if retention is None:
        return DataLoss(False, None, None, "retention unknown (set queue-retention)")
    age = judged.oldest_age
    if age is None:
        return DataLoss(False, None, retention, "the oldest message's age is unknown")
    left: list[float] = []
    reasons: list[str] = []
    backlog, consume = judged.backlog or 0.0, judged.consume_rate
    if consume and consume > 0 and age + backlog / consume >= retention:
        left.append(max(0.0, retention - age))
        reasons.append(
            f"the oldest message is {format_duration(age)} old and the backlog takes "
            f"{format_duration(backlog / consume)} to work through at {consume:,.0f}/s"
        )
    elif consume is not None and consume <= 0 and backlog > 0:  # unknown consumption is not none
        left.append(max(0.0, retention - age))
        reasons.append("nothing is being consumed")
    points = readings.oldest_age.points
    recent = since(points, points[-1][0] - timedelta(seconds=span)) if points else []
    age_slope = theil_sen(recent) if len(recent) >= MIN_POINTS else None
    retention_text = format_duration(retention)
    trend_note = ""
    if age_slope is not None and age_slope * span > AGE_RISE:
        eta = max(0.0, (retention - age) / age_slope)
        if eta <= min(LOSS_HORIZON, retention):
            left.append(eta)
            reasons.append(f"the oldest message's age rises {age_slope:.2f} s/s")
        else:
            trend_note = f"; at its rise of {age_slope:.2f} s/s the oldest would reach it in {format_duration(eta)}"
    if not left:
        return DataLoss(
            False,
            None,
            retention,
            f"{format_duration(max(0.0, retention - age))} of the {retention_text} retention left{trend_note}",
        )
    seconds = min(left)
    return DataLoss(
        True,
        seconds,
        retention,
        f"messages reach the {retention_text} retention in {format_duration(seconds)}: " + "; ".join(reasons),
    )


# --- the queue in `wbctl check` -------------------------------------------------------


def backlog_status(judgement: Judgement) -> Status:
    """The backlog's status, the one `check`'s queue.backlog and the runbook's step 1 give:
    ok for none, warn for steady or draining, fail for growing or stalled, and fail whenever
    data loss is projected (a backlog that drains too slowly still loses messages)."""
    if judgement.loss is not None and judgement.loss.projected:
        return Status.FAIL
    return {
        Verdict.NONE: Status.OK,
        Verdict.STEADY: Status.WARN,
        Verdict.DRAINING: Status.WARN,
        Verdict.UNKNOWN: Status.UNKNOWN,
    }.get(judgement.verdict, Status.FAIL)


def drains_by(judgement: Judgement, now: datetime) -> datetime | None:
    """When a draining backlog will be empty, if it drains before any data is lost (else None:
    draining too slowly is a reason to act, not to wait)."""
    if judgement.verdict is not Verdict.DRAINING or judgement.drain_seconds is None:
        return None
    if judgement.loss is not None and judgement.loss.projected:
        return None
    return now + timedelta(seconds=judgement.drain_seconds)


def check(judgement: Judgement, target: str, remedy: str, queue: str = "run-updates") -> Report:
    """`queue.backlog` (`backlog_status`) and `queue.oldest-age` (the retention's headroom);
    `queue` (a QueueKind's name) picks the ids: `queue.filestream.*` for the filestream's."""
    backlog_check, age_check = QUEUE_CHECK_IDS[queue]
    verdict = judgement.verdict
    status = backlog_status(judgement)
    observed = None if judgement.backlog is None else round(judgement.backlog)
    expected = "none (within queue-allowed-backlog)"
    backlog = Finding(
        backlog_check,
        status,
        target,
        observed,
        expected,
        f"{verdict.value}: {judgement.reason}",
        remedy if status in (Status.FAIL, Status.WARN) else "",
    )
    age, loss = judgement.oldest_age, judgement.loss
    if age is None:
        reason = judgement.readings.oldest_age.reason or judgement.reason
        oldest = Finding(
            age_check, Status.UNKNOWN, target, None, "within the retention", f"oldest message age unknown: {reason}"
        )
    else:
        age_status = (
            Status.FAIL
            if loss is not None and loss.projected
            else (Status.WARN if age > judgement.policy.allowed_age else Status.OK)
        )
        headroom = loss.reason if loss is not None else ""
        oldest = Finding(
            age_check,
            age_status,
            target,
            format_duration(age),
            "within the retention",
            f"oldest message {format_duration(age)} old; {headroom}".rstrip("; "),
            remedy if age_status is not Status.OK else "",
        )
    return Report((backlog, oldest))
