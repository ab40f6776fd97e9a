"""Metric series as every judgement reads them, whatever source they came from.

A signal that could not be read, or had no data, is *unknown* (`series is None` with the
reason), never zero: a silent exporter must not pass for an idle system. Where zero is the
right reading (a Pub/Sub counter that reports nothing while its gauges are fresh), the judge
that knows it says so, not the adapter.
"""

from __future__ import annotations

import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

Point = tuple[datetime, float]


class HasPoints:
    """What every holder of points (oldest first) can say of its newest one."""

    points: tuple[Point, ...]

    @property
    def latest(self) -> float | None:
        return self.points[-1][1] if self.points else None

    @property
    def newest(self) -> datetime | None:
        return self.points[-1][0] if self.points else None


@dataclass(frozen=True)
class Series(HasPoints):
    """One metric series over the window, oldest point first; `labels` say which one."""

    labels: dict[str, str]
    points: tuple[Point, ...]

    @property
    def peak(self) -> float | None:
        return max((value for _, value in self.points), default=None)


@dataclass(frozen=True)
class SignalData:
    """A signal over a window. `series` is None when it is unknown (no data, or unreadable).

    `no_data` tells "the source answered with nothing" apart from "the source could not be
    read": only the first may mean zero, and only to a judge that knows the metric's kind.
    """

    signal: str
    series: tuple[Series, ...] | None
    reason: str = ""
    no_data: bool = False

    @property
    def known(self) -> bool:
        return self.series is not None

    def for_label(self, key: str, value: str) -> Series | None:
        for series in self.series or ():
            if series.labels.get(key) == value:
                return series
        return None

    def total(self) -> Series | None:
        """Every series summed point by point (the series are aligned on the same times)."""
        if not self.series:
            return None
        if len(self.series) == 1:
            return self.series[0]
        return Series({}, sum_points(series.points for series in self.series))

    @classmethod
    def unknown(cls, signal: str, reason: str) -> SignalData:
        return cls(signal, None, reason)


def sum_points(many: Iterable[Sequence[Point]]) -> tuple[Point, ...]:
    totals: dict[datetime, float] = {}
    for points in many:
        for moment, value in points:
            totals[moment] = totals.get(moment, 0.0) + value
    return tuple(sorted(totals.items()))


def since(points: Sequence[Point], start: datetime) -> list[Point]:
    """The points at or after `start`."""
    return [point for point in points if point[0] >= start]


def theil_sen(points: Sequence[Point]) -> float | None:
    """The Theil-Sen slope of the points, per second: the median of every pairwise slope.

    Why this estimator: one spike (a scrape hiccup, a burst) moves a least-squares line a lot
    and the median of pairwise slopes hardly at all (breakdown point ~29 %). None for fewer
    than two points at distinct times.
    """
    if len(points) > 240:  # O(n^2) pairs: thin long series evenly; the median barely moves
        step = len(points) / 240
        points = [points[int(i * step)] for i in range(240)]
    slopes = []
    for i, (t0, v0) in enumerate(points):
        for t1, v1 in points[i + 1 :]:
            dt = (t1 - t0).total_seconds()
            if dt > 0:
                slopes.append((v1 - v0) / dt)
    return statistics.median(slopes) if slopes else None


def mean_value(points: Sequence[Point]) -> float | None:
    return statistics.fmean(value for _, value in points) if points else None
