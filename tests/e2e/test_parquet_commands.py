"""`wbctl parquet status` and `parquet fuse check|enable` against the Kubernetes API fake."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_0223, chart_043, csi_drivers

BLOCK = {
    "enabled": True,
    "resources": {
        "limits": {"cpu": "0", "memory": "0", "ephemeral-storage": "10Gi"},
        "requests": {"cpu": "0", "memory": "0"},
    },
}


@pytest.fixture
def env(kube_api: FakeKubeAPI, isolated_env: Path) -> dict[str, str]:
    return {"KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig"))}


def cr(kube_api: FakeKubeAPI) -> dict:
    return kube_api.get("weightsandbiases", "default", "wandb")


def deploy(kube_api: FakeKubeAPI, *, chart: str = "0.43", server: str | None = "0.70.1", gcsfuse: bool = True) -> None:
    kube_api.add_all((chart_043() if chart == "0.43" else chart_0223()) + csi_drivers(gcsfuse=gcsfuse))
    kube_api.merge(
        "weightsandbiases",
        "default",
        "wandb",
        {"spec": {"values": {"app": {"image": {"tag": server}}, "parquet": {"install": True, "keep": "me"}}}},
    )


def findings(wbctl, env) -> dict:
    return {f["check"]: f for f in wbctl("parquet", "fuse", "check", "-o", "json", env=env).json()["findings"]}


@pytest.mark.parametrize(
    ("server", "status"),
    [("0.64.9", "fail"), ("0.65.0", "ok"), ("v0.100.0", "ok"), ("0.65.0-rc1", "ok"), ("latest", "unknown")],
)
def test_server_version_gate(wbctl, kube_api, env, server, status) -> None:
    deploy(kube_api, server=server)
    assert findings(wbctl, env)["versions.server"]["status"] == status


def test_check_before_enabling(wbctl, kube_api, env) -> None:
    deploy(kube_api)
    result = wbctl("parquet", "fuse", "check", "-o", "json", env=env)
    assert result.returncode == 1
    f = {x["check"]: x for x in result.json()["findings"]}
    assert f["parquet.fuse"]["status"] == "fail" and f["parquet.fuse"]["remedy"] == "wbctl parquet fuse enable"
    assert f["parquet.csi-driver"]["status"] == "ok"
    assert f["versions.operator-chart"]["status"] == "ok"


def test_enable_keeps_every_other_value(wbctl, kube_api, env) -> None:
    deploy(kube_api)
    before = cr(kube_api)["spec"]["values"]["parquet"]
    result = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    parquet = cr(kube_api)["spec"]["values"]["parquet"]
    assert parquet["fuse"] == BLOCK
    assert {k: v for k, v in parquet.items() if k != "fuse"} == before
    assert findings(wbctl, env)["parquet.fuse"]["status"] == "warn"  # enabled; pods not rolled yet
    for pod in kube_api.objects("pods", "default"):  # play the operator: the rolled pods carry the annotation
        labels = pod["metadata"].get("labels", {})
        if labels.get("app.kubernetes.io/name") == "parquet" and "pod-template-hash" in labels:
            kube_api.merge(
                "pods",
                "default",
                pod["metadata"]["name"],
                {"metadata": {"annotations": {"gke-gcsfuse/volumes": "true"}}},
            )
    assert findings(wbctl, env)["parquet.fuse"]["status"] == "ok"
    again = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert again.returncode == 0 and "no changes" in again.stderr
    disabled = wbctl("parquet", "fuse", "enable", "--disable", "--yes", env=env)
    assert disabled.returncode == 0 and cr(kube_api)["spec"]["values"]["parquet"]["fuse"]["enabled"] is False


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"gcsfuse": False}, "enable_gcs_fuse_csi_driver = true"),
        ({"server": "0.64.0"}, "0.65.0 or later"),
        ({"server": None}, "server image: not set"),
    ],
)
def test_enable_refused_with_the_fix(wbctl, kube_api, env, setup, message) -> None:
    deploy(kube_api, **setup)
    before = cr(kube_api)
    result = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert result.returncode == 4
    assert message in result.stderr
    assert cr(kube_api) == before


def test_old_chart_is_refused(wbctl, kube_api, env) -> None:
    deploy(kube_api, chart="0.22")
    kube_api.merge("weightsandbiases", "default", "wandb", {"spec": {"chart": {"version": "0.21.0"}}})
    result = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert result.returncode == 4 and "0.22.3" in result.stderr


def test_status(wbctl, kube_api, env) -> None:
    deploy(kube_api)
    result = wbctl("parquet", "status", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["parquet"]["name"] == "wandb-parquet-bc"
    assert document["parquet_backfill"]["kind"] == "CronJob" and document["parquet_backfill"]["suspended"] is True
    assert document["executor"]["ready"] == 3
    assert document["csi_driver_installed"] is True and document["fuse_enabled_in_values"] is False
    assert document["pods_with_fuse_sidecar"] == {"annotated": 0, "pods": 3}
    assert wbctl("parquet", "status", env=env).returncode == 0


# --- the chart's conditions and its file cache (templates/_annotations.tpl, _volumes.tpl) ------


def test_status_shows_the_file_cache_capacity_the_chart_mounts_with(wbctl, kube_api, env) -> None:
    deploy(kube_api)
    kube_api.merge("weightsandbiases", "default", "wandb", {"spec": {"values": {"parquet": {"fuse": BLOCK}}}})
    document = wbctl("parquet", "status", "-o", "json", env=env).json()
    assert document["fuse_file_cache_capacity"] == {
        "value": "9.5Gi",
        "path": "parquet.fuse.fileCacheCapacity",
        "chart_default": True,
    }
    assert (document["bucket_provider"]["value"], document["cloud_provider"]["value"]) == ("gcs", "gcp")
    kube_api.merge(
        "weightsandbiases",
        "default",
        "wandb",
        {"spec": {"values": {"parquet": {"fuse": {"fileCacheCapacity": "50Gi"}}}}},
    )
    text = wbctl("parquet", "status", env=env).stdout
    assert not any(secret in text for secret in ("testpassword", "redis123"))  # the resource's secrets stay there
    (line,) = [line for line in text.splitlines() if line.startswith("fuse file cache capacity")]
    assert line.split(None, 4)[4] == '"50Gi" (parquet.fuse.fileCacheCapacity)'


def test_fuse_check_names_the_cloud_provider_and_enable_is_refused_with_the_patch(wbctl, kube_api, env) -> None:
    deploy(kube_api)
    kube_api.merge("weightsandbiases", "default", "wandb", {"spec": {"values": {"global": {"cloudProvider": ""}}}})
    fuse = findings(wbctl, env)["parquet.fuse"]
    assert fuse["status"] == "fail" and 'global.cloudProvider is "", not "gcp"' in fuse["message"]
    assert "bucket" not in fuse["message"].split(":", 1)[1]  # the bucket is right: only the cloud is named
    refused = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert refused.returncode == 4
    assert (
        """patch weightsandbiases wandb --type merge -p '{"spec":{"values":{"global":{"cloudProvider":"gcp"}}}}'"""
        in (refused.stderr)
    )
    assert cr(kube_api)["spec"]["values"]["parquet"].get("fuse") is None  # nothing written
