"""The Kubernetes adapter against the API fake, through the real client."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from wbctl.adapters import kube as kube_adapter
from wbctl.adapters.kube import ALL_KINDS, STATUS_KINDS, KubeAdapter
from wbctl.errors import BackendError
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043


@pytest.fixture
def api(kube_api: FakeKubeAPI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKubeAPI:
    monkeypatch.setenv("KUBECONFIG", str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")))
    return kube_api


def adapter() -> KubeAdapter:
    return KubeAdapter(
        kube_context=None, namespace="default", instance="wandb", timeout=5, kubeconfig=os.environ["KUBECONFIG"]
    )


def test_one_list_call_per_kind(api: FakeKubeAPI) -> None:
    api.add_all(chart_043())
    api.reset_requests()
    observation = adapter().observe(ALL_KINDS)
    for resource in ("deployments", "cronjobs", "horizontalpodautoscalers", "pods", "nodes", "scaledobjects"):
        assert api.count("list", resource) == 1, resource
    assert api.count("get", "weightsandbiases") == 1
    assert len(observation.workloads) == 17  # 15 Deployments of the instance, the backfill and lumen-agent CronJobs
    assert all(
        r.query.get("labelSelector") == "app.kubernetes.io/instance=wandb"
        for r in api.requests
        if r.verb == "list" and r.resource != "nodes"
    )
    assert observation.cr is not None and observation.cr.chart_version == "0.43.8"
    assert len(observation.node_zones) == 3


def test_pagination_follows_continue(api: FakeKubeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_adapter, "PAGE_SIZE", 20)
    api.add_all(chart_043())
    api.reset_requests()
    observation = adapter().observe(STATUS_KINDS)
    assert len(observation.pods) == 45
    assert api.count("list", "pods") == 3
    assert [r.query.get("continue") is not None for r in api.requests if r.resource == "pods"] == [False, True, True]


def test_forbidden_and_missing_cr(api: FakeKubeAPI) -> None:
    api.add_all([o for o in chart_043() if o["kind"] != "WeightsAndBiases"])
    observation = adapter().observe(STATUS_KINDS)
    assert observation.cr is None
    assert any("no WeightsAndBiases resource named wandb" in note for note in observation.notes)
    api.forbid("list", "pods")
    with pytest.raises(BackendError, match="forbidden: list pods in namespace default"):
        adapter().observe(STATUS_KINDS)


def test_a_secret_key_ref_is_named_and_never_resolved(api: FakeKubeAPI) -> None:
    api.add_all(chart_043())
    observation = adapter().observe(ALL_KINDS)
    updater = next(w for w in observation.workloads if w.name == "wandb-flat-run-fields-updater-bc")
    password = updater.containers[0].env_value("MYSQL_PASSWORD")
    assert password is not None
    assert (password.value, password.config_map, password.secret) == (None, None, ("wandb-mysql", "MYSQL_PASSWORD"))
    assert api.count("get", "secrets") == 0 and api.count("list", "secrets") == 0
