"""Prometheus as a metrics source: `query_range` per signal (the signal's default PromQL or a
configured one), an instant query for the noisy-run load, over one pooled urllib3 connection
set; failures leave as one-line wbctl errors naming the Prometheus that failed.
"""

from __future__ import annotations

import json
import math
import re
import threading
import urllib.parse
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.adapters.metrics.signals import (
    NOISY_RUN_WINDOW,
    POINTS_PER_WINDOW,
    MetricsSource,
    Signal,
    floor_to,
    signal_data,
    step_for,
)
from wbctl.core.runbook import RunLoad
from wbctl.core.series import Series, SignalData
from wbctl.errors import BackendError, UsageError

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
        end = floor_to(now, step) if step else now
        seconds = step or (step_for(window) if window >= 600 else max(1, window // POINTS_PER_WINDOW))
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
        return signal_data(signal, series, window)

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


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]
