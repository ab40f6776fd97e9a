"""The Kubernetes adapter inside a pod: no kubeconfig, KUBERNETES_SERVICE_HOST/PORT set, the
service account's token and CA read from files (WBCTL_SERVICEACCOUNT_DIR stands for the
kubelet's /var/run/secrets/kubernetes.io/serviceaccount). Against FakeKubeAPI over TLS with
that CA, checking that bearer token: the real client's in-cluster loader, then a real
`wbctl services list` and `wbctl check --only services` as the auditor's CronJob runs them."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.cli import InProcess, Result
from wbctl.adapters.kube import KubeAdapter
from wbctl.errors import BackendError
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI


@pytest.fixture
def fake() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI(tls=True, token="in-cluster-token") as api:
        api.add_all(fx.chart_043())
        yield api


@pytest.fixture
def pod_env(fake: FakeKubeAPI, tmp_path: Path, isolated_env: Path) -> dict[str, str]:
    """What a pod sees: the service's address, the mounted token and CA; no kubeconfig."""
    directory = tmp_path / "serviceaccount"
    directory.mkdir()
    (directory / "token").write_text(fake.token)
    (directory / "ca.crt").write_bytes(fake.ca_pem)
    assert not (isolated_env / ".kube").exists()
    return {
        "KUBERNETES_SERVICE_HOST": "127.0.0.1",
        "KUBERNETES_SERVICE_PORT": str(fake.port),
        "WBCTL_SERVICEACCOUNT_DIR": str(directory),
        "HOME": str(isolated_env),
    }


def adapter(environ: dict[str, str]) -> KubeAdapter:
    return KubeAdapter(
        kube_context=None, namespace="default", instance="wandb", timeout=5, kubeconfig=None, environ=environ
    )


def test_the_adapter_reads_through_the_in_cluster_config(fake: FakeKubeAPI, pod_env: dict[str, str]) -> None:
    kube = adapter(pod_env)
    try:
        observation = kube.observe(("deployments",))
    finally:
        kube.close()
    assert "wandb-api" in {w.name for w in observation.workloads}
    assert kube.server == f"https://127.0.0.1:{fake.port}"  # TLS, verified against the mounted CA
    assert fake.requests and all(r.headers["authorization"].lower() == "bearer in-cluster-token" for r in fake.requests)


def test_the_in_cluster_config_comes_from_the_invocations_environment(pod_env: dict[str, str], monkeypatch) -> None:
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)  # the process's own: not what the adapter reads
    kube = adapter(pod_env)
    try:
        assert kube.observe(("deployments",)).workloads
    finally:
        kube.close()
    monkeypatch.setenv("KUBERNETES_SERVICE_HOST", "127.0.0.1")
    outside = adapter({"HOME": pod_env["HOME"]})
    with pytest.raises(BackendError, match="cannot load a kubeconfig"):
        outside.client()


def test_a_missing_token_is_one_line(pod_env: dict[str, str], tmp_path: Path) -> None:
    kube = adapter({**pod_env, "WBCTL_SERVICEACCOUNT_DIR": str(tmp_path / "nowhere")})
    with pytest.raises(
        BackendError, match=r"cannot load the in-cluster config from .*nowhere \(Service token file does not exist"
    ):
        kube.client()


def run(pod_env: dict[str, str], *args: str) -> Result:
    """wbctl in this process with a pod's variables: no kubeconfig, no KUBERNETES_* but the pod's."""
    env = {
        name: value for name, value in os.environ.items() if name != "KUBECONFIG" and not name.startswith("KUBERNETES_")
    }
    return InProcess({**env, **pod_env})(*args)


def test_wbctl_services_list_in_a_pod(fake: FakeKubeAPI, pod_env: dict[str, str]) -> None:
    result = run(pod_env, "services", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    names = {row["service"] for row in json.loads(result.stdout)["services"]}
    assert {"wandb-api", "wandb-flat-run-fields-updater"} <= names
    assert all(r.headers["authorization"].lower() == "bearer in-cluster-token" for r in fake.requests)


def test_wbctl_check_services_in_a_pod_and_a_wrong_token(fake: FakeKubeAPI, pod_env: dict[str, str]) -> None:
    result = run(pod_env, "check", "--only", "services", "--exit-zero", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert any(
        f["check"].startswith("services.") and f["status"] != "unknown" for f in json.loads(result.stdout)["findings"]
    )

    Path(pod_env["WBCTL_SERVICEACCOUNT_DIR"], "token").write_text("not-the-token")
    refused = run(pod_env, "services", "list")
    assert refused.returncode == 3
    (line,) = refused.stderr.strip().splitlines()
    assert line.startswith(
        "wbctl: error: unauthorized: list deployments.apps in namespace default on https://127.0.0.1:"
    )
