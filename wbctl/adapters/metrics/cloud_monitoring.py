"""Cloud Monitoring as a metrics source: one ListTimeSeries per signal through the official
client (google-cloud-monitoring, imported on first use), aligned (and, for a signal read as a
sum of rates, reduced) on the server; the noisy-run query as rates summed per run over 10
minutes. Failures leave as one-line wbctl errors (adapters/google: `translated`).
"""

from __future__ import annotations

import math
import threading
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.adapters.google import translated, transport
from wbctl.adapters.metrics.signals import NOISY_RUN_WINDOW, MetricsSource, Signal, floor_to, signal_data, step_for
from wbctl.core.runbook import RunLoad
from wbctl.core.series import Series, SignalData
from wbctl.errors import UsageError


class CloudMonitoring(MetricsSource):
    def __init__(
        self, *, project: str, timeout: float, emulator_host: str | None = None, endpoint: str | None = None
    ) -> None:
        self.project = project
        self.timeout = timeout
        self.emulator_host = emulator_host
        self.endpoint = endpoint
        self._client: Any = None
        self._client_lock = threading.Lock()

    def client(self) -> Any:
        with self._client_lock:
            return self._client if self._client is not None else self._connect()

    def _connect(self) -> Any:
        from google.cloud.monitoring_v3 import MetricServiceClient
        from google.cloud.monitoring_v3.services.metric_service.transports import (
            MetricServiceGrpcTransport,
        )

        self._client = MetricServiceClient(
            transport=transport(
                MetricServiceGrpcTransport,
                emulator_host=self.emulator_host,
                endpoint=self.endpoint,
                service="Cloud Monitoring",
            )
        )
        return self._client

    def _list(self, what: str, query_filter: str, start: datetime, end: datetime, aggregation: Any) -> list[Any]:
        from google.cloud import monitoring_v3

        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}",
            filter=query_filter,
            interval=monitoring_v3.TimeInterval(start_time=start, end_time=end),
            aggregation=aggregation,
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
        with translated(
            f"read {what} of", f"projects/{self.project}", self.timeout, permission="monitoring.timeSeries.list"
        ):
            return list(self.client().list_time_series(request=request, retry=None, timeout=self.timeout))

    @staticmethod
    def aggregation(signal: Signal, period: int) -> Any:
        """The server-side alignment (and reduction) of one signal: a unit test reads it."""
        from google.cloud import monitoring_v3

        options: dict[str, Any] = {
            "alignment_period": {"seconds": period},
            "per_series_aligner": getattr(monitoring_v3.Aggregation.Aligner, signal.aligner),
        }
        if signal.reducer:
            options["cross_series_reducer"] = getattr(monitoring_v3.Aggregation.Reducer, signal.reducer)
            options["group_by_fields"] = [f"resource.labels.{signal.group_label}"]
        return monitoring_v3.Aggregation(**options)

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime, step: int | None) -> SignalData:
        if not signal.metric_type:
            raise UsageError(f"{signal.name} is read from Prometheus only (a Kafka/bufstream metric)")
        query_filter = (
            f'metric.type = "{signal.metric_type}" AND resource.type = "{signal.resource_type}" '
            f'AND resource.labels.{signal.filter_label} = "{value}"'
        )
        if signal.metric_filter:
            query_filter += f" AND {signal.metric_filter}"
        period = step or step_for(window)
        end = floor_to(now, period) if step else now
        raw = self._list(
            signal.metric_type, query_filter, end - timedelta(seconds=window), end, self.aggregation(signal, period)
        )
        series = []
        for item in raw:
            label = item.resource.labels.get(signal.group_label, "")
            points = sorted((_utc(point.interval.end_time), _number(point.value)) for point in item.points)
            if step:  # the bucket ending now may still be filling: Pub/Sub points arrive late
                points = [(t, v) for t, v in points if t < end]
            series.append(Series({signal.label: label}, tuple(points)))
        return signal_data(signal, series, window)

    def run_loads(self, query: str, label: str, now: datetime) -> list[RunLoad]:
        from google.cloud import monitoring_v3

        field = label if label.startswith(("metric.", "resource.")) else f"metric.labels.{label}"
        aggregation = monitoring_v3.Aggregation(
            alignment_period={"seconds": NOISY_RUN_WINDOW},
            per_series_aligner=monitoring_v3.Aggregation.Aligner.ALIGN_RATE,
            cross_series_reducer=monitoring_v3.Aggregation.Reducer.REDUCE_SUM,
            group_by_fields=[field],
        )
        raw = self._list("the noisy-run query", query, now - timedelta(seconds=NOISY_RUN_WINDOW), now, aggregation)
        key = field.rsplit(".", 1)[-1]
        loads = []
        for item in raw:
            labels = {**item.resource.labels, **item.metric.labels}
            if item.points and key in labels:
                newest = max(item.points, key=lambda p: _utc(p.interval.end_time))
                loads.append(RunLoad(labels[key], _number(newest.value)))
        return sorted(loads, key=lambda load: -load.rate)

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()


def _number(value: Any) -> float:
    kind = value._pb.WhichOneof("value")
    return float(getattr(value, kind)) if kind else math.nan


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
