"""GCS FUSE for parquet export (wbctl/core/parquet.py): the four checks in the guide's order and
the plan that enables or disables it, on hand-made observations (no cluster)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core import parquet
from wbctl.core.kube import Container, KubeObservation, Pod, WandbResource, Workload
from wbctl.core.model import KubeWrite, Status
from wbctl.errors import RefusedError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)
LABELS = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "parquet"}
FUSE_ON = {"parquet": {"fuse": {"enabled": True}}}
# what W&B's Terraform writes on GCP (terraform-google-wandb main.tf): the chart's two conditions met
GCP = {"cloudProvider": "gcp", "defaultBucket": {"provider": "gcs", "name": "acme-quiet-otter"}}


def observation(
    *,
    chart: str | None = "0.43.8",
    tag: str | None = "0.70.1",
    values: dict | None = None,
    csi: set[str] | None = None,
    pods: int = 2,
    annotated: int = 0,
    cr: bool = True,
    globals_: dict | None = None,
) -> KubeObservation:
    obs = KubeObservation("https://k8s", "default", "wandb")
    if cr:
        merged = {"global": GCP if globals_ is None else globals_, **(values or {})}
        if tag is not None:
            merged.setdefault("app", {"image": {"tag": tag}})
        obs.cr = WandbResource("wandb", chart, merged, "Completed", "42")
    obs.csi_drivers = {parquet.CSI_DRIVER} if csi is None else csi
    workload = Workload(
        "Deployment", "wandb-parquet", LABELS, dict(LABELS), pods, pods, (Container("main", "wandb/local", {}, {}),)
    )
    obs.workloads.append(workload)
    for i in range(pods):
        notes = {parquet.FUSE_ANNOTATION: "true"} if i < annotated else {}
        obs.pods.append(Pod(f"wandb-parquet-{i}", dict(LABELS), "n1", "Running", True, 0, NOW, False, notes))
    return obs


def findings(obs: KubeObservation) -> dict[str, object]:
    return {finding.check: finding for finding in parquet.check(obs).findings}


def test_the_checks_come_in_the_guides_order() -> None:
    assert [f.check for f in parquet.check(observation()).findings] == list(parquet.CHECK_IDS)


def test_fuse_rolled_out_to_every_pod_passes_everything() -> None:
    report = findings(observation(values=FUSE_ON, annotated=2))
    assert {check: f.status for check, f in report.items()} == dict.fromkeys(parquet.CHECK_IDS, Status.OK)
    assert report["parquet.fuse"].message == "enabled; 2/2 parquet pods use the FUSE sidecar"


def test_fuse_in_the_values_but_not_on_the_pods_warns_with_the_count() -> None:
    fuse = findings(observation(values=FUSE_ON, annotated=1))["parquet.fuse"]
    assert fuse.status is Status.WARN
    assert "1/2 parquet pods carry gke-gcsfuse/volumes" in fuse.message


def test_fuse_disabled_fails_with_the_command_that_enables_it() -> None:
    fuse = findings(observation())["parquet.fuse"]
    assert (fuse.status, fuse.observed, fuse.remedy) == (Status.FAIL, "disabled", "wbctl parquet fuse enable")


def test_fuse_disabled_without_the_driver_names_the_driver_first() -> None:
    fuse = findings(observation(csi=set()))["parquet.fuse"]
    assert fuse.remedy.startswith("first install the GKE GCS FUSE CSI driver")
    assert fuse.remedy.endswith("then wbctl parquet fuse enable")


def test_fuse_enabled_must_be_the_boolean_true() -> None:
    assert findings(observation(values={"parquet": {"fuse": {"enabled": "true"}}}))["parquet.fuse"].status is (
        Status.FAIL
    )


def test_no_resource_leaves_the_values_and_versions_unknown() -> None:
    report = findings(observation(cr=False))
    assert report["parquet.fuse"].status is Status.UNKNOWN
    assert report["versions.operator-chart"].status is Status.UNKNOWN
    assert report["versions.server"].status is Status.UNKNOWN
    assert report["parquet.csi-driver"].status is Status.OK


@pytest.mark.parametrize(
    ("csi", "status"), [(None, Status.OK), (set(), Status.FAIL), ({"other.csi.example"}, Status.FAIL)]
)
def test_the_csi_driver(csi: set[str] | None, status: Status) -> None:
    assert findings(observation(csi=csi))["parquet.csi-driver"].status is status


def test_unreadable_csi_drivers_are_unknown() -> None:
    obs = observation()
    obs.csi_drivers = None
    assert findings(obs)["parquet.csi-driver"].status is Status.UNKNOWN


@pytest.mark.parametrize(
    ("chart", "status"),
    [("0.22.3", Status.OK), ("0.43.8", Status.OK), ("0.22.2", Status.FAIL), ("latest", Status.UNKNOWN)],
)
def test_the_chart_version_gate(chart: str, status: Status) -> None:
    assert findings(observation(chart=chart))["versions.operator-chart"].status is status


@pytest.mark.parametrize(
    ("tag", "status"),
    [("0.65.0", Status.OK), ("0.64.9", Status.FAIL), ("latest", Status.UNKNOWN), (None, Status.UNKNOWN)],
)
def test_the_server_version_gate(tag: str | None, status: Status) -> None:
    assert findings(observation(tag=tag))["versions.server"].status is status


def test_the_server_tag_falls_back_to_the_api_image() -> None:
    obs = observation(tag=None, values={"api": {"image": {"tag": "0.66.0"}}})
    assert parquet.server_tag(obs) == "0.66.0"


def test_enable_plans_the_guides_block_leaf_by_leaf_guarded_by_the_resource_version() -> None:
    plan = parquet.plan_enable(observation(), disable=False, context="prod")
    assert {change.key: change.after for change in plan.changes} == {
        "spec.values.parquet.fuse.enabled": True,
        "spec.values.parquet.fuse.resources.limits.cpu": "0",
        "spec.values.parquet.fuse.resources.limits.memory": "0",
        "spec.values.parquet.fuse.resources.limits.ephemeral-storage": "10Gi",
        "spec.values.parquet.fuse.resources.requests.cpu": "0",
        "spec.values.parquet.fuse.resources.requests.memory": "0",
    }
    assert all(change.before is None for change in plan.changes)
    assert plan.context == "prod"
    assert plan.writes == {"weightsandbiases/wandb": KubeWrite("42")}


def test_enable_keeps_what_already_holds_and_disable_flips_one_value() -> None:
    enabled = parquet.plan_enable(observation(values=FUSE_ON), disable=False, context="c")
    assert "spec.values.parquet.fuse.enabled" not in {change.key for change in enabled.changes}
    disabled = parquet.plan_enable(observation(values=FUSE_ON), disable=True, context="c")
    assert [(c.key, c.before, c.after) for c in disabled.changes] == [("spec.values.parquet.fuse.enabled", True, False)]


@pytest.mark.parametrize(
    ("arrange", "fragment"),
    [
        ({"csi": set()}, "(parquet.csi-driver); fix: set enable_gcs_fuse_csi_driver = true"),
        ({"chart": "0.21.0"}, "(versions.operator-chart); fix: set spec.chart.version"),
        ({"tag": "0.64.0"}, "(versions.server); fix: release server image 0.65.0"),
        (
            {"tag": "latest"},
            "'latest' is not a version (a tag like latest or a digest) (versions.server); fix: set it to a version tag",
        ),
    ],
)
def test_enable_refuses_while_a_gate_fails_and_names_the_fix(arrange: dict, fragment: str) -> None:
    with pytest.raises(RefusedError, match="GCS FUSE cannot be enabled") as refused:
        parquet.plan_enable(observation(**arrange), disable=False, context="c")
    assert fragment in refused.value.message


def test_disable_is_not_gated() -> None:
    plan = parquet.plan_enable(observation(csi=set(), chart="0.1.0", values=FUSE_ON), disable=True, context="c")
    assert len(plan.changes) == 1


def test_no_resource_refuses_to_plan() -> None:
    with pytest.raises(RefusedError, match="no WeightsAndBiases resource named wandb in namespace default"):
        parquet.plan_enable(observation(cr=False), disable=True, context="c")


def test_status_document() -> None:
    document = parquet.status_document(observation(values=FUSE_ON, annotated=1))
    assert document["parquet"] == {"kind": "Deployment", "name": "wandb-parquet", "desired": 2, "ready": 2}
    assert document["parquet_backfill"] is None and document["executor"] is None
    assert document["fuse_enabled_in_values"] is True
    assert document["pods_with_fuse_sidecar"] == {"annotated": 1, "pods": 2}
    assert document["csi_driver_installed"] is True
    assert (document["chart_version"], document["server_image_tag"]) == ("0.43.8", "0.70.1")


# --- the chart's two conditions (templates/_annotations.tpl wandb.gcsFuseAnnotations) ------------

S3_BUCKET = {"cloudProvider": "gcp", "bucket": {"name": "files", "provider": "s3"}}


@pytest.mark.parametrize(
    ("globals_", "named", "not_named"),
    [
        (
            {"defaultBucket": {"provider": "gcs"}},
            'global.cloudProvider is "" (the chart\'s default), not "gcp"',
            "Bucket",
        ),
        (
            {"cloudProvider": "aws", "defaultBucket": {"provider": "gcs"}},
            'global.cloudProvider is "aws", not "gcp"',
            "Bucket",
        ),
        (
            {"cloudProvider": "gcp"},
            'global.defaultBucket.provider is "s3" (the chart\'s default), not "gcs"',
            "cloudProvider",
        ),
        (S3_BUCKET, 'global.bucket.provider is "s3", not "gcs"', "cloudProvider"),
    ],
)
def test_fuse_names_the_one_condition_that_is_wrong(globals_: dict, named: str, not_named: str) -> None:
    fuse = findings(observation(values=FUSE_ON, annotated=2, globals_=globals_))["parquet.fuse"]
    assert fuse.status is Status.FAIL
    assert named in fuse.message and not_named not in fuse.message


def test_fuse_with_both_conditions_wrong_names_both() -> None:
    fuse = findings(observation(values=FUSE_ON, globals_={}))["parquet.fuse"]
    assert fuse.status is Status.FAIL
    assert "global.defaultBucket.provider" in fuse.message and "global.cloudProvider" in fuse.message


def test_the_remedy_is_the_resource_patch_that_meets_the_condition() -> None:
    cloud = findings(observation(values=FUSE_ON, globals_={"defaultBucket": {"provider": "gcs"}}))["parquet.fuse"]
    assert cloud.remedy == (
        "kubectl -n default patch weightsandbiases wandb --type merge "
        """-p '{"spec":{"values":{"global":{"cloudProvider":"gcp"}}}}'"""
    )
    bucket = findings(observation(values=FUSE_ON, globals_=S3_BUCKET))["parquet.fuse"]
    assert bucket.remedy.startswith("if the bucket is a GCS bucket: kubectl -n default patch")
    assert """{"global":{"bucket":{"provider":"gcs"}}}""" in bucket.remedy


def test_a_condition_wrong_before_enabling_says_enable_comes_after_the_patch() -> None:
    fuse = findings(observation(globals_={"defaultBucket": {"provider": "gcs"}}))["parquet.fuse"]
    assert (fuse.status, fuse.observed) == (Status.FAIL, "disabled")
    assert fuse.remedy.endswith("; then wbctl parquet fuse enable")


def test_both_conditions_right_and_rolled_out_is_ok() -> None:
    fuse = findings(observation(values=FUSE_ON, annotated=2, globals_=GCP))["parquet.fuse"]
    assert fuse.status is Status.OK
    assert parquet.fuse_honoured({"global": GCP, **FUSE_ON}) is True
    assert parquet.fuse_honoured({"global": S3_BUCKET, **FUSE_ON}) is False


def test_enable_is_refused_while_a_condition_is_wrong() -> None:
    with pytest.raises(RefusedError, match=r"\(parquet.fuse\); fix: kubectl -n default patch") as refused:
        parquet.plan_enable(observation(globals_={"defaultBucket": {"provider": "gcs"}}), disable=False, context="c")
    assert "global.cloudProvider" in refused.value.message


@pytest.mark.parametrize(
    ("values", "shown"),
    [
        (FUSE_ON, {"value": "9.5Gi", "path": "parquet.fuse.fileCacheCapacity", "chart_default": True}),
        (
            {"parquet": {"fuse": {"enabled": True, "fileCacheCapacity": "20Gi"}}},
            {"value": "20Gi", "path": "parquet.fuse.fileCacheCapacity", "chart_default": False},
        ),
    ],
)
def test_status_shows_the_file_cache_capacity_and_the_conditions(values: dict, shown: dict) -> None:
    document = parquet.status_document(observation(values=values))
    assert document["fuse_file_cache_capacity"] == shown
    assert document["bucket_provider"] == {
        "value": "gcs",
        "path": "global.defaultBucket.provider",
        "chart_default": False,
    }
    assert document["cloud_provider"] == {"value": "gcp", "path": "global.cloudProvider", "chart_default": False}


def _merged(values: dict, patch: dict) -> dict:
    out = dict(values)
    for key, value in patch.items():
        out[key] = _merged(out.get(key) or {}, value) if isinstance(value, dict) else value
    return out


_words = st.sampled_from(["gcs", "gcp", "s3", "az", "", "GCS", "aws"])


@given(
    cloud=st.none() | _words,
    default_provider=st.none() | _words,
    bucket_name=st.none() | st.sampled_from(["", "files"]),
    bucket_provider=st.none() | _words,
)
def test_the_conditions_hold_exactly_for_gcs_on_gcp_and_the_patch_meets_them(
    cloud: str | None, default_provider: str | None, bucket_name: str | None, bucket_provider: str | None
) -> None:
    global_: dict = {}
    if cloud is not None:
        global_["cloudProvider"] = cloud
    if default_provider is not None:
        global_["defaultBucket"] = {"provider": default_provider}
    if bucket_name is not None or bucket_provider is not None:
        global_["bucket"] = {k: v for k, v in (("name", bucket_name), ("provider", bucket_provider)) if v is not None}
    values = {"global": global_, **FUSE_ON}
    wrong = parquet.fuse_conditions(values)
    provider = (bucket_provider or "") if bucket_name else (default_provider if default_provider is not None else "s3")
    assert (not wrong) == (provider == "gcs" and (cloud or "") == "gcp")
    assert parquet.fuse_honoured(values) == (not wrong)
    if wrong:  # the remedy's merge patch, applied, leaves nothing wrong
        remedy = parquet.fuse_conditions_remedy(KubeObservation("https://k8s", "default", "wandb"), wrong)
        patch = json.loads(remedy.split("-p '", 1)[1].split("'", 1)[0])["spec"]["values"]
        assert parquet.fuse_conditions(_merged(values, patch)) == []
