"""What a hostile tester found (the hardening issue), each through the CLI as a subprocess:
misspelt switches, layout at odd widths, Google refusals naming the permission, a Bigtable
write that stops on its second cluster, and reports read at a glance."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest

from tests.support.audit import read_audit
from tests.support.redis import RedisServer
from wbctl.sandbox.google.api import FakeGoogleAPIs

PROJECT = "wandb-prod"
INSTANCE = "wandb-bigtable"


# --- a misspelt switch never reaches the real deployment -------------------------------------------


@pytest.mark.parametrize("value", ["ture", "yess", "2", "sandbox"])
def test_a_misspelt_sandbox_switch_is_bad_input_and_nothing_is_written(wbctl, redis_server: RedisServer, value) -> None:
    env = {"WBCTL_SANDBOX": value, "WBCTL_REDIS_URL": redis_server.url}
    result = wbctl("redis", "tune", "--yes", env=env)
    assert result.returncode == 2
    assert f"WBCTL_SANDBOX={value!r}: expected true or false" in result.stderr
    assert redis_server.client().keys("*") == []


def test_a_scenario_without_the_sandbox_is_refused(wbctl, redis_server: RedisServer) -> None:
    result = wbctl(
        "redis", "tune", "--yes", env={"WBCTL_SCENARIO": "misconfigured", "WBCTL_REDIS_URL": redis_server.url}
    )
    assert result.returncode == 2 and "WBCTL_SCENARIO only applies with --sandbox" in result.stderr
    assert redis_server.client().keys("*") == []
    assert wbctl("redis", "show", env={"WBCTL_SANDBOX": "off", "WBCTL_REDIS_URL": redis_server.url}).returncode == 0


# --- layout never hides a diff or an error -----------------------------------------------------------


@pytest.mark.parametrize("columns", ["0", "10", "-5", "wide", "99999999"])
def test_an_unusable_width_hides_neither_the_diff_nor_an_error(wbctl, redis_server: RedisServer, columns) -> None:
    env = {"COLUMNS": columns, "WBCTL_REDIS_URL": redis_server.url}
    applied = wbctl("redis", "tune", "--yes", env=env)
    assert applied.returncode == 0
    assert "bigtablev3.filestream.metric_points_chunk_size" in applied.stdout and "20000" in applied.stdout
    assert max(len(line) for line in applied.stdout.splitlines()) > 40  # not a character per line
    error = wbctl("redis", "show", env={**env, "WBCTL_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert error.returncode == 3 and "connection refused" in error.stderr and len(error.stderr.splitlines()) == 1


@pytest.mark.parametrize("columns", ["80", "100"])
def test_ids_never_wrap_at_80_or_100_columns(wbctl, columns) -> None:
    table = wbctl("--sandbox", "--scenario", "misconfigured", "check", env={"COLUMNS": columns}).stdout
    for check_id in (
        "services.wandb-flat-run-fields-updater.autoscaling",
        "redis.bigtablev3.filestream.metric_points_chunk_size",
    ):
        assert check_id in table.split()  # whole, on one line
    listed = wbctl("--sandbox", "services", "list", env={"COLUMNS": columns}).stdout
    assert "wandb-flat-run-fields-updater" in listed.split()
    status = wbctl("--sandbox", "parquet", "status", env={"COLUMNS": columns}).stdout
    assert "{'" not in status and "Deployment wandb-parquet-bc, 3/3 ready" in status


def test_a_fix_shared_by_several_checks_is_printed_once(wbctl) -> None:
    table = wbctl("--sandbox", "--scenario", "misconfigured", "services", "check").stdout
    remedies = [line for line in table.splitlines() if ": wbctl " in line]
    assert len(remedies) == len({line.split(": ", 1)[1] for line in remedies})
    assert any(line.startswith("services.wandb-api.replicas, services.wandb-api.spread: ") for line in remedies)


# --- Google: refusals name the permission, writes that stop midway are told as they are ---------------


@pytest.fixture
def google(google_api: FakeGoogleAPIs) -> FakeGoogleAPIs:
    google_api.add_instance(
        PROJECT,
        INSTANCE,
        clusters=[
            {
                "id": f"{INSTANCE}-c1",
                "location": "us-central1-a",
                "serve_nodes": 3,
                "autoscaling": {"min": 1, "max": 3},
            },
            {
                "id": f"{INSTANCE}-c2",
                "location": "us-east1-b",
                "serve_nodes": 3,
                "autoscaling": {"min": 1, "max": 3},
            },
        ],
    )
    return google_api


@pytest.fixture
def env(google: FakeGoogleAPIs) -> dict[str, str]:
    return {"WBCTL_GCP_EMULATOR_HOST": google.address, "WBCTL_GCP_PROJECT": PROJECT}


@pytest.mark.parametrize(
    ("method", "argv", "permission", "role"),
    [
        ("GetInstance", ("bigtable", "status"), "bigtable.instances.get", "roles/bigtable.viewer"),
        ("ListClusters", ("bigtable", "check"), "bigtable.clusters.list", "roles/bigtable.viewer"),
        ("ListTimeSeries", ("bigtable", "status"), "monitoring.timeSeries.list", "roles/monitoring.viewer"),
        (
            "PartialUpdateCluster",
            ("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes"),
            "bigtable.clusters.update",
            "roles/bigtable.admin",
        ),
    ],
)
def test_permission_denied_names_the_permission_and_its_role(
    wbctl, google, env, method, argv, permission, role
) -> None:
    google.fail(
        method, grpc.StatusCode.PERMISSION_DENIED, "The caller does not have permission"
    )  # as Google often words it
    result = wbctl(*argv, env=env)
    assert result.returncode == 3
    line = result.stderr.strip()
    assert (
        f"needs IAM permission {permission}, in {role}; see docs/permissions.md" in line and len(line.splitlines()) == 1
    )


def test_a_bigtable_write_stopped_on_its_second_cluster_is_told_and_audited_as_partial(
    wbctl, google, env, audit_log: Path
) -> None:
    google.fail("PartialUpdateCluster", grpc.StatusCode.UNAVAILABLE, after=1)
    result = wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=env)
    assert result.returncode == 3
    line = result.stderr.strip()
    assert "partial write: applied" in line and f"{INSTANCE}-c1 autoscaling min nodes" in line
    assert f"not applied projects/{PROJECT}/instances/{INSTANCE}/clusters/{INSTANCE}-c2 autoscaling min nodes" in line
    assert google.cluster(PROJECT, INSTANCE, f"{INSTANCE}-c1")["autoscaling"]["min"] == 3
    assert google.cluster(PROJECT, INSTANCE, f"{INSTANCE}-c2")["autoscaling"]["min"] == 1
    (entry,) = read_audit(audit_log)
    assert entry["result"] == "partial"
    assert {c["target"].rsplit("/", 1)[1] for c in entry["applied"]} == {f"{INSTANCE}-c1"}
    assert {c["target"].rsplit("/", 1)[1] for c in entry["not_applied"]} == {f"{INSTANCE}-c2"}
