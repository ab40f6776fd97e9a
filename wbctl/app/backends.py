"""The adapters of one invocation, built from its settings: each once, shared, closed together.

One adapter per backend is shared by every read of an invocation (a `--watch` loop reuses its
connections) and by the threads of a gather, hence the lock. Adapters import their SDK on first
use; `SDK_MODULES` names what each backend imports, so a gather can import them in one thread
before its reads run side by side (wbctl.app.gather.preload: two threads importing one package
can see it half-initialised).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from wbctl.errors import UsageError

if TYPE_CHECKING:
    from wbctl.adapters.google.bigtable import BigtableAdapter
    from wbctl.adapters.google.dashboards import DashboardsAdapter
    from wbctl.adapters.kube import KubeAdapter
    from wbctl.adapters.metrics import MetricsSource
    from wbctl.adapters.mysql import MysqlAdapter
    from wbctl.adapters.redis import RedisAdapter
    from wbctl.app.locate import Located
    from wbctl.config import Settings

A = TypeVar("A")

# the modules each backend's adapter imports on first use
SDK_MODULES: dict[str, tuple[str, ...]] = {
    "redis": ("redis", "redis.backoff", "redis.retry"),
    "kube": ("kubernetes.client", "kubernetes.config", "kubernetes.client.exceptions", "urllib3.util.retry"),
    "google": ("grpc", "google.auth", "google.auth.exceptions", "google.api_core.exceptions"),
    "bigtable": (
        "google.cloud.bigtable_admin_v2",
        "google.cloud.bigtable_admin_v2.services.bigtable_instance_admin.transports",
    ),
    "monitoring": ("google.cloud.monitoring_v3", "google.cloud.monitoring_v3.services.metric_service.transports"),
    "dashboards": (
        "google.cloud.monitoring_dashboard_v1",
        "google.cloud.monitoring_dashboard_v1.services.dashboards_service.transports",
    ),
    "prometheus": ("urllib3",),
    "mysql": ("pymysql",),
}


def sdk_modules(*backends: str) -> list[str]:
    """The SDK modules of `backends` ("redis", "kube", ...; "cloud-monitoring" and "prometheus"
    name the metrics sources), in order, each once."""
    names: list[str] = []
    for backend in backends:
        if backend == "cloud-monitoring":
            names += [*SDK_MODULES["google"], *SDK_MODULES["monitoring"]]
        elif backend in ("bigtable", "dashboards"):
            names += [*SDK_MODULES["google"], *SDK_MODULES[backend]]
        else:
            names += SDK_MODULES[backend]
    return list(dict.fromkeys(names))


class Backends:
    """The adapter factory: settings in, one adapter per backend out."""

    def __init__(
        self,
        settings: Settings,
        *,
        kubeconfig: str | None,
        environ: Mapping[str, str],
        progress: Callable[[str], Any] | None = None,
        warn: Callable[[str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self._warn = warn
        self._kubeconfig = kubeconfig
        self._environ = environ
        self._progress = progress
        self._adapters: dict[Hashable, Any] = {}
        self._lock = threading.RLock()
        self._located: Located | None = None
        self._locate_lock = threading.Lock()  # its own: the other adapters are not held up by the GET

    def _cached(self, key: Hashable, build: Callable[[], A]) -> A:
        with self._lock:
            if key not in self._adapters:
                self._adapters[key] = build()
            adapter: A = self._adapters[key]
            return adapter

    def redis(self) -> RedisAdapter:
        from wbctl.adapters.redis import RedisAdapter

        settings = self.settings
        return self._cached(
            "redis",
            lambda: RedisAdapter(
                settings["redis-url"],
                password=settings.secret("redis-password"),
                ca_file=settings["redis-ca-file"],
                timeout=settings.timeout,
            ),
        )

    def kube(self) -> KubeAdapter:
        from wbctl.adapters.kube import KubeAdapter

        settings = self.settings
        return self._cached(
            "kube",
            lambda: KubeAdapter(
                kube_context=settings["kube-context"],
                namespace=settings["namespace"],
                instance=settings["instance"],
                timeout=settings.timeout,
                kubeconfig=self._kubeconfig,
                environ=self._environ,
            ),
        )

    def mysql(self) -> MysqlAdapter:
        from wbctl.adapters.mysql import MysqlAdapter

        settings = self.settings
        return self._cached(
            "mysql",
            lambda: MysqlAdapter(
                settings["mysql-url"],
                password=settings.secret("mysql-password"),
                ca_file=settings["mysql-ca-file"],
                timeout=settings.timeout,
                tls=settings["mysql-tls"],
                warn=self._warn,
            ),
        )

    def locate(self) -> Located:
        """The settings the WeightsAndBiases resource fills in (wbctl.app.locate), read once and
        only while one of them is unset: a context that gives them costs no Kubernetes call."""
        from wbctl.app import locate

        with self._locate_lock:
            if self._located is None or (not self._located.read and locate.unset(self.settings)):
                self._located = locate.fill(
                    self.settings, lambda: self.kube().read_cr(), namespace=self.settings["namespace"]
                )
            return self._located

    def gcp_project(self) -> str:
        """The context's gcp-project, else the WeightsAndBiases resource's global.bigtable.project."""
        located = self.locate() if not self.settings["gcp-project"] else None
        project: str | None = self.settings["gcp-project"]
        if not project:
            why = located.why_unset("gcp-project") if located else ""
            raise UsageError(f"gcp-project is not set: add it to the context or set WBCTL_GCP_PROJECT{why}")
        return project

    def bigtable_instance(self) -> str:
        """The context's bigtable-instance, else the resource's global.bigtable.instance, else
        W&B's Terraform naming rule (core.bigtable.default_instance)."""
        from wbctl.core.bigtable import default_instance

        if not self.settings["bigtable-instance"]:
            self.locate()
        instance: str = self.settings["bigtable-instance"] or default_instance(self.settings["instance"])
        return instance

    def bigtable(self, *, wait: bool = True) -> BigtableAdapter:
        """`wait`: a write waits for Bigtable's long-running operation (and reports progress)."""
        from wbctl.adapters.google.bigtable import BigtableAdapter

        settings = self.settings
        if not settings["bigtable-instance"] and self.locate().v2:
            from wbctl.core.kube import V2_NO_BIGTABLE

            raise UsageError(f"Bigtable is {V2_NO_BIGTABLE}; set bigtable-instance if this deployment has one")
        project, instance = self.gcp_project(), self.bigtable_instance()
        return self._cached(
            ("bigtable", wait),
            lambda: BigtableAdapter(
                project=project,
                instance_id=instance,
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-bigtable-admin-endpoint"],
                wait=wait,
                progress=self._progress,
            ),
        )

    def dashboards(self) -> DashboardsAdapter:
        """Cloud Monitoring's Dashboards API, in the context's project; served by the same
        endpoint as Cloud Monitoring's metrics (monitoring.googleapis.com), so
        gcp-monitoring-endpoint overrides both."""
        from wbctl.adapters.google.dashboards import DashboardsAdapter

        settings = self.settings
        project = self.gcp_project()
        return self._cached(
            "dashboards",
            lambda: DashboardsAdapter(
                project=project,
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-monitoring-endpoint"],
            ),
        )

    def metrics(self, kind: str | None = None) -> MetricsSource:
        """The metrics source `kind` names ("cloud-monitoring" or "prometheus"); default the
        `metrics-source` setting. Bigtable's and the queue's sources are chosen apart: a
        bufstream install on Google Cloud reads its lag from Prometheus."""
        from wbctl.adapters.metrics import SIGNALS, CloudMonitoring, Prometheus

        settings = self.settings
        kind = kind or settings["metrics-source"]
        if kind == "prometheus":
            queries = {
                name: settings[f"prometheus-query-{name}"]
                for name in SIGNALS
                if settings.values.get(f"prometheus-query-{name}") and settings[f"prometheus-query-{name}"]
            }
            return self._cached(
                "prometheus",
                lambda: Prometheus(url=settings["prometheus-url"], timeout=settings.timeout, queries=queries),
            )
        project = self.gcp_project()
        return self._cached(
            "cloud-monitoring",
            lambda: CloudMonitoring(
                project=project,
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-monitoring-endpoint"],
            ),
        )

    def close(self) -> None:
        """Close every adapter built, newest first; best effort: the outcome is decided."""
        with self._lock:
            adapters: Iterable[Any] = reversed(list(self._adapters.values()))
            self._adapters.clear()
        for adapter in adapters:
            try:
                adapter.close()
            except Exception:  # noqa: BLE001 - closing is best effort
                pass
