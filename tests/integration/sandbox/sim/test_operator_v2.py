"""The sandbox's v2 operator (wbctl/sandbox/sim/operator_v2.py) on a FakeKubeAPI serving the v2
operator's CRD: a plan applied by the real KubeAdapter over HTTP, then `reconcile` plays the
operator's Application controller and the HPA controller, read back through the adapter."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wbctl.adapters.kube import SCALING_KINDS, KubeAdapter
from wbctl.core.scaling import AutoscaleRequest
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects.operator_v2 import UPDATER, VERSIONS, operator_v2
from wbctl.sandbox.sim.operator_v2 import reconcile

NOW = datetime(2031, 7, 9, 8, 30, tzinfo=UTC)
NS, INSTANCE = "wandb-prod", "wandb"
BOUNDS = {UPDATER: {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}


@pytest.fixture
def api(kube_api: FakeKubeAPI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKubeAPI:
    monkeypatch.setenv("KUBECONFIG", str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")))
    kube_api.serve_versions("weightsandbiases", VERSIONS)
    kube_api.add_all(operator_v2(NS, INSTANCE, applications=BOUNDS, now=NOW))
    return kube_api


def _adapter() -> KubeAdapter:
    return KubeAdapter(
        kube_context=None, namespace=NS, instance=INSTANCE, timeout=5, kubeconfig=os.environ["KUBECONFIG"]
    )


def _apply(request: AutoscaleRequest) -> None:
    adapter = _adapter()
    adapter.apply(request.plan(adapter.observe(SCALING_KINDS), "test"))


def test_a_settled_namespace_needs_no_reconcile(api: FakeKubeAPI) -> None:
    assert reconcile(api, namespace=NS, instance=INSTANCE, now=NOW) == []


def test_new_bounds_become_the_apps_hpa(api: FakeKubeAPI) -> None:
    _apply(AutoscaleRequest(f"wandb-{UPDATER}", 5, 12))
    reconcile(api, namespace=NS, instance=INSTANCE, now=NOW + timedelta(minutes=1))
    spec = api.get("horizontalpodautoscalers", NS, UPDATER)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (5, 12)


def test_the_deployment_follows_the_new_minimum(api: FakeKubeAPI) -> None:
    _apply(AutoscaleRequest(f"wandb-{UPDATER}", 5, 12))
    reconcile(api, namespace=NS, instance=INSTANCE, now=NOW + timedelta(minutes=1))
    assert api.get("deployments", NS, UPDATER)["spec"]["replicas"] == 5


def test_the_hpa_controller_scales_within_the_bounds(api: FakeKubeAPI) -> None:
    reconcile(api, namespace=NS, instance=INSTANCE, now=NOW, desired_replicas={UPDATER: 40})
    hpa = api.get("horizontalpodautoscalers", NS, UPDATER)
    limited = next(c for c in hpa["status"]["conditions"] if c["type"] == "ScalingLimited")
    assert (api.get("deployments", NS, UPDATER)["spec"]["replicas"], limited["reason"]) == (10, "TooManyReplicas")


def test_a_v1_write_is_never_applied_and_loses_the_v2_bounds(api: FakeKubeAPI) -> None:
    from kubernetes import client, config

    configuration = client.Configuration()
    config.load_kube_config(config_file=os.environ["KUBECONFIG"], context="fake", client_configuration=configuration)
    with client.ApiClient(configuration) as shared:  # a v1 client writing the chart's values
        values = {UPDATER: {"autoscaling": {"horizontal": {"enabled": True, "minReplicas": 8, "maxReplicas": 20}}}}
        client.CustomObjectsApi(shared).patch_namespaced_custom_object(
            "apps.wandb.com", "v1", NS, "weightsandbiases", INSTANCE, {"spec": {"values": values}}
        )
    reconcile(api, namespace=NS, instance=INSTANCE, now=NOW + timedelta(minutes=1))
    spec = api.get("horizontalpodautoscalers", NS, UPDATER)["spec"]
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 2)  # sizing's (small), not the values' 8-20
