"""`wbctl services ...` and `check` on an install of the v2 operator (apps.wandb.com/v2), the
Kubernetes fake serving both CR versions as the v2 operator's CRD does: workloads named after
the app, selected by the namespace, the CR read at v2, and the guide's services the v2 server
manifest does not run reported as not part of this generation."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.kube.objects.operator_v2 import VERSIONS, operator_v2

NAMESPACE = "wandb-prod"  # not the CR's name: v2 selects by namespace
UPDATER_BOUNDS = {"flat-run-fields-updater": {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}


@pytest.fixture
def env(kube_api: FakeKubeAPI, isolated_env: Path) -> dict[str, str]:
    kube_api.serve_versions("weightsandbiases", VERSIONS)
    kube_api.add_all(operator_v2(NAMESPACE, "wandb", applications=UPDATER_BOUNDS))
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    return {"KUBECONFIG": str(kubeconfig), "WBCTL_NAMESPACE": NAMESPACE}


def _rows(wbctl, env) -> dict[str, dict]:
    result = wbctl("services", "list", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    return {row["service"]: row for row in result.json()["services"]}


def test_list_names_the_workloads_after_the_app(wbctl, env) -> None:
    rows = _rows(wbctl, env)
    assert (rows["wandb-api"]["workload"], rows["wandb-flat-run-fields-updater"]["workload"]) == (
        "api",
        "flat-run-fields-updater",
    )


def test_list_reads_the_autoscaler_named_after_the_app(wbctl, env) -> None:
    autoscaling = _rows(wbctl, env)["wandb-flat-run-fields-updater"]["autoscaling"]
    assert (autoscaling["name"], autoscaling["min"], autoscaling["max"]) == ("flat-run-fields-updater", 3, 10)


def test_list_says_why_the_app_is_absent(wbctl, env) -> None:
    assert "not part of this generation" in _rows(wbctl, env)["wandb-app"]["absent"]


def test_list_keeps_the_manifests_other_apps_as_extras(wbctl, env) -> None:
    rows = _rows(wbctl, env)
    assert {"wandb-frontend", "wandb-weave-trace"} <= {name for name, row in rows.items() if not row["in_guide"]}


def test_another_installs_workloads_in_the_namespace_are_not_read(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(namespace=NAMESPACE, instance="other"))  # v1 Deployments, instance=other
    assert "wandb-app" in {n for n, row in _rows(wbctl, env).items() if not row["present"]}


def test_status_shows_the_applications_override(wbctl, env) -> None:
    result = wbctl("services", "status", "flat-run-fields-updater", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    (service,) = result.json()["services"]
    assert (service["cr_values"], len(service["pods"])) == (UPDATER_BOUNDS["flat-run-fields-updater"], 3)


def test_check_reports_services_absent_from_v2_as_ok(wbctl, env) -> None:
    result = wbctl("services", "check", "-o", "json", env=env)
    findings = {f["check"]: f for f in result.json()["findings"]}
    absent = {name for name in findings if name.endswith(".present") and findings[name]["expected"] == "absent from v2"}
    assert absent == {
        f"services.wandb-{s}.present"
        for s in ("app", "console", "filestream", "parquet-backfill", "prometheus-server", "stackdriver")
    }


def test_check_judges_the_updater_it_runs(wbctl, env) -> None:
    findings = {f["check"]: f for f in wbctl("services", "check", "-o", "json", env=env).json()["findings"]}
    updater = [
        findings[f"services.wandb-flat-run-fields-updater.{c}"]["status"]
        for c in ("present", "replicas", "autoscaling")
    ]
    assert updater == ["ok", "ok", "ok"]


def test_check_fails_the_api_below_the_guides_three(wbctl, env) -> None:
    result = wbctl("services", "check", "-o", "json", env=env)
    finding = next(f for f in result.json()["findings"] if f["check"] == "services.wandb-api.replicas")
    assert (result.returncode, finding["status"], finding["observed"]) == (1, "fail", 2)


def test_filestream_with_its_feature_on_is_judged(wbctl, kube_api, env) -> None:
    kube_api.add_all(operator_v2(NAMESPACE, "wandb", applications=UPDATER_BOUNDS, features={"filestreamQueue": True}))
    findings = {f["check"]: f for f in wbctl("services", "check", "-o", "json", env=env).json()["findings"]}
    assert findings["services.wandb-filestream.present"]["observed"] == "filestream"


def test_top_level_check_has_no_chart_on_v2(wbctl, env) -> None:
    result = wbctl("check", "--only", "parquet", "-o", "json", env=env)
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert (findings["versions.operator-chart"]["expected"], findings["versions.server"]["status"]) == (
        "absent from v2",
        "ok",
    )


def test_the_v2_read_costs_at_most_one_list_more_per_kind(wbctl, kube_api, env) -> None:
    kube_api.reset_requests()
    assert wbctl("services", "status", env=env).returncode == 0
    reads = [r for r in kube_api.requests if r.resource]
    assert len(reads) <= 12, [(r.method, r.path) for r in reads]


# --- changing: spec.wandb.applications.<app>.autoscaling, at apps.wandb.com/v2 ----------------


def _applications(kube_api: FakeKubeAPI) -> dict:
    return kube_api.get("weightsandbiases", NAMESPACE, "wandb")["spec"]["wandb"]["applications"]


def test_autoscale_patches_the_v2_applications_bounds(wbctl, kube_api, env) -> None:
    result = wbctl("services", "autoscale", "flat-run-fields-updater", "--min", "4", "--max", "12", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert _applications(kube_api)["flat-run-fields-updater"] == {"autoscaling": {"minReplicas": 4, "maxReplicas": 12}}


def test_autoscale_writes_at_v2_never_v1(wbctl, kube_api, env) -> None:
    kube_api.reset_requests()
    wbctl("services", "autoscale", "flat-run-fields-updater", "--min", "4", "--max", "12", "--yes", env=env)
    patches = [r.path for r in kube_api.requests if r.method == "PATCH"]
    assert patches and all(p.startswith("/apis/apps.wandb.com/v2/") for p in patches)


def test_autoscale_plan_names_the_v2_path(wbctl, env) -> None:
    result = wbctl("services", "autoscale", "api", "--min", "3", "--max", "6", "--dry-run", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    keys = [change["key"] for change in result.json()["changes"]]
    assert keys == [
        "spec.wandb.applications.api.autoscaling.minReplicas",
        "spec.wandb.applications.api.autoscaling.maxReplicas",
    ]


def test_autoscale_disable_is_refused_on_v2(wbctl, kube_api, env) -> None:
    before = kube_api.resource_version
    result = wbctl("services", "autoscale", "flat-run-fields-updater", "--disable", "--yes", env=env)
    assert (result.returncode, "at least 1" in result.stderr, kube_api.resource_version) == (2, True, before)


def test_scale_pins_the_bounds_on_v2(wbctl, kube_api, env) -> None:
    assert wbctl("services", "scale", "api", "--replicas", "3", "--yes", env=env).returncode == 0
    assert _applications(kube_api)["api"] == {"autoscaling": {"minReplicas": 3, "maxReplicas": 3}}


def test_a_service_absent_from_v2_is_not_scaled(wbctl, kube_api, env) -> None:
    before = kube_api.resource_version
    result = wbctl("services", "autoscale", "app", "--min", "1", "--max", "1", "--yes", env=env)
    assert (result.returncode, "not part of this generation" in result.stderr, kube_api.resource_version) == (
        2,
        True,
        before,
    )


def test_check_says_bigtable_is_absent_where_none_is_configured(wbctl, env) -> None:
    result = wbctl("check", "--only", "bigtable", "-o", "json", env=env)
    assert {(f["status"], f["expected"]) for f in result.json()["findings"]} == {("ok", "absent from v2")}


def test_config_init_finds_the_v2_resource_at_v2(wbctl, env) -> None:
    result = wbctl("config", "init", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "found weightsandbiases wandb-prod/wandb (the v2 operator, server 0.84.0" in result.stdout + result.stderr


def test_too_few_replicas_are_remedied_by_bounds_on_v2(wbctl, env) -> None:
    findings = {f["check"]: f for f in wbctl("services", "check", "-o", "json", env=env).json()["findings"]}
    assert findings["services.wandb-api.spread"]["remedy"] == "wbctl services autoscale wandb-api --min 3 --max 9"


def test_the_table_says_why_a_service_is_absent(wbctl, env) -> None:
    table = wbctl("services", "list", env=env).stdout
    line = next(line for line in table.splitlines() if line.startswith("wandb-console "))
    assert "not part of this generation" in line


def test_a_resource_last_written_as_v1_is_read_as_v2_and_said_so(wbctl, kube_api, env) -> None:
    cr = kube_api.get("weightsandbiases", NAMESPACE, "wandb")
    for entry in cr["metadata"]["managedFields"]:
        entry["apiVersion"] = "apps.wandb.com/v1"  # Terraform's v1 manifest, taken over by the v2 operator
    kube_api.add(cr)
    result = wbctl("services", "list", env=env)
    assert (result.returncode, "last written as apps.wandb.com/v1" in result.stderr) == (0, True)


def test_parquet_fuse_enable_is_refused_on_v2(wbctl, kube_api, env) -> None:
    before = kube_api.resource_version
    result = wbctl("parquet", "fuse", "enable", "--yes", env=env)
    assert ("not part of this generation" in result.stderr, kube_api.resource_version) == (True, before)
