"""Metrics behind one interface, from Cloud Monitoring or Prometheus (`metrics-source`).

Each signal comes back as short series over a window: Cloud Monitoring aligns and reduces on
the server (about 30 points for any window); Prometheus answers `query_range` with a step of
window/30. Signals are fetched concurrently. A signal with no data is unknown, never zero.
"""

from __future__ import annotations

import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from wbctl.adapters.google import translated, transport
from wbctl.core.bigtable import Series, SignalData
from wbctl.errors import BackendError

POINTS_PER_WINDOW = 30


@dataclass(frozen=True)
class Signal:
    name: str
    metric_type: str  # Cloud Monitoring
    resource_type: str
    filter_label: str  # resource label that selects ours (its value comes from the request)
    group_label: str  # resource label that tells the series apart
    label: str  # how wbctl names that label in a Series
    aligner: str
    prometheus: str  # default PromQL; {value} is the selecting label's value


SIGNALS: dict[str, Signal] = {
    signal.name: signal
    for signal in (
        Signal("bigtable-cpu", "bigtable.googleapis.com/cluster/cpu_load", "bigtable_cluster", "instance", "cluster",
               "cluster", "ALIGN_MEAN",
               'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load{{bigtable_instance="{value}"}})'),
        Signal("bigtable-nodes", "bigtable.googleapis.com/cluster/node_count", "bigtable_cluster", "instance", "cluster",
               "cluster", "ALIGN_MAX",
               'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_node_count{{bigtable_instance="{value}"}})'),
        Signal("bigtable-storage", "bigtable.googleapis.com/cluster/storage_utilization", "bigtable_cluster", "instance",
               "cluster", "cluster", "ALIGN_MEAN",
               'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_storage_utilization{{bigtable_instance="{value}"}})'),
        Signal("queue-undelivered", "pubsub.googleapis.com/subscription/num_undelivered_messages", "pubsub_subscription",
               "subscription_id", "subscription_id", "subscription", "ALIGN_MAX",
               # Kafka/bufstream installs: the consumer group's lag
               'sum by (consumer_group) (bufstream_kafka_consumer_group_offset_lag{{consumer_group="flat-run-fields-updater"}})'),
        Signal("queue-oldest-age", "pubsub.googleapis.com/subscription/oldest_unacked_message_age", "pubsub_subscription",
               "subscription_id", "subscription_id", "subscription", "ALIGN_MAX",
               'max by (subscription_id) (stackdriver_pubsub_subscription_pubsub_googleapis_com_subscription_oldest_unacked_message_age{{subscription_id="{value}"}})'),
    )
}


def _step(window: int) -> int:
    return max(60, math.ceil(window / POINTS_PER_WINDOW))


class MetricsSource:
    """The interface the commands use; `fetch` reads several signals at once."""

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime) -> SignalData:
        raise NotImplementedError

    def fetch(self, wanted: Mapping[str, str], window: int, now: datetime) -> dict[str, SignalData]:
        """`wanted`: signal name -> the value of its selecting label (instance, subscription)."""
        with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
            futures = {name: pool.submit(self.fetch_one, SIGNALS[name], value, window, now) for name, value in wanted.items()}
            return {name: future.result() for name, future in futures.items()}

    def close(self) -> None:
        pass


class CloudMonitoring(MetricsSource):
    def __init__(self, *, project: str, timeout: float, emulator_host: str | None = None, endpoint: str | None = None) -> None:
        self.project = project
        self.timeout = timeout
        self.emulator_host = emulator_host
        self.endpoint = endpoint
        self._client: Any = None

    def client(self) -> Any:
        if self._client is None:
            from google.cloud.monitoring_v3 import MetricServiceClient
            from google.cloud.monitoring_v3.services.metric_service.transports import (
                MetricServiceGrpcTransport,
            )

            self._client = MetricServiceClient(
                transport=transport(MetricServiceGrpcTransport, emulator_host=self.emulator_host,
                                    endpoint=self.endpoint, service="Cloud Monitoring")
            )
        return self._client

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime) -> SignalData:
        from google.cloud import monitoring_v3

        client = self.client()
        query_filter = (
            f'metric.type = "{signal.metric_type}" AND resource.type = "{signal.resource_type}" '
            f'AND resource.labels.{signal.filter_label} = "{value}"'
        )
        interval = monitoring_v3.TimeInterval(start_time=now - timedelta(seconds=window), end_time=now)
        aggregation = monitoring_v3.Aggregation(
            alignment_period={"seconds": _step(window)},
            per_series_aligner=getattr(monitoring_v3.Aggregation.Aligner, signal.aligner),
        )
        request = monitoring_v3.ListTimeSeriesRequest(
            name=f"projects/{self.project}", filter=query_filter, interval=interval, aggregation=aggregation,
            view=monitoring_v3.ListTimeSeriesRequest.TimeSeriesView.FULL,
        )
        with translated(f"read {signal.metric_type} of", f"projects/{self.project}", self.timeout):
            pages = client.list_time_series(request=request, retry=None, timeout=self.timeout)
            raw = list(pages)
        series = []
        for item in raw:
            label = item.resource.labels.get(signal.group_label, "")
            points = sorted(
                (point.interval.end_time, _number(point.value)) for point in item.points
            )
            series.append(Series({signal.label: label}, tuple((_utc(t), v) for t, v in points)))
        return _data(signal, series, window)

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()


class Prometheus(MetricsSource):
    def __init__(self, *, url: str, timeout: float, queries: Mapping[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.queries = dict(queries or {})

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime) -> SignalData:
        query = self.queries.get(signal.name) or signal.prometheus
        query = query.replace("{value}", value) if signal.name in self.queries else query.format(value=value)
        params = urllib.parse.urlencode({
            "query": query,
            "start": f"{(now - timedelta(seconds=window)).timestamp():.3f}",
            "end": f"{now.timestamp():.3f}",
            "step": str(_step(window) if window >= 600 else max(1, window // POINTS_PER_WINDOW)),
        })
        target = f"{self.url}/api/v1/query_range"
        try:
            with urllib.request.urlopen(f"{target}?{params}", timeout=self.timeout) as response:  # noqa: S310 - a configured URL
                body = json.loads(response.read())
        except urllib.error.HTTPError as exc:
            detail = exc.read().decode(errors="replace")[:300]
            raise BackendError(f"Prometheus at {self.url} refused the query for {signal.name}: HTTP {exc.code} {detail}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise BackendError(f"cannot query Prometheus at {self.url}: {reason}") from None
        if body.get("status") != "success":
            raise BackendError(f"Prometheus at {self.url} answered {body.get('errorType')}: {body.get('error')}")
        series = []
        for item in body.get("data", {}).get("result", []):
            labels = item.get("metric", {})
            name = labels.get(signal.group_label) or labels.get(signal.label) or next(iter(labels.values()), "")
            points = tuple((datetime.fromtimestamp(float(t), tz=timezone.utc), float(v)) for t, v in item.get("values", []))
            series.append(Series({signal.label: name}, points))
        return _data(signal, series, window)


def _data(signal: Signal, series: list[Series], window: int) -> SignalData:
    with_points = tuple(s for s in series if s.points)
    if not with_points:
        return SignalData(signal.name, None, f"no {signal.name} data in the last {window // 60} min")
    return SignalData(signal.name, with_points)


def _number(value: Any) -> float:
    kind = value._pb.WhichOneof("value")
    return float(getattr(value, kind)) if kind else math.nan


def _utc(moment: Any) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
