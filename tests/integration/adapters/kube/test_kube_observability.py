"""check's observability reads (wbctl/adapters/kube/observability.py) against the API fake,
through the real client: the collector's ConfigMap, scrape objects (a kind whose CRD is missing
is an answer, a refused one is unknown), the auditor's CronJob, the v2 telemetry status, each
failure kept with what it feeds, and the connection's timeout on every request."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

from wbctl.adapters.kube import KubeAdapter
from wbctl.adapters.kube.observability import monitor
from wbctl.core import observability as obs
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects.operator_v2 import VERSIONS, operator_v2

NOW = datetime(2026, 12, 3, 12, 2, 10, tzinfo=UTC)


def adapter(kube_api: FakeKubeAPI, home: Path, *, timeout: float = 5, instance: str = "wandb") -> KubeAdapter:
    kubeconfig = kube_api.write_kubeconfig(home / "kubeconfig")
    return KubeAdapter(
        kube_context=None, namespace="default", instance=instance, timeout=timeout, kubeconfig=str(kubeconfig)
    )


def pod_monitoring(name: str, port: object, labels: dict[str, str]) -> dict[str, object]:
    """A Managed Service for Prometheus PodMonitoring (monitoring.googleapis.com/v1)."""
    return {
        "apiVersion": "monitoring.googleapis.com/v1",
        "kind": "PodMonitoring",
        "metadata": {"name": name, "namespace": "default"},
        "spec": {"selector": {"matchLabels": labels}, "endpoints": [{"port": port, "interval": "30s"}]},
    }


def test_an_observed_namespace_reads_as_the_chart_and_the_auditor_render_it(
    kube_api: FakeKubeAPI, isolated_env: Path
) -> None:
    kube_api.add_all(fx.chart_043(now=NOW, observable=True))
    kube_api.add(pod_monitoring("wandb-app", 8181, {"app.kubernetes.io/name": "app"}))
    reads = adapter(kube_api, isolated_env).observability()
    assert reads.collectors.value is not None and set(reads.collectors.value) == {"wandb-otel-daemonset"}
    assert obs.pipelines(reads.collectors.value["wandb-otel-daemonset"]).sending == {"traces": ("otlp",)}
    # GKE serves PodMonitoring; the Prometheus Operator's CRDs are not installed: a 404 each, no error
    assert reads.monitors.absent == ("ServiceMonitor", "PodMonitor") and reads.monitors.unreadable == ()
    assert reads.monitors.found == (
        obs.Monitor("PodMonitoring", "wandb-app", {"app.kubernetes.io/name": "app"}, (), ("8181",)),
    )
    (cronjob,) = reads.auditor.value or ()
    assert cronjob.schedule == "*/5 * * * *" and cronjob.last_success == datetime(2026, 12, 3, 12, 0, 40, tzinfo=UTC)
    # one GET per ConfigMap and the CronJob, one list per scrape kind
    assert kube_api.count("list", "podmonitorings") == 1 and kube_api.count("get", "cronjobs") == 1


def test_the_chart_defaults_read_as_no_auditor_and_a_collector_to_debug(
    kube_api: FakeKubeAPI, isolated_env: Path
) -> None:
    kube_api.add_all(fx.chart_043(now=NOW))
    reads = adapter(kube_api, isolated_env).observability()
    assert reads.auditor.value == ()
    config = (reads.collectors.value or {})["wandb-otel-daemonset"]
    assert obs.pipelines(config).exporters == {"traces": ("debug",)}


def test_each_refusal_costs_only_what_it_feeds(kube_api: FakeKubeAPI, isolated_env: Path) -> None:
    kube_api.add_all(fx.chart_043(now=NOW))
    kube_api.forbid("list", "podmonitorings")
    kube_api.forbid("get", "cronjobs")
    reads = adapter(kube_api, isolated_env).observability()
    assert reads.collectors.known
    assert not reads.auditor.known and "forbidden: get cronjobs.batch wbctl-auditor" in reads.auditor.reason
    (refused,) = reads.monitors.unreadable
    assert refused.startswith("PodMonitorings: forbidden: list podmonitorings.monitoring.googleapis.com")
    kube_api.reset_faults()
    kube_api.forbid("get", "configmaps")
    reads = adapter(kube_api, isolated_env).observability()
    assert not reads.collectors.known and "forbidden" in reads.collectors.reason and reads.auditor.known


def test_a_silent_api_server_is_a_timeout_not_a_hang(kube_api: FakeKubeAPI, isolated_env: Path) -> None:
    kube_api.add_all(fx.chart_043(now=NOW))
    kube = adapter(kube_api, isolated_env, timeout=0.5)
    kube.connection.generation()  # detected before the server goes quiet
    kube_api.delay(2)
    started = time.monotonic()
    reads = kube.observability()
    assert time.monotonic() - started < 1.9  # each read bounded by the timeout, side by side
    assert not reads.auditor.known and "did not answer within 0.5s" in reads.auditor.reason
    assert not reads.collectors.known
    assert all("did not answer within 0.5s" in why for why in reads.monitors.unreadable)


def test_v2_reads_the_telemetry_status_the_operator_reports(kube_api: FakeKubeAPI, isolated_env: Path) -> None:
    """The status comes with the observation's one read of the resource: no second GET."""
    kube_api.serve_versions("weightsandbiases", VERSIONS)
    kube_api.add_all(operator_v2("default", "wandb", now=NOW))
    observed = adapter(kube_api, isolated_env).observe(("cr",))
    assert obs.telemetry_of(observed.cr).value == obs.TelemetryStatus("off", "Disabled", False)
    before = len(kube_api.requests)
    adapter(kube_api, isolated_env).observability()
    assert not [r for r in kube_api.requests[before:] if "weightsandbiases" in r.path]


def test_scrape_objects_as_each_crd_writes_them() -> None:
    service_monitor = monitor(
        "ServiceMonitor",
        {
            "metadata": {"name": "wandb"},
            "spec": {
                "selector": {
                    "matchLabels": {"app.kubernetes.io/instance": "wandb"},
                    "matchExpressions": [{"key": "app.kubernetes.io/name", "operator": "In", "values": ["app"]}],
                },
                "endpoints": [{"port": "prometheus"}, {"targetPort": 8181}],
            },
        },
    )
    assert service_monitor.ports == ("prometheus", "8181") and service_monitor.scrapes_metrics_port()
    assert service_monitor.selects({"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "app"})
    assert not service_monitor.selects({"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "api"})
    pod_monitor = monitor(
        "PodMonitor", {"metadata": {"name": "p"}, "spec": {"podMetricsEndpoints": [{"port": "http"}]}}
    )
    assert pod_monitor.ports == ("http",) and not pod_monitor.scrapes_metrics_port()
    assert monitor("PodMonitoring", {}).ports == ()  # nothing written: nothing scraped, no error


def test_an_unreachable_api_server_leaves_every_read_unknown(isolated_env: Path) -> None:
    with FakeKubeAPI() as kube_api:
        kube = adapter(kube_api, isolated_env, timeout=1)
    reads = kube.observability()  # each read answers for itself; none raises
    assert not reads.collectors.known and "cannot reach the Kubernetes API" in reads.collectors.reason
    assert not reads.auditor.known and "cannot reach the Kubernetes API" in reads.auditor.reason
    assert len(reads.monitors.unreadable) == 3
    assert all("cannot reach the Kubernetes API" in why for why in reads.monitors.unreadable)
