"""`wbctl support bundle`: the tar.gz over the sandbox and over the Kubernetes fake with planted
credentials, a backend down, bad output paths and bounds."""

from __future__ import annotations

import base64
import os
import re
import tarfile
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import free_port
from tests.support.redis import REDIS_PASSWORD
from wbctl.core.support_bundle import MAX_CONTAINERS_PER_POD, MAX_PODS_PER_SERVICE
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.kube.objects.basics import find

URL_CREDENTIAL = re.compile(r"[a-z][a-z0-9+.-]*://(?!:?\*\*\*@)(?!:?\$\()[^\s/@\"<>]+@")


def _members(path: Path) -> dict[str, str]:
    """The archive's files by their name under its one top directory."""
    with tarfile.open(path, "r:gz") as tar:
        found = {}
        for member in tar.getmembers():
            top, _, name = member.name.partition("/")
            assert top == path.name.removesuffix(".tar.gz") and member.isfile()
            found[name] = tar.extractfile(member).read().decode()  # type: ignore[union-attr]
        return found


def _listed(manifest: str) -> list[str]:
    files = manifest.split("files:\n", 1)[1].split("\n\n", 1)[0]
    return [line.strip() for line in files.splitlines() if line.startswith("  ") and not line.startswith("    ")]


def test_sandbox_bundle_holds_every_listed_file_and_no_credential(wbctl, tmp_path: Path) -> None:
    import json

    out = tmp_path / "bundle.tar.gz"
    result = wbctl("--sandbox", "support", "bundle", "--output", str(out))
    assert result.returncode == 0, result.stderr
    assert result.stdout == f"{out}\n" and f"wrote {out}" in result.stderr
    assert out.stat().st_mode & 0o777 == 0o600  # the owner's only until it is sent
    files = _members(out)
    listed = _listed(files["MANIFEST"])
    assert set(listed) | {"MANIFEST"} == set(files)
    assert {"check.json", "runbook-queue-backlog.json", "versions", "weightsandbiases.json", "events.json"} <= set(
        listed
    )
    assert json.loads(files["check.json"])["findings"]
    assert json.loads(files["runbook-queue-backlog.json"])["verdict"]
    logs = {name: text for name, text in files.items() if name.startswith("logs/")}
    assert any(
        name.startswith("logs/wandb-flat-run-fields-updater/") and text.count("\n") > 10 for name, text in logs.items()
    )
    changes = json.loads(files["changes.json"])["changes"]  # the incident's updater rollout is in the window
    assert any(c["source"] == "rollout" and "0.70.1" in json.dumps(c) for c in changes), changes
    for name, text in files.items():
        assert not URL_CREDENTIAL.search(text), (name, URL_CREDENTIAL.search(text))
    assert not list(tmp_path.glob(".*.part"))


def test_logs_zero_and_the_default_name(wbctl, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = wbctl("--sandbox", "support", "bundle", "--logs", "0", "--since", "30m")
    assert result.returncode == 0, result.stderr
    (written,) = tmp_path.glob("wbctl-support-sandbox-queue-backlog-*.tar.gz")
    assert result.stdout == f"{written}\n"
    files = _members(written)
    assert not [name for name in files if name.startswith("logs/")]
    assert "logs: none (--logs 0)" in files["MANIFEST"]


# --- planted credentials over the Kubernetes fake -------------------------------------------------

PLANTED = {
    "cr_password": "Cr-Pa55word-7781",
    "cr_license": "lic-Zq81-0099-XYZ",
    "cr_url": "UrlCred-4471",
    "env_literal": "EnvLiteral-pw-5521",
    "env_url": "EnvUrl-Tok-8830",
    "secret": "SecretValue-Never-Read-31",
    "log_bearer": "LogBearerTok3nABCDEFGH",
    "log_url": "LogUrlPw-6612",
    "log_password": "LogPlainPw-7723",
    "mysql": "MysqlUrlPw-1188",
    "redis": REDIS_PASSWORD,
}


class PlantedLogs:
    """Pod logs that print credentials, as a careless service might."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def log(self, pod: Mapping[str, Any], container: str) -> Sequence[tuple[datetime, str]]:
        at = self.now() - timedelta(minutes=5)
        return [
            (at, f"level=INFO msg=request Authorization: Bearer {PLANTED['log_bearer']}"),
            (at, f"level=INFO msg=connecting url=mysql://wandb:{PLANTED['log_url']}@db:3306/wandb"),
            (at, f"level=ERROR msg=login failed password={PLANTED['log_password']} user=admin"),
            (at, f"level=INFO msg=served pod={pod['metadata']['name']}"),
        ]

    def usage(self, pod: Mapping[str, Any]) -> Mapping[str, tuple[float, int]]:
        return {}

    def node_usage(self, node: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
        return (0.0, 0)


def _planted_namespace() -> list[dict[str, Any]]:
    objs = chart_043()
    cr = next(obj for obj in objs if obj["kind"] == "WeightsAndBiases")
    values = cr["spec"].setdefault("values", {})
    glob = values.setdefault("global", {})
    glob["mysql"] = {**(glob.get("mysql") or {}), "password": PLANTED["cr_password"], "host": "db"}
    glob["license"] = PLANTED["cr_license"]
    glob["customStore"] = {"url": f"https://svc:{PLANTED['cr_url']}@vault.example.com/v1"}
    api = find(objs, "Deployment", "wandb-api")
    container = api["spec"]["template"]["spec"]["containers"][0]
    container["env"] = [
        *(container.get("env") or []),
        {"name": "SMTP_PASSWORD", "value": PLANTED["env_literal"]},
        {"name": "SENTRY", "value": f"https://{PLANTED['env_url']}@sentry.example.com/1"},
        {"name": "DB_PASSWORD", "valueFrom": {"secretKeyRef": {"name": "wandb-mysql", "key": "password"}}},
    ]
    crashing = next(o for o in objs if o["kind"] == "Pod" and o["metadata"]["name"].startswith("wandb-api-"))
    for status in crashing["status"].get("containerStatuses") or []:
        status["restartCount"] = 3
        status["lastState"] = {"terminated": {"reason": "OOMKilled", "exitCode": 137}}
    secret = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": "wandb-mysql", "namespace": "default"},
        "data": {"password": base64.b64encode(PLANTED["secret"].encode()).decode()},
    }
    return [*objs, secret]


def test_no_planted_credential_reaches_the_archive(
    wbctl, kube_api, redis_auth, isolated_env: Path, tmp_path: Path
) -> None:
    kube_api.add_all(_planted_namespace())
    kube_api.telemetry = PlantedLogs()
    env = {
        "KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")),
        "WBCTL_REDIS_URL": redis_auth.url.replace("redis://", f"redis://:{REDIS_PASSWORD}@"),
        "WBCTL_MYSQL_URL": f"mysql://wandb:{PLANTED['mysql']}@127.0.0.1:{free_port()}/wandb",  # down
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json"),
    }
    out = tmp_path / "b.tar.gz"
    result = wbctl("--timeout", "3", "support", "bundle", "--output", str(out), "--logs", "50", env=env)
    assert result.returncode == 3, result.stderr  # MySQL (and Google) could not be read
    files = _members(out)
    assert "mysql-flags.json" not in files
    assert re.search(r"not read .*\n(  .*\n)*  mysql-flags\.json: .*connection refused", files["MANIFEST"])
    assert {"weightsandbiases.json", "workloads.json", "redis-settings.json", "pods.json", "check.json"} <= set(files)
    assert any(name.startswith("logs/wandb-api/") and "msg=served" in text for name, text in files.items())
    everything = "\n".join([result.stdout, result.stderr, *files.values()])
    encoded = base64.b64encode(PLANTED["secret"].encode()).decode()
    leaked = [name for name, value in PLANTED.items() if value in everything] + (
        ["b64"] if encoded in everything else []
    )
    assert leaked == []
    assert "Secret wandb-mysql key password (not read)" in files["workloads.json"]  # named, not resolved
    assert kube_api.count(resource="secrets") == 0  # never asked for
    logs = [r for r in kube_api.requests if r.path.endswith("/log")]
    services = {r.path.split("/")[-2].rsplit("-", 2)[0] for r in logs}
    assert logs and len(logs) <= MAX_PODS_PER_SERVICE * MAX_CONTAINERS_PER_POD * len(services)
    assert all(r.query["tailLines"] == "50" and r.query["sinceSeconds"] == "7200" for r in logs)
    assert [r.query.get("previous") for r in logs].count("true") == 1  # the restarted pod's previous run
    assert any(name.endswith(".previous.log") for name in files)
    events = [r for r in kube_api.requests if r.resource == "events"]
    # events.json: one page by namespace; the runbook's and changes.json's timelines: three
    # field-selected pages each (wbctl.adapters.kube.history); every one of them bounded
    whole = [r for r in events if r.query.get("fieldSelector") == "involvedObject.namespace=default"]
    assert len(whole) == 1 and len(events) <= 7
    assert all("limit" in r.query for r in events)
    assert "values.global.mysql.password" in files["MANIFEST"]


# --- bad input: one line, exit 2, nothing written -------------------------------------------------


def test_bad_output_paths_are_refused_before_anything_is_read(wbctl, tmp_path: Path) -> None:
    existing = tmp_path / "old.tar.gz"
    existing.write_text("keep me")
    a_file = tmp_path / "file"
    a_file.write_text("")
    cases = {
        str(tmp_path): "is a directory",
        str(existing): "already exists (add --force",
        str(tmp_path / "missing" / "b.tar.gz"): "does not exist",
        str(a_file / "b.tar.gz"): "does not exist",
        str(tmp_path / "b.zip"): "ending in .tar.gz",
    }
    before = sorted(os.listdir(tmp_path))
    for path, message in cases.items():
        result = wbctl("--sandbox", "support", "bundle", "--output", path)
        assert result.returncode == 2, (path, result.stderr)
        assert message in result.stderr and result.stderr.count("\n") == 1, result.stderr
        assert result.stdout == ""
    assert sorted(os.listdir(tmp_path)) == before and existing.read_text() == "keep me"


def test_absurd_logs_and_since_are_refused(wbctl) -> None:
    for args, message in (
        (("--logs", "10000000"), "at most 10000 lines"),
        (("--logs", "-1"), "whole number"),
        (("--since", "90d"), "at most"),
    ):
        result = wbctl("support", "bundle", *args)
        assert result.returncode == 2 and message in result.stderr and result.stderr.count("\n") == 1, result.stderr


def test_a_refused_kubernetes_read_is_a_note_and_the_rest_is_written(
    wbctl, kube_api, redis_server, isolated_env: Path, tmp_path: Path
) -> None:
    kube_api.add_all(chart_043())
    kube_api.forbid("list", "events")
    kube_api.forbid("get", "pods/log")
    env = {
        "KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")),
        "WBCTL_REDIS_URL": redis_server.url,
        "WBCTL_MYSQL_URL": f"mysql://wandb@127.0.0.1:{free_port()}/wandb",
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "none.json"),
    }
    out = tmp_path / "b.tar.gz"
    result = wbctl("--timeout", "3", "support", "bundle", "--output", str(out), env=env)
    assert result.returncode == 3
    files = _members(out)
    manifest = files["MANIFEST"]
    assert "  events.json: forbidden: list events in namespace default" in manifest
    assert re.search(r"  logs/wandb-\S+\.log: forbidden: get pods/log", manifest)  # the first few, named
    assert "events.json" not in files and not [name for name in files if name.startswith("logs/")]
    assert {"workloads.json", "pods.json", "pdbs.json", "redis-settings.json", "check.json"} <= set(files)
    assert "events.json: not read: forbidden" in result.stderr
    assert re.search(r"  logs/: \d+ more container logs not read", manifest)
    assert result.stderr.count("not read") <= 12  # one line per note, the logs' counted


def test_the_oom_killed_app_brings_its_previous_run_s_log(wbctl, tmp_path: Path) -> None:
    """The misconfigured story's wandb-app is OOM killed every few minutes: the bundle holds what
    the killed run printed, and its pod status says why it ended."""
    import json

    out = tmp_path / "b.tar.gz"
    result = wbctl("--sandbox", "--scenario", "misconfigured", "support", "bundle", "--output", str(out))
    assert result.returncode == 0, result.stderr
    files = _members(out)
    assert [name for name in files if name.startswith("logs/wandb-app/") and name.endswith(".previous.log")]
    pods = {pod["name"]: pod for pod in json.loads(files["pods.json"])}
    assert any(pod["service"] == "wandb-app" and "OOMKilled" in pod["lastTerminated"] for pod in pods.values())
    health = {f["check"]: f for f in json.loads(files["check.json"])["findings"]}["services.wandb-app.health"]
    assert health["status"] == "fail"
