"""Autoscale and scale plans on the v2 operator: the CR's spec.wandb.applications.<app>.autoscaling
bounds, written at apps.wandb.com/v2 (a spec.values patch there is accepted and never applied)."""

from __future__ import annotations

import pytest

from wbctl.core import catalog
from wbctl.core.kube import Generation, KubeObservation, WandbResource, Workload
from wbctl.core.model import KubeWrite
from wbctl.core.scaling import plan_autoscale, plan_scale
from wbctl.errors import UsageError

UPDATER = catalog.resolve("flat-run-fields-updater")


def _observation() -> KubeObservation:
    cr = WandbResource(
        "wandb",
        None,
        {},
        None,
        "41",
        generation=Generation.V2,
        applications={"flat-run-fields-updater": {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}},
    )
    selector = {"app.kubernetes.io/name": "flat-run-fields-updater", "app.kubernetes.io/instance": "prod"}
    updater = Workload("Deployment", "flat-run-fields-updater", {}, selector, 3, 3, ())
    return KubeObservation("https://k", "prod", "wandb", workloads=[updater], cr=cr, generation=Generation.V2)


def _autoscale(**options: object) -> object:
    arguments = {"min_replicas": 3, "max_replicas": 20, "cpu_target": None, "disable": False, "via": None}
    arguments.update(options)
    return plan_autoscale(_observation(), UPDATER, context="prod", **arguments)  # type: ignore[arg-type]


def test_autoscale_changes_only_the_differing_bound_under_applications() -> None:
    plan = _autoscale()
    assert [c.path for c in plan.changes] == [  # type: ignore[attr-defined]
        ("spec", "wandb", "applications", "flat-run-fields-updater", "autoscaling", "maxReplicas")
    ]


def test_autoscale_is_written_at_v2_under_the_read_resource_version() -> None:
    assert _autoscale().writes == {"weightsandbiases/wandb": KubeWrite("41", api_version="apps.wandb.com/v2")}  # type: ignore[attr-defined]


def test_a_cpu_target_is_noted_as_not_applied() -> None:
    notes = _autoscale(cpu_target=60).notes  # type: ignore[attr-defined]
    assert any("--cpu-target is not applied" in note for note in notes)


def test_disable_is_refused() -> None:
    with pytest.raises(UsageError, match="cannot turn autoscaling off"):
        _autoscale(min_replicas=None, max_replicas=None, disable=True)


def test_scale_pins_min_and_max() -> None:
    plan = plan_scale(_observation(), UPDATER, 5, via=None, force=False, context="prod")
    assert [(c.path[-1], c.after) for c in plan.changes] == [("minReplicas", 5), ("maxReplicas", 5)]
