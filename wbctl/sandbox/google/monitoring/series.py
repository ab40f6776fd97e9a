"""A Cloud Monitoring time series as the fake holds it (`Series`: metric and resource with their
labels, value type, metric kind, points) and the metric kinds Google defines: a GAUGE point is
an instant's value, a DELTA point counts what happened in the sample period ending at it
(Pub/Sub's *_count metrics), a CUMULATIVE point counts since the series began. Separate
because the filter language and the aggregation both work on it, and neither should own it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

Number = int | float


@dataclass
class Series:
    project: str
    metric_type: str
    resource_type: str
    resource_labels: dict[str, str]
    metric_labels: dict[str, str] = field(default_factory=dict)
    value_type: str = "DOUBLE"  # or "INT64"
    points: list[tuple[datetime, Number]] = field(default_factory=list)  # any order
    metric_kind: str = "GAUGE"  # or "DELTA", "CUMULATIVE" (METRIC_KINDS)
    sample_period: int = 60  # seconds a DELTA point covers (an aligned DELTA: the alignment period)
    start_time: datetime | None = None  # CUMULATIVE: when the count began

    def identity(self) -> tuple[Any, ...]:
        return (
            self.project,
            self.metric_type,
            self.resource_type,
            tuple(sorted(self.resource_labels.items())),
            tuple(sorted(self.metric_labels.items())),
        )

    def point_start(self, end: datetime) -> datetime:
        """The interval start the real API reports for a point ending at `end`: a GAUGE point is
        an instant, a DELTA point covers its sample period, a CUMULATIVE one counts since the start."""
        if self.metric_kind == "DELTA":
            return end - timedelta(seconds=self.sample_period)
        if self.metric_kind == "CUMULATIVE" and self.start_time is not None:
            return self.start_time
        return end


METRIC_KINDS = ("GAUGE", "DELTA", "CUMULATIVE")
