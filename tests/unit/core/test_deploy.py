"""The auditor's manifests (wbctl/core/deploy.py): the Role is docs/permissions.md's read-only
set (parsed from the document, so the two cannot drift), the config file carries the context's
settings back through wbctl's own loader and no secret, and each object has what its kind
requires and the hardening the brief asks for."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from wbctl import config
from wbctl.config.keys import KEYS
from wbctl.core import deploy
from wbctl.environment import Environment

ROOT = Path(__file__).resolve().parents[3]
DEFAULTS = {name: key.default for name, key in KEYS.items()}


def request(settings: dict[str, Any] | None = None, **options: Any) -> deploy.AuditorRequest:
    values = {**DEFAULTS, **(settings or {})}
    options.setdefault("image", "registry.example.com/wbctl:1.0")
    return deploy.AuditorRequest(context=options.pop("context", "prod"), settings=values, defaults=DEFAULTS, **options)


def by_kind(documents: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {document["kind"]: document for document in documents}


def permissions_read_only() -> list[dict[str, Any]]:
    """The YAML blocks of docs/permissions.md's "Read-only" section: its Role and ClusterRole."""
    text = (ROOT / "docs" / "permissions.md").read_text()
    section = text.split("### Read-only", 1)[1].split("\n### ", 1)[0]
    first_block = re.findall(r"```yaml\n(.*?)```", section, re.S)[0]
    return [doc for doc in yaml.safe_load_all(first_block) if doc]


# --- RBAC: exactly the documented read-only set -----------------------------------------------


def test_the_roles_are_the_documented_read_only_set() -> None:
    documented = {doc["kind"]: doc["rules"] for doc in permissions_read_only()}
    assert set(documented) == {"Role", "ClusterRole"}
    objects = by_kind(deploy.manifests(request()))
    assert objects["Role"]["rules"] == documented["Role"]
    assert objects["ClusterRole"]["rules"] == documented["ClusterRole"]


def test_every_rule_only_reads() -> None:
    for document in deploy.manifests(request()):
        for rule in document.get("rules", []):
            assert set(rule["verbs"]) <= {"get", "list", "watch"}, rule
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"] + rule["apiGroups"]


def test_the_bindings_name_the_auditor_in_its_namespace_and_the_role_in_wandbs() -> None:
    objects = by_kind(deploy.manifests(request({"namespace": "wandb"}, namespace="monitoring")))
    subject = {"kind": "ServiceAccount", "name": "wbctl-auditor", "namespace": "monitoring"}
    assert objects["RoleBinding"]["subjects"] == [subject] and objects["ClusterRoleBinding"]["subjects"] == [subject]
    assert objects["Role"]["metadata"]["namespace"] == objects["RoleBinding"]["metadata"]["namespace"] == "wandb"
    assert objects["RoleBinding"]["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": "wbctl-auditor",
    }
    assert objects["ClusterRoleBinding"]["metadata"]["name"] == "wbctl-auditor-read-nodes-monitoring"
    for kind in ("ServiceAccount", "ConfigMap", "CronJob"):
        assert objects[kind]["metadata"]["namespace"] == "monitoring"
    assert "namespace" not in objects["ClusterRole"]["metadata"]


# --- the objects --------------------------------------------------------------------------------

REQUIRED = {  # what the API server requires of each kind (a schema check beside the real dry run)
    "ServiceAccount": (),
    "Role": ("rules",),
    "RoleBinding": ("subjects", "roleRef"),
    "ClusterRole": ("rules",),
    "ClusterRoleBinding": ("subjects", "roleRef"),
    "ConfigMap": ("data",),
    "CronJob": ("spec.schedule", "spec.jobTemplate.spec.template.spec.containers"),
}


def path(obj: dict[str, Any], dotted: str) -> Any:
    for part in dotted.split("."):
        obj = obj[part]
    return obj


def test_each_object_has_what_its_kind_requires() -> None:
    documents = deploy.manifests(request())
    assert [doc["kind"] for doc in documents] == list(REQUIRED)
    for document in documents:
        assert document["apiVersion"] and re.fullmatch(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?", document["metadata"]["name"])
        assert "app.kubernetes.io/instance" not in document["metadata"]["labels"]  # wbctl selects W&B's own by it
        for field in REQUIRED[document["kind"]]:
            assert path(document, field), (document["kind"], field)


def test_the_cronjob_runs_check_hardened_and_bounded() -> None:
    cronjob = by_kind(deploy.manifests(request(schedule="0 * * * *", push_url="https://pgw.example.com:9091")))[
        "CronJob"
    ]
    spec = cronjob["spec"]
    assert spec["schedule"] == "0 * * * *" and spec["concurrencyPolicy"] == "Forbid"
    assert spec["successfulJobsHistoryLimit"] >= 0 and spec["failedJobsHistoryLimit"] >= 0
    job = spec["jobTemplate"]["spec"]
    assert 0 < job["activeDeadlineSeconds"] <= 300
    pod = job["template"]["spec"]
    assert pod["serviceAccountName"] == "wbctl-auditor" and pod["restartPolicy"] == "Never"
    assert pod["securityContext"]["runAsNonRoot"] is True and pod["securityContext"]["runAsUser"] > 0
    (container,) = pod["containers"]
    assert container["args"] == ["check", "--exit-zero", "-o", "prometheus", "--push", "https://pgw.example.com:9091"]
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["resources"]["requests"] and container["resources"]["limits"]
    env = {e["name"]: e for e in container["env"]}
    assert env["WBCTL_CONFIG"]["value"] == "/etc/wbctl/config.toml"
    for var, key in (("WBCTL_REDIS_PASSWORD", "redis-password"), ("WBCTL_MYSQL_PASSWORD", "mysql-password")):
        assert env[var]["valueFrom"]["secretKeyRef"] == {"name": "wbctl-auditor", "key": key, "optional": True}
    assert set(deploy.SECRET_KEYS) == set(config.SECRET_ENV.values())  # the variables wbctl really reads


def test_workload_identity_annotation_and_gcloud_commands() -> None:
    req = request({"gcp-project": "my-proj"}, namespace="ops")
    sa = by_kind(deploy.manifests(req))["ServiceAccount"]
    assert sa["metadata"]["annotations"] == {
        "iam.gke.io/gcp-service-account": "wbctl-auditor@my-proj.iam.gserviceaccount.com"
    }
    commands = deploy.gcloud_commands(req)
    assert (
        "gcloud iam service-accounts add-iam-policy-binding wbctl-auditor@my-proj.iam.gserviceaccount.com "
        '--role roles/iam.workloadIdentityUser --member "serviceAccount:my-proj.svc.id.goog[ops/wbctl-auditor]"'
    ) in commands
    for role in ("roles/bigtable.viewer", "roles/monitoring.viewer"):  # docs/permissions.md's read-only row
        assert any(f"--role {role}" in command for command in commands)
        assert role in (ROOT / "docs" / "permissions.md").read_text()
    email = "audit@other.iam.gserviceaccount.com"
    assert by_kind(deploy.manifests(request(gcp_service_account=email)))["ServiceAccount"]["metadata"][
        "annotations"
    ] == {"iam.gke.io/gcp-service-account": email}


# --- the config file ----------------------------------------------------------------------------


def test_the_config_file_loads_back_with_the_contexts_settings(tmp_path: Path) -> None:
    settings = {
        "namespace": "wandb",
        "instance": "wb",
        "gcp-project": "my-proj",
        "kube-context": "gke_my-proj_us_c1",
        "bigtable-instance": "wb-bt",
        "queue-source": "pubsub",
        "queue-allowed-age": 600,
        "queue-retention": 86400,
        "queue-partitions": 12,
        "metrics-source": "prometheus",
        "prometheus-url": "http://prom.monitoring:9090",
        "redis-url": "rediss://default:hunter2@10.0.0.3:6378/0",
        "redis-ca-file": "/home/me/ca.pem",
        "mysql-url": "mysql://wandb:hunter3@10.0.0.4:3306/wandb_local",
        "gcp-emulator-host": "127.0.0.1:8086",
        "noisy-run-query": 'promql:wandb_run_updates_total{job="x\\"y"}',
        "timeout": 20.0,
        "prometheus-query-queue-lag": "sum(lag)",
    }
    req = request(settings, context="prod env", redis_settings={"bigtablev3.filestream.write_cache_size": "20000000"})
    text = deploy.config_toml(req)
    assert "hunter" not in text and "kube-context" not in text and "emulator" not in text and "ca-file" not in text
    path = tmp_path / "config.toml"
    path.write_text(text)
    loaded = config.load(Environment(environ={"WBCTL_CONFIG": str(path), "HOME": str(tmp_path)}))
    assert loaded.context == "prod env" and loaded.read_only
    for key in (
        "namespace",
        "instance",
        "gcp-project",
        "bigtable-instance",
        "queue-source",
        "queue-allowed-age",
        "queue-retention",
        "queue-partitions",
        "metrics-source",
        "prometheus-url",
        "noisy-run-query",
        "timeout",
        "prometheus-query-queue-lag",
    ):
        assert loaded[key] == settings[key], key
    assert (
        loaded["redis-url"] == "rediss://default@10.0.0.3:6378/0"
    )  # the user stays, the password comes from the Secret
    assert loaded["mysql-url"] == "mysql://wandb@10.0.0.4:3306/wandb_local"
    assert loaded["kube-context"] is None and loaded["redis-ca-file"] is None
    assert loaded.redis_overrides["bigtablev3.filestream.write_cache_size"][0] == "20000000"
    assert req.left_behind() == ["redis-ca-file"]


def test_the_default_config_file_names_where_wandb_is() -> None:
    assert deploy.config_toml(request(context=None)).splitlines()[1:] == [
        'current-context = "default"',
        "",
        '[contexts."default"]',
        'namespace = "default"',
        'instance = "wandb"',
        "read-only = true",
    ]


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("redis://:pw@h:6379/0", "redis://h:6379/0"),
        ("mysql://wandb:p%40ss@[::1]:3306/db", "mysql://wandb@[::1]:3306/db"),
        ("mysql://wandb@h/db", "mysql://wandb@h/db"),
    ],
)
def test_without_password(url: str, expected: str) -> None:
    assert deploy.without_password(url) == expected


# --- the stream ---------------------------------------------------------------------------------


def test_the_yaml_stream_loads_back_to_the_objects() -> None:
    req = request({"gcp-project": "p"})
    documents = deploy.manifests(req)
    text = deploy.dump_yaml(req, documents)
    assert [doc for doc in yaml.safe_load_all(text) if doc] == documents
    assert "config.toml: |" in text  # the config file reads as a block
    assert all(line.startswith("#") for line in text.split("---", 1)[0].splitlines())
    assert deploy.as_list(documents) == {"apiVersion": "v1", "kind": "List", "items": documents}
