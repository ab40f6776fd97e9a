"""`wbctl deploy auditor` as a subprocess: the committed docs/deploy/auditor.yaml is its output
for the default configuration (one source of truth), a context's settings reach the ConfigMap,
no password reaches stdout or stderr, and every bad option exits 2 with one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.support.text import commands_listed, one_line

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "deploy" / "auditor.yaml"


def test_the_committed_manifests_are_the_default_output(wbctl) -> None:
    result = wbctl("deploy", "auditor")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == COMMITTED.read_text(), (
        "docs/deploy/auditor.yaml is stale: regenerate it with `wbctl deploy auditor > docs/deploy/auditor.yaml` "
        "(no config file, no WBCTL_* variables)"
    )


def test_the_contexts_settings_and_options_reach_the_manifests(wbctl, isolated_env: Path) -> None:
    config = isolated_env / "wbctl.toml"
    config.write_text(
        'current-context = "prod"\n[contexts.prod]\nnamespace = "wandb"\ngcp-project = "my-proj"\n'
        'kube-context = "gke_my-proj_us-central1_c1"\nredis-url = "rediss://10.0.0.3:6378/0"\n'
        'redis-ca-file = "/etc/wbctl/memorystore-ca.pem"\nqueue-allowed-age = "10m"\n'
    )
    result = wbctl(
        "deploy",
        "auditor",
        "--namespace",
        "ops",
        "--schedule",
        "0 * * * *",
        "--push-url",
        "https://pgw.example.com",
        "--image",
        "us-docker.pkg.dev/my-proj/tools/wbctl:0.1.0",
        env={"WBCTL_CONFIG": str(config)},
    )
    assert result.returncode == 0, result.stderr
    assert one_line(result.stderr).startswith("warning: redis-ca-file is a file on this machine")
    objects = {doc["kind"]: doc for doc in yaml.safe_load_all(result.stdout) if doc}
    assert objects["Role"]["metadata"]["namespace"] == "wandb" and objects["CronJob"]["metadata"]["namespace"] == "ops"
    annotations = objects["ServiceAccount"]["metadata"]["annotations"]
    assert annotations == {"iam.gke.io/gcp-service-account": "wbctl-auditor@my-proj.iam.gserviceaccount.com"}
    assert "my-proj.svc.id.goog[ops/wbctl-auditor]" in result.stdout
    toml = objects["ConfigMap"]["data"]["config.toml"]
    assert (
        'current-context = "prod"' in toml and 'gcp-project = "my-proj"' in toml and "queue-allowed-age = 600" in toml
    )
    assert 'redis-url = "rediss://10.0.0.3:6378/0"' in toml and "kube-context" not in toml and "ca-file" not in toml
    container = objects["CronJob"]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert container["image"] == "us-docker.pkg.dev/my-proj/tools/wbctl:0.1.0"
    assert container["args"][-1] == "https://pgw.example.com"


def test_json_is_one_list_document(wbctl) -> None:
    result = wbctl("deploy", "auditor", "-o", "json")
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["kind"] == "List" and [item["kind"] for item in document["items"]] == [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ClusterRole",
        "ClusterRoleBinding",
        "ConfigMap",
        "CronJob",
    ]
    assert document["items"] == [doc for doc in yaml.safe_load_all(COMMITTED.read_text()) if doc]
    assert wbctl("deploy", "auditor", env={"WBCTL_OUTPUT": "json"}).json() == document


def test_no_secret_reaches_the_output(wbctl, isolated_env: Path) -> None:
    secrets = ["redis-Pa55-in-url", "mysql-Pa55-in-url", "redis-Pa55-in-env", "mysql-Pa55-in-env"]
    env = {
        "WBCTL_REDIS_URL": f"redis://default:{secrets[0]}@10.0.0.3:6379/0",
        "WBCTL_MYSQL_URL": f"mysql://wandb:{secrets[1]}@10.0.0.4:3306/wandb_local",
        "WBCTL_REDIS_PASSWORD": secrets[2],
        "WBCTL_MYSQL_PASSWORD": secrets[3],
    }
    for output in ("yaml", "json"):
        result = wbctl("deploy", "auditor", "-o", output, env=env)
        assert result.returncode == 0, result.stderr
        for secret in secrets:
            assert secret not in result.stdout and secret not in result.stderr
        assert "***" not in result.stdout  # removed, not masked: the Secret supplies them
        assert (
            "redis://default@10.0.0.3:6379/0" in result.stdout
            and "mysql://wandb@10.0.0.4:3306/wandb_local" in result.stdout
        )


@pytest.mark.parametrize(
    ("args", "start"),
    [
        (("--schedule", "*/5 * * *"), "--schedule '*/5 * * *': expected five cron fields"),
        (("--schedule", "0 24 * * *"), "--schedule '0 24 * * *': invalid hour field '24'"),
        (("--namespace", "Ops_1"), "--namespace 'Ops_1': expected a DNS-1123 label"),
        (("--push-url", "pushgateway:9091"), "--push-url pushgateway:9091: expected an http:// or https:// URL"),
        (("--push-url", "http://u:hunter2@pgw:9091"), "--push-url: a user or password in the URL"),
        (("--image", "Registry/WBCTL"), "--image 'Registry/WBCTL': expected an image reference"),
        (
            ("--gcp-service-account", "not-an-email"),
            "--gcp-service-account 'not-an-email': expected a service account email",
        ),
        (("-o", "table"), "-o table: expected one of yaml, json"),
    ],
)
def test_a_bad_option_exits_2_with_one_line(wbctl, args: tuple[str, ...], start: str) -> None:
    result = wbctl("deploy", "auditor", *args)
    assert result.returncode == 2 and result.stdout == ""
    line = one_line(result.stderr)
    assert line.startswith(f"wbctl: error: {start}"), line
    assert "hunter2" not in line


def test_the_group_alone_lists_its_commands_and_exits_2(wbctl) -> None:
    result = wbctl("deploy")
    assert (result.returncode, result.stderr) == (2, "")
    assert commands_listed(result.stdout) == ["auditor", "dashboard"]
