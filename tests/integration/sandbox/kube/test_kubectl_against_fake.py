"""The real kubectl against FakeKubeAPI over TLS, as an engineer uses it beside wbctl during a
rehearsal: discovery (legacy documents, short names), server-side Tables for `get` (the columns
a real API server sends for Deployments, HPAs, Pods and a CRD without printer columns),
`describe` with its Events, the scale subresource with and without server dry run, a custom
resource by short name, and the bearer token over HTTPS (wrong token: 401) under a verified
certificate. The Python client and wbctl's KubeAdapter over the same TLS fake, and the Table
documents themselves, are tested in test_fake_kube_api.py, which needs no kubectl.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI

KUBECTL = shutil.which("kubectl")
pytestmark = pytest.mark.skipif(KUBECTL is None, reason="kubectl is not installed (it comes with the Google Cloud SDK)")

HPA = "wandb-flat-run-fields-updater"


@pytest.fixture
def fake(kube_api_tls: FakeKubeAPI) -> FakeKubeAPI:
    kube_api_tls.add_all(fx.chart_043())  # with its WeightsAndBiases CR
    return kube_api_tls


@pytest.fixture
def kubeconfig(fake: FakeKubeAPI, tmp_path: Path) -> Path:
    return fake.write_kubeconfig(tmp_path / "kubeconfig")


def kubectl(kubeconfig: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real kubectl with its discovery cache beside the kubeconfig, never in HOME."""
    assert KUBECTL is not None
    result = subprocess.run(
        [KUBECTL, "--kubeconfig", str(kubeconfig), "--cache-dir", str(kubeconfig.parent / "kube-cache"), *args],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if check:
        assert result.returncode == 0, f"kubectl {' '.join(args)} failed:\n{result.stderr}"
    return result


def tables(output: str) -> list[list[dict[str, str]]]:
    """kubectl's table output (one block per kind, blank lines between) as rows of column -> cell,
    cut at the header's column starts so that empty cells and `NOMINATED NODE` parse right."""
    blocks: list[list[dict[str, str]]] = []
    for block in re.split(r"\n\s*\n", output.strip()):
        header, *lines = block.splitlines()
        spans = [(m.group(), m.start()) for m in re.finditer(r"\S+(?: \S+)*", header)]
        rows = []
        for line in lines:
            cells = {}
            for i, (name, start) in enumerate(spans):
                end = spans[i + 1][1] if i + 1 < len(spans) else None
                cells[name] = line[start:end].strip()
            rows.append(cells)
        blocks.append(rows)
    return blocks


# --- get: server-side Tables --------------------------------------------------------------------


def test_get_deploy_hpa_pods_wandb_wide(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    out = kubectl(kubeconfig, "get", "deploy,hpa,pods,wandb", "-o", "wide").stdout
    headers = [line.split() for line in out.splitlines() if line.startswith("NAME")]
    assert headers == [
        ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE", "CONTAINERS", "IMAGES", "SELECTOR"],
        ["NAME", "REFERENCE", "TARGETS", "MINPODS", "MAXPODS", "REPLICAS", "AGE"],
        ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "IP", "NODE", "NOMINATED", "NODE", "READINESS", "GATES"],
        ["NAME", "AGE"],
    ]
    deployments, hpas, pods, crs = tables(out)

    api = next(row for row in deployments if row["NAME"] == "deployment.apps/wandb-api")
    assert (api["READY"], api["UP-TO-DATE"], api["AVAILABLE"], api["AGE"]) == ("3/3", "3", "3", "30d")
    assert api["CONTAINERS"] == "api" and api["IMAGES"].endswith("/wandb/megabinary:latest")
    assert api["SELECTOR"] == "app.kubernetes.io/instance=wandb,app.kubernetes.io/name=api"
    assert len(deployments) == len(fake.objects("deployments", "default"))
    assert all(row["READY"] == "3/3" for row in deployments)

    updater = next(row for row in hpas if row["NAME"] == f"horizontalpodautoscaler.autoscaling/{HPA}")
    assert updater["REFERENCE"] == "Deployment/wandb-flat-run-fields-updater-bc"
    assert (updater["TARGETS"], updater["MINPODS"], updater["MAXPODS"], updater["REPLICAS"]) == (
        "cpu: 42%/80%",
        "1",
        "10",
        "3",
    )

    assert len(pods) == len(fake.objects("pods", "default"))
    first = pods[0]
    assert first["READY"] == "1/1" and first["STATUS"] == "Running" and first["RESTARTS"] == "0"
    assert re.fullmatch(r"10\.52\.\d+\.\d+", first["IP"]) and first["NODE"].startswith("gke-wandb-pool-")
    assert first["NOMINATED NODE"] == "<none>" and first["READINESS GATES"] == "<none>"

    assert crs == [{"NAME": "weightsandbiases.apps.wandb.com/wandb", "AGE": "90d"}]
    lists = [r for r in fake.requests if r.verb == "list"]
    assert {r.resource for r in lists} == {"deployments", "horizontalpodautoscalers", "pods", "weightsandbiases"}
    assert all("as=Table" in r.headers["accept"] and r.query["limit"] == "500" for r in lists)


def test_get_pods_plain_and_an_unhealthy_pod(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    pod = fake.objects("pods", "default")[0]
    fake.add(fx.crash_looping(pod, restarts=7))
    out = kubectl(kubeconfig, "get", "pods").stdout
    assert out.splitlines()[0].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]
    (rows,) = tables(out)
    assert len(rows) == len(fake.objects("pods", "default"))
    broken = next(row for row in rows if row["NAME"] == pod["metadata"]["name"])
    assert broken["READY"] == "0/1" and broken["STATUS"] == "CrashLoopBackOff"
    assert re.fullmatch(r"7 \(\S+ ago\)", broken["RESTARTS"])


# --- describe, scale, the CR by short name ------------------------------------------------------


def test_describe_hpa_shows_conditions_and_its_own_events(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    out = kubectl(kubeconfig, "describe", "hpa", HPA).stdout
    assert re.search(r"Reference:\s+Deployment/wandb-flat-run-fields-updater-bc", out)
    assert re.search(r"Min replicas:\s+1", out) and re.search(r"Max replicas:\s+10", out)
    assert "42% (42m) / 80%" in out
    conditions = out.split("Conditions:", 1)[1].split("Events:", 1)[0]
    for condition in ("AbleToScale", "ScalingActive", "ScalingLimited"):
        assert condition in conditions
    events = out.split("Events:", 1)[1]
    assert re.search(r"Normal\s+SuccessfulRescale\s+\S+\s+horizontal-pod-autoscaler\s+New size: 3", events)
    assert events.count("SuccessfulRescale") == 1  # not the other HPA's event
    (search,) = [r for r in fake.requests if r.resource == "events"]
    assert f"involvedObject.name={HPA}" in search.query["fieldSelector"]
    assert "involvedObject.kind=HorizontalPodAutoscaler" in search.query["fieldSelector"]


def test_scale_server_dry_run_changes_nothing_and_scale_does(fake: FakeKubeAPI, kubeconfig: Path) -> None:
    fake.merge("deployments", "default", "wandb-api", {"spec": {"replicas": 2}})  # the operator scaled it down
    before = fake.get("deployments", "default", "wandb-api")
    assert before is not None

    out = kubectl(kubeconfig, "scale", "deployment/wandb-api", "--replicas", "3", "--dry-run=server").stdout
    assert out.strip() == "deployment.apps/wandb-api scaled (server dry run)"
    assert fake.get("deployments", "default", "wandb-api") == before
    (dry,) = [r for r in fake.requests if r.method == "PATCH"]
    assert (dry.resource, dry.query, dry.content_type, dry.body) == (
        "deployments/scale",
        {"dryRun": "All"},
        "application/merge-patch+json",
        {"spec": {"replicas": 3}},
    )

    out = kubectl(kubeconfig, "scale", "deployment/wandb-api", "--replicas", "3").stdout
    assert out.strip() == "deployment.apps/wandb-api scaled"
    after = fake.get("deployments", "default", "wandb-api")
    assert after is not None and after["spec"]["replicas"] == 3
    assert after["metadata"]["generation"] == before["metadata"]["generation"] + 1
    assert tables(kubectl(kubeconfig, "get", "deploy", "wandb-api").stdout)[0][0]["READY"] == "3/3"


def test_get_the_cr_by_short_name_as_yaml(kubeconfig: Path) -> None:
    cr = yaml.safe_load(kubectl(kubeconfig, "get", "wandb", "wandb", "-o", "yaml").stdout)
    assert (cr["apiVersion"], cr["kind"], cr["metadata"]["name"]) == ("apps.wandb.com/v1", "WeightsAndBiases", "wandb")
    assert cr["spec"]["chart"]["version"] == "0.43.8"
    resources = kubectl(kubeconfig, "api-resources", "--api-group=apps.wandb.com", "--no-headers").stdout.split()
    assert resources == ["weightsandbiases", "wandb", "apps.wandb.com/v1", "true", "WeightsAndBiases"]


# --- authentication over TLS --------------------------------------------------------------------


def test_the_token_is_checked_over_tls(fake: FakeKubeAPI, kubeconfig: Path, tmp_path: Path) -> None:
    kubectl(kubeconfig, "get", "deploy", "wandb-api")
    assert fake.requests and all(r.headers.get("authorization") == f"Bearer {fake.token}" for r in fake.requests)

    wrong = yaml.safe_load(kubeconfig.read_text())
    wrong["users"][0]["user"]["token"] = "not-the-token"
    wrong_path = tmp_path / "wrong" / "kubeconfig"
    wrong_path.parent.mkdir()
    wrong_path.write_text(yaml.safe_dump(wrong))
    refused = kubectl(wrong_path, "get", "deploy", "wandb-api", check=False)
    assert refused.returncode == 1 and "You must be logged in to the server" in refused.stderr
    assert fake.requests[-1].headers.get("authorization") == "Bearer not-the-token"


def test_the_server_certificate_is_verified(fake: FakeKubeAPI, kubeconfig: Path, tmp_path: Path) -> None:
    assert fake.url.startswith("https://127.0.0.1:")
    cluster = yaml.safe_load(kubeconfig.read_text())["clusters"][0]["cluster"]
    assert "insecure-skip-tls-verify" not in cluster and cluster["certificate-authority-data"]
    untrusting = yaml.safe_load(kubeconfig.read_text())
    del untrusting["clusters"][0]["cluster"]["certificate-authority-data"]
    path = tmp_path / "untrusting" / "kubeconfig"
    path.parent.mkdir()
    path.write_text(yaml.safe_dump(untrusting))
    refused = kubectl(path, "get", "deploy", check=False)
    assert refused.returncode == 1 and "certificate signed by unknown authority" in refused.stderr
