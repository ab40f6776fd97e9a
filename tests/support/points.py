"""Minute-spaced points for the queue and runbook tests."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def minutes(values: list[float], end: datetime = NOW) -> tuple[tuple[datetime, float], ...]:
    """One point a minute, the last at `end`."""
    count = len(values)
    return tuple((end - timedelta(minutes=count - 1 - i), float(v)) for i, v in enumerate(values))


def ramp(start: float, step: float, count: int = 21) -> list[float]:
    return [start + step * i for i in range(count)]


def flat(value: float, count: int = 21) -> list[float]:
    return [value] * count
