"""The pure parts of the Google API fakes (google_api.py): no gRPC, no protobuf.

- Cloud Monitoring's filter language, the subset wbctl needs: `SELECTOR OP VALUE` terms joined
  by AND (and `NOT term`, parentheses), where SELECTOR is `project`, `metric.type`,
  `resource.type`, `metric.labels.KEY` / `metric.label.KEY`, `resource.labels.KEY` /
  `resource.label.KEY`; OP is `=`, `!=` or `:` (has substring); VALUE a quoted string or
  `one_of("a", "b")`, `starts_with("a")`, `ends_with("a")`, `has_substring("a")`,
  `monitoring.regex.full_match("re")`. OR is refused (INVALID_ARGUMENT), as is a filter that does
  not name exactly one metric type with `metric.type = "..."` (the real API needs one).
- ListTimeSeries' interval (start, end] and aggregation: per-series alignment over periods
  counted back from the interval's end time, then cross-series reduction grouped by
  `group_by_fields`. Metric kinds as Google defines them: a GAUGE point is an instant's value,
  a DELTA point counts what happened in the sample period ending at it (Pub/Sub's *_count
  metrics), a CUMULATIVE point counts since the series began. ALIGN_RATE and ALIGN_DELTA turn
  counts into a rate (a GAUGE of DOUBLE) or a count per alignment period (a DELTA); each aligner
  is refused on the kinds the real API refuses it on.
- Bigtable's rules for PartialUpdateCluster: the update mask paths and the autoscaling limits
  (CPU target 10-80 %, max <= 10 x min, min >= 1, storage target per node by storage type).

Where they live (this module re-exports them): monitoring_series.py (Series, metric kinds),
monitoring_filter.py, monitoring_aggregation.py, bigtable_rules.py, google_errors.py
(InvalidArgument).
"""

from __future__ import annotations

from wbctl.sandbox.bigtable_rules import (
    ALLOWED_PATHS,
    AUTOSCALING_FIELDS,
    STORAGE_TARGETS,
    apply_cluster_update,
    validate_autoscaling,
)
from wbctl.sandbox.google_errors import InvalidArgument
from wbctl.sandbox.monitoring_aggregation import (
    ALIGNERS,
    REDUCERS,
    Aggregation,
    check_aligner_kind,
    select,
    validate_aggregation,
)
from wbctl.sandbox.monitoring_filter import Predicate, parse_filter
from wbctl.sandbox.monitoring_series import METRIC_KINDS, Number, Series

__all__ = [
    "ALIGNERS",
    "ALLOWED_PATHS",
    "AUTOSCALING_FIELDS",
    "METRIC_KINDS",
    "REDUCERS",
    "STORAGE_TARGETS",
    "Aggregation",
    "InvalidArgument",
    "Number",
    "Predicate",
    "Series",
    "apply_cluster_update",
    "check_aligner_kind",
    "parse_filter",
    "select",
    "validate_aggregation",
    "validate_autoscaling",
]
