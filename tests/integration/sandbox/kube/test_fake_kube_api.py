"""FakeKubeAPI's ConfigMaps, concurrent delays and connection counting, driven only through the
real `kubernetes` client loaded from the fake's kubeconfig (as the adapter loads it); its
Tables (what kubectl's `get` asks for), and TLS with the Python client and wbctl's adapter
(the real kubectl against it: test_kubectl_against_fake.py)."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from wbctl.adapters.kube import ALL_KINDS, KubeAdapter
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.columns import human_duration


def api_client(kubeconfig: Path) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context="fake", client_configuration=configuration)
    return client.ApiClient(configuration)


@pytest.fixture
def kubeconfig(kube_api: FakeKubeAPI, tmp_path: Path) -> Path:
    return kube_api.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    shared = api_client(kubeconfig)
    yield client.CoreV1Api(shared)
    shared.close()


def _config_map(name: str, data: dict[str, str]) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)


# --- ConfigMaps ---------------------------------------------------------------------------------


def test_config_maps_create_get_list_patch_delete(kube_api: FakeKubeAPI, core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map(
        "default",
        _config_map(
            "wandb-kafka-configmap",
            {"KAFKA_BROKER_HOST": "bufstream.bufstream.svc.cluster.local", "KAFKA_BROKER_PORT": "9092"},
        ),
    )
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.generation is None
    read = core.read_namespaced_config_map("wandb-kafka-configmap", "default")
    assert isinstance(read, client.V1ConfigMap) and read.kind == "ConfigMap"
    assert read.data["KAFKA_BROKER_PORT"] == "9092"
    core.create_namespaced_config_map("default", _config_map("other", {"a": "b"}))
    assert [m.metadata.name for m in core.list_namespaced_config_map("default").items] == [
        "other",
        "wandb-kafka-configmap",
    ]
    patched = core.patch_namespaced_config_map("wandb-kafka-configmap", "default", {"data": {"KAFKA_CLIENT_USER": "u"}})
    assert patched.data == {
        "KAFKA_BROKER_HOST": "bufstream.bufstream.svc.cluster.local",
        "KAFKA_BROKER_PORT": "9092",
        "KAFKA_CLIENT_USER": "u",
    }
    assert kube_api.get("configmaps", "default", "wandb-kafka-configmap")["data"]["KAFKA_CLIENT_USER"] == "u"
    core.delete_namespaced_config_map("other", "default")
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("other", "default")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == 'configmaps "other" not found'
    names = {r.name for r in client.CoreV1Api(core.api_client).get_api_resources().resources}
    assert "configmaps" in names


def test_config_map_data_must_hold_strings(kube_api: FakeKubeAPI, core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", _config_map("ports", {"PORT": "9092"}))
    with pytest.raises(ApiException) as caught:  # a patch body is the one the client does not type-check
        core.patch_namespaced_config_map("ports", "default", {"data": {"PORT": 9092}})
    assert caught.value.status == 400 and "ConfigMap.data" in json.loads(caught.value.body)["message"]
    assert kube_api.get("configmaps", "default", "ports")["data"] == {"PORT": "9092"}
    with pytest.raises(ValueError, match="data values must be strings"):
        kube_api.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"PORT": 9092}})


# --- delay and connections ----------------------------------------------------------------------


def test_delay_overlaps_concurrent_requests(kube_api: FakeKubeAPI, core: client.CoreV1Api) -> None:
    kube_api.add_all(fx.gke_nodes(3))
    kube_api.delay(0.3)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: core.list_node(_request_timeout=5), range(4)))
    elapsed = time.monotonic() - started
    assert all(len(a.items) == 3 for a in answers)
    assert 0.3 <= elapsed < 0.9, elapsed  # one after another they would take 1.2 s


def test_connections_count_what_the_client_opens(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    kube_api.add_all(fx.chart_043())
    kube_api.reset_requests()
    first = api_client(kubeconfig)
    apps, core = client.AppsV1Api(first), client.CoreV1Api(first)
    for _ in range(2):  # two rounds of a watch loop on one client
        apps.list_namespaced_deployment("default", _request_timeout=5)
        core.list_namespaced_pod("default", _request_timeout=5)
    assert kube_api.count() == 4 and kube_api.connections() == 1  # keep-alive: one connection for all four
    second = api_client(kubeconfig)
    client.CoreV1Api(second).list_node(_request_timeout=5)
    assert kube_api.connections() == 2
    kube_api.reset_requests()
    assert kube_api.connections() == 0
    core.list_node(_request_timeout=5)  # the first client's connection is still open: nothing new
    assert kube_api.connections() == 0
    first.close()
    second.close()


# --- reads as Tables (what kubectl asks for) ---------------------------------------------------

TABLE_ACCEPT = (
    "application/json;as=Table;v=v1;g=meta.k8s.io,application/json;as=Table;v=v1beta1;g=meta.k8s.io,application/json"
)


def test_table_rows_carry_the_object_as_asked(kube_api: FakeKubeAPI) -> None:
    """The Table kubectl receives: columns with priorities, cells, the list's resourceVersion, and
    per row a PartialObjectMetadata by default, the whole object with includeObject=Object
    (kubectl's --sort-by), none with None; plain JSON still answers a plain Accept, 406 for
    protobuf alone."""
    kube_api.add_all(fx.chart_043())
    path = "/apis/apps/v1/namespaces/default/deployments"
    headers = {"authorization": f"Bearer {kube_api.token}", "accept": TABLE_ACCEPT}
    status, content_type, body = kube_api.respond("GET", f"{path}?limit=500", headers, b"")
    table = json.loads(body)
    assert status == 200 and content_type == "application/json;as=Table;v=v1;g=meta.k8s.io"
    assert (table["kind"], table["apiVersion"]) == ("Table", "meta.k8s.io/v1")
    assert [(c["name"], c["priority"]) for c in table["columnDefinitions"]] == [
        ("Name", 0),
        ("Ready", 0),
        ("Up-to-date", 0),
        ("Available", 0),
        ("Age", 0),
        ("Containers", 1),
        ("Images", 1),
        ("Selector", 1),
    ]
    assert table["metadata"]["resourceVersion"] == kube_api.resource_version
    row = table["rows"][0]
    assert row["cells"][:5] == ["wandb-anaconda2", "3/3", 3, 3, "30d"]
    assert row["object"]["kind"] == "PartialObjectMetadata" and row["object"]["metadata"]["name"] == "wandb-anaconda2"

    _, _, body = kube_api.respond("GET", f"{path}/wandb-api?includeObject=Object", headers, b"")
    (row,) = json.loads(body)["rows"]
    assert row["object"]["kind"] == "Deployment" and row["object"]["spec"]["replicas"] == 3
    _, _, body = kube_api.respond("GET", f"{path}?includeObject=None", headers, b"")
    assert all("object" not in row for row in json.loads(body)["rows"])

    plain = {"authorization": headers["authorization"], "accept": "application/json"}
    assert json.loads(kube_api.respond("GET", path, plain, b"")[2])["kind"] == "DeploymentList"
    status, _, body = kube_api.respond("GET", path, {**plain, "accept": "application/vnd.kubernetes.protobuf"}, b"")
    assert status == 406 and json.loads(body)["reason"] == "NotAcceptable"


def test_table_columns_of_hpas_pods_and_the_cr(kube_api: FakeKubeAPI) -> None:
    objs = fx.chart_043()
    pod = fx.of_kind(objs, "Pod")[0]
    kube_api.add_all([*objs, fx.crash_looping(pod, restarts=7)])
    headers = {"authorization": f"Bearer {kube_api.token}", "accept": TABLE_ACCEPT}

    def table(path: str) -> dict[str, Any]:
        status, _, body = kube_api.respond("GET", path, headers, b"")
        assert status == 200
        return json.loads(body)

    hpa = table("/apis/autoscaling/v2/namespaces/default/horizontalpodautoscalers/wandb-flat-run-fields-updater")
    assert [c["name"] for c in hpa["columnDefinitions"]] == [
        "Name",
        "Reference",
        "Targets",
        "MinPods",
        "MaxPods",
        "Replicas",
        "Age",
    ]
    assert hpa["rows"][0]["cells"][:6] == [
        "wandb-flat-run-fields-updater",
        "Deployment/wandb-flat-run-fields-updater-bc",
        "cpu: 42%/80%",
        "1",
        10,
        3,
    ]
    pods = table("/api/v1/namespaces/default/pods")
    assert [c["name"] for c in pods["columnDefinitions"] if c["priority"] == 1] == [
        "IP",
        "Node",
        "Nominated Node",
        "Readiness Gates",
    ]
    broken = next(r for r in pods["rows"] if r["cells"][0] == pod["metadata"]["name"])
    assert broken["cells"][1:3] == ["0/1", "CrashLoopBackOff"] and broken["cells"][3].startswith("7 (")
    cr = table("/apis/apps.wandb.com/v1/namespaces/default/weightsandbiases")
    assert [(c["name"], c["type"]) for c in cr["columnDefinitions"]] == [("Name", "string"), ("Age", "date")]
    assert cr["rows"][0]["cells"] == ["wandb", "90d"]


@pytest.mark.parametrize(
    ("seconds", "shown"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (119, "119s"),
        (120, "2m"),
        (303, "5m3s"),
        (600, "10m"),
        (10799, "179m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 120, "5h2m"),
        (30 * 3600, "30h"),
        (2 * 86400, "2d"),
        (5 * 86400 + 4 * 3600, "5d4h"),
        (30 * 86400, "30d"),
        (800 * 86400, "2y70d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_ages_read_as_kubectl_prints_them(seconds: int, shown: str) -> None:
    assert human_duration(seconds) == shown


# --- TLS: the Python client and the adapter -------------------------------------------------------


def test_python_client_and_kube_adapter_over_tls(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with FakeKubeAPI(tls=True) as kube_api:
        kube_api.add_all(fx.chart_043())
        kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
        cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
        assert cluster["server"] == kube_api.url and kube_api.url.startswith("https://127.0.0.1:")
        assert base64.b64decode(cluster["certificate-authority-data"]) == kube_api.ca_pem
        assert "insecure-skip-tls-verify" not in cluster
        configuration = client.Configuration()
        config.load_kube_config(config_file=str(kubeconfig), context="fake", client_configuration=configuration)
        assert configuration.verify_ssl and configuration.ssl_ca_cert  # the server is verified, not trusted blindly
        with client.ApiClient(configuration) as shared:
            assert client.AppsV1Api(shared).read_namespaced_deployment("wandb-api", "default").spec.replicas == 3

        monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
        kube_api.reset_requests()
        adapter = KubeAdapter(
            kube_context=None, namespace="default", instance="wandb", timeout=5, kubeconfig=str(kubeconfig)
        )
        observation = adapter.observe(ALL_KINDS)
        assert len(observation.workloads) == 17 and len(observation.node_zones) == 3  # 15 Deployments, 2 CronJobs
        assert observation.cr is not None and observation.cr.chart_version == "0.43.8"
        assert kube_api.count("list", "pods") == 1
        assert all(r.headers.get("authorization") == f"Bearer {kube_api.token}" for r in kube_api.requests)

        kube_api.token = "rotated"  # the kubeconfig's token is now the wrong one
        with client.ApiClient(configuration) as shared, pytest.raises(ApiException) as caught:
            client.AppsV1Api(shared).read_namespaced_deployment("wandb-api", "default")
        assert caught.value.status == 401 and json.loads(caught.value.body)["reason"] == "Unauthorized"


def test_plain_http_stays_the_default(kube_api: FakeKubeAPI, kubeconfig: Path) -> None:
    assert kube_api.url.startswith("http://127.0.0.1:")
    cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
    assert cluster == {"server": kube_api.url, "insecure-skip-tls-verify": True}
    with pytest.raises(RuntimeError, match="plain HTTP"):
        _ = kube_api.ca_pem
