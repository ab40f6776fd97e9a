"""FakeKubeAPI's ConfigMaps, concurrent delays and connection counting, driven only through the
real `kubernetes` client loaded from the fake's kubeconfig (as the adapter loads it)."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from wbctl.sandbox import kube_fixtures as fx
from wbctl.sandbox.kube_api import FakeKubeAPI


def api_client(kubeconfig: Path) -> client.ApiClient:
    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context="fake", client_configuration=configuration)
    return client.ApiClient(configuration)


@pytest.fixture
def fake() -> Iterator[FakeKubeAPI]:
    with FakeKubeAPI() as api:
        yield api


@pytest.fixture
def kubeconfig(fake: FakeKubeAPI, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kubeconfig")


@pytest.fixture
def core(kubeconfig: Path) -> Iterator[client.CoreV1Api]:
    shared = api_client(kubeconfig)
    yield client.CoreV1Api(shared)
    shared.close()


def _config_map(name: str, data: dict[str, str]) -> client.V1ConfigMap:
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name), data=data)


# --- ConfigMaps ---------------------------------------------------------------------------------


def test_config_maps_create_get_list_patch_delete(fake: FakeKubeAPI, core: client.CoreV1Api) -> None:
    created = core.create_namespaced_config_map("default", _config_map("wandb-kafka-configmap", {
        "KAFKA_BROKER_HOST": "bufstream.bufstream.svc.cluster.local", "KAFKA_BROKER_PORT": "9092"}))
    assert created.metadata.uid and created.metadata.resource_version and created.metadata.generation is None
    read = core.read_namespaced_config_map("wandb-kafka-configmap", "default")
    assert isinstance(read, client.V1ConfigMap) and read.kind == "ConfigMap"
    assert read.data["KAFKA_BROKER_PORT"] == "9092"
    core.create_namespaced_config_map("default", _config_map("other", {"a": "b"}))
    assert [m.metadata.name for m in core.list_namespaced_config_map("default").items] == [
        "other", "wandb-kafka-configmap"]
    patched = core.patch_namespaced_config_map("wandb-kafka-configmap", "default", {"data": {"KAFKA_CLIENT_USER": "u"}})
    assert patched.data == {"KAFKA_BROKER_HOST": "bufstream.bufstream.svc.cluster.local", "KAFKA_BROKER_PORT": "9092",
                            "KAFKA_CLIENT_USER": "u"}
    assert fake.get("configmaps", "default", "wandb-kafka-configmap")["data"]["KAFKA_CLIENT_USER"] == "u"
    core.delete_namespaced_config_map("other", "default")
    with pytest.raises(ApiException) as caught:
        core.read_namespaced_config_map("other", "default")
    assert caught.value.status == 404
    assert json.loads(caught.value.body)["message"] == 'configmaps "other" not found'
    names = {r.name for r in client.CoreV1Api(core.api_client).get_api_resources().resources}
    assert "configmaps" in names


def test_config_map_data_must_hold_strings(fake: FakeKubeAPI, core: client.CoreV1Api) -> None:
    core.create_namespaced_config_map("default", _config_map("ports", {"PORT": "9092"}))
    with pytest.raises(ApiException) as caught:  # a patch body is the one the client does not type-check
        core.patch_namespaced_config_map("ports", "default", {"data": {"PORT": 9092}})
    assert caught.value.status == 400 and "ConfigMap.data" in json.loads(caught.value.body)["message"]
    assert fake.get("configmaps", "default", "ports")["data"] == {"PORT": "9092"}
    with pytest.raises(ValueError, match="data values must be strings"):
        fake.add({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "bad"}, "data": {"PORT": 9092}})


# --- delay and connections ----------------------------------------------------------------------


def test_delay_overlaps_concurrent_requests(fake: FakeKubeAPI, core: client.CoreV1Api) -> None:
    fake.add_all(fx.gke_nodes(3))
    fake.delay(0.3)
    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        answers = list(pool.map(lambda _: core.list_node(_request_timeout=5), range(4)))
    elapsed = time.monotonic() - started
    assert all(len(a.items) == 3 for a in answers)
    assert 0.3 <= elapsed < 0.9, elapsed  # one after another they would take 1.2 s


def test_connections_count_what_the_client_opens(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.add_all(fx.chart_043())
    fake.reset_requests()
    first = api_client(kubeconfig)
    apps, core = client.AppsV1Api(first), client.CoreV1Api(first)
    for _ in range(2):  # two rounds of a watch loop on one client
        apps.list_namespaced_deployment("default", _request_timeout=5)
        core.list_namespaced_pod("default", _request_timeout=5)
    assert fake.count() == 4 and fake.connections() == 1  # keep-alive: one connection for all four
    second = api_client(kubeconfig)
    client.CoreV1Api(second).list_node(_request_timeout=5)
    assert fake.connections() == 2
    fake.reset_requests()
    assert fake.connections() == 0
    core.list_node(_request_timeout=5)  # the first client's connection is still open: nothing new
    assert fake.connections() == 0
    first.close()
    second.close()
