"""chart_043's queue options (the updater's queue address, Kafka, a limited updater HPA) and the
unhealthy-pod helpers, read back through the real `kubernetes` client from FakeKubeAPI."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from kubernetes import client, config

from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI

NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
UPDATER = "wandb-flat-run-fields-updater-bc"
PUBSUB = "pubsub:/playground-111/run-updates-shadow/flat-run-fields-updater"


@pytest.fixture
def api(kube_api: FakeKubeAPI, tmp_path: Path) -> Iterator[client.ApiClient]:
    configuration = client.Configuration()
    config.load_kube_config(
        config_file=str(kube_api.write_kubeconfig(tmp_path / "kubeconfig")),
        context="fake",
        client_configuration=configuration,
    )
    shared = client.ApiClient(configuration)
    yield shared
    shared.close()


def _env(container: client.V1Container) -> dict[str, str | None]:
    return {e.name: e.value for e in container.env or []}


def _updater_pods(core: client.CoreV1Api) -> list[client.V1Pod]:
    selector = "app.kubernetes.io/instance=wandb,app.kubernetes.io/name=flat-run-fields-updater"
    return core.list_namespaced_pod("default", label_selector=selector).items


@pytest.mark.slow
def test_queue_address_reaches_the_deployment_and_its_pods(kube_api: FakeKubeAPI, api: client.ApiClient) -> None:
    assert fx.chart_043(now=NOW, queue_address=None) == fx.chart_043(now=NOW)  # the default is what it was
    default = fx.find(fx.chart_043(now=NOW), "Deployment", UPDATER)["spec"]["template"]["spec"]["containers"][0]
    assert {e["name"]: e.get("value") for e in default["env"]}[fx.UPDATER_QUEUE_ENV] == PUBSUB  # fmb.snap's

    address = "pubsub:/my-project/wandb-run-updates-shadow/wandb-flat-run-fields-updater"
    kube_api.add_all(fx.chart_043(now=NOW, queue_address=address))
    deployment = client.AppsV1Api(api).read_namespaced_deployment(UPDATER, "default")
    env = _env(deployment.spec.template.spec.containers[0])
    assert env[fx.UPDATER_QUEUE_ENV] == address
    assert list(env).count(fx.UPDATER_QUEUE_ENV) == 1
    pods = _updater_pods(client.CoreV1Api(api))
    assert len(pods) == 3 and all(_env(p.spec.containers[0])[fx.UPDATER_QUEUE_ENV] == address for p in pods)


def test_kafka_updater_and_its_config_maps(kube_api: FakeKubeAPI, api: client.ApiClient) -> None:
    objs = fx.chart_043(now=NOW, kafka=True)
    collector = "wandb-otel-daemonset"  # the bundled collector's ConfigMap: in every chart namespace
    kafka_maps = [m for m in fx.of_kind(objs, "ConfigMap") if m["metadata"]["name"] != collector]
    assert len(objs) == len(fx.chart_043(now=NOW)) + len(kafka_maps)
    kube_api.add_all(objs)
    deployment = client.AppsV1Api(api).read_namespaced_deployment(UPDATER, "default")
    container = deployment.spec.template.spec.containers[0]
    address = _env(container)[fx.UPDATER_QUEUE_ENV]
    assert address is not None and address.startswith(
        "kafka://$(KAFKA_CLIENT_USER):$(KAFKA_CLIENT_PASSWORD)@$(KAFKA_BROKER_HOST):9092/"
        "$(KAFKA_TOPIC_RUN_UPDATE_SHADOW_QUEUE)?"
    )
    assert "consumer_group_id=flat-run-fields-updater" in address
    sources = [s.config_map_ref.name for s in container.env_from if s.config_map_ref]
    assert "wandb-kafka-configmap" in sources
    assert "wandb-global-secret" in [s.secret_ref.name for s in container.env_from if s.secret_ref]

    core = client.CoreV1Api(api)
    kafka = core.read_namespaced_config_map("wandb-kafka-configmap", "default")
    assert kafka.data["KAFKA_TOPIC_RUN_UPDATE_SHADOW_QUEUE"] == "wandb-run-updates-shadow"
    assert kafka.data["KAFKA_BROKER_HOST"] == "bufstream.bufstream.svc.cluster.local"
    assert kafka.data["KAFKA_RUN_UPDATE_SHADOW_QUEUE_NUM_PARTITIONS"] == "100"
    assert not kafka.metadata.labels  # unlabelled in the chart: found by name, not by selector
    assert sorted(m.metadata.name for m in core.list_namespaced_config_map("default").items) == sorted(
        [*sources, collector]
    )
    assert len(_updater_pods(core)) == 3
    assert "chartsnap" not in str(objs)


def test_kafka_with_keda_and_a_queue_address(kube_api: FakeKubeAPI, api: client.ApiClient) -> None:
    objs = fx.chart_043(now=NOW, kafka=True, keda_frfu=True, queue_address="kafka://broker:9092/topic", instance="prod")
    kube_api.add_all(objs)
    deployment = client.AppsV1Api(api).read_namespaced_deployment("prod-flat-run-fields-updater-bc", "default")
    assert _env(deployment.spec.template.spec.containers[0])[fx.UPDATER_QUEUE_ENV] == "kafka://broker:9092/topic"
    assert fx.find(objs, "ScaledObject", "prod-flat-run-fields-updater")
    assert client.CoreV1Api(api).read_namespaced_config_map("prod-kafka-configmap", "default").data


def test_limited_updater_hpa_reads_back_with_its_condition(kube_api: FakeKubeAPI, api: client.ApiClient) -> None:
    objs = fx.chart_043(now=NOW, updater_hpa={"minimum": 2, "maximum": 6, "cpu_current": 97, "limited": True})
    kube_api.add_all(objs)
    autoscaler = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(
        "wandb-flat-run-fields-updater", "default"
    )
    assert (autoscaler.spec.min_replicas, autoscaler.spec.max_replicas) == (2, 6)
    assert (autoscaler.status.current_replicas, autoscaler.status.desired_replicas) == (6, 6)
    assert autoscaler.status.current_metrics[0].resource.current.average_utilization == 97
    limited = next(c for c in autoscaler.status.conditions if c.type == "ScalingLimited")
    assert (limited.status, limited.reason, limited.message) == (
        "True",
        "TooManyReplicas",
        "the desired replica count is more than the maximum replica count",
    )
    deployment = client.AppsV1Api(api).read_namespaced_deployment(UPDATER, "default")
    assert deployment.spec.replicas == deployment.status.ready_replicas == 6
    assert len(_updater_pods(client.CoreV1Api(api))) == 6
    values = fx.find(objs, "WeightsAndBiases", "wandb")["spec"]["values"]["flat-run-fields-updater"]
    assert values["autoscaling"]["horizontal"]["minReplicas"] == 2
    assert values["autoscaling"]["horizontal"]["maxReplicas"] == 6
    other = fx.find(objs, "HorizontalPodAutoscaler", "wandb-filestream")  # the others stay as they were
    assert other["status"]["conditions"][2]["reason"] == "DesiredWithinRange"


def test_updater_hpa_within_range_and_refusals() -> None:
    objs = fx.chart_043(now=NOW, updater_hpa={"minimum": 3, "maximum": 12, "current": 4})
    autoscaler = fx.find(objs, "HorizontalPodAutoscaler", "wandb-flat-run-fields-updater")
    assert autoscaler["status"]["currentReplicas"] == 4 and autoscaler["spec"]["maxReplicas"] == 12
    assert autoscaler["status"]["conditions"][2]["status"] == "False"
    assert fx.find(objs, "Deployment", UPDATER)["spec"]["replicas"] == 4
    with pytest.raises(ValueError, match="unknown updater_hpa"):
        fx.chart_043(updater_hpa={"max": 3})
    with pytest.raises(ValueError, match="hpa_for"):
        fx.chart_043(hpa_for=("filestream",), updater_hpa={"maximum": 3})


def test_unhealthy_pods_deserialise_as_the_kubelet_reports_them(kube_api: FakeKubeAPI, api: client.ApiClient) -> None:
    pods = [p for p in fx.of_kind(fx.chart_043(now=NOW), "Pod") if p["metadata"]["name"].startswith(UPDATER)]
    before = copy.deepcopy(pods)
    kube_api.add_all(
        [fx.crash_looping(pods[0], now=NOW), fx.oom_killed(pods[1], now=NOW), fx.pending(pods[2], now=NOW)]
    )
    assert pods == before  # pure: the input is left alone
    read = {p.metadata.name: p for p in _updater_pods(client.CoreV1Api(api))}
    crashing, oom, waiting = (read[p["metadata"]["name"]] for p in pods)

    status = crashing.status.container_statuses[0]
    assert status.state.waiting.reason == "CrashLoopBackOff" and status.restart_count == 7 and status.ready is False
    assert status.last_state.terminated.reason == "Error" and status.last_state.terminated.exit_code == 1
    assert crashing.status.phase == "Running"
    ready = next(c for c in crashing.status.conditions if c.type == "Ready")
    assert ready.status == "False" and ready.reason == "ContainersNotReady"

    status = oom.status.container_statuses[0]
    assert status.last_state.terminated.reason == "OOMKilled" and status.last_state.terminated.exit_code == 137
    assert status.state.running is not None and status.ready is True and status.restart_count == 3

    assert waiting.status.phase == "Pending" and waiting.spec.node_name is None
    assert waiting.status.container_statuses is None and waiting.status.pod_ip is None
    (scheduled,) = waiting.status.conditions
    assert (scheduled.type, scheduled.status, scheduled.reason) == ("PodScheduled", "False", "Unschedulable")
    assert scheduled.message.startswith("0/3 nodes are available: 3 Insufficient cpu.")
    on_no_node = client.CoreV1Api(api).list_namespaced_pod("default", field_selector="spec.nodeName=")
    assert [p.metadata.name for p in on_no_node.items] == [waiting.metadata.name]
