"""Metrics behind one interface, from Cloud Monitoring or Prometheus.

Each signal comes back as a short series over a window: Cloud Monitoring aligns (and, for a
signal read as a sum of rates, reduces) on the server; Prometheus answers `query_range`.
By default a window gets about 30 points; the runbook asks for 60 s steps, ending at the last
whole minute, with the partial last bucket dropped (Pub/Sub points arrive 1-3 minutes late).
Signals are fetched concurrently. A signal with no data is unknown, never zero
(`SignalData.no_data` says the source answered with nothing; the judge decides what that means).
"""

from __future__ import annotations

import json
import math
import re
import threading
import urllib.parse
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.adapters.google import translated, transport
from wbctl.core.runbook import RunLoad
from wbctl.core.series import Series, SignalData
from wbctl.errors import BackendError, UsageError

POINTS_PER_WINDOW = 30
NOISY_RUN_WINDOW = 600  # the noisy-run query is read as a rate over 10 minutes


@dataclass(frozen=True)
class Signal:
    name: str
    metric_type: str  # Cloud Monitoring ("" when the signal exists on Prometheus only)
    resource_type: str
    filter_label: str  # resource label that selects ours (its value comes from the request)
    group_label: str  # label that tells the series apart
    label: str  # how wbctl names that label in a Series
    aligner: str  # ALIGN_RATE for DELTA counters (read as per-second rates)
    prometheus: str | None  # default PromQL ({value}: the selecting label's value); None: must be configured
    reducer: str | None = None  # cross-series reducer, e.g. REDUCE_SUM of the rates of every response code
    metric_filter: str = ""  # more of the Cloud Monitoring filter


_STACKDRIVER = "stackdriver_pubsub_{kind}_pubsub_googleapis_com_{kind}_{metric}"


def _pubsub_promql(kind: str, metric: str, label: str, rate: bool = False) -> str:
    selector = _STACKDRIVER.format(kind=kind, metric=metric) + f'{{{{{label}="{{value}}"}}}}'
    return f"sum(rate({selector}[5m]))" if rate else f"max({selector})"


_LAG = 'bufstream_kafka_consumer_group_offset_lag{{kafka_consumer_group_id="{value}"}}'

SIGNALS: dict[str, Signal] = {
    signal.name: signal
    for signal in (
        Signal(
            "bigtable-cpu",
            "bigtable.googleapis.com/cluster/cpu_load",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MEAN",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-cpu-hottest",
            "bigtable.googleapis.com/cluster/cpu_load_hottest_node",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MAX",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load_hottest_node{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-nodes",
            "bigtable.googleapis.com/cluster/node_count",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MAX",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_node_count{{bigtable_instance="{value}"}})',
        ),
        Signal(
            "bigtable-storage",
            "bigtable.googleapis.com/cluster/storage_utilization",
            "bigtable_cluster",
            "instance",
            "cluster",
            "cluster",
            "ALIGN_MEAN",
            'max by (cluster) (stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_storage_utilization{{bigtable_instance="{value}"}})',
        ),
        # Pub/Sub: the two backlog gauges, and the counters read as rates (docs/sources.md, "Queue")
        Signal(
            "queue-undelivered",
            "pubsub.googleapis.com/subscription/num_undelivered_messages",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_MAX",
            _pubsub_promql("subscription", "num_undelivered_messages", "subscription_id"),
        ),
        Signal(
            "queue-oldest-age",
            "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_MAX",
            _pubsub_promql("subscription", "oldest_unacked_message_age", "subscription_id"),
        ),
        Signal(
            "queue-acked",
            "pubsub.googleapis.com/subscription/ack_message_count",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_RATE",
            _pubsub_promql("subscription", "ack_message_count", "subscription_id", rate=True),
            reducer="REDUCE_SUM",
        ),
        Signal(
            "queue-published",
            "pubsub.googleapis.com/topic/send_message_operation_count",
            "pubsub_topic",
            "topic_id",
            "topic_id",
            "topic",
            "ALIGN_RATE",
            _pubsub_promql("topic", "send_message_operation_count", "topic_id", rate=True),
            reducer="REDUCE_SUM",
            metric_filter='metric.labels.response_code = "success"',
        ),
        Signal(
            "queue-expired",
            "pubsub.googleapis.com/subscription/expired_ack_deadlines_count",
            "pubsub_subscription",
            "subscription_id",
            "subscription_id",
            "subscription",
            "ALIGN_RATE",
            _pubsub_promql("subscription", "expired_ack_deadlines_count", "subscription_id", rate=True),
            reducer="REDUCE_SUM",
        ),
        # Kafka / bufstream (Prometheus only): the flat-run-fields-updater group's lag, in total and per
        # partition; two other groups read the same topic, hence the group filter
        Signal("queue-lag", "", "", "", "kafka_consumer_group_id", "group", "", f"sum({_LAG})"),
        Signal(
            "queue-lag-partitions",
            "",
            "",
            "",
            "kafka_topic_partition",
            "partition",
            "",
            f"sum by (kafka_topic_partition) ({_LAG})",
        ),
        Signal("queue-consumed", "", "", "", "kafka_consumer_group_id", "group", "", None),
    )
}


def _step(window: int) -> int:
    return max(60, math.ceil(window / POINTS_PER_WINDOW))


def _floor(moment: datetime, step: int) -> datetime:
    seconds = int(moment.timestamp())
    return datetime.fromtimestamp(seconds - seconds % step, tz=UTC)


class MetricsSource:
    """The interface the commands use; `fetch` reads several signals at once."""

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime, step: int | None) -> SignalData:
        raise NotImplementedError

    def fetch(
        self, wanted: Mapping[str, str], window: int, now: datetime, *, step: int | None = None
    ) -> dict[str, SignalData]:
        """`wanted`: signal name -> the value of its selecting label (instance, subscription,
        topic, consumer group). `step`: seconds between points (default: ~30 points per window),
        with the interval ending at the last whole step and its partial last bucket dropped."""
        with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
            futures = {
                name: pool.submit(self.fetch_one, SIGNALS[name], value, window, now, step)
                for name, value in wanted.items()
            }
            return {name: future.result() for name, future in futures.items()}

    def run_loads(self, query: str, label: str, now: datetime) -> list[RunLoad]:
        """The noisy-run query's load per run (highest first), as a rate over 10 minutes."""
        raise NotImplementedError

    def close(self) -> None:
        pass


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
        period = step or _step(window)
        end = _floor(now, period) if step else now
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
        return _data(signal, series, window)

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


_SELECTOR = re.compile(r"[A-Za-z_:][A-Za-z0-9_:]*(\{[^{}]*\})?")


class Prometheus(MetricsSource):
    """Prometheus's HTTP API over one pooled connection set (urllib3): a `--watch` round reuses
    the connections of the one before."""

    def __init__(self, *, url: str, timeout: float, queries: Mapping[str, str] | None = None) -> None:
        self.url = url.rstrip("/")
        self.timeout = timeout
        self.queries = dict(queries or {})
        self._pool: Any = None
        self._pool_lock = threading.Lock()

    def _http(self) -> Any:
        with self._pool_lock:
            if self._pool is None:
                import urllib3

                self._pool = urllib3.PoolManager(
                    maxsize=16, block=False, retries=False, timeout=urllib3.Timeout(total=self.timeout)
                )
            return self._pool

    def _get(self, path: str, params: Mapping[str, str], what: str) -> Any:
        import urllib3

        target = f"{self.url}{path}?{urllib.parse.urlencode(params)}"
        try:
            response = self._http().request("GET", target)
        except urllib3.exceptions.HTTPError as exc:
            reason = getattr(exc, "reason", None) or exc
            if "refused" in str(reason).lower():  # before the timeout test: NewConnectionError is a timeout subclass
                raise BackendError(f"cannot query Prometheus at {self.url}: connection refused") from None
            if "timed out" in str(reason).lower() or isinstance(reason, urllib3.exceptions.TimeoutError):
                raise BackendError(
                    f"Prometheus at {self.url} did not answer within {self.timeout:g}s ({what})"
                ) from None
            raise BackendError(f"cannot query Prometheus at {self.url}: {_one_line(str(reason))}") from None
        if response.status != 200:
            detail = response.data.decode(errors="replace")[:300]
            raise BackendError(
                f"Prometheus at {self.url} refused the query for {what}: HTTP {response.status} {detail}"
            )
        try:
            body = json.loads(response.data)
        except ValueError:
            raise BackendError(f"Prometheus at {self.url} answered something that is not JSON ({what})") from None
        if body.get("status") != "success":
            raise BackendError(f"Prometheus at {self.url} answered {body.get('errorType')}: {body.get('error')}")
        return body.get("data", {})

    def query_for(self, signal: Signal, value: str) -> str:
        configured = self.queries.get(signal.name)
        if configured:
            return configured.replace("{value}", value)
        if signal.prometheus is None:
            raise UsageError(f"no PromQL for {signal.name}: set prometheus-query-{signal.name}")
        return signal.prometheus.format(value=value)

    def fetch_one(self, signal: Signal, value: str, window: int, now: datetime, step: int | None) -> SignalData:
        query = self.query_for(signal, value)
        end = _floor(now, step) if step else now
        seconds = step or (_step(window) if window >= 600 else max(1, window // POINTS_PER_WINDOW))
        data = self._get(
            "/api/v1/query_range",
            {
                "query": query,
                "start": f"{(end - timedelta(seconds=window)).timestamp():.3f}",
                "end": f"{end.timestamp():.3f}",
                "step": str(seconds),
            },
            signal.name,
        )
        series = []
        for item in data.get("result", []):
            labels = item.get("metric", {})
            name = labels.get(signal.group_label) or labels.get(signal.label) or next(iter(labels.values()), "")
            points = tuple((datetime.fromtimestamp(float(t), tz=UTC), float(v)) for t, v in item.get("values", []))
            series.append(Series({signal.label: name}, points))
        return _data(signal, series, window)

    def run_loads(self, query: str, label: str, now: datetime) -> list[RunLoad]:
        minutes = NOISY_RUN_WINDOW // 60
        rate = f"rate({query}[{minutes}m])" if _SELECTOR.fullmatch(query.strip()) else f"rate(({query})[{minutes}m:1m])"
        data = self._get(
            "/api/v1/query",
            {"query": f"sum by ({label}) ({rate})", "time": f"{now.timestamp():.3f}"},
            "the noisy-run query",
        )
        loads = []
        for item in data.get("result", []):
            run = (item.get("metric") or {}).get(label)
            value = float((item.get("value") or [0, "nan"])[1])
            if run and math.isfinite(value):
                loads.append(RunLoad(run, value))
        return sorted(loads, key=lambda load: -load.rate)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.clear()


def _data(signal: Signal, series: list[Series], window: int) -> SignalData:
    with_points = tuple(s for s in series if s.points)
    if not with_points:
        return SignalData(signal.name, None, f"no {signal.name} data in the last {window // 60} min", no_data=True)
    return SignalData(signal.name, with_points)


def _number(value: Any) -> float:
    kind = value._pb.WhichOneof("value")
    return float(getattr(value, kind)) if kind else math.nan


def _utc(moment: Any) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
