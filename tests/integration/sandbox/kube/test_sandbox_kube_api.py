"""FakeKubeAPI and the chart fixtures, driven only through the real `kubernetes` client.

These pin the API-server semantics the Kubernetes adapter's tests rely on (selectors,
pagination, resourceVersion conflicts, dry run, the scale subresource, Status bodies) and prove
that every fixture object survives the client's pydantic deserialisation. The client is never
mocked: it loads a generated kubeconfig into a fresh Configuration, as the adapter does.
"""

from __future__ import annotations

import gc
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import urllib3
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI

INSTANCE = "app.kubernetes.io/instance=wandb"
CR = ("apps.wandb.com", "v1", "default", "weightsandbiases")


@dataclass
class Kube:
    """Typed APIs of one ApiClient built from the fake's kubeconfig."""

    api_client: client.ApiClient
    core: client.CoreV1Api
    apps: client.AppsV1Api
    batch: client.BatchV1Api
    autoscaling: client.AutoscalingV2Api
    storage: client.StorageV1Api
    custom: client.CustomObjectsApi


def connect(kubeconfig: Path, context: str = "fake") -> Kube:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context=context, client_configuration=configuration)
    api_client = client.ApiClient(configuration)
    return Kube(
        api_client,
        client.CoreV1Api(api_client),
        client.AppsV1Api(api_client),
        client.BatchV1Api(api_client),
        client.AutoscalingV2Api(api_client),
        client.StorageV1Api(api_client),
        client.CustomObjectsApi(api_client),
    )


@pytest.fixture
def kube(kube_api: FakeKubeAPI, tmp_path: Path) -> Iterator[Kube]:
    clients = connect(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))
    yield clients
    clients.api_client.close()


def error_body(error: ApiException) -> dict[str, Any]:
    return json.loads(error.body)


def list_all(list_call: Any, *args: Any, limit: int, **kwargs: Any) -> tuple[list[Any], int]:
    """Follow continue tokens to the end: (items, pages)."""
    items: list[Any] = []
    token: str | None = None
    pages = 0
    while True:
        page = list_call(*args, limit=limit, _continue=token, _request_timeout=5, **kwargs)
        pages += 1
        items.extend(page.items)
        token = page.metadata._continue
        if not token:
            return items, pages


# --- discovery and deserialisation of every fixture -----------------------------------------


def test_version_and_discovery(kube_api: FakeKubeAPI, kube: Kube) -> None:
    assert client.VersionApi(kube.api_client).get_code().git_version.startswith("v1.31")
    assert client.CoreApi(kube.api_client).get_api_versions().versions == ["v1"]
    groups = {g.name for g in client.ApisApi(kube.api_client).get_api_versions().groups}
    assert {"apps", "batch", "autoscaling", "storage.k8s.io", "apps.wandb.com", "keda.sh"} <= groups
    names = {r.name for r in kube.apps.get_api_resources().resources}
    assert {"deployments", "deployments/scale"} <= names
    kube_api.without_resource("scaledobjects")
    groups = {g.name for g in client.ApisApi(kube.api_client).get_api_versions().groups}
    assert "keda.sh" not in groups


BUILDERS = {
    "chart-0.43.8": lambda: fx.chart_043(),
    "chart-0.43.8-keda": lambda: fx.chart_043(keda_frfu=True),
    "chart-0.22.3": lambda: fx.chart_0223(),
}


@pytest.mark.parametrize("builder", BUILDERS.values(), ids=BUILDERS.keys())
def test_label_selected_paginated_lists_of_each_kind_deserialise(
    kube_api: FakeKubeAPI, kube: Kube, builder: Any
) -> None:
    objs = builder()
    kube_api.add_all(objs)
    kube_api.add_all(fx.unrelated_pods(25))
    kube_api.add_all(fx.csi_drivers())

    def expected(kind: str) -> set[str]:
        return {
            o["metadata"]["name"]
            for o in fx.of_kind(objs, kind)
            if o["metadata"].get("labels", {}).get("app.kubernetes.io/instance") == "wandb"
        }

    cases = [
        ("Deployment", kube.apps.list_namespaced_deployment, client.V1Deployment),
        ("CronJob", kube.batch.list_namespaced_cron_job, client.V1CronJob),
        (
            "HorizontalPodAutoscaler",
            kube.autoscaling.list_namespaced_horizontal_pod_autoscaler,
            client.V2HorizontalPodAutoscaler,
        ),
        ("Pod", kube.core.list_namespaced_pod, client.V1Pod),
    ]
    for kind, call, model in cases:
        items, pages = list_all(call, "default", label_selector=INSTANCE, limit=4)
        assert all(isinstance(item, model) for item in items)
        assert {item.metadata.name for item in items} == expected(kind), kind
        assert pages == max(1, -(-len(items) // 4))  # ceil: the last page carries no token

    nodes, _ = list_all(kube.core.list_node, limit=2)
    assert [n.metadata.name for n in nodes] == ["gke-wandb-pool-1", "gke-wandb-pool-2", "gke-wandb-pool-3"]
    assert nodes[0].status.capacity["cpu"] == "8"
    events = kube.core.list_namespaced_event("default", field_selector="involvedObject.kind=HorizontalPodAutoscaler")
    assert {e.involved_object.name for e in events.items} == expected("HorizontalPodAutoscaler")
    assert {d.metadata.name for d in kube.storage.list_csi_driver().items} == {
        "pd.csi.storage.gke.io",
        "gcsfuse.csi.storage.gke.io",
    }
    assert kube.storage.read_csi_driver("gcsfuse.csi.storage.gke.io").spec.requires_republish is True

    cr = kube.custom.get_namespaced_custom_object(*CR, "wandb")
    assert cr["kind"] == "WeightsAndBiases" and cr["status"]["phase"] == "Completed"
    scaled = kube.custom.list_namespaced_custom_object(
        "keda.sh", "v1alpha1", "default", "scaledobjects", label_selector=INSTANCE
    )
    assert {s["metadata"]["name"] for s in scaled["items"]} == expected("ScaledObject")
    assert kube.core.list_pod_for_all_namespaces(label_selector="app.kubernetes.io/instance=other").items


def test_built_in_list_items_carry_no_kind_but_custom_ones_do(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    deployment = kube.apps.list_namespaced_deployment("default", limit=1).items[0]
    assert deployment.kind is None and deployment.api_version is None  # as a real API server sends them
    assert kube.apps.read_namespaced_deployment(deployment.metadata.name, "default").kind == "Deployment"
    crs = kube.custom.list_namespaced_custom_object(*CR)
    assert crs["kind"] == "WeightsAndBiasesList" and crs["items"][0]["kind"] == "WeightsAndBiases"


# --- the fixtures say what the chart renders ------------------------------------------------


def test_chart_043_fixture_has_the_real_names_and_labels() -> None:
    objs = fx.chart_043()
    deployments = {d["metadata"]["name"]: d for d in fx.of_kind(objs, "Deployment")}
    assert {
        "wandb-app-bc",
        "wandb-api",
        "wandb-filestream-bc",
        "wandb-flat-run-fields-updater-bc",
        "wandb-filemeta",
        "wandb-metric-observer",
        "wandb-frontend",
    } <= deployments.keys()
    assert deployments["wandb-prometheus-server"]["metadata"]["labels"]["app.kubernetes.io/name"] == "prometheus"
    assert deployments["wandb-api"]["metadata"]["labels"]["helm.sh/chart"] == "operator-wandb-0.43.8"
    assert all(d["spec"]["replicas"] == 3 and d["status"]["readyReplicas"] == 3 for d in deployments.values())
    assert (
        fx.find(objs, "CronJob", "wandb-parquet-backfill")["metadata"]["labels"]["app.kubernetes.io/name"] == "parquet"
    )
    autoscaler = fx.find(objs, "HorizontalPodAutoscaler", "wandb-filestream")
    assert autoscaler["spec"]["scaleTargetRef"]["name"] == "wandb-filestream-bc"
    assert autoscaler["status"]["currentReplicas"] == 3 and autoscaler["status"]["lastScaleTime"]
    cr = fx.find(objs, "WeightsAndBiases", "wandb")
    values = cr["spec"]["values"]
    assert cr["spec"]["chart"] == {"url": "https://charts.wandb.ai", "name": "operator-wandb", "version": "0.43.8"}
    assert values["api"]["install"] is True and values["filestream"]["autoscaling"]["horizontal"]["enabled"] is True
    assert values["global"]["bucket"]["secretKey"] == "testpassword"  # the chart's test value, kept as is
    assert "chartsnap" not in json.dumps(objs)

    pods = fx.of_kind(objs, "Pod")
    for name, deployment in deployments.items():
        mine = [
            p
            for p in pods
            if p["metadata"]["name"].startswith(name + "-")
            and p["metadata"]["labels"].get("app.kubernetes.io/name")
            == deployment["metadata"]["labels"].get("app.kubernetes.io/name")
        ]
        assert len(mine) == 3 and len({p["spec"]["nodeName"] for p in mine}) == 3, name
        assert all("pod-template-hash" in p["metadata"]["labels"] for p in mine)


def test_chart_043_keda_and_overrides() -> None:
    objs = fx.chart_043(
        keda_frfu=True, replicas={"app": 1}, pods_per_service=2, nodes=4, instance="prod", namespace="wandb"
    )
    assert fx.find(objs, "Deployment", "prod-app-bc")["spec"]["replicas"] == 1
    assert fx.find(objs, "Deployment", "prod-api")["spec"]["replicas"] == 2
    assert len(fx.of_kind(objs, "Node")) == 4
    scaled = fx.find(objs, "ScaledObject", "prod-flat-run-fields-updater")
    assert scaled["metadata"]["namespace"] == "wandb"
    keda_hpa = fx.find(objs, "HorizontalPodAutoscaler", "keda-hpa-prod-flat-run-fields-updater")
    assert keda_hpa["metadata"]["labels"]["app.kubernetes.io/instance"] == "prod"
    assert keda_hpa["metadata"]["ownerReferences"][0]["kind"] == "ScaledObject"
    assert not [
        h
        for h in fx.of_kind(objs, "HorizontalPodAutoscaler")
        if h["metadata"]["name"] == "prod-flat-run-fields-updater"
    ]
    values = fx.find(objs, "WeightsAndBiases", "prod")["spec"]["values"]
    assert values["flat-run-fields-updater"]["sizing"]["large"]["autoscaling"]["keda"]["enabled"] is True


def test_chart_0223_fixture_is_the_old_generation() -> None:
    objs = fx.chart_0223()
    names = {d["metadata"]["name"] for d in fx.of_kind(objs, "Deployment")}
    assert names == {
        "wandb-app",
        "wandb-console",
        "wandb-weave",
        "wandb-executor",
        "wandb-parquet",
        "wandb-filestream",
        "wandb-flat-run-fields-updater",
        "wandb-stackdriver",
        "wandb-prometheus-server",
        "wandb-glue",
    }
    assert not [n for n in names if n.endswith("-bc")]
    assert (
        fx.find(objs, "HorizontalPodAutoscaler", "wandb-filestream")["spec"]["scaleTargetRef"]["name"]
        == "wandb-filestream"
    )
    cr = fx.find(objs, "WeightsAndBiases", "wandb")
    assert cr["spec"]["chart"]["version"] == "0.22.3"
    assert cr["spec"]["values"]["app"]["image"]["tag"] == "0.64.1"
    assert cr["spec"]["values"]["executor"]["autoscaling"] == {
        "enabled": False,
        "minReplicas": 1,
        "maxReplicas": 10,
        "targetCPU": 80,
    }
    assert cr["spec"]["values"]["filestream"]["autoscaling"]["enabled"] is True
    app = fx.find(objs, "Deployment", "wandb-app")
    assert app["spec"]["template"]["spec"]["containers"][0]["image"].endswith("/wandb/local:0.64.1")


# --- selectors and pagination -----------------------------------------------------------------


def _pod(name: str, labels: dict[str, str], node: str = "n1") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "labels": labels},
        "spec": {"nodeName": node, "containers": [{"name": "c", "image": "busybox"}]},
        "status": {"phase": "Running"},
    }


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        ("tier=web", {"a", "b"}),
        ("tier==web,env=prod", {"a"}),
        ("tier!=web", {"c", "d"}),  # an absent key satisfies !=
        ("env in (prod, staging)", {"a", "b", "c"}),
        ("env notin (prod)", {"b", "d"}),
        ("env", {"a", "b", "c"}),
        ("!env", {"d"}),
        ("tier=web,env in (staging)", {"b"}),
        ("", {"a", "b", "c", "d"}),
    ],
)
def test_label_selectors(kube_api: FakeKubeAPI, kube: Kube, selector: str, expected: set[str]) -> None:
    kube_api.add_all(
        [
            _pod("a", {"tier": "web", "env": "prod"}),
            _pod("b", {"tier": "web", "env": "staging"}),
            _pod("c", {"tier": "db", "env": "prod"}),
            _pod("d", {}),
        ]
    )
    pods = kube.core.list_namespaced_pod("default", label_selector=selector)
    assert {p.metadata.name for p in pods.items} == expected


def test_bad_label_selector_is_400(kube_api: FakeKubeAPI, kube: Kube) -> None:
    with pytest.raises(ApiException) as caught:
        kube.core.list_namespaced_pod("default", label_selector="env in (prod")
    assert caught.value.status == 400 and error_body(caught.value)["reason"] == "BadRequest"


def test_field_selectors(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all([_pod("a", {}, node="n1"), _pod("b", {}, node="n2")])
    kube_api.add_all(fx.gke_nodes(3))
    assert [
        p.metadata.name for p in kube.core.list_namespaced_pod("default", field_selector="spec.nodeName=n2").items
    ] == ["b"]
    nodes = kube.core.list_node(field_selector="metadata.name=gke-wandb-pool-2")
    assert [n.metadata.name for n in nodes.items] == ["gke-wandb-pool-2"]
    assert len(kube.core.list_node(field_selector="metadata.name!=gke-wandb-pool-2").items) == 2
    with pytest.raises(ApiException) as caught:
        kube.apps.list_namespaced_deployment("default", field_selector="spec.replicas=3")
    assert caught.value.status == 400 and "field label not supported" in error_body(caught.value)["message"]


def test_pagination_tokens(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(_pod(f"p{i:02}", {"app": "x"}) for i in range(5))
    first = kube.core.list_namespaced_pod("default", limit=2)
    assert [p.metadata.name for p in first.items] == ["p00", "p01"]
    assert first.metadata._continue and first.metadata.remaining_item_count == 3
    kube_api.add(_pod("p99", {"app": "x"}))  # a write between pages does not change the list's version
    second = kube.core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert [p.metadata.name for p in second.items] == ["p02", "p03"]
    assert second.metadata.resource_version == first.metadata.resource_version
    selected = kube.core.list_namespaced_pod("default", limit=2, label_selector="app=x")
    assert selected.metadata.remaining_item_count is None  # not counted when filtering, as upstream
    with pytest.raises(ApiException) as caught:
        kube.core.list_namespaced_pod("default", limit=2, _continue="not-a-token")
    assert caught.value.status == 400
    kube_api.expire_continue_tokens()
    with pytest.raises(ApiException) as caught:
        kube.core.list_namespaced_pod("default", limit=2, _continue=first.metadata._continue)
    assert caught.value.status == 410 and error_body(caught.value)["reason"] == "Expired"


# --- Status bodies --------------------------------------------------------------------------


def test_forbidden_is_403_with_a_status_body(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    kube_api.forbid("list", "horizontalpodautoscalers", "default")
    kube_api.forbid("list", "nodes")
    with pytest.raises(ApiException) as caught:
        kube.autoscaling.list_namespaced_horizontal_pod_autoscaler("default", label_selector=INSTANCE)
    assert caught.value.status == 403
    assert error_body(caught.value) == {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": 'horizontalpodautoscalers.autoscaling is forbidden: User "test" cannot list resource '
        '"horizontalpodautoscalers" in API group "autoscaling" in the namespace "default"',
        "reason": "Forbidden",
        "details": {"group": "autoscaling", "kind": "horizontalpodautoscalers"},
        "code": 403,
    }
    with pytest.raises(ApiException) as caught:
        kube.core.list_node()
    assert error_body(caught.value)["message"].endswith(
        'cannot list resource "nodes" in API group "" at the cluster scope'
    )
    assert kube.apps.list_namespaced_deployment("default", label_selector=INSTANCE).items  # others still allowed
    assert kube.autoscaling.read_namespaced_horizontal_pod_autoscaler("wandb-filestream", "default")  # get != list

    kube_api.forbid("patch", "deployments/scale", "default")
    with pytest.raises(ApiException) as caught:
        kube.apps.patch_namespaced_deployment_scale("wandb-api", "default", {"spec": {"replicas": 5}})
    assert error_body(caught.value)["message"] == (
        'deployments.apps "wandb-api" is forbidden: User "test" cannot patch resource "deployments/scale" '
        'in API group "apps" in the namespace "default"'
    )
    assert kube_api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3


def test_unauthorized_is_401(kube_api: FakeKubeAPI, kube: Kube, tmp_path: Path) -> None:
    assert kube.core.list_node().items == []
    kube_api.unauthorized()
    with pytest.raises(ApiException) as caught:
        kube.core.list_node()
    assert caught.value.status == 401 and error_body(caught.value)["reason"] == "Unauthorized"
    kube_api.unauthorized(False)
    assert kube.core.list_node().items == []
    wrong = kube_api.write_kubeconfig(tmp_path / "wrong-token")
    wrong.write_text(wrong.read_text().replace(f"token: {kube_api.token}", "token: revoked"))
    with pytest.raises(ApiException) as caught:
        connect(wrong).core.list_node()
    assert caught.value.status == 401


def test_not_found_is_404_with_a_status_body(kube_api: FakeKubeAPI, kube: Kube) -> None:
    with pytest.raises(ApiException) as caught:
        kube.custom.get_namespaced_custom_object(*CR, "wandb")
    assert caught.value.status == 404
    body = error_body(caught.value)
    assert body["reason"] == "NotFound" and body["message"] == 'weightsandbiases.apps.wandb.com "wandb" not found'
    assert body["details"] == {"name": "wandb", "group": "apps.wandb.com", "kind": "weightsandbiases"}
    with pytest.raises(ApiException) as caught:
        kube.apps.read_namespaced_deployment_scale("wandb-api", "default")
    assert error_body(caught.value)["message"] == 'deployments.apps "wandb-api" not found'


def test_keda_absent_is_404_for_the_kind(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043(keda_frfu=True))
    assert kube.custom.list_namespaced_custom_object("keda.sh", "v1alpha1", "default", "scaledobjects")["items"]
    kube_api.without_resource("scaledobjects")
    with pytest.raises(ApiException) as caught:
        kube.custom.list_namespaced_custom_object("keda.sh", "v1alpha1", "default", "scaledobjects")
    assert caught.value.status == 404
    assert error_body(caught.value)["message"] == "the server could not find the requested resource"


# --- writes: conflicts, dry run, patch formats ------------------------------------------------


def test_merge_patch_of_the_cr_guarded_by_resource_version(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    read = kube.custom.get_namespaced_custom_object(*CR, "wandb")
    version = read["metadata"]["resourceVersion"]
    kube_api.merge("weightsandbiases", "default", "wandb", {"status": {"phase": "Loading"}})  # the operator writes
    before = kube_api.get("weightsandbiases", "default", "wandb")
    patch = {"metadata": {"resourceVersion": version}, "spec": {"values": {"api": {"replicaCount": 5}}}}
    with pytest.raises(ApiException) as caught:
        kube.custom.patch_namespaced_custom_object(*CR, "wandb", patch)
    assert caught.value.status == 409
    body = error_body(caught.value)
    assert body["reason"] == "Conflict" and body["message"].startswith(
        'Operation cannot be fulfilled on weightsandbiases.apps.wandb.com "wandb": the object has been modified'
    )
    assert kube_api.get("weightsandbiases", "default", "wandb") == before

    patch["metadata"]["resourceVersion"] = before["metadata"]["resourceVersion"]
    patched = kube.custom.patch_namespaced_custom_object(*CR, "wandb", patch)
    assert patched["spec"]["values"]["api"] == {"install": True, "replicaCount": 5}
    assert patched["spec"]["values"]["filestream"]["install"] is True  # a merge, not a replace
    assert int(patched["metadata"]["resourceVersion"]) > int(before["metadata"]["resourceVersion"])
    assert patched["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert kube_api.requests[-1].content_type == "application/merge-patch+json"


def test_patch_with_null_removes_and_no_op_keeps_the_version(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    removed = kube.custom.patch_namespaced_custom_object(
        *CR, "wandb", {"spec": {"values": {"global": {"redis": None}}}}
    )
    assert "redis" not in removed["spec"]["values"]["global"]
    again = kube.custom.patch_namespaced_custom_object(*CR, "wandb", {"spec": {"values": {"global": {"redis": None}}}})
    assert again["metadata"]["resourceVersion"] == removed["metadata"]["resourceVersion"]


def test_status_belongs_to_the_status_subresource(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    kube.custom.patch_namespaced_custom_object(*CR, "wandb", {"status": {"phase": "Invalid Config"}})
    assert kube_api.get("weightsandbiases", "default", "wandb")["status"]["phase"] == "Completed"


def test_dry_run_changes_nothing(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    before_cr = kube_api.get("weightsandbiases", "default", "wandb")
    before_version = kube_api.resource_version
    result = kube.custom.patch_namespaced_custom_object(
        *CR, "wandb", {"spec": {"values": {"filestream": {"replicaCount": 7}}}}, dry_run="All"
    )
    assert result["spec"]["values"]["filestream"]["replicaCount"] == 7
    assert result["metadata"]["resourceVersion"] == before_cr["metadata"]["resourceVersion"]
    scale = kube.apps.patch_namespaced_deployment_scale(
        "wandb-api", "default", {"spec": {"replicas": 9}}, dry_run="All"
    )
    assert scale.spec.replicas == 9
    created = kube.autoscaling.create_namespaced_horizontal_pod_autoscaler(
        "default", _hpa_body("wandb-api"), dry_run="All"
    )
    assert created.metadata.name == "wandb-api"
    assert kube_api.get("weightsandbiases", "default", "wandb") == before_cr
    assert kube_api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3
    assert kube_api.get("horizontalpodautoscalers", "default", "wandb-api") is None
    assert kube_api.resource_version == before_version
    assert kube_api.requests[-1].query == {"dryRun": "All"}
    with pytest.raises(ApiException) as caught:
        kube.apps.patch_namespaced_deployment_scale("wandb-api", "default", {"spec": {"replicas": 9}}, dry_run="Some")
    assert caught.value.status == 400


def test_scale_subresource(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    scale = kube.apps.read_namespaced_deployment_scale("wandb-flat-run-fields-updater-bc", "default")
    assert isinstance(scale, client.V1Scale) and scale.spec.replicas == 3 and scale.status.replicas == 3
    assert scale.status.selector == "app.kubernetes.io/instance=wandb,app.kubernetes.io/name=flat-run-fields-updater"
    generation = kube_api.get("deployments", "default", "wandb-flat-run-fields-updater-bc")["metadata"]["generation"]
    patched = kube.apps.patch_namespaced_deployment_scale(
        "wandb-flat-run-fields-updater-bc", "default", {"spec": {"replicas": 6}}, _request_timeout=5
    )
    assert patched.spec.replicas == 6
    assert kube_api.requests[-1].content_type == "application/strategic-merge-patch+json"
    deployment = kube_api.get("deployments", "default", "wandb-flat-run-fields-updater-bc")
    assert deployment["spec"]["replicas"] == 6 and deployment["metadata"]["generation"] == generation + 1
    assert deployment["metadata"]["resourceVersion"] == patched.metadata.resource_version
    assert deployment["status"]["replicas"] == 3  # no controller here: status is the test's to change

    stale = {"metadata": {"resourceVersion": scale.metadata.resource_version}, "spec": {"replicas": 2}}
    with pytest.raises(ApiException) as caught:
        kube.apps.patch_namespaced_deployment_scale("wandb-flat-run-fields-updater-bc", "default", stale)
    assert caught.value.status == 409
    with pytest.raises(ApiException) as caught:
        kube.apps.patch_namespaced_deployment_scale(
            "wandb-flat-run-fields-updater-bc", "default", {"spec": {"replicas": -1}}
        )
    assert caught.value.status == 422 and error_body(caught.value)["details"]["causes"][0]["field"] == "spec.replicas"
    replaced = kube.apps.replace_namespaced_deployment_scale(
        "wandb-flat-run-fields-updater-bc",
        "default",
        client.V1Scale(
            metadata=client.V1ObjectMeta(name="wandb-flat-run-fields-updater-bc"), spec=client.V1ScaleSpec(replicas=4)
        ),
    )
    assert replaced.spec.replicas == 4


def _hpa_body(target: str, minimum: int = 3, maximum: int = 10) -> client.V2HorizontalPodAutoscaler:
    return client.V2HorizontalPodAutoscaler(
        api_version="autoscaling/v2",
        kind="HorizontalPodAutoscaler",
        metadata=client.V1ObjectMeta(name=target, labels={"app.kubernetes.io/instance": "wandb"}),
        spec=client.V2HorizontalPodAutoscalerSpec(
            scale_target_ref=client.V2CrossVersionObjectReference(
                api_version="apps/v1", kind="Deployment", name=target
            ),
            min_replicas=minimum,
            max_replicas=maximum,
            metrics=[
                client.V2MetricSpec(
                    type="Resource",
                    resource=client.V2ResourceMetricSource(
                        name="cpu", target=client.V2MetricTarget(type="Utilization", average_utilization=70)
                    ),
                )
            ],
        ),
    )


def test_hpa_create_then_patch(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    created = kube.autoscaling.create_namespaced_horizontal_pod_autoscaler("default", _hpa_body("wandb-api"))
    assert created.metadata.uid and created.metadata.resource_version and created.status.desired_replicas == 0
    # The client sends create (and replace) bodies as JSON without a Content-Type header; the API
    # server then assumes JSON, and so does the kube_api.
    assert kube_api.requests[-1].method == "POST" and kube_api.requests[-1].content_type is None
    with pytest.raises(ApiException) as caught:
        kube.autoscaling.create_namespaced_horizontal_pod_autoscaler("default", _hpa_body("wandb-api"))
    assert caught.value.status == 409 and error_body(caught.value)["reason"] == "AlreadyExists"

    patched = kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
        "wandb-api", "default", {"spec": {"minReplicas": 4, "maxReplicas": 12}}
    )
    assert (patched.spec.min_replicas, patched.spec.max_replicas) == (4, 12)
    assert kube_api.requests[-1].content_type == "application/strategic-merge-patch+json"
    patched = kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
        "wandb-api",
        "default",
        [
            {"op": "test", "path": "/spec/minReplicas", "value": 4},
            {"op": "replace", "path": "/spec/maxReplicas", "value": 15},
        ],
    )
    assert patched.spec.max_replicas == 15
    assert kube_api.requests[-1].content_type == "application/json-patch+json"

    with pytest.raises(ApiException) as caught:
        kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            "wandb-api", "default", {"spec": {"minReplicas": 20}}
        )
    assert caught.value.status == 422
    assert error_body(caught.value)["message"] == (
        'HorizontalPodAutoscaler.autoscaling "wandb-api" is invalid: spec.maxReplicas: Invalid value: 15: '
        "must be greater than or equal to `minReplicas`"
    )
    with pytest.raises(ApiException) as caught:
        kube.autoscaling.patch_namespaced_horizontal_pod_autoscaler(
            "wandb-api", "default", [{"op": "test", "path": "/spec/minReplicas", "value": 1}]
        )
    assert caught.value.status == 422
    assert kube_api.get("horizontalpodautoscalers", "default", "wandb-api")["spec"]["maxReplicas"] == 15


def test_strategic_merge_merges_containers_by_name(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    before = kube_api.get("deployments", "default", "wandb-weave-bc")["spec"]["template"]["spec"]
    assert len(before["containers"]) == 2
    patch = {"spec": {"template": {"spec": {"containers": [{"name": "weave", "image": "weave:new"}]}}}}
    kube.apps.patch_namespaced_deployment("wandb-weave-bc", "default", patch)
    after = kube_api.get("deployments", "default", "wandb-weave-bc")["spec"]["template"]["spec"]["containers"]
    assert [c["name"] for c in after] == [c["name"] for c in before["containers"]]
    assert after[0]["image"] == "weave:new" and after[0]["env"] == before["containers"][0]["env"]
    kube.apps.patch_namespaced_deployment(
        "wandb-weave-bc", "default", patch, _content_type="application/merge-patch+json"
    )
    after = kube_api.get("deployments", "default", "wandb-weave-bc")["spec"]["template"]["spec"]["containers"]
    assert after == [{"name": "weave", "image": "weave:new"}]  # a merge patch replaces lists whole


def test_strategic_merge_patch_of_a_custom_resource_is_415(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    with pytest.raises(ApiException) as caught:
        kube.custom.patch_namespaced_custom_object(
            *CR, "wandb", {"spec": {}}, _content_type="application/strategic-merge-patch+json"
        )
    assert caught.value.status == 415 and error_body(caught.value)["reason"] == "UnsupportedMediaType"
    patched = kube.custom.patch_namespaced_custom_object(
        *CR,
        "wandb",
        [{"op": "add", "path": "/spec/values/api/replicaCount", "value": 3}],
        _content_type="application/json-patch+json",
    )
    assert patched["spec"]["values"]["api"]["replicaCount"] == 3


def test_conflict_next_lets_another_writer_win_the_race(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    kube_api.conflict_next("patch", "weightsandbiases", change={"status": {"phase": "Loading"}})
    read = kube.custom.get_namespaced_custom_object(*CR, "wandb")
    guarded = {
        "metadata": {"resourceVersion": read["metadata"]["resourceVersion"]},
        "spec": {"values": {"api": {"replicaCount": 4}}},
    }
    kube.custom.patch_namespaced_custom_object(*CR, "wandb", guarded, dry_run="All")  # dry runs do not trigger it
    with pytest.raises(ApiException) as caught:
        kube.custom.patch_namespaced_custom_object(*CR, "wandb", guarded)
    assert caught.value.status == 409
    current = kube_api.get("weightsandbiases", "default", "wandb")
    assert current["status"]["phase"] == "Loading" and "replicaCount" not in current["spec"]["values"]["api"]
    guarded["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]  # re-read, retry
    assert (
        kube.custom.patch_namespaced_custom_object(*CR, "wandb", guarded)["spec"]["values"]["api"]["replicaCount"] == 4
    )


def test_put_with_a_stale_version_is_409(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    deployment = kube.apps.read_namespaced_deployment("wandb-api", "default")
    kube_api.merge("deployments", "default", "wandb-api", {"metadata": {"annotations": {"touched": "yes"}}})
    deployment.spec.replicas = 5
    with pytest.raises(ApiException) as caught:
        kube.apps.replace_namespaced_deployment("wandb-api", "default", deployment)
    assert caught.value.status == 409
    assert kube_api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3


# --- performance, counting, timeouts, kubeconfig ------------------------------------------------


@pytest.mark.slow
def test_unrelated_pods_are_filtered_server_side(tmp_path: Path) -> None:
    """Two servers, one also holding 2,000 unrelated pods, timed in interleaved rounds so load
    on a shared machine hits both alike."""
    with FakeKubeAPI() as alone, FakeKubeAPI() as crowded:
        alone.add_all(fx.chart_043())
        crowded.add_all(fx.chart_043())
        crowded.add_all(fx.unrelated_pods(2000))
        assert len(crowded.objects("pods", "default")) == 48 + 2000  # the reloader's 3 pods lack the label
        clients = {
            "alone": connect(alone.write_kubeconfig(tmp_path / "alone")),
            "crowded": connect(crowded.write_kubeconfig(tmp_path / "crowded")),
        }
        times: dict[str, list[float]] = {"alone": [], "crowded": []}
        gc.collect()
        gc.disable()  # both servers share this process: its collector pauses are not the server's cost
        try:
            for _ in range(7):
                for name, kube in clients.items():
                    start = time.perf_counter()
                    kube.core.list_namespaced_pod("default", label_selector=INSTANCE, limit=500)
                    times[name].append(time.perf_counter() - start)
        finally:
            gc.enable()
        raw = {
            name: kube.core.list_namespaced_pod(
                "default", label_selector=INSTANCE, limit=500, _preload_content=False
            ).data
            for name, kube in clients.items()
        }
    assert len(json.loads(raw["crowded"])["items"]) == len(json.loads(raw["alone"])["items"]) == 45
    assert abs(len(raw["crowded"]) - len(raw["alone"])) < 100  # only the resourceVersion differs
    # best of several: the figure is the code's, not a busy machine's (the suite runs on parallel
    # workers; the medians are in the message)
    alone_s, crowded_s = min(times["alone"]), min(times["crowded"])
    medians = statistics.median(times["alone"]), statistics.median(times["crowded"])
    assert crowded_s < alone_s * 1.5 + 0.02, (alone_s, crowded_s, medians)


def test_filtering_2000_pods_costs_the_server_little() -> None:
    """The server-side share alone, without HTTP or the client: selecting 45 of 2,048 pods."""
    alone, crowded = FakeKubeAPI(), FakeKubeAPI()
    alone.add_all(fx.chart_043())
    crowded.add_all([*fx.chart_043(), *fx.unrelated_pods(2000)])
    path = "/api/v1/namespaces/default/pods?labelSelector=app.kubernetes.io%2Finstance%3Dwandb&limit=500"
    headers = {"authorization": f"Bearer {alone.token}"}
    times: dict[str, list[float]] = {"alone": [], "crowded": []}
    for _ in range(9):
        for name, api in (("alone", alone), ("crowded", crowded)):
            start = time.perf_counter()
            status, body = api.handle("GET", path, headers, b"")
            times[name].append(time.perf_counter() - start)
            assert status == 200 and len(json.loads(body)["items"]) == 45
    # best of several, as above: another worker's load is not the server's cost
    medians = statistics.median(times["alone"]), statistics.median(times["crowded"])
    assert min(times["crowded"]) < min(times["alone"]) + 0.02, medians


def test_request_counting(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.add_all(fx.chart_043())
    kube_api.reset_requests()
    kube.apps.list_namespaced_deployment("default", label_selector=INSTANCE, limit=500)
    list_all(kube.core.list_namespaced_pod, "default", label_selector=INSTANCE, limit=20)
    kube.custom.get_namespaced_custom_object(*CR, "wandb")
    assert len(kube_api.requests) == 5
    assert kube_api.count("list", "pods") == 3 and kube_api.count("list", "deployments") == 1
    assert kube_api.count("get", "weightsandbiases") == 1 and kube_api.count(method="PATCH") == 0
    first = kube_api.requests[0]
    assert first.path == "/apis/apps/v1/namespaces/default/deployments"
    assert first.query == {"labelSelector": INSTANCE, "limit": "500"}
    kube_api.reset_requests()
    assert kube_api.requests == []


def settled_count(kube_api: FakeKubeAPI, verb: str, resource: str) -> int:
    """The request count once the server has stopped receiving: a client that timed out may
    have sent its last request before the server thread logged it."""
    previous, stable_since = -1, time.monotonic()
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline:
        current = kube_api.count(verb, resource)
        if current != previous:
            previous, stable_since = current, time.monotonic()
        elif time.monotonic() - stable_since > 0.3:
            break
        time.sleep(0.02)
    return previous


def test_delay_makes_a_timeout_and_the_client_retries_reads(kube_api: FakeKubeAPI, kube: Kube) -> None:
    kube_api.delay(0.5)
    start = time.perf_counter()
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        kube.core.list_node(_request_timeout=0.1)
    elapsed = time.perf_counter() - start
    # urllib3's default Retry(3) re-sends a GET after a read timeout: 4 requests for one call.
    assert settled_count(kube_api, "list", "nodes") == 4 and elapsed < 3
    kube.api_client.configuration.retries = 0  # a fresh client with retries off sends one
    no_retry = client.ApiClient(kube.api_client.configuration)
    kube_api.reset_requests()
    with pytest.raises(urllib3.exceptions.MaxRetryError):
        client.CoreV1Api(no_retry).list_node(_request_timeout=0.1)
    assert settled_count(kube_api, "list", "nodes") == 1
    no_retry.close()
    kube_api.delay(0)
    assert kube.core.list_node(_request_timeout=2).items == []


def test_kubeconfig_holds_several_contexts(tmp_path: Path) -> None:
    path = tmp_path / "kubeconfig"
    with FakeKubeAPI() as prod, FakeKubeAPI() as staging:
        prod.add_all(fx.gke_nodes(3))
        staging.add_all(fx.gke_nodes(1))
        prod.write_kubeconfig(path, context="prod", namespace="wandb")
        staging.write_kubeconfig(path, context="staging", make_current=False)
        contexts, current = config.list_kube_config_contexts(config_file=str(path))
        assert current["name"] == "prod" and current["context"]["namespace"] == "wandb"
        assert {c["name"] for c in contexts} == {"prod", "staging"}
        assert len(connect(path, "prod").core.list_node().items) == 3
        assert len(connect(path, "staging").core.list_node().items) == 1


def test_add_refuses_numeric_quantities(kube_api: FakeKubeAPI) -> None:
    pod = _pod("bad", {})
    pod["spec"]["containers"][0]["resources"] = {"limits": {"cpu": 4}}
    with pytest.raises(ValueError, match="quantity string"):
        kube_api.add(pod)
