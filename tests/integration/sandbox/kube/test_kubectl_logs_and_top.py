"""The real kubectl's `logs` and `top` against FakeKubeAPI: pods/log as the API server checks
and serves it (text/plain, container, tailLines, timestamps) and metrics.k8s.io discovered
and answered from a Telemetry; without one, empty logs and no Metrics API, as on a cluster
without metrics-server. The sandbox's own Telemetry (the queue model's) is tested through
`sandbox serve` in tests/e2e/test_sandbox_serve.py."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.integration.sandbox.kube.test_kubectl_against_fake import KUBECTL, kubectl
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.types import Obj

pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed")
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


class Steady:
    """Every running container at 250m and 100Mi; each container logs three numbered lines."""

    def now(self) -> datetime:
        return NOW

    def log(self, pod: Obj, container: str) -> Sequence[tuple[datetime, str]]:
        return [(NOW - timedelta(minutes=3 - i), f"{container} line {i}") for i in range(3)]

    def usage(self, pod: Obj) -> Mapping[str, tuple[float, int]]:
        return {c["name"]: (0.25, 100 * 2**20) for c in pod["spec"]["containers"]}

    def node_usage(self, node: Obj, pods: Sequence[Obj]) -> tuple[float, int]:
        return 0.25 * len(pods) + 0.5, 2**30


@pytest.fixture
def fake(kube_api_tls: FakeKubeAPI) -> FakeKubeAPI:
    kube_api_tls.add_all(fx.chart_043())
    return kube_api_tls


@pytest.fixture
def kubeconfig(fake: FakeKubeAPI, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kubeconfig")


def _pod(fake: FakeKubeAPI, app: str) -> str:
    return next(
        p["metadata"]["name"]
        for p in fake.objects("pods", "default")
        if p["metadata"].get("labels", {}).get("app.kubernetes.io/name") == app
    )


def test_logs_without_telemetry_are_empty_and_checked(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    api = _pod(fake, "api")
    assert kubectl(kubeconfig, "logs", api).stdout == ""
    missing = kubectl(kubeconfig, "logs", "no-such-pod", check=False)
    assert missing.returncode == 1 and 'pods "no-such-pod" not found' in missing.stderr
    wrong = kubectl(kubeconfig, "logs", api, "-c", "nope", check=False)
    assert wrong.returncode == 1 and f"container nope is not valid for pod {api}" in wrong.stderr
    assert kubectl(kubeconfig, "logs", api, "--tail", "x", check=False).returncode != 0
    log_requests = [r for r in fake.requests if r.path.endswith("/log")]
    assert log_requests and all(r.method == "GET" for r in log_requests)


def test_logs_from_a_telemetry_with_tail_timestamps_and_container(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.telemetry = Steady()
    api = _pod(fake, "api")
    assert kubectl(kubeconfig, "logs", api).stdout == "api line 0\napi line 1\napi line 2\n"
    assert kubectl(kubeconfig, "logs", api, "--tail", "1").stdout == "api line 2\n"
    stamped = kubectl(kubeconfig, "logs", api, "--tail", "1", "--timestamps").stdout
    assert stamped == "2026-12-01T11:59:00.000000000Z api line 2\n"
    weave = _pod(fake, "weave")
    assert kubectl(kubeconfig, "logs", weave, "-c", "weave-cache-clear", "--tail", "1").stdout == (
        "weave-cache-clear line 2\n"
    )


def test_top_without_metrics_server_says_so(kubeconfig: Path) -> None:
    top = kubectl(kubeconfig, "top", "pods", check=False)
    assert top.returncode == 1 and "Metrics API not available" in top.stderr


def test_top_pods_and_nodes_from_a_telemetry(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.telemetry = Steady()
    pods = kubectl(kubeconfig, "top", "pods", "-l", "app.kubernetes.io/name=api").stdout.splitlines()
    assert pods[0].split() == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    assert len(pods) == 4 and all(line.split()[1:] == ["250m", "100Mi"] for line in pods[1:])
    one = kubectl(kubeconfig, "top", "pod", _pod(fake, "weave"), "--containers").stdout
    assert "weave-cache-clear" in one
    nodes = kubectl(kubeconfig, "top", "nodes").stdout
    assert nodes.split()[:5] == ["NAME", "CPU(cores)", "CPU%", "MEMORY(bytes)", "MEMORY%"]
    assert "gke-wandb-pool-1" in nodes
    missing = kubectl(kubeconfig, "top", "pod", "no-such-pod", check=False)
    assert missing.returncode == 1 and "not found" in missing.stderr
