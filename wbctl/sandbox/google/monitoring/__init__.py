"""Cloud Monitoring's fake: the gRPC service (service.py) over pure parts, no gRPC nor protobuf.

- Cloud Monitoring's filter language (filter.py), the subset wbctl needs: `SELECTOR OP VALUE`
  terms joined by AND (and `NOT term`, parentheses), where SELECTOR is `project`, `metric.type`,
  `resource.type`, `metric.labels.KEY` / `metric.label.KEY`, `resource.labels.KEY` /
  `resource.label.KEY`; OP is `=`, `!=` or `:` (has substring); VALUE a quoted string or
  `one_of("a", "b")`, `starts_with("a")`, `ends_with("a")`, `has_substring("a")`,
  `monitoring.regex.full_match("re")`. OR is refused (INVALID_ARGUMENT), as is a filter that does
  not name exactly one metric type with `metric.type = "..."` (the real API needs one).
- ListTimeSeries' interval (start, end] and aggregation (aggregation.py): per-series alignment
  over periods counted back from the interval's end time, then cross-series reduction grouped by
  `group_by_fields`. Metric kinds as Google defines them (series.py): a GAUGE point is an
  instant's value, a DELTA point counts what happened in the sample period ending at it
  (Pub/Sub's *_count metrics), a CUMULATIVE point counts since the series began. ALIGN_RATE and
  ALIGN_DELTA turn counts into a rate (a GAUGE of DOUBLE) or a count per alignment period (a
  DELTA); each aligner is refused on the kinds the real API refuses it on.
"""

from wbctl.sandbox.google.monitoring.aggregation import (
    ALIGNERS,
    REDUCERS,
    Aggregation,
    check_aligner_kind,
    select,
    validate_aggregation,
)
from wbctl.sandbox.google.monitoring.filter import Predicate, parse_filter
from wbctl.sandbox.google.monitoring.series import METRIC_KINDS, Number, Series

__all__ = [
    "ALIGNERS",
    "METRIC_KINDS",
    "REDUCERS",
    "Aggregation",
    "Number",
    "Predicate",
    "Series",
    "check_aligner_kind",
    "parse_filter",
    "select",
    "validate_aggregation",
]
