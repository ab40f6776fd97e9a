"""`wbctl deploy dashboard` through the CLI: the ConfigMap (or the GrafanaDashboard) holds the
Grafana model of the context's thresholds, exactly as grafana.render makes it from the settings
the config gives; YAML and JSON are the same object; two runs print the same bytes; every bad
option exits 2 with one line and prints nothing; with the sandbox it renders the v2 scenario's."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml

from wbctl.core import alerts
from wbctl.core.dashboards import grafana
from wbctl.sandbox.kube.api import FakeKubeAPI

# what the settings make of no config file at all: the chart's and W&B Terraform's names
NO_CONFIG = alerts.AlertSettings(
    context=None,
    queue_source="pubsub",
    queue="Pub/Sub subscription wandb-flat-run-fields-updater",
    subscription="wandb-flat-run-fields-updater",
    project=None,
    bigtable_instance="wandb-bigtable",
    retention=7 * 86400,
    allowed_backlog=0,
    allowed_age=300,
    auditor_interval=300,
    filestream_subscription="wandb-filestream-gorilla",
    namespace="default",
)
PROD_CONFIG = (
    'current-context = "prod"\n[contexts.prod]\nnamespace = "wandb"\ngcp-project = "my-proj"\n'
    'bigtable-instance = "wandb-bt"\nqueue-allowed-age = "10m"\n'
)
PROD = replace(
    NO_CONFIG, context="prod", project="my-proj", bigtable_instance="wandb-bt", allowed_age=600, namespace="wandb"
)


def documents(stdout: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(stdout) if doc]


def prod_env(isolated_env: Path) -> dict[str, str]:
    config = isolated_env / "wbctl.toml"
    config.write_text(PROD_CONFIG)
    return {"WBCTL_CONFIG": str(config)}


def test_the_default_is_the_sidecars_config_map_of_the_rendered_model(wbctl) -> None:
    result = wbctl("deploy", "dashboard")
    assert result.returncode == 0 and result.stderr == "", result.stderr
    assert result.stdout.startswith("# wbctl's Grafana dashboard")
    (config_map,) = documents(result.stdout)
    metadata = config_map["metadata"]
    assert (config_map["kind"], metadata["name"], metadata["namespace"]) == (
        "ConfigMap",
        "wbctl-dashboard",
        "monitoring",
    )
    assert metadata["labels"]["grafana_dashboard"] == "1"
    assert list(config_map["data"]) == [grafana.FILENAME]
    assert json.loads(config_map["data"][grafana.FILENAME]) == grafana.render(NO_CONFIG)


def test_a_contexts_thresholds_and_names_reach_the_config_map(wbctl, isolated_env: Path) -> None:
    result = wbctl("deploy", "dashboard", "--namespace", "ops", "--folder", "SRE/wbctl", env=prod_env(isolated_env))
    assert result.returncode == 0, result.stderr
    (config_map,) = documents(result.stdout)
    metadata = config_map["metadata"]
    assert (metadata["name"], metadata["namespace"]) == ("wbctl-dashboard-prod", "ops")
    assert metadata["annotations"] == {"grafana_folder": "SRE/wbctl"}
    assert json.loads(config_map["data"]["wbctl-runbook-prod.json"]) == grafana.render(PROD)
    assert "folderAnnotation: grafana_folder" in result.stdout  # the header says what the folder needs


def test_the_operators_grafana_dashboard_in_the_wandb_namespace(wbctl, isolated_env: Path) -> None:
    result = wbctl("deploy", "dashboard", "--grafana", "operator", env=prod_env(isolated_env))
    assert result.returncode == 0, result.stderr
    (resource,) = documents(result.stdout)
    assert (resource["apiVersion"], resource["kind"]) == ("grafana.integreatly.org/v1beta1", "GrafanaDashboard")
    assert (resource["metadata"]["name"], resource["metadata"]["namespace"]) == ("wbctl-dashboard-prod", "wandb")
    spec = resource["spec"]
    assert spec["instanceSelector"] == {"matchLabels": {"dashboards": "grafana"}} and spec["folder"] == "W&B"
    model = json.loads(spec["json"].replace('"victoriametrics-metrics-datasource"', '"prometheus"'))
    model["templating"]["list"][0]["current"] = {}
    assert model == grafana.render(PROD)
    assert "kubectl get weightsandbiases -n wandb" in result.stdout


@pytest.mark.parametrize("grafana_kind", ["sidecar", "operator"])
def test_json_is_one_list_of_the_same_object_and_runs_repeat(wbctl, grafana_kind: str) -> None:
    as_yaml = wbctl("deploy", "dashboard", "--grafana", grafana_kind)
    as_json = wbctl("deploy", "dashboard", "--grafana", grafana_kind, "-o", "json")
    assert as_yaml.returncode == as_json.returncode == 0
    document = as_json.json()
    assert document["kind"] == "List" and document["items"] == documents(as_yaml.stdout)
    assert wbctl("deploy", "dashboard", "--grafana", grafana_kind, env={"WBCTL_OUTPUT": "json"}).json() == document
    assert wbctl("deploy", "dashboard", "--grafana", grafana_kind).stdout == as_yaml.stdout  # idempotent output


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("--grafana", "grafana-operator"), "wbctl: error: --grafana 'grafana-operator': expected sidecar"),
        (("--namespace", "Monitoring"), "wbctl: error: --namespace 'Monitoring': expected a DNS-1123 label"),
        (("--folder", "../etc"), "wbctl: error: --folder '../etc': expected a folder name"),
        (("-o", "table"), "wbctl: error: -o table: expected one of yaml, json"),
    ],
)
def test_every_bad_option_is_one_line_exit_2_and_nothing_printed(wbctl, args: tuple[str, ...], start: str) -> None:
    result = wbctl("deploy", "dashboard", *args)
    assert result.returncode == 2 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and result.stderr.startswith(start), result.stderr


def test_the_sandboxs_v2_scenario(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "operator-v2", "deploy", "dashboard", "--grafana", "operator")
    assert result.returncode == 0, result.stderr
    (resource,) = documents(result.stdout)
    assert resource["kind"] == "GrafanaDashboard" and resource["spec"]["uid"].startswith("wbctl-runbook-sandbox")


def test_rendering_asks_no_backend_even_with_a_cluster_at_hand(wbctl, kube_api: FakeKubeAPI, tmp_path: Path) -> None:
    """A kubeconfig that reaches a cluster, no bigtable-instance: still not one request (the
    resource is not looked up; alerts rules would), with the Terraform name in the model."""
    kubeconfig = kube_api.write_kubeconfig(tmp_path / "kubeconfig")
    for kind in ("sidecar", "operator"):
        result = wbctl("deploy", "dashboard", "--grafana", kind, env={"KUBECONFIG": str(kubeconfig)})
        assert result.returncode == 0, result.stderr
    assert kube_api.requests == []
    (config_map,) = documents(wbctl("deploy", "dashboard", env={"KUBECONFIG": str(kubeconfig)}).stdout)
    assert json.loads(config_map["data"][grafana.FILENAME]) == grafana.render(NO_CONFIG)
