"""`wbctl services ...` as a subprocess against the Kubernetes API fake, driven by the real client."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.audit import read_audit
from tests.support.net import free_port
from tests.support.text import one_line
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_0223, chart_043


@pytest.fixture
def env(kube_api: FakeKubeAPI, isolated_env: Path) -> dict[str, str]:
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    return {"KUBECONFIG": str(kubeconfig)}


# --- reading ----------------------------------------------------------------------------


def test_list_chart_043(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "list", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    rows = {row["service"]: row for row in result.json()["services"]}
    assert rows["wandb-api"]["workload"] == "wandb-api" and rows["wandb-api"]["ready"] == 3
    assert rows["wandb-app"]["workload"] == "wandb-app-bc"
    assert rows["wandb-flat-run-fields-updater"]["autoscaling"]["name"] == "wandb-flat-run-fields-updater"
    assert rows["wandb-parquet-backfill"]["kind"] == "CronJob"
    assert rows["wandb-prometheus-server"]["present"] is True
    assert rows["wandb-stackdriver"]["present"] is False
    assert rows["wandb-filemeta"]["in_guide"] is False  # extras are listed, not dropped
    assert rows["wandb-api"]["nodes"] == 3


def test_list_table(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "list", env=env)
    assert result.returncode == 0, result.stderr
    assert "wandb-flat-run-fields-updater" in result.stdout and "3/3" in result.stdout


def test_list_chart_0223(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_0223())
    rows = {r["service"]: r for r in wbctl("services", "list", "-o", "json", env=env).json()["services"]}
    assert rows["wandb-api"]["present"] is False
    assert rows["wandb-app"]["workload"] == "wandb-app"
    assert rows["wandb-stackdriver"]["present"] is True
    assert rows["wandb-filestream"]["autoscaling"]["name"] == "wandb-filestream"


def test_status_of_one_service(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "status", "flat-run-fields-updater", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    (service,) = result.json()["services"]
    assert service["service"] == "wandb-flat-run-fields-updater"
    assert len(service["pods"]) == 3 and all(p["node"] for p in service["pods"])
    assert service["autoscaler"]["kind"] == "HorizontalPodAutoscaler"
    assert "autoscaling" in service["cr_values"]
    table = wbctl("services", "status", "wandb-parquet-backfill", env=env)
    assert table.returncode == 0 and "schedule" in table.stdout


def test_status_reads_in_at_most_six_requests(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    kube_api.reset_requests()
    assert wbctl("services", "status", env=env).returncode == 0
    api_requests = [r for r in kube_api.requests if r.resource]
    assert len(api_requests) <= 6, [(r.method, r.path) for r in api_requests]


def test_check_chart_043_healthy_except_guide_gaps(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(replicas={"app": 1}))
    result = wbctl("services", "check", "-o", "json", env=env)
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["services.wandb-api.replicas"]["status"] == "ok"
    assert findings["services.wandb-api.spread"]["status"] == "ok"
    assert findings["services.wandb-filestream.autoscaling"]["status"] == "ok"
    assert findings["services.wandb-app.single-instance"]["status"] == "ok"
    assert result.returncode == (1 if any(f["status"] == "fail" for f in findings.values()) else 0)


def test_check_finds_what_the_guide_asks(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(replicas={"api": 2, "app": 2}, nodes=1, hpa_for=("filestream",)))
    result = wbctl("services", "check", "-o", "json", env=env)
    assert result.returncode == 1
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["services.wandb-api.replicas"]["status"] == "fail"
    assert findings["services.wandb-api.replicas"]["remedy"] == "wbctl services scale wandb-api --replicas 3"
    assert findings["services.wandb-executor.spread"]["status"] == "fail"
    assert findings["services.wandb-flat-run-fields-updater.autoscaling"]["status"] == "fail"
    assert findings["services.wandb-app.single-instance"]["status"] == "fail"


def test_check_chart_0223_has_no_api(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_0223())
    findings = {f["check"]: f for f in wbctl("services", "check", "-o", "json", env=env).json()["findings"]}
    assert findings["services.wandb-api.present"]["status"] == "fail"
    assert "0.23.0" in findings["services.wandb-api.present"]["message"]


def test_keda_scaled_object_counts_as_autoscaling(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(keda_frfu=True))
    findings = {f["check"]: f for f in wbctl("services", "check", "-o", "json", env=env).json()["findings"]}
    assert findings["services.wandb-flat-run-fields-updater.autoscaling"]["status"] == "ok"
    assert "KEDA" in findings["services.wandb-flat-run-fields-updater.autoscaling"]["message"]


def test_a_cluster_without_keda_is_judged_on_its_hpas_alone(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    kube_api.without_resource("scaledobjects")  # KEDA's CRD is not installed: its list answers 404
    result = wbctl("services", "check", "-o", "json", env=env)
    findings = {f["check"]: f for f in result.json()["findings"]}
    # exit 1 for the chart's one failing finding (wandb-app in HA), not for the missing CRD
    assert (result.returncode, result.stderr) == (1, "")
    assert [check for check, f in findings.items() if f["status"] != "ok"] == ["services.wandb-app.single-instance"]
    updater = findings["services.wandb-flat-run-fields-updater.autoscaling"]
    assert (updater["status"], updater["observed"]) == ("ok", "HPA wandb-flat-run-fields-updater 1-10")
    assert wbctl("services", "list", env=env).returncode == 0


def test_missing_cr_is_said_and_reading_still_works(wbctl, kube_api, env) -> None:
    kube_api.add_all([o for o in chart_043() if o["kind"] != "WeightsAndBiases"])
    result = wbctl("services", "list", env=env)
    assert result.returncode == 0
    assert "no WeightsAndBiases resource named wandb in namespace default" in result.stderr
    refused = wbctl("services", "scale", "api", "--replicas", "3", "--via", "cr", "--yes", env=env)
    assert refused.returncode == 3
    assert "no WeightsAndBiases resource named wandb in namespace default" in one_line(refused.stderr)


def test_forbidden_names_verb_and_resource(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    kube_api.forbid("list", "horizontalpodautoscalers")
    result = wbctl("services", "status", env=env)
    assert result.returncode == 3
    assert "forbidden: list horizontalpodautoscalers.autoscaling in namespace default" in one_line(result.stderr)


def test_nodes_forbidden_only_costs_the_zones(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    kube_api.forbid("list", "nodes")
    result = wbctl("services", "status", "api", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert "zones unknown" in result.stderr


def test_unauthorized(wbctl, kube_api, env) -> None:
    kube_api.unauthorized()
    result = wbctl("services", "list", env=env)
    assert result.returncode == 3 and "unauthorized" in one_line(result.stderr)


def test_unreachable_api_server(wbctl, isolated_env: Path) -> None:
    with FakeKubeAPI() as api:
        kubeconfig = api.write_kubeconfig(isolated_env / "kubeconfig")
    text = kubeconfig.read_text()
    port = text.split("127.0.0.1:")[1].split("\n")[0].strip().strip('"')
    kubeconfig.write_text(text.replace(f"127.0.0.1:{port}", f"127.0.0.1:{free_port()}"))
    result = wbctl("services", "list", env={"KUBECONFIG": str(kubeconfig)})
    assert result.returncode == 3
    assert "cannot reach the Kubernetes API" in one_line(result.stderr)


def test_slow_api_server_times_out(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    kube_api.delay(5)
    started = time.monotonic()
    result = wbctl("--timeout", "1", "services", "list", env=env)
    elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert "did not answer within 1s" in one_line(result.stderr)
    # a timed-out read is not sent again (urllib3 would send it 3 more times: 4 x --timeout)
    assert kube_api.count("list", "deployments") == 1
    assert elapsed < 4  # 1 s of timeout, the rest the interpreter's start (a loaded machine takes ~2 s)


# --- changing ---------------------------------------------------------------------------


def cr(kube_api: FakeKubeAPI) -> dict:
    return kube_api.get("weightsandbiases", "default", "wandb")


def test_scale_via_cr_patches_values_and_audits(wbctl, kube_api, env, audit_log) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "scale", "api", "--replicas", "5", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["changes"][0]["key"] == "spec.values.api.replicaCount"
    assert cr(kube_api)["spec"]["values"]["api"]["replicaCount"] == 5
    assert read_audit(audit_log)[0]["result"] == "applied"
    again = wbctl("services", "scale", "api", "--replicas", "5", "--yes", env=env)
    assert again.returncode == 0 and "no changes" in again.stderr


def test_scale_dry_run_uses_the_servers_dry_run(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    before = cr(kube_api)
    kube_api.reset_requests()
    result = wbctl("services", "scale", "api", "--replicas", "5", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert any(r.method == "PATCH" and r.query.get("dryRun") == "All" for r in kube_api.requests)
    assert cr(kube_api) == before


def test_scale_via_deployment_patches_the_scale_and_warns(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "scale", "executor", "--replicas", "4", "--via", "deployment", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "operator re-applies" in result.stdout + result.stderr
    assert kube_api.get("deployments", "default", "wandb-executor-bc")["spec"]["replicas"] == 4


def test_scale_conflict_rereads_and_shows_the_diff_again(wbctl, kube_api, env) -> None:
    """A write that lands between our read and our patch: a 409, a fresh diff, never a blind overwrite."""
    kube_api.add_all(chart_043())
    kube_api.conflict_next("patch", "weightsandbiases")
    result = wbctl("services", "scale", "api", "--replicas", "4", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("Plan for") == 2
    assert cr(kube_api)["spec"]["values"]["api"]["replicaCount"] == 4


def test_autoscale_via_cr_new_layout(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl(
        "services",
        "autoscale",
        "flat-run-fields-updater",
        "--min",
        "3",
        "--max",
        "12",
        "--cpu-target",
        "70",
        "--yes",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    horizontal = cr(kube_api)["spec"]["values"]["flat-run-fields-updater"]["autoscaling"]["horizontal"]
    assert (
        horizontal["enabled"],
        horizontal["minReplicas"],
        horizontal["maxReplicas"],
        horizontal["targetCPUUtilizationPercentage"],
    ) == (True, 3, 12, 70)


def test_autoscale_via_cr_old_layout(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_0223())
    result = wbctl("services", "autoscale", "filestream", "--min", "2", "--max", "8", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    autoscaling = cr(kube_api)["spec"]["values"]["filestream"]["autoscaling"]
    assert (autoscaling["enabled"], autoscaling["minReplicas"], autoscaling["maxReplicas"]) == (True, 2, 8)
    assert "horizontal" not in autoscaling


def test_autoscale_via_hpa_creates_then_patches_then_deletes(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(hpa_for=()))
    created = wbctl("services", "autoscale", "executor", "--min", "3", "--max", "6", "--via", "hpa", "--yes", env=env)
    assert created.returncode == 0, created.stderr
    hpa = kube_api.get("horizontalpodautoscalers", "default", "wandb-executor")
    assert hpa["spec"]["scaleTargetRef"]["name"] == "wandb-executor-bc"
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 6)
    patched = wbctl("services", "autoscale", "executor", "--min", "4", "--max", "6", "--via", "hpa", "--yes", env=env)
    assert patched.returncode == 0, patched.stderr
    assert kube_api.get("horizontalpodautoscalers", "default", "wandb-executor")["spec"]["minReplicas"] == 4
    deleted = wbctl("services", "autoscale", "executor", "--disable", "--via", "hpa", "--yes", env=env)
    assert deleted.returncode == 0, deleted.stderr
    assert kube_api.get("horizontalpodautoscalers", "default", "wandb-executor") is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["services", "scale", "nope", "--replicas", "3"], "unknown service 'nope' (known: wandb-app"),
        (["services", "scale", "api", "--replicas", "-1"], "--replicas -1: from 0 to 500"),
        (["services", "scale", "api", "--replicas", "99999999999"], "--replicas 99999999999: from 0 to 500"),
        (["services", "scale", "api", "--replicas", "0"], "--replicas 0 stops wandb-api"),
        (["services", "scale", "api", "--replicas", "2"], "below the guide's 3 replicas of wandb-api"),
        (["services", "scale", "flat-run-fields-updater", "--replicas", "1"], "below the guide's 3 replicas"),
        (
            ["services", "autoscale", "flat-run-fields-updater", "--min", "1", "--max", "5"],
            "--min 1 is below the guide's 3",
        ),
        (["services", "scale", "api", "--replicas", "three"], "is not a valid int"),
        (["services", "scale", "app", "--replicas", "2"], "cannot run in HA mode"),
        (["services", "autoscale", "filestream", "--min", "0", "--max", "3"], "--min 0: from 1 to 500"),
        (["services", "autoscale", "filestream", "--min", "4", "--max", "3"], "below --min"),
        (
            ["services", "autoscale", "filestream", "--min", "1", "--max", "3", "--cpu-target", "101"],
            "between 1 and 100",
        ),
        (["services", "autoscale", "app", "--min", "1", "--max", "3"], "cannot be autoscaled"),
        (["services", "scale", "api", "--replicas", "3", "--via", "hpa"], "--via cr or --via deployment"),
    ],
)
def test_bad_input_exits_2_and_writes_nothing(wbctl, kube_api, env, audit_log, args, message) -> None:
    kube_api.add_all(chart_043())
    kube_api.reset_requests()
    result = wbctl(*args, "--yes", env=env)
    assert result.returncode == 2, result
    assert message in one_line(result.stderr)
    assert not [r for r in kube_api.requests if r.method in ("PATCH", "POST", "PUT", "DELETE")]
    assert read_audit(audit_log) == []


def test_no_yes_off_a_terminal_and_read_only_refuse(wbctl, kube_api, env, isolated_env: Path) -> None:
    kube_api.add_all(chart_043())
    before = cr(kube_api)
    assert wbctl("services", "scale", "api", "--replicas", "4", env=env).returncode == 4
    config = isolated_env / "ro.toml"
    config.write_text("[contexts.prod]\nread-only = true\n")
    assert (
        wbctl("--config", str(config), "services", "scale", "api", "--replicas", "4", "--yes", env=env).returncode == 4
    )
    assert cr(kube_api) == before


def test_forbidden_patch(wbctl, kube_api, env, audit_log) -> None:
    kube_api.add_all(chart_043())
    kube_api.forbid("patch", "weightsandbiases")
    result = wbctl("services", "scale", "api", "--replicas", "4", "--yes", env=env)
    assert result.returncode == 3
    assert "forbidden: patch weightsandbiases.apps.wandb.com wandb in namespace default" in one_line(result.stderr)
    assert read_audit(audit_log)[0]["result"] == "failed"


def test_old_chart_cannot_autoscale_weave(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_0223())
    result = wbctl("services", "autoscale", "weave", "--min", "1", "--max", "3", "--yes", env=env)
    assert result.returncode == 2
    assert "cannot be autoscaled by operator-wandb 0.22.3" in one_line(result.stderr)


def test_app_replicas_with_force(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(replicas={"app": 1}))
    result = wbctl("services", "scale", "app", "--replicas", "2", "--force", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert cr(kube_api)["spec"]["values"]["app"]["replicaCount"] == 2


def test_status_of_an_extra_workload_and_an_unknown_name(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    assert (
        wbctl("services", "status", "filemeta", "-o", "json", env=env).json()["services"][0]["service"]
        == "wandb-filemeta"
    )
    unknown = wbctl("services", "status", "nope", env=env)
    assert unknown.returncode == 2 and "unknown service 'nope'" in one_line(unknown.stderr)


def test_kube_context_from_config_picks_the_cluster(wbctl, kube_api, isolated_env: Path) -> None:
    kube_api.add_all(chart_043(instance="first"))
    with FakeKubeAPI() as other:
        other.add_all(chart_043(instance="second"))
        kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig", context="one")
        other.write_kubeconfig(kubeconfig, context="two", make_current=False)
        config = isolated_env / "c.toml"
        config.write_text('[contexts.b]\nkube-context = "two"\ninstance = "second"\n')
        result = wbctl("--config", str(config), "services", "list", "-o", "json", env={"KUBECONFIG": str(kubeconfig)})
        assert result.returncode == 0, result.stderr
        rows = {r["service"]: r for r in result.json()["services"]}
        assert rows["wandb-api"]["workload"] == "second-api"
        assert other.count("list", "deployments") == 1 and kube_api.count("list", "deployments") == 0


def test_autoscale_a_keda_scaled_service_changes_the_scaled_objects_bounds(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043(keda_frfu=True))
    result = wbctl(
        "services", "autoscale", "flat-run-fields-updater", "--min", "3", "--max", "12", "--yes", "-o", "json", env=env
    )
    assert result.returncode == 0, result.stderr
    keys = {change["key"]: change["after"] for change in result.json()["changes"]}
    assert keys == {
        "spec.values.flat-run-fields-updater.autoscaling.keda.minReplicaCount": 3,
        "spec.values.flat-run-fields-updater.autoscaling.keda.maxReplicaCount": 12,
    }
    values = kube_api.get("weightsandbiases", "default", "wandb")["spec"]["values"]["flat-run-fields-updater"]
    assert values["autoscaling"]["keda"] == {"minReplicaCount": 3, "maxReplicaCount": 12}
    assert values["sizing"]["large"]["autoscaling"]["keda"]["triggers"]  # the triggers are kept
    assert "KEDA ScaledObject" in result.stderr


def test_scaling_a_service_that_is_not_deployed_says_so(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "scale", "stackdriver", "--replicas", "1", "--yes", env=env)
    assert result.returncode == 3
    assert "wandb-stackdriver is not deployed in namespace default" in one_line(result.stderr)
    assert kube_api.count(method="PATCH") == 0


# --- the release's known workloads (core/catalog.py KNOWN_WORKLOADS) ------------------------------


def test_the_lumen_agent_is_listed_as_known_not_as_unknown(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    rows = {row["service"]: row for row in wbctl("services", "list", "-o", "json", env=env).json()["services"]}
    agent = rows["wandb-lumen-agent"]
    assert (agent["kind"], agent["workload"], agent["in_guide"], agent["known"]) == (
        "CronJob",
        "wandb-lumen-agent",
        False,
        True,
    )
    assert agent["role"].startswith("W&B's hourly diagnostics agent")
    assert rows["wandb-metric-observer"]["known"] is True and rows["wandb-api"]["known"] is True
    text = wbctl("services", "list", env=env).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("wandb-lumen-agent")]
    assert "W&B's hourly diagnostics agent" in line and "guide does not name" not in text


def test_the_lumen_agents_status_and_check(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    status = wbctl("services", "status", "lumen-agent", "-o", "json", env=env).json()["services"][0]
    assert status["cronjob"]["schedule"] == "0 * * * *" and status["cronjob"]["last_success"]
    check = wbctl("services", "check", "-o", "json", env=env).json()
    assert not [f for f in check["findings"] if "lumen" in f["check"] or "lumen" in f["message"]]
