"""FakeKubeAPI serving the WeightsAndBiases CRD as each operator installs it, driven through
the real `kubernetes` client: the chart's operator serves v1 alone; the v2 operator's CRD
serves v1 and v2, stores v2, and answers a v1 read from the annotations its conversion
webhook stashes (wandb/operator api/v1/weightsandbiases_conversion.go)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client, config
from kubernetes.client.rest import ApiException

from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.kube.objects.operator_v2 import V1_VALUES_ANNOTATION, VERSIONS, operator_v2

GROUP, PLURAL = "apps.wandb.com", "weightsandbiases"
UPDATER_BOUNDS = {"flat-run-fields-updater": {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}


@pytest.fixture
def custom(kube_api: FakeKubeAPI, tmp_path: Path) -> Iterator[client.CustomObjectsApi]:
    configuration = client.Configuration()
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    config.load_kube_config(config_file=str(kubeconfig), context="fake", client_configuration=configuration)
    with client.ApiClient(configuration) as shared:
        yield client.CustomObjectsApi(shared)


def test_the_charts_crd_serves_v1_alone(kube_api: FakeKubeAPI, custom: client.CustomObjectsApi) -> None:
    kube_api.add_all(chart_043())
    with pytest.raises(ApiException) as raised:
        custom.get_namespaced_custom_object(GROUP, "v2", "default", PLURAL, "wandb")
    assert raised.value.status == 404


def test_the_v2_crd_prefers_v2_in_discovery(kube_api: FakeKubeAPI, custom: client.CustomObjectsApi) -> None:
    kube_api.serve_versions(PLURAL, VERSIONS)
    group = client.ApisApi(custom.api_client).get_api_versions()
    (wandb,) = [g for g in group.groups if g.name == GROUP]
    assert (wandb.preferred_version.version, [v.version for v in wandb.versions]) == ("v2", ["v2", "v1"])


def test_a_v1_read_of_a_v2_object_answers_the_stash_and_no_status(
    kube_api: FakeKubeAPI, custom: client.CustomObjectsApi
) -> None:
    kube_api.serve_versions(PLURAL, VERSIONS)
    kube_api.add_all(operator_v2(applications=UPDATER_BOUNDS))
    as_v1 = custom.get_namespaced_custom_object(GROUP, "v1", "wandb", PLURAL, "wandb")
    assert (as_v1["spec"], "status" in as_v1) == ({"chart": {}, "values": {}}, False)


def test_a_v1_write_is_accepted_and_drops_the_v2_spec_it_cannot_say(
    kube_api: FakeKubeAPI, custom: client.CustomObjectsApi
) -> None:
    kube_api.serve_versions(PLURAL, VERSIONS)
    kube_api.add_all(operator_v2(applications=UPDATER_BOUNDS))
    patch = {"spec": {"values": {"flat-run-fields-updater": {"autoscaling": {"horizontal": {"maxReplicas": 20}}}}}}
    custom.patch_namespaced_custom_object(GROUP, "v1", "wandb", PLURAL, "wandb", patch)
    stored = custom.get_namespaced_custom_object(GROUP, "v2", "wandb", PLURAL, "wandb")
    assert (
        stored["spec"],
        json.loads(stored["metadata"]["annotations"][V1_VALUES_ANNOTATION]),
        stored["status"]["ready"],
    ) == ({}, patch["spec"]["values"], True)


def test_installing_the_v2_crd_converts_a_stored_v1_object(
    kube_api: FakeKubeAPI, custom: client.CustomObjectsApi
) -> None:
    kube_api.add_all(chart_043())
    kube_api.serve_versions(PLURAL, VERSIONS)
    as_v2 = custom.get_namespaced_custom_object(GROUP, "v2", "default", PLURAL, "wandb")
    as_v1 = custom.get_namespaced_custom_object(GROUP, "v1", "default", PLURAL, "wandb")
    assert (as_v2["apiVersion"], as_v1["spec"]["chart"]["version"]) == ("apps.wandb.com/v2", "0.43.8")
