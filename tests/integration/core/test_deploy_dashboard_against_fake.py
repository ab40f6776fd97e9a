"""`wbctl deploy dashboard`'s ConfigMap through the real kubectl against FakeKubeAPI over TLS:
a server dry run stores nothing, an apply creates it, a second apply leaves it unchanged, and
the kubernetes client reads it back (V1ConfigMap) with the label the sidecar selects by
(`list_namespaced_config_map(label_selector="grafana_dashboard=1")`, as the sidecar lists) and
the JSON of the dashboard byte for byte. `--validate=false` as in test_deploy_against_fake.py:
the fake serves no /openapi. The GrafanaDashboard is a CRD the fake does not serve; its schema is
checked against grafana-operator's CRD in tests/unit/core/test_deploy_dashboard.py."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
import yaml
from kubernetes import client, config

from tests.integration.core.test_deploy_against_fake import apply
from tests.support.cli import InProcess
from wbctl.sandbox.kube.api import FakeKubeAPI

pytestmark = pytest.mark.skipif(shutil.which("kubectl") is None, reason="kubectl is not installed")


def dashboard(*args: str) -> str:
    result = InProcess(dict(os.environ))("deploy", "dashboard", *args)
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_server_dry_run_stores_nothing(kube_api_tls: FakeKubeAPI, isolated_env: Path, tmp_path: Path) -> None:
    kubeconfig = kube_api_tls.write_kubeconfig(tmp_path / "kubeconfig")
    result = apply(kubeconfig, dashboard(), "--dry-run=server")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "configmap/wbctl-dashboard created (server dry run)"
    assert kube_api_tls.objects("configmaps") == []


def test_apply_creates_it_once_and_the_client_reads_the_dashboard_back(
    kube_api_tls: FakeKubeAPI, isolated_env: Path, tmp_path: Path
) -> None:
    kubeconfig = kube_api_tls.write_kubeconfig(tmp_path / "kubeconfig")
    stream = dashboard("--folder", "W&B")
    created = apply(kubeconfig, stream)
    assert created.returncode == 0 and created.stdout.strip() == "configmap/wbctl-dashboard created", created.stderr
    again = apply(kubeconfig, dashboard("--folder", "W&B"))
    assert again.returncode == 0 and again.stdout.strip() == "configmap/wbctl-dashboard unchanged", again.stdout

    configuration = client.Configuration()
    config.load_kube_config(config_file=str(kubeconfig), context="fake", client_configuration=configuration)
    with client.ApiClient(configuration) as api:
        listed = client.CoreV1Api(api).list_namespaced_config_map("monitoring", label_selector="grafana_dashboard=1")
    (read,) = listed.items
    assert isinstance(read, client.V1ConfigMap) and read.metadata.name == "wbctl-dashboard"
    assert read.metadata.annotations["grafana_folder"] == "W&B"
    (printed,) = [doc for doc in yaml.safe_load_all(stream) if doc]
    assert read.data == printed["data"]
    assert json.loads(read.data["wbctl-runbook.json"])["uid"] == "wbctl-runbook"
