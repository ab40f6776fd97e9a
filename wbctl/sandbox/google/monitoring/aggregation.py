"""ListTimeSeries' interval (start, end] and aggregation: per-series alignment over periods
counted back from the interval's end time, then cross-series reduction grouped by
`group_by_fields`. ALIGN_RATE and ALIGN_DELTA turn counts (DELTA or CUMULATIVE points) into a
rate (a GAUGE of DOUBLE) or a count per alignment period (a DELTA); each aligner is refused on
the metric kinds the real API refuses it on. Pure, and separate from the filter language:
`select` takes the filter's predicate and does everything after it.
"""

from __future__ import annotations

import re
import statistics
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from wbctl.sandbox.google.errors import InvalidArgument
from wbctl.sandbox.google.monitoring.filter import Predicate
from wbctl.sandbox.google.monitoring.series import METRIC_KINDS, Number, Series

ALIGNERS = (
    "ALIGN_NONE",
    "ALIGN_MEAN",
    "ALIGN_MAX",
    "ALIGN_MIN",
    "ALIGN_SUM",
    "ALIGN_COUNT",
    "ALIGN_NEXT_OLDER",
    "ALIGN_RATE",
    "ALIGN_DELTA",
)
#: The metric kinds an aligner accepts, from the API's Aligner documentation; the rest take
#: GAUGE and DELTA. ALIGN_RATE and ALIGN_DELTA read counts, so a gauge has nothing to offer them.
_ALIGNER_KINDS: dict[str, tuple[str, ...]] = {
    "ALIGN_NONE": METRIC_KINDS,
    "ALIGN_RATE": ("CUMULATIVE", "DELTA"),
    "ALIGN_DELTA": ("CUMULATIVE", "DELTA"),
    "ALIGN_NEXT_OLDER": ("GAUGE",),
}
_COUNTING = ("ALIGN_RATE", "ALIGN_DELTA")
REDUCERS = ("REDUCE_NONE", "REDUCE_MEAN", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_SUM", "REDUCE_COUNT")


@dataclass(frozen=True)
class Aggregation:
    alignment_period: timedelta | None = None
    aligner: str = "ALIGN_NONE"
    reducer: str = "REDUCE_NONE"
    group_by: tuple[str, ...] = ()


def validate_aggregation(agg: Aggregation) -> None:
    if agg.aligner not in ALIGNERS:
        raise InvalidArgument(f"The aligner {agg.aligner} is not supported by this fake.")
    if agg.reducer not in REDUCERS:
        raise InvalidArgument(f"The reducer {agg.reducer} is not supported by this fake.")
    if agg.aligner != "ALIGN_NONE" and (agg.alignment_period is None or agg.alignment_period <= timedelta(0)):
        raise InvalidArgument("The alignment period must be specified and positive when an aligner is specified.")
    if agg.reducer != "REDUCE_NONE" and agg.aligner == "ALIGN_NONE":
        raise InvalidArgument("The aligner cannot be ALIGN_NONE when a cross-series reducer is specified.")
    for name in agg.group_by:
        if not re.fullmatch(r"(metric|resource)\.(labels?\.)?[A-Za-z_][A-Za-z0-9_]*|project", name):
            raise InvalidArgument(f"Invalid group_by field {name!r}.")


def check_aligner_kind(aligner: str, series: Series) -> None:
    """Refuse an aligner on a metric kind it does not apply to, in the real API's words."""
    if series.metric_kind not in _ALIGNER_KINDS.get(aligner, ("GAUGE", "DELTA")):
        raise InvalidArgument(
            f'Field aggregation.perSeriesAligner had an invalid value of "{aligner}": The aligner cannot be '
            f"applied to metrics with kind {series.metric_kind} and value type {series.value_type}."
        )


def _increments(points: Iterable[tuple[datetime, Number]], kind: str) -> list[tuple[datetime, Number]]:
    """What each point adds to the count: a DELTA point's own value; a CUMULATIVE point's rise
    over the previous one (a fall is a reset: counting restarted from zero)."""
    if kind != "CUMULATIVE":
        return list(points)
    out: list[tuple[datetime, Number]] = []
    previous: Number | None = None
    for t, v in sorted(points, key=lambda p: p[0]):
        out.append((t, v if previous is None or v < previous else v - previous))
        previous = v
    return out


def _in_interval(t: datetime, start: datetime | None, end: datetime) -> bool:
    # Reads use (start, end]; with no start (or start == end) only points at end qualify.
    if start is None or start >= end:
        return t == end
    return start < t <= end


def _align_one(
    points: Sequence[tuple[datetime, Number]], agg: Aggregation, start: datetime | None, end: datetime, value_type: str
) -> tuple[str, list[tuple[datetime, Number]]]:
    assert agg.alignment_period is not None
    period = agg.alignment_period
    out_type = {"ALIGN_MEAN": "DOUBLE", "ALIGN_COUNT": "INT64", "ALIGN_RATE": "DOUBLE"}.get(agg.aligner, value_type)
    lowest = start if start is not None and start < end else end - period
    aligned: list[tuple[datetime, Number]] = []
    ordered = sorted(points, key=lambda p: p[0])  # already in order as stored: a linear pass
    times = [pt for pt, _ in ordered]
    t = end
    while t > lowest:  # each window (t - period, t] found by bisection: a day of points stays cheap
        window = ordered[bisect_right(times, t - period) : bisect_right(times, t)]
        if window:
            values = [v for _, v in window]
            value: Number
            if agg.aligner == "ALIGN_MEAN":
                value = float(statistics.fmean(values))
            elif agg.aligner == "ALIGN_MAX":
                value = max(values)
            elif agg.aligner == "ALIGN_MIN":
                value = min(values)
            elif agg.aligner in ("ALIGN_SUM", "ALIGN_DELTA"):  # DELTA: the increments, summed
                value = sum(values)
            elif agg.aligner == "ALIGN_RATE":  # per second over the whole period, as Google divides
                value = float(sum(values)) / period.total_seconds()
            elif agg.aligner == "ALIGN_COUNT":
                value = len(values)
            else:  # ALIGN_NEXT_OLDER: the newest point in the window
                value = max(window, key=lambda p: p[0])[1]
            aligned.append((t, value))
        t -= period
    return out_type, aligned  # newest first


def _group_key(series: Series, group_by: Sequence[str]) -> tuple[dict[str, str], dict[str, str], str]:
    resource: dict[str, str] = {}
    metric: dict[str, str] = {}
    for name in group_by:
        parts = name.split(".")
        key = parts[-1]
        if parts[0] == "resource" and key in series.resource_labels:
            resource[key] = series.resource_labels[key]
        elif parts[0] == "metric" and key in series.metric_labels:
            metric[key] = series.metric_labels[key]
        elif name == "resource.project_id" or name == "project":
            resource["project_id"] = series.project
    return resource, metric, repr((sorted(resource.items()), sorted(metric.items())))


def _reduce(values: list[Number], reducer: str) -> Number:
    if reducer == "REDUCE_MEAN":
        return float(statistics.fmean(values))
    if reducer == "REDUCE_MAX":
        return max(values)
    if reducer == "REDUCE_MIN":
        return min(values)
    if reducer == "REDUCE_SUM":
        return sum(values)
    return len(values)  # REDUCE_COUNT


def select(
    series: Iterable[Series],
    *,
    project: str,
    predicate: Predicate,
    start: datetime | None,
    end: datetime,
    agg: Aggregation,
) -> list[Series]:
    """What ListTimeSeries answers: matching series, points in the interval, aggregated; points
    newest first; series in a stable order (by metric type, then labels)."""
    validate_aggregation(agg)
    chosen: list[Series] = []
    for one in sorted(series, key=lambda s: repr(s.identity())):
        if one.project != project or not predicate(one):
            continue
        check_aligner_kind(agg.aligner, one)
        aligned = _aligned(one, agg, start, end)
        if aligned is not None:
            chosen.append(aligned)
    if agg.reducer == "REDUCE_NONE":
        return chosen
    return _reduced(chosen, agg)


def _aligned(one: Series, agg: Aggregation, start: datetime | None, end: datetime) -> Series | None:
    """One series' points in the interval, aligned per period (ALIGN_NONE: as they are, newest
    first); None when nothing is left of it."""
    source = _increments(one.points, one.metric_kind) if agg.aligner in _COUNTING else one.points
    inside = [(t, v) for t, v in source if _in_interval(t, start, end)]
    if agg.aligner == "ALIGN_NONE":
        return replace(one, points=sorted(inside, key=lambda p: p[0], reverse=True)) if inside else None
    out_type, aligned = _align_one(inside, agg, start, end, one.value_type)
    if not aligned:
        return None
    # ALIGN_RATE answers a GAUGE, ALIGN_DELTA a DELTA per alignment period; the rest keep the kind.
    kind = {"ALIGN_RATE": "GAUGE", "ALIGN_DELTA": "DELTA"}.get(agg.aligner, one.metric_kind)
    period = agg.alignment_period or timedelta(seconds=one.sample_period)
    return replace(
        one, value_type=out_type, points=aligned, metric_kind=kind, sample_period=int(period.total_seconds())
    )


def _reduced(chosen: list[Series], agg: Aggregation) -> list[Series]:
    """The aligned series reduced across, one per group of `group_by` labels (and metric and
    resource type), in the order each group first appears."""
    groups: dict[tuple[str, str, str], list[Series]] = {}
    labels: dict[tuple[str, str, str], tuple[dict[str, str], dict[str, str]]] = {}
    for one in chosen:
        resource, metric, key = _group_key(one, agg.group_by)
        group = (one.metric_type, one.resource_type, key)
        groups.setdefault(group, []).append(one)
        labels[group] = (resource, metric)
    reduced: list[Series] = []
    for group, members in groups.items():
        by_time: dict[datetime, list[Number]] = {}
        for member in members:
            for t, v in member.points:
                by_time.setdefault(t, []).append(v)
        types = {m.value_type for m in members}
        value_type = {"REDUCE_MEAN": "DOUBLE", "REDUCE_COUNT": "INT64"}.get(
            agg.reducer, "DOUBLE" if "DOUBLE" in types else "INT64"
        )
        points = [(t, _reduce(vs, agg.reducer)) for t, vs in sorted(by_time.items(), reverse=True)]
        if value_type == "DOUBLE":
            points = [(t, float(v)) for t, v in points]
        resource, metric = labels[group]
        first = members[0]
        reduced.append(
            Series(
                first.project,
                group[0],
                group[1],
                resource,
                metric,
                value_type,
                points,
                metric_kind=first.metric_kind,
                sample_period=first.sample_period,
                start_time=first.start_time,
            )
        )
    return reduced
