"""`wbctl bigtable ...` as a subprocess against the gRPC fakes, driven by the real Google clients."""

from __future__ import annotations

import time

import grpc
import pytest

from tests.support.audit import read_audit
from tests.support.text import one_line
from wbctl.sandbox.google.api import FakeGoogleAPIs, demo_deployment

PROJECT = "wandb-prod"
CLUSTER = "wandb-bigtable-c1"


@pytest.fixture
def google(google_api: FakeGoogleAPIs) -> FakeGoogleAPIs:
    demo_deployment(google_api, project=PROJECT)
    return google_api


@pytest.fixture
def env(google: FakeGoogleAPIs) -> dict[str, str]:
    return {"WBCTL_GCP_EMULATOR_HOST": google.address, "WBCTL_GCP_PROJECT": PROJECT}


def cluster(google: FakeGoogleAPIs) -> dict:
    return google.cluster(PROJECT, "wandb-bigtable", CLUSTER)


def test_status_json(wbctl, google, env) -> None:
    result = wbctl("bigtable", "status", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["instance"]["name"] == f"projects/{PROJECT}/instances/wandb-bigtable"
    (c,) = document["clusters"]
    assert c["cluster"] == CLUSTER and c["storage_type"] == "SSD"
    assert c["autoscaling"] == {"min_nodes": 1, "max_nodes": 3, "cpu_target": 70, "storage_target_gib": 2560}
    assert c["cpu_percent"]["peak"] >= 55 and c["cpu_percent"]["target"] == 70
    assert c["storage_utilization_percent"] is not None and c["node_changes"]


def test_status_makes_two_admin_calls_and_one_per_signal(wbctl, google, env) -> None:
    google.reset_calls()
    assert wbctl("bigtable", "status", env=env).returncode == 0
    assert google.count("GetInstance") + google.count("ListClusters") == 2
    assert google.count("ListTimeSeries") == 3
    aggregation = google.requests("ListTimeSeries")[0].aggregation
    assert aggregation.alignment_period.seconds >= 60  # reduced on the server, not raw points


def test_check_fails_the_terraform_default(wbctl, env) -> None:
    result = wbctl("bigtable", "check", "-o", "json", env=env)
    assert result.returncode == 1
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["bigtable.autoscaling"]["status"] == "ok"
    assert findings["bigtable.min-nodes"]["status"] == "fail" and findings["bigtable.min-nodes"]["observed"] == 1
    assert findings["bigtable.cpu"]["status"] == "ok"


def test_check_cpu_without_data_is_unknown(wbctl, google, env) -> None:
    google.clear_series()
    findings = {f["check"]: f for f in wbctl("bigtable", "check", "-o", "json", env=env).json()["findings"]}
    assert findings["bigtable.cpu"]["status"] == "unknown"


def test_autoscale_applies_waits_verifies_and_audits(wbctl, google, env, audit_log) -> None:
    google.operation_polls(2)
    result = wbctl(
        "bigtable", "autoscale", "--min", "3", "--max", "10", "--cpu-target", "60", "--yes", "-o", "json", env=env
    )
    assert result.returncode == 0, result.stderr
    assert {c["key"] for c in result.json()["changes"]} == {
        "autoscaling min nodes",
        "autoscaling max nodes",
        "autoscaling CPU target %",
    }
    assert cluster(google)["autoscaling"]["min"] == 3 and cluster(google)["autoscaling"]["max"] == 10
    assert cluster(google)["autoscaling"]["cpu_target"] == 60
    mask = google.requests("PartialUpdateCluster")[0].update_mask.paths
    assert list(mask) == ["cluster_config.cluster_autoscaling_config"]
    assert read_audit(audit_log)[0]["result"] == "applied"
    again = wbctl("bigtable", "check", env=env)
    assert again.returncode == 0, again.stdout


def test_autoscale_no_wait(wbctl, google, env, audit_log) -> None:
    google.operation_polls(50)
    result = wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--no-wait", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "accepted" in result.stdout and "not verified" in result.stdout
    assert google.count("GetOperation") == 0
    assert read_audit(audit_log)[0]["result"] == "accepted"


def test_scale_turns_autoscaling_off(wbctl, google, env) -> None:
    result = wbctl("bigtable", "scale", "--nodes", "5", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    assert "turns autoscaling OFF" in result.stdout
    assert cluster(google)["serve_nodes"] == 5 and cluster(google)["autoscaling"] is None


def test_dry_run_sends_no_update(wbctl, google, env) -> None:
    google.reset_calls()
    result = wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--dry-run", env=env)
    assert result.returncode == 0
    assert google.count("PartialUpdateCluster") == 0
    assert cluster(google)["autoscaling"]["min"] == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["bigtable", "autoscale", "--min", "0", "--max", "3"], "--min 0: Bigtable takes 1-1000 nodes"),
        (["bigtable", "autoscale", "--cluster", "", "--min", "3", "--max", "10"], "--cluster is empty"),
        (["bigtable", "autoscale"], "nothing to change"),
        (["bigtable", "autoscale", "--min", "3", "--max", "2"], "below --min"),
        (["bigtable", "autoscale", "--min", "3", "--max", "31"], "10 x --min"),
        (["bigtable", "autoscale", "--min", "3", "--max", "10", "--cpu-target", "90"], "10-80"),
        (["bigtable", "autoscale", "--min", "3", "--max", "10", "--storage-target", "100"], "GiB per node"),
        (["bigtable", "autoscale", "--min", "3", "--max", "10", "--storage-target", "9000"], "SSD cluster"),
        (["bigtable", "autoscale", "--min", "2", "--max", "10"], "add --force"),
        (["bigtable", "autoscale", "--min", "3", "--max", "10", "--cluster", "nope"], "no cluster 'nope'"),
        (["bigtable", "scale", "--nodes", "0"], "--nodes 0: Bigtable takes 1-1000 nodes"),
        (["bigtable", "scale", "--nodes", "99999999999"], "--nodes 99999999999: Bigtable takes 1-1000 nodes"),
        (
            ["bigtable", "scale", "--nodes", "1"],
            "--nodes 1 is below the guide's absolute minimum of 3 Bigtable nodes: add --force",
        ),
        (["bigtable", "status", "--window", "abc"], "invalid duration"),
    ],
)
def test_bad_input_exits_2_and_changes_nothing(wbctl, google, env, args, message) -> None:
    google.reset_calls()
    result = wbctl(*args, "--yes", env=env) if args[1] != "status" else wbctl(*args, env=env)
    assert result.returncode == 2, result
    assert message in one_line(result.stderr)
    assert google.count("PartialUpdateCluster") == 0
    assert cluster(google)["autoscaling"]["min"] == 1


def test_permission_denied_names_the_permission(wbctl, google, env, audit_log) -> None:
    google.fail("PartialUpdateCluster", grpc.StatusCode.PERMISSION_DENIED)
    result = wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=env)
    assert result.returncode == 3
    assert "bigtable.clusters.update" in one_line(result.stderr)
    assert read_audit(audit_log)[0]["result"] == "failed"


def test_unavailable_and_not_found(wbctl, google, env) -> None:
    google.fail("GetInstance", grpc.StatusCode.UNAVAILABLE)
    assert "unavailable" in one_line(wbctl("bigtable", "status", env=env).stderr)
    google.reset_faults()
    missing = wbctl("bigtable", "status", env={**env, "WBCTL_BIGTABLE_INSTANCE": "other"})
    assert missing.returncode == 3 and "not found" in one_line(missing.stderr)


def test_hung_server_ends_within_the_timeout(wbctl, google, env) -> None:
    google.hang("GetInstance")
    started = time.monotonic()
    result = wbctl("--timeout", "1", "bigtable", "status", env=env)
    assert result.returncode == 3
    assert time.monotonic() - started < 1 + 2 + 1.5  # --timeout + 2 s, plus interpreter start
    assert "no answer within 1s" in one_line(result.stderr)


def test_missing_project(wbctl, google) -> None:
    result = wbctl("bigtable", "status", env={"WBCTL_GCP_EMULATOR_HOST": google.address})
    assert result.returncode == 2 and "gcp-project is not set" in one_line(result.stderr)


def test_hung_operation_polls_end_within_the_timeout(wbctl, google, env, audit_log) -> None:
    google.operation_polls(1000)
    google.hang("GetOperation")
    started = time.monotonic()
    result = wbctl("--timeout", "1", "bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=env)
    assert result.returncode == 3
    assert time.monotonic() - started < 1 + 2 + 1.5
    assert read_audit(audit_log)[0]["result"] == "failed"


def test_operation_that_never_finishes(wbctl, google, env) -> None:
    google.operation_polls(1000)
    result = wbctl("--timeout", "1", "bigtable", "scale", "--nodes", "4", "--yes", env=env)
    assert result.returncode == 3
    assert "accepted but not finished within 1s" in one_line(result.stderr)


def test_status_with_prometheus_as_the_metrics_source(wbctl, google, env, prometheus_stack) -> None:
    cpu = "stackdriver_bigtable_cluster_bigtable_googleapis_com_cluster_cpu_load"
    prometheus_stack.push(
        "wbctl-e2e-bigtable",
        f'# TYPE {cpu} gauge\n{cpu}{{bigtable_instance="wandb-bigtable",cluster="{CLUSTER}"}} 0.83\n',
    )
    prometheus_stack.wait_for_samples(f'{cpu}{{cluster="{CLUSTER}"}}', count=2)
    google.reset_calls()
    prom = {**env, "WBCTL_METRICS_SOURCE": "prometheus", "WBCTL_PROMETHEUS_URL": prometheus_stack.url}
    result = wbctl("bigtable", "status", "--window", "1m", "-o", "json", env=prom)
    assert result.returncode == 0, result.stderr
    (c,) = result.json()["clusters"]
    assert c["cpu_percent"]["now"] == 83.0
    assert c["storage_utilization_percent"] is None  # not exported: unknown, not 0
    assert "bigtable-storage" in result.json()["unknown"]
    assert google.count("ListTimeSeries") == 0
    prometheus_stack.delete("wbctl-e2e-bigtable")


def test_one_bound_changes_alone_and_keeps_the_other(wbctl, google, env) -> None:
    assert wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=env).returncode == 0
    result = wbctl("bigtable", "autoscale", "--min", "4", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert [(c["key"], c["before"], c["after"]) for c in result.json()["changes"]] == [("autoscaling min nodes", 3, 4)]
    assert (cluster(google)["autoscaling"]["min"], cluster(google)["autoscaling"]["max"]) == (4, 10)
    too_wide = wbctl("bigtable", "autoscale", "--max", "41", "--yes", env=env)
    assert too_wide.returncode == 2 and "more than 10 x --min 4" in too_wide.stderr


def test_fixed_nodes_below_the_guide_need_force(wbctl, google, env) -> None:
    refused = wbctl("bigtable", "scale", "--nodes", "2", "--yes", env=env)
    assert refused.returncode == 2 and "add --force" in refused.stderr
    assert wbctl("bigtable", "scale", "--nodes", "2", "--force", "--yes", env=env).returncode == 0
    assert cluster(google)["serve_nodes"] == 2 and cluster(google)["autoscaling"] is None
