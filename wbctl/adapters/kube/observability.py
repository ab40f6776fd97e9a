"""The Kubernetes reads only `check`'s observability group makes (wbctl.core.observability):
the bundled OpenTelemetry collector's ConfigMaps by name, the scrape objects of the Prometheus
Operator (ServiceMonitor, PodMonitor: monitoring.coreos.com/v1) and of Google Cloud Managed
Service for Prometheus (PodMonitoring: monitoring.googleapis.com/v1) and the auditor's CronJob
by name. (The v2 resource's `status.telemetryStatus` comes with the observation's own read of it.)

Each is one bounded request through the connection the rest of the adapter uses (the same
kubeconfig, TLS, timeout and error translation), side by side; each answer is known or unknown
with its own reason, so a refused kind costs only the finding it feeds. A scrape kind whose CRD
is not installed answers 404: that is an answer (nothing of that kind can scrape), not an error.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wbctl.adapters.kube import convert
from wbctl.adapters.kube.connection import KubeConnection, NotFound
from wbctl.adapters.kube.reading import KubeReader
from wbctl.core.kube import Workload
from wbctl.core.model import Observed
from wbctl.core.observability import (
    AUDITOR_NAME,
    COLLECTOR_KEY,
    COLLECTOR_SUFFIXES,
    LabelRequirement,
    Monitor,
    Monitors,
    ObservabilityReads,
)
from wbctl.errors import BackendError

# kind -> (the adapter's resource name, where its endpoints are listed)
MONITOR_KINDS = {
    "ServiceMonitor": ("servicemonitors", "endpoints"),
    "PodMonitor": ("podmonitors", "podMetricsEndpoints"),
    "PodMonitoring": ("podmonitorings", "endpoints"),
}
MONITOR_PAGE = 500  # scrape objects per namespace: one page is plenty; more are left unread, and said


def monitor(kind: str, obj: dict[str, Any]) -> Monitor:
    """A scrape object as its CRD writes it: `spec.selector` (matchLabels, matchExpressions) and
    each endpoint's `port` (a name; PodMonitoring: a name or a number), `targetPort` or `portNumber`."""
    spec = obj.get("spec") or {}
    selector = spec.get("selector") or {}
    endpoints = spec.get(MONITOR_KINDS[kind][1]) or []
    ports = tuple(
        str(endpoint[key])
        for endpoint in endpoints
        if isinstance(endpoint, dict)
        for key in ("port", "targetPort", "portNumber")
        if endpoint.get(key) not in (None, "")
    )
    return Monitor(
        kind,
        str((obj.get("metadata") or {}).get("name", "")),
        {str(k): str(v) for k, v in (selector.get("matchLabels") or {}).items()},
        tuple(
            LabelRequirement(str(e.get("key", "")), str(e.get("operator", "")), tuple(map(str, e.get("values") or ())))
            for e in selector.get("matchExpressions") or []
            if isinstance(e, dict)
        ),
        ports,
    )


class ObservabilityReader:
    """The group's reads through a connection and the adapter's reader (for its GETs)."""

    def __init__(self, connection: KubeConnection, reader: KubeReader) -> None:
        self._connection = connection
        self._reader = reader

    def read(self) -> ObservabilityReads:
        """Every read side by side (the v2 resource's telemetry status comes with the
        observation's own read of the resource: core.observability.telemetry_of)."""
        self._connection.client()
        with ThreadPoolExecutor(max_workers=2 + len(MONITOR_KINDS)) as pool:
            collectors = pool.submit(self._collectors)
            auditor = pool.submit(self._auditor)
            monitors = {kind: pool.submit(self._monitors, kind) for kind in MONITOR_KINDS}
            found: list[Monitor] = []
            absent: list[str] = []
            unreadable: list[str] = []
            for kind, future in monitors.items():
                answer = future.result()
                if answer is None:
                    absent.append(kind)
                elif isinstance(answer, str):
                    unreadable.append(f"{kind}s: {answer}")
                else:
                    found += answer
            return ObservabilityReads(
                collectors=collectors.result(),
                monitors=Monitors(tuple(found), tuple(absent), tuple(unreadable)),
                auditor=auditor.result(),
                auditor_namespace=self._connection.namespace,
            )

    def _collectors(self) -> Observed[dict[str, str]]:
        names = [f"{self._connection.instance}{suffix}" for suffix in COLLECTOR_SUFFIXES]
        try:
            maps = self._reader.config_maps(names)
        except BackendError as exc:
            return Observed.unknown(f"the collector's ConfigMaps not readable ({exc.message})")
        return Observed({name: data.get(COLLECTOR_KEY, "") for name, data in maps.items()})

    def _auditor(self) -> Observed[tuple[Workload, ...]]:
        try:
            found = self._reader.get("cronjobs", AUDITOR_NAME)
        except BackendError as exc:
            return Observed.unknown(f"cronjob {AUDITOR_NAME} not readable ({exc.message})")
        return Observed(() if found is None else (convert.cronjob(found),))

    def _monitors(self, kind: str) -> list[Monitor] | str | None:
        """The namespace's objects of one scrape kind; None: its CRD is not installed (404)."""
        resource = MONITOR_KINDS[kind][0]
        try:
            with self._connection.translated("list", resource):
                page = self._connection.request(
                    "GET", self._connection.path(resource), query=[("limit", str(MONITOR_PAGE))]
                )
        except NotFound:
            return None
        except BackendError as exc:
            return exc.message
        return [monitor(kind, obj) for obj in page.get("items") or [] if isinstance(obj, dict)]
