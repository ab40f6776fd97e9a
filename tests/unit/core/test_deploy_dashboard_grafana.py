"""The dashboard objects over the real Grafana model (wbctl.core.dashboards.grafana.render), for
the settings that change what it holds: the ConfigMap's file parses back to exactly render's
output, the GrafanaDashboard passes grafana-operator 5.21.4's CRD schema with no reference of
type prometheus left, both fit the 1 MiB limit with room, and a context's objects and file are
named apart from the unnamed context's."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest

from tests.support.alert_settings import DEFAULT, VARIANTS
from tests.unit.core.test_deploy_dashboard import crd_schema, round_trip, schema_errors
from wbctl.core import alerts
from wbctl.core import deploy_dashboard as dash
from wbctl.core.dashboards import grafana


def objects(settings: alerts.AlertSettings) -> tuple[dict, dict, dict]:  # type: ignore[type-arg]
    model = grafana.render(settings)
    name, filename = dash.names(model["uid"], grafana.UID, grafana.FILENAME)
    config_map = dash.config_map(dash.DashboardRequest(name=name), model, filename)
    operator = dash.grafana_dashboard(dash.DashboardRequest(target="operator", namespace="wandb", name=name), model)
    return model, config_map, operator


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_config_maps_file_is_the_renderers_model(variant: str) -> None:
    model, config_map, _ = objects(VARIANTS[variant])
    assert model["schemaVersion"] >= 36
    (text,) = config_map["data"].values()
    assert json.loads(text) == model
    assert round_trip(config_map, "V1ConfigMap") == config_map
    assert config_map["metadata"]["labels"]["grafana_dashboard"] == "1"
    assert len(text.encode()) < dash.CONFIG_MAP_LIMIT // 4  # room to grow
    assert dash.notes(dash.DashboardRequest(), config_map) == []  # client-side apply works


@pytest.mark.parametrize("variant", VARIANTS)
def test_the_grafana_dashboard_is_valid_and_on_victoriametrics(variant: str) -> None:
    model, _, operator = objects(VARIANTS[variant])
    assert schema_errors(operator, crd_schema()) == []
    assert operator["spec"]["uid"] == model["uid"]
    operator_model = json.loads(operator["spec"]["json"])
    (variable,) = [v for v in operator_model["templating"]["list"] if v["type"] == "datasource"]
    assert variable["query"] == "victoriametrics-metrics-datasource"

    def types(node: object) -> set[str]:
        if isinstance(node, list):
            return set().union(*(types(item) for item in node)) if node else set()
        if not isinstance(node, dict):
            return set()
        found = set().union(*(types(value) for value in node.values())) if node else set()
        reference = node.get("datasource")
        return found | ({reference["type"]} if isinstance(reference, dict) and "type" in reference else set())

    assert types(model) == {"prometheus", "grafana"}
    assert types(operator_model) == {"victoriametrics-metrics-datasource", "grafana"}
    # every panel and its queries are there, unchanged but for the datasource type
    assert [p["title"] for p in operator_model["panels"]] == [p["title"] for p in model["panels"]]
    assert [t["expr"] for p in operator_model["panels"] for t in p["targets"]] == [
        t["expr"] for p in model["panels"] for t in p["targets"]
    ]


def test_a_contexts_objects_and_file_carry_its_name() -> None:
    _, unnamed, _ = objects(DEFAULT)
    _, prod, prod_operator = objects(VARIANTS["context"])
    assert (unnamed["metadata"]["name"], list(unnamed["data"])) == ("wbctl-dashboard", ["wbctl-runbook.json"])
    assert (prod["metadata"]["name"], list(prod["data"])) == ("wbctl-dashboard-prod", ["wbctl-runbook-prod.json"])
    assert prod_operator["metadata"]["name"] == "wbctl-dashboard-prod"


@pytest.mark.parametrize("context", ["Prod_EU", "prod_eu", "prod-eu", "a.b", "a-b", "x" * 60, "ü", 'prod "eu"'])
def test_names_from_any_context_are_dns_names(context: str) -> None:
    model = grafana.render(replace(DEFAULT, context=context))
    name = dash.names(model["uid"], grafana.UID, grafana.FILENAME)[0]
    assert re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", name) and len(name) <= 253


def test_names_of_different_contexts_never_collide() -> None:
    contexts = ["Prod_EU", "prod_eu", "prod-eu", "a.b", "a-b", "prod", "Prod", "x" * 60, "x" * 61]
    names = {
        dash.names(grafana.render(replace(DEFAULT, context=c))["uid"], grafana.UID, grafana.FILENAME)[0]
        for c in contexts
    }
    assert len(names) == len(contexts)
    assert (
        dash.names(grafana.render(replace(DEFAULT, context="prod"))["uid"], grafana.UID, grafana.FILENAME)[0]
        == "wbctl-dashboard-prod"
    )
