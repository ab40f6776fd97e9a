"""The WeightsAndBiases CR converted at the version it was read: v2's spec.wandb and status,
v1's chart and values, and which version its spec was written as (managedFields)."""

from __future__ import annotations

from wbctl.adapters.kube.convert import spec_written_as, wandb_resource
from wbctl.core.kube import Generation
from wbctl.sandbox.kube.objects import chart_043, find
from wbctl.sandbox.kube.objects.operator_v2 import API_V1, convert, weights_and_biases_v2

BOUNDS = {"flat-run-fields-updater": {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}


def test_a_v2_cr_reads_its_server_version_applications_and_readiness() -> None:
    resource = wandb_resource(weights_and_biases_v2("wandb", "prod", applications=BOUNDS))
    assert (
        resource.generation,
        resource.server_version,
        resource.applications,
        resource.chart_version,
        resource.state,
        resource.written_as,
    ) == (Generation.V2, "0.84.0-notifications-security-flags.0", BOUNDS, None, "Ready", "apps.wandb.com/v2")


def test_a_v1_read_of_a_converted_cr_has_only_the_stash() -> None:
    v1 = find(chart_043(), "WeightsAndBiases", "wandb")
    as_v1 = convert(convert(v1, "apps.wandb.com/v2", None), API_V1, None)
    resource = wandb_resource(as_v1)
    assert (resource.generation, resource.chart_version, resource.phase) == (Generation.V1, "0.43.8", None)


def test_the_newest_spec_writer_names_the_version_status_writes_do_not() -> None:
    metadata = {
        "managedFields": [
            {"apiVersion": "apps.wandb.com/v1", "time": "2026-01-01T00:00:00Z", "fieldsV1": {"f:spec": {}}},
            {"apiVersion": "apps.wandb.com/v2", "time": "2026-02-01T00:00:00Z", "fieldsV1": {"f:status": {}}},
            {
                "apiVersion": "apps.wandb.com/v2",
                "time": "2026-03-01T00:00:00Z",
                "subresource": "status",
                "fieldsV1": {"f:spec": {}},
            },
        ]
    }
    assert spec_written_as(metadata) == "apps.wandb.com/v1"


def test_the_v2_updater_env_names_the_kafka_secret_never_its_value() -> None:
    from wbctl.adapters.kube.convert import deployment
    from wbctl.sandbox.kube.objects.operator_v2 import UPDATER, UPDATER_QUEUE, UPDATER_QUEUE_ENV, operator_v2

    updater = deployment(find(operator_v2("prod", "wandb"), "Deployment", UPDATER))
    (container,) = updater.containers
    kafka, queue = container.env_value("KAFKA_URL"), container.env_value(UPDATER_QUEUE_ENV)
    assert (kafka.value, kafka.secret, queue.value) == (None, ("wandb-kafka-connection", "url"), UPDATER_QUEUE)
