"""`wbctl deploy auditor`'s stream through the real kubectl against FakeKubeAPI over TLS:
`kubectl apply --dry-run=server -f -` accepts every document and stores nothing, and a real
apply creates them. `--validate=false`: the fake serves no /openapi, which kubectl's client-side
schema validation downloads (the objects' required fields are checked in
tests/unit/core/test_deploy.py; the fake checks what it validates server-side)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support.cli import InProcess
from wbctl.sandbox.kube.api import FakeKubeAPI

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (it comes with the Google Cloud SDK)")

KINDS = [
    ("serviceaccounts", "wbctl-auditor"),
    ("roles", "wbctl-auditor"),
    ("rolebindings", "wbctl-auditor"),
    ("clusterroles", "wbctl-auditor-read-nodes"),
    ("configmaps", "wbctl-auditor"),
    ("cronjobs", "wbctl-auditor"),
]


def auditor(isolated_env: Path, *args: str) -> str:
    result = InProcess(dict(os.environ))("deploy", "auditor", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def apply(kubeconfig: Path, stream: str, *flags: str) -> subprocess.CompletedProcess[str]:
    assert KUBECTL is not None
    return subprocess.run(
        [
            KUBECTL,
            "--kubeconfig",
            str(kubeconfig),
            "--cache-dir",
            str(kubeconfig.parent / "kube-cache"),
            "apply",
            "--validate=false",
            *flags,
            "-f",
            "-",
        ],
        input=stream,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args",
    [(), ("--namespace", "ops", "-o", "json"), ("--schedule", "0 */2 * * MON-FRI")],
    ids=["yaml", "json-other-namespace", "schedule"],
)
def test_server_dry_run_accepts_every_document_and_stores_nothing(
    kube_api_tls: FakeKubeAPI, isolated_env: Path, tmp_path: Path, args: tuple[str, ...]
) -> None:
    kubeconfig = kube_api_tls.write_kubeconfig(tmp_path / "kubeconfig")
    result = apply(kubeconfig, auditor(isolated_env, *args), "--dry-run=server")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 7 and all(line.endswith("created (server dry run)") for line in lines), result.stdout
    creates = [r for r in kube_api_tls.requests if r.method == "POST"]
    assert len(creates) == 7 and all(r.query.get("dryRun") == "All" for r in creates)
    for resource, _name in KINDS:
        assert kube_api_tls.objects(resource) == [], resource
    assert kube_api_tls.objects("clusterrolebindings") == []


def test_apply_creates_them(kube_api_tls: FakeKubeAPI, isolated_env: Path, tmp_path: Path) -> None:
    kubeconfig = kube_api_tls.write_kubeconfig(tmp_path / "kubeconfig")
    result = apply(kubeconfig, auditor(isolated_env, "--schedule", "*/10 * * * *"))
    assert result.returncode == 0, result.stderr
    for resource, name in KINDS:
        assert kube_api_tls.get(resource, "default", name) is not None, resource
    cronjob = kube_api_tls.get("cronjobs", "default", "wbctl-auditor")
    assert cronjob is not None and cronjob["spec"]["schedule"] == "*/10 * * * *"
    again = apply(kubeconfig, auditor(isolated_env, "--schedule", "*/10 * * * *"))  # idempotent: unchanged
    assert again.returncode == 0 and all(line.endswith("unchanged") for line in again.stdout.strip().splitlines()), (
        again.stdout
    )
