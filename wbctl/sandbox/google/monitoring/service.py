"""The Cloud Monitoring fake: time series added by tests and the sandbox (GAUGE, DELTA or
CUMULATIVE, answered with their real metric kinds and point intervals) and ListTimeSeries over
them, with the filter language and aggregation of monitoring/filter.py and
monitoring/aggregation.py, views FULL and HEADERS, and page tokens bound to the request that
issued them. Also the metric types wbctl reads. A service object the gRPC shell (grpc.py)
serves; separate from Bigtable, its own state.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from google.cloud.monitoring_v3.types import common as mon_common
from google.cloud.monitoring_v3.types import metric as mon_metric
from google.cloud.monitoring_v3.types import metric_service as mon_service

from wbctl.sandbox.google.grpc import Method, as_utc, invalid_argument
from wbctl.sandbox.google.monitoring.aggregation import Aggregation, select
from wbctl.sandbox.google.monitoring.filter import parse_filter
from wbctl.sandbox.google.monitoring.series import METRIC_KINDS, Series

METRIC_SERVICE = "google.monitoring.v3.MetricService"

#: The metric types wbctl reads (docs/sources.md).
CPU_LOAD = "bigtable.googleapis.com/cluster/cpu_load"
NODE_COUNT = "bigtable.googleapis.com/cluster/node_count"
STORAGE_UTILIZATION = "bigtable.googleapis.com/cluster/storage_utilization"
UNDELIVERED = "pubsub.googleapis.com/subscription/num_undelivered_messages"
OLDEST_UNACKED_AGE = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
#: What the queue runbook reads besides: Pub/Sub counters are DELTA INT64 (read as rates), the rest GAUGE.
CPU_LOAD_HOTTEST_NODE = "bigtable.googleapis.com/cluster/cpu_load_hottest_node"
ACK_MESSAGE_COUNT = "pubsub.googleapis.com/subscription/ack_message_count"
EXPIRED_ACK_DEADLINES = "pubsub.googleapis.com/subscription/expired_ack_deadlines_count"
SEND_MESSAGE_COUNT = "pubsub.googleapis.com/topic/send_message_operation_count"  # resource pubsub_topic

_DEFAULT_PAGE_SIZE = 100_000


class MonitoringFake:
    """Cloud Monitoring's ListTimeSeries over the series tests and the sandbox add."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # over the series; the shell serves each call under it
        self._series: dict[tuple[Any, ...], Series] = {}

    # -- state: Monitoring ----------------------------------------------------------------------

    def add_series(
        self,
        project: str,
        metric_type: str,
        resource_type: str,
        resource_labels: Mapping[str, str],
        points: Iterable[tuple[datetime, float | int]],
        metric_labels: Mapping[str, str] | None = None,
        value_type: str = "DOUBLE",
        metric_kind: str = "GAUGE",
        sample_period: int = 60,
    ) -> None:
        """Add points to a time series (created on first use). Datetimes without tzinfo are UTC.

        `metric_kind` is what the real metric is: GAUGE (a value at an instant), DELTA (each point
        counts what happened in the `sample_period` seconds ending at its time, as Pub/Sub's
        *_count metrics do), or CUMULATIVE (a running total since the series' first sample)."""
        if value_type not in ("DOUBLE", "INT64"):
            raise ValueError(f"value_type must be DOUBLE or INT64, not {value_type!r}")
        if metric_kind not in METRIC_KINDS:
            raise ValueError(f"metric_kind must be one of {', '.join(METRIC_KINDS)}, not {metric_kind!r}")
        if sample_period <= 0:
            raise ValueError(f"sample_period must be a positive number of seconds, not {sample_period!r}")
        convert: Callable[[Any], float | int] = float if value_type == "DOUBLE" else int
        series = Series(
            project,
            metric_type,
            resource_type,
            {k: str(v) for k, v in resource_labels.items()},
            {k: str(v) for k, v in (metric_labels or {}).items()},
            value_type,
            metric_kind=metric_kind,
            sample_period=int(sample_period),
        )
        new_points = [(as_utc(t), convert(v)) for t, v in points]
        with self.lock:
            stored = self._series.setdefault(series.identity(), series)
            for name in ("value_type", "metric_kind", "sample_period"):
                if getattr(stored, name) != getattr(series, name):
                    raise ValueError(
                        f"series {metric_type} {dict(resource_labels)} already has {name} {getattr(stored, name)!r}"
                    )
            by_time = dict(stored.points)
            by_time.update(new_points)
            stored.points = sorted(by_time.items())
            if metric_kind == "CUMULATIVE" and stored.points:  # counting began one sample before the first
                stored.start_time = stored.points[0][0] - timedelta(seconds=sample_period)

    def clear_series(self) -> None:
        with self.lock:
            self._series.clear()

    # -- Cloud Monitoring -----------------------------------------------------------------------

    def methods(self) -> dict[str, Method]:
        """The methods the shell serves: short name -> wire service, messages, implementation."""
        return {
            "ListTimeSeries": Method(
                METRIC_SERVICE,
                mon_service.ListTimeSeriesRequest.deserialize,
                mon_service.ListTimeSeriesResponse.serialize,
                self._list_time_series,
                lambda _: "Permission monitoring.timeSeries.list denied (or the resource may not exist).",
            ),
        }

    def _list_time_series(self, request: mon_service.ListTimeSeriesRequest) -> mon_service.ListTimeSeriesResponse:
        match = re.fullmatch(r"projects/([^/]+)", request.name)
        if not match:
            raise invalid_argument(
                f'Field name had an invalid value of "{request.name}": '
                "must be of the form projects/[PROJECT_ID_OR_NUMBER]."
            )
        if "end_time" not in request.interval:
            raise invalid_argument("Field interval.endTime had an invalid value: an end time is required.")
        end = as_utc(request.interval.end_time)
        start = as_utc(request.interval.start_time) if "start_time" in request.interval else None
        if start is not None and start > end:
            raise invalid_argument("Field interval.startTime had an invalid value: it must not be later than endTime.")
        aggregation = request.aggregation
        agg = Aggregation(
            alignment_period=aggregation.alignment_period if "alignment_period" in aggregation else None,
            aligner=mon_common.Aggregation.Aligner(aggregation.per_series_aligner).name,
            reducer=mon_common.Aggregation.Reducer(aggregation.cross_series_reducer).name,
            group_by=tuple(aggregation.group_by_fields),
        )
        predicate = parse_filter(request.filter)
        found = select(
            self._series.values(), project=match.group(1), predicate=predicate, start=start, end=end, agg=agg
        )
        headers_only = request.view == mon_service.ListTimeSeriesRequest.TimeSeriesView.HEADERS
        fingerprint = hashlib.sha256(
            repr((request.name, request.filter, start, end, agg, headers_only)).encode()
        ).hexdigest()[:16]
        offset = self._decode_token(request.page_token, fingerprint) if request.page_token else 0
        page_size = request.page_size if request.page_size > 0 else _DEFAULT_PAGE_SIZE
        page: list[Series] = []
        used = 0
        for one in found[offset:]:
            cost = 1 if headers_only else max(1, len(one.points))
            if page and used + cost > page_size:
                break
            page.append(one)
            used += cost
        following = offset + len(page)
        token = self._encode_token(following, fingerprint) if following < len(found) else ""
        return mon_service.ListTimeSeriesResponse(
            time_series=[self._series_pb(one, headers_only) for one in page], next_page_token=token
        )

    @staticmethod
    def _encode_token(offset: int, fingerprint: str) -> str:
        return base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode()

    @staticmethod
    def _decode_token(token: str, fingerprint: str) -> int:
        try:
            offset, seen = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, TypeError):
            raise invalid_argument(f'Field page_token had an invalid value of "{token}".') from None
        if seen != fingerprint or not isinstance(offset, int):
            raise invalid_argument(
                "Field page_token had an invalid value: the request changed since the token was issued."
            )
        return offset

    @staticmethod
    def _series_pb(series: Series, headers_only: bool) -> mon_metric.TimeSeries:
        value_key = "double_value" if series.value_type == "DOUBLE" else "int64_value"
        points = (
            []
            if headers_only
            else [
                {"interval": {"end_time": t, "start_time": series.point_start(t)}, "value": {value_key: v}}
                for t, v in series.points
            ]
        )
        return mon_metric.TimeSeries(
            metric={"type": series.metric_type, "labels": series.metric_labels},
            resource={"type": series.resource_type, "labels": series.resource_labels},
            metric_kind=series.metric_kind,  # proto-plus takes an enum member's name
            value_type=series.value_type,
            points=points,
        )
