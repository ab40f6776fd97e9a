"""The operator generation as data: what differs between a v1 (chart) and a v2 (server
manifest) install, read by the same checks (wbctl/core/kube.py)."""

from __future__ import annotations

from wbctl.core.kube import Condition, Generation, WandbResource, Workload


def _v2(**fields: object) -> WandbResource:
    return WandbResource("wandb", None, {}, None, "7", generation=Generation.V2, **fields)  # type: ignore[arg-type]


def test_v2_pods_carry_the_namespace_as_instance() -> None:
    assert (Generation.V1.instance_label("prod", "wandb"), Generation.V2.instance_label("prod", "wandb")) == (
        "wandb",
        "prod",
    )


def test_services_the_v2_manifest_does_not_run_are_absent_only_on_v2() -> None:
    absent = {name for name in ("wandb-app", "wandb-console", "wandb-api") if Generation.V2.absent(name)}
    assert (absent, Generation.V1.absent("wandb-app")) == ({"wandb-app", "wandb-console"}, None)


def test_filestream_is_part_of_v2_with_its_feature_on() -> None:
    assert (
        Generation.V2.absent("wandb-filestream", {"filestreamQueue": True}),
        "filestreamQueue" in (Generation.V2.absent("wandb-filestream", {}) or ""),
    ) == (None, True)


def test_v2_service_settings_are_the_applications_entry() -> None:
    bounds = {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}
    resource = _v2(applications={"flat-run-fields-updater": bounds})
    assert resource.service_values("flat-run-fields-updater") == bounds


def test_v2_state_is_its_ready_condition() -> None:
    resource = _v2(ready=False, conditions=(Condition("Ready", "False", "ApplicationsNotReady", "waiting"),))
    assert resource.state == "NotReady: ApplicationsNotReady"


def test_a_workload_without_labels_is_named_by_its_selector() -> None:
    workload = Workload(
        "Deployment", "api", {}, {"app.kubernetes.io/name": "api", "app.kubernetes.io/instance": "prod"}, 3, 3, ()
    )
    assert workload.label_name == "api"
