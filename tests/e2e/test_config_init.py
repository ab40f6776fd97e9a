"""`wbctl config init` against the Kubernetes API fake holding the real chart's objects: the
context read from the WeightsAndBiases resource and the workloads' variables, a diff, the
confirmation, the file kept around it, and never a secret written or printed."""

from __future__ import annotations

import io
import tomllib
from pathlib import Path
from typing import Any

import pytest

from wbctl.cli import main
from wbctl.environment import Environment
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043

# secrets the chart's WeightsAndBiases resource carries in its values (global.redis.password,
# global.bucket.secretKey): config init must never copy them anywhere
CR_SECRETS = ("redis123", "testpassword")
REDIS_CONFIGMAP = {
    "apiVersion": "v1",
    "kind": "ConfigMap",
    "metadata": {"name": "wandb-redis-configmap", "namespace": "default"},
    "data": {"REDIS_HOST": "10.0.0.3", "REDIS_PORT": "6378", "REDIS_PARAMS": "?tls=true&ttlInSeconds=604800"},
}


@pytest.fixture
def cluster(kube_api: FakeKubeAPI, isolated_env: Path) -> dict[str, str]:
    # Terraform named the instance after its own namespace variable, not after the resource
    kube_api.add_all(chart_043(project="acme-prod", bigtable_instance="acme-wandb"))
    kube_api.add(REDIS_CONFIGMAP)
    return {"KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig", context="gke-prod"))}


def config_file(isolated_env: Path) -> Path:
    return isolated_env / ".config" / "wbctl" / "config.toml"


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for secret in CR_SECRETS:
            assert secret not in text


def test_init_writes_the_context_the_cluster_describes(wbctl, cluster, isolated_env: Path) -> None:
    result = wbctl("config", "init", "--yes", env=cluster)
    assert result.returncode == 0, result.stderr
    path = config_file(isolated_env)
    text = path.read_text()
    assert tomllib.loads(text)["contexts"]["wandb"] == {
        "kube-context": "gke-prod",
        "namespace": "default",
        "instance": "wandb",
        "gcp-project": "acme-prod",
        "bigtable-instance": "acme-wandb",
        # the chart's fmb values run against an emulator (global.extraEnv BIGTABLE_EMULATOR_HOST)
        "gcp-emulator-host": "bigtable-wandb-base:8086",
        "queue-source": "pubsub",
        "redis-url": "rediss://10.0.0.3:6378/0",
        "mysql-url": "mysql://wandb@wandb-mysql:3306/wandb_local",
    }
    assert "+[contexts.wandb]" in result.stdout  # the diff came first
    assert "WBCTL_REDIS_PASSWORD" in text and "WBCTL_MYSQL_PASSWORD" in text and "redis-ca-file" in text
    assert "still to fill: redis-password" in result.stdout
    assert_no_secret(text, result.stdout, result.stderr)
    shown = wbctl("config", "show", "-o", "json", env=cluster).json()  # the file loads, the context is used
    assert shown["context"] == "wandb" and shown["settings"]["redis-url"] == "rediss://10.0.0.3:6378/0"


def test_json_is_one_document_and_dry_run_writes_nothing(wbctl, cluster, isolated_env: Path) -> None:
    result = wbctl("config", "init", "--dry-run", "-o", "json", "--context", "prod", env=cluster)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert (document["context"], document["resource"], document["written"]) == ("prod", "default/wandb", False)
    assert (document["chart"], document["generation"]) == ("0.43.8", 1)
    assert document["origins"]["redis-url"] == "deployment/wandb-api env REDIS_HOST, REDIS_PORT"
    assert set(document["to_fill"]) == {"redis-ca-file", "redis-password", "mysql-password"}
    assert not config_file(isolated_env).exists()
    assert_no_secret(result.stdout, result.stderr)
    written = wbctl("config", "init", "--yes", "-o", "json", env=cluster)
    assert written.json()["written"] is True


def test_no_terminal_and_no_yes_is_refused_and_nothing_written(wbctl, cluster, isolated_env: Path) -> None:
    result = wbctl("config", "init", env=cluster)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines()[-1] == (
        "wbctl: error: confirmation needed but there is no terminal to ask on: re-run with --yes"
    )
    assert not config_file(isolated_env).exists()


@pytest.mark.parametrize(("answer", "status"), [("y\n", 0), ("n\n", 4)])
def test_the_confirmation_on_a_terminal(cluster, isolated_env: Path, answer: str, status: int) -> None:
    import os

    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(
        environ={**os.environ, **cluster},
        stdin=io.StringIO(answer),
        stdout=stdout,
        stderr=stderr,
        stdin_isatty=True,
    )
    assert main(["config", "init"], env) == status, stderr.getvalue()
    assert "Write context 'wandb'" in stderr.getvalue()
    assert config_file(isolated_env).exists() is (status == 0)


def test_an_existing_context_is_kept_without_force_and_the_rest_of_the_file_always(
    wbctl, cluster, isolated_env: Path
) -> None:
    path = config_file(isolated_env)
    path.parent.mkdir(parents=True)
    before = '# ours\ncurrent-context = "wandb"\n\n[contexts.wandb]\nnamespace = "old"  # keep?\n\n[contexts.other]\n'
    path.write_text(before)
    result = wbctl("config", "init", "--yes", env=cluster)
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        == f"wbctl: error: config {path}: context 'wandb' exists already: pass --force to replace it"
    )
    assert path.read_text() == before
    assert wbctl("config", "init", "--yes", "--force", env=cluster).returncode == 0
    after = path.read_text()
    assert after.startswith('# ours\ncurrent-context = "wandb"\n\n[contexts.wandb]\nkube-context = "gke-prod"\n')
    assert after.endswith("[contexts.other]\n")
    assert tomllib.loads(after)["contexts"]["wandb"]["namespace"] == "default"
    assert wbctl("config", "init", "--yes", "--context", "second", env=cluster).returncode == 0
    assert set(tomllib.loads(path.read_text())["contexts"]) == {"wandb", "other", "second"}


def wandb_resource(namespace: str, name: str) -> dict[str, Any]:
    return {
        "apiVersion": "apps.wandb.com/v1",
        "kind": "WeightsAndBiases",
        "metadata": {"name": name, "namespace": namespace, "generation": 2},
        "spec": {"chart": {"version": "0.43.8"}, "values": {"global": {"mysql": {"host": "10.1.0.5", "user": "wb"}}}},
    }


def test_several_resources_need_a_namespace_and_none_is_exit_3(wbctl, cluster, kube_api, isolated_env: Path) -> None:
    kube_api.add(wandb_resource("team-b", "wb"))
    result = wbctl("config", "init", "--yes", env=cluster)
    assert result.returncode == 2
    assert result.stderr.strip() == (
        "wbctl: error: several WeightsAndBiases resources (default/wandb, team-b/wb): pass --namespace N to pick one"
    )
    result = wbctl("config", "init", "--yes", "-n", "team-b", env=cluster)
    assert result.returncode == 0, result.stderr
    context = tomllib.loads(config_file(isolated_env).read_text())["contexts"]["wb"]
    assert context["namespace"] == "team-b" and context["mysql-url"] == "mysql://wb@10.1.0.5:3306/"
    result = wbctl("config", "init", "--yes", "-n", "nowhere", env=cluster)
    assert result.returncode == 3
    assert result.stderr.count("\n") == 1 and "no WeightsAndBiases resource in namespace nowhere" in result.stderr


def test_bad_input_is_one_line_and_nothing_is_asked(wbctl, isolated_env: Path) -> None:
    assert wbctl("config", "init", "--context", " ").returncode == 2
    result = wbctl("--timeout", "0", "config", "init")
    assert result.returncode == 2 and result.stderr.startswith("wbctl: error: --timeout:")
    assert not config_file(isolated_env).exists()


def test_a_role_that_may_not_list_the_resource_is_exit_3_in_one_line(wbctl, cluster, kube_api) -> None:
    kube_api.faults.forbid("list", "weightsandbiases")  # everywhere: cluster-wide, then the context's namespace
    result = wbctl("config", "init", "--yes", env=cluster)
    assert result.returncode == 3
    assert result.stderr.splitlines() == [
        "wbctl: error: forbidden: list weightsandbiases.apps.wandb.com in namespace default "
        "(see docs/permissions.md for the Role wbctl needs)"
    ]
    assert [r.path for r in kube_api.faults.requests if r.resource == "weightsandbiases"] == [
        "/apis/apps.wandb.com/v1/weightsandbiases",
        "/apis/apps.wandb.com/v1/namespaces/default/weightsandbiases",
    ]


def test_the_sandbox_is_refused_in_one_line(wbctl, isolated_env: Path) -> None:
    for args, env in (
        (["--sandbox", "config", "init", "--yes"], {}),
        (["config", "init", "--yes"], {"WBCTL_SANDBOX": "1"}),
    ):
        result = wbctl(*args, env=env)
        assert result.returncode == 2 and result.stderr.count("\n") == 1, result.stderr
        assert "config init reads a real cluster, not --sandbox" in result.stderr
    assert not config_file(isolated_env).exists()
