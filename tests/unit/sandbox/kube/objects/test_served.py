"""The chart's namespace pointed at the served endpoints: what changes, what config init then
derives, and the chart's values back for the saved state."""

from __future__ import annotations

import copy

from wbctl.core.context_init import FoundResource, derive
from wbctl.core.kube import WandbResource
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.kube.objects.served import Endpoints, chart_values, point_at

SETTINGS = {
    "redis-url": "redis://127.0.0.1:7001/0",
    "mysql-url": "mysql://wandb@127.0.0.1:7002/wandb_local",
    "gcp-emulator-host": "127.0.0.1:7003",
}
ENDPOINTS = Endpoints.of(SETTINGS, project="wandb-sandbox", bigtable_instance="wandb-bigtable")


def _cr(objects: list[dict]) -> dict:
    return next(o for o in objects if o["kind"] == "WeightsAndBiases")


def _env(objects: list[dict], deployment: str) -> dict[str, str]:
    obj = next(o for o in objects if o["kind"] == "Deployment" and o["metadata"]["name"] == deployment)
    container = obj["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e["value"] for e in container.get("env") or [] if "value" in e}


def test_the_served_objects_name_the_served_endpoints_and_the_chart_objects_stay() -> None:
    chart = chart_043()
    before = copy.deepcopy(chart)
    served = point_at(chart, ENDPOINTS, instance="wandb", namespace="default")
    assert chart == before  # copies: the chart's objects keep the chart's values
    values = _cr(served)["spec"]["values"]["global"]
    assert values["bigtable"]["project"] == values["pubSub"]["project"] == "wandb-sandbox"
    assert values["bigtable"]["instance"] == "wandb-bigtable" and "password" not in values["redis"]
    env = _env(served, "wandb-api")
    assert (env["MYSQL_HOST"], env["MYSQL_PORT"], env["BIGTABLE_EMULATOR_HOST"]) == (
        "127.0.0.1",
        "7002",
        "127.0.0.1:7003",
    )
    config_map = next(
        o for o in served if o["kind"] == "ConfigMap" and o["metadata"]["name"] == "wandb-redis-configmap"
    )
    assert config_map["data"] == {
        "REDIS_HOST": "127.0.0.1",
        "REDIS_PORT": "7001",
        "REDIS_PARAMS": "?ttlInSeconds=604800",
    }


def test_config_init_derives_the_served_context_from_them() -> None:
    from wbctl.adapters.kube import convert  # the adapter's own reading of the API's objects

    served = point_at(chart_043(), ENDPOINTS, instance="wandb", namespace="default")
    cr = _cr(served)
    found = FoundResource("default", 1, WandbResource("wandb", "0.43.8", cr["spec"]["values"], "Completed", "1"))
    config_maps = {o["metadata"]["name"]: o["data"] for o in served if o["kind"] == "ConfigMap"}
    derived = derive(
        found, [convert.deployment(o) for o in served if o["kind"] == "Deployment"], config_maps, kube_context="sandbox"
    )
    assert derived.values["redis-url"] == SETTINGS["redis-url"]
    assert derived.values["mysql-url"] == SETTINGS["mysql-url"]
    assert derived.values["gcp-emulator-host"] == SETTINGS["gcp-emulator-host"]
    assert derived.values["gcp-project"] == "wandb-sandbox"


def test_the_chart_values_come_back_for_the_saved_state() -> None:
    chart = _cr(chart_043())["spec"]["values"]
    served = _cr(point_at(chart_043(), ENDPOINTS, instance="wandb", namespace="default"))["spec"]["values"]
    served["app"] = {**served.get("app", {}), "replicas": 2}  # a rehearsal's change stays
    restored = chart_values(served, chart)
    assert restored["global"] == chart["global"] and restored["app"]["replicas"] == 2
