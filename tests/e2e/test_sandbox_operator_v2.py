"""The sandbox's `operator-v2` scenario (the v2 operator's CRD and server manifest, its operator
simulated): `services` and `check` read it as a v2 install, and `services autoscale` changes
what the operator then runs."""

from __future__ import annotations

from tests.support.text import one_line

SANDBOX = ("--sandbox", "--scenario", "operator-v2")


def _rows(wbctl) -> dict[str, dict]:
    result = wbctl(*SANDBOX, "services", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    return {row["service"]: row for row in result.json()["services"]}


def test_services_are_named_after_the_app(wbctl) -> None:
    rows = _rows(wbctl)
    assert (rows["wandb-flat-run-fields-updater"]["workload"], rows["wandb-app"]["present"]) == (
        "flat-run-fields-updater",
        False,
    )


def test_the_updater_runs_within_the_crs_bounds(wbctl) -> None:
    autoscaling = _rows(wbctl)["wandb-flat-run-fields-updater"]["autoscaling"]
    assert (autoscaling["min"], autoscaling["max"]) == (3, 10)


def test_check_finds_no_v1_only_service_missing(wbctl) -> None:
    result = wbctl(*SANDBOX, "check", "--only", "services,parquet", "-o", "json")
    failing = {f["check"] for f in result.json()["findings"] if f["status"] == "fail"}
    assert not failing & {
        "services.wandb-app.present",
        "services.wandb-console.present",
        "services.wandb-prometheus-server.present",
        "parquet.fuse",
        "versions.operator-chart",
    }


def test_autoscale_is_applied_by_the_v2_operator(wbctl) -> None:
    """The updater writes at capacity behind the lag: its HPA goes straight to the new maximum."""
    changed = wbctl(*SANDBOX, "services", "autoscale", "flat-run-fields-updater", "--min", "5", "--max", "12", "--yes")
    assert changed.returncode == 0, changed.stderr
    status = wbctl(*SANDBOX, "services", "status", "flat-run-fields-updater", "-o", "json").json()["services"][0]
    assert (status["autoscaler"]["min"], status["autoscaler"]["max"], status["workload"]["desired"]) == (5, 12, 12)


def test_check_says_bigtable_is_not_part_of_v2(wbctl) -> None:
    result = wbctl(*SANDBOX, "check", "--only", "bigtable", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert {(f["status"], f["expected"]) for f in result.json()["findings"]} == {("ok", "absent from v2")}


def test_the_runbook_names_the_v2_queue_and_no_bigtable(wbctl) -> None:
    document = wbctl(*SANDBOX, "runbook", "queue-backlog", "-o", "json").json()
    steps = {step["name"]: step for step in document["steps"]}
    assert (document["queue"]["topic"], steps["bigtable"]["status"]) == ("flat-run-fields-updater", "ok")


def test_bigtable_commands_say_the_v2_install_has_none(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "operator-v2", "bigtable", "status")
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "wbctl: error: Bigtable is not part of this generation: the v2 operator runs no Bigtable "
        "(its stores: MySQL, Redis, Kafka, ClickHouse and object storage); set bigtable-instance if this deployment has one"
    )
