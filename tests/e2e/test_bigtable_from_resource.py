"""Bigtable's project and instance from the WeightsAndBiases resource (the chart's
global.bigtable.project/instance, as W&B's Terraform writes them), against the Kubernetes API
fake and the Bigtable admin fake, driven by the real clients: before the naming rule, said by
`config show --origin`, and never over what the context sets on purpose."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.text import one_line
from wbctl.sandbox.google.api import FakeGoogleAPIs, demo_deployment
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043

PROJECT, INSTANCE = "acme-prod", "acme-wandb"  # Terraform's namespace variable "acme-wandb", the CR "wandb"
ORIGIN = "from the WeightsAndBiases resource default/wandb"


@pytest.fixture
def env(kube_api: FakeKubeAPI, google_api: FakeGoogleAPIs, isolated_env: Path) -> dict[str, str]:
    kube_api.add_all(chart_043(project=PROJECT, bigtable_instance=INSTANCE, lumen_agent=False))
    demo_deployment(google_api, project=PROJECT, instance=INSTANCE)
    kube_api.reset_requests()
    return {
        "KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")),
        "WBCTL_GCP_EMULATOR_HOST": google_api.address,
    }


def test_bigtable_status_finds_the_instance_the_resource_names(wbctl, env, kube_api) -> None:
    result = wbctl("bigtable", "status", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["instance"]["name"] == f"projects/{PROJECT}/instances/{INSTANCE}"
    assert kube_api.count("get", "weightsandbiases") == 1


def test_config_show_origin_says_they_came_from_the_resource(wbctl, env) -> None:
    shown = wbctl("config", "show", "--origin", "-o", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    settings = shown.json()["settings"]
    assert settings["bigtable-instance"] == {"value": INSTANCE, "origin": f"{ORIGIN} (global.bigtable.instance)"}
    assert settings["gcp-project"] == {"value": PROJECT, "origin": f"{ORIGIN} (global.bigtable.project)"}
    text = wbctl("config", "show", "--origin", env=env).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("bigtable-instance")]
    assert line.split(None, 2)[1:] == [INSTANCE, f"{ORIGIN} (global.bigtable.instance)"]


def test_an_explicit_setting_wins_over_the_resource_and_reads_nothing(wbctl, env, kube_api, isolated_env) -> None:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(f'[contexts.prod]\ngcp-project = "{PROJECT}"\nbigtable-instance = "elsewhere"\n')
    settings = wbctl("config", "show", "--origin", "-o", "json", env=env).json()["settings"]
    assert settings["bigtable-instance"] == {"value": "elsewhere", "origin": f"file {config} [contexts.prod]"}
    assert kube_api.count("get", "weightsandbiases") == 0  # given: the resource is not asked
    refused = wbctl("bigtable", "status", env=env)
    assert refused.returncode == 3 and "instances/elsewhere" in refused.stderr  # the setting is what was used


def test_only_the_unset_one_is_filled(wbctl, env) -> None:
    settings = wbctl("config", "show", "--origin", "-o", "json", env={**env, "WBCTL_GCP_PROJECT": PROJECT}).json()
    assert settings["settings"]["gcp-project"]["origin"] == "env WBCTL_GCP_PROJECT"
    assert settings["settings"]["bigtable-instance"]["origin"].startswith(ORIGIN)


def test_an_unreadable_resource_warns_in_one_line_and_shows_the_rest(wbctl, env, kube_api) -> None:
    kube_api.forbid("get", "weightsandbiases")
    env = {**env, "COLUMNS": "1000"}  # one message, one line
    shown = wbctl("config", "show", "--origin", env=env)
    assert shown.returncode == 0
    (warning,) = shown.stderr.splitlines()
    assert warning.startswith("warning: gcp-project, bigtable-instance: not read from the WeightsAndBiases resource:")
    refused = wbctl("bigtable", "status", env=env)
    assert refused.returncode == 2
    assert one_line(refused.stderr).startswith("wbctl: error: gcp-project is not set")
    assert "could not be read" in one_line(refused.stderr) and "Traceback" not in refused.stderr


def test_alerts_rules_name_the_resources_instance_and_project(wbctl, env) -> None:
    result = wbctl("alerts", "rules", "--format", "gcp", env=env)
    assert result.returncode == 0, result.stderr
    assert f"Bigtable instance {INSTANCE} " in result.stdout
    assert "wandb-bigtable" not in result.stdout  # not the naming rule's
    assert f'resource.labels.project_id = \\"{PROJECT}\\"' in result.stdout  # the queue's policies: its project
