"""`wbctl --sandbox`: the real adapters against the embedded simulated deployment."""

from __future__ import annotations

from pathlib import Path

from tests.support.audit import read_audit


def test_scenarios_start_in_their_state(wbctl) -> None:
    healthy = wbctl("--sandbox", "redis", "show", "-o", "json")
    assert healthy.returncode == 0, healthy.stderr
    assert healthy.json()["summary"] == {"ok": 5, "warn": 0, "fail": 0, "unknown": 0}  # the version too: 7.2.x
    misconfigured = wbctl("--sandbox", "--scenario", "misconfigured", "redis", "tune", "--check", "-o", "json")
    assert misconfigured.returncode == 1
    assert misconfigured.json()["summary"]["fail"] == 3


def test_sandbox_ignores_the_real_configuration(wbctl, isolated_env: Path) -> None:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('[contexts.prod]\nredis-url = "redis://prod-redis.invalid:6379/0"\nread-only = true\n')
    result = wbctl(
        "--sandbox",
        "config",
        "show",
        "--origin",
        "-o",
        "json",
        env={"WBCTL_REDIS_URL": "redis://env-redis.invalid:1/0"},
    )
    settings = result.json()["settings"]
    assert result.json()["context"] == "sandbox/queue-backlog"  # the default story: the incident
    assert settings["redis-url"]["value"].startswith("redis://127.0.0.1:")
    assert settings["redis-url"]["origin"] == "sandbox queue-backlog"
    assert settings["read-only"]["value"] is False


def test_rehearsal_state_persists_until_reset(wbctl, isolated_env: Path, audit_log: Path) -> None:
    env = {
        "WBCTL_SANDBOX": "1",
        "WBCTL_SCENARIO": "misconfigured",
        "WBCTL_SANDBOX_SPEED": "0",
    }  # the clock stands still
    assert wbctl("redis", "tune", "--yes", env=env).returncode == 0
    assert wbctl("run", "discard", "noisy-run", "--ttl", "2h", "--yes", env=env).returncode == 0
    assert wbctl("redis", "tune", "--check", env=env).returncode == 0
    discarded = wbctl("run", "discarded", "-o", "json", env=env).json()
    assert discarded["run"] == "noisy-run" and discarded["ttl_seconds"] > 7000
    # rehearsals are audited apart from the real trail
    assert read_audit(audit_log) == []
    sandbox_audit = isolated_env / ".local" / "state" / "wbctl" / "sandbox" / "audit.jsonl"
    assert [e["context"] for e in read_audit(sandbox_audit)] == ["sandbox/misconfigured"] * 2
    # other scenarios are untouched, and reset starts afresh
    assert wbctl("--sandbox", "run", "discarded", "-o", "json").json()["run"] is None
    reset = wbctl("sandbox", "reset")
    assert reset.returncode == 0 and "misconfigured" in reset.stderr
    assert wbctl("redis", "tune", "--check", env=env).returncode == 1


def test_sandbox_input_errors(wbctl) -> None:
    unknown = wbctl("--sandbox", "--scenario", "nope", "redis", "show")
    assert unknown.returncode == 2 and "unknown sandbox scenario 'nope'" in unknown.stderr
    without = wbctl("--scenario", "healthy", "redis", "show")
    assert without.returncode == 2 and "--scenario only applies with --sandbox" in without.stderr


def test_scenarios_list(wbctl) -> None:
    names = [s["name"] for s in wbctl("sandbox", "scenarios", "-o", "json").json()["scenarios"]]
    assert names == ["healthy", "filestream-backlog", "misconfigured", "queue-backlog", "operator-v2"]


def test_sandbox_serves_kubernetes_and_never_the_real_cluster(wbctl, isolated_env: Path) -> None:
    from wbctl.sandbox.kube.api import FakeKubeAPI

    with FakeKubeAPI() as real:  # stands for the cluster in the operator's own kubeconfig
        kubeconfig = real.write_kubeconfig(isolated_env / "kubeconfig")
        env = {"KUBECONFIG": str(kubeconfig), "WBCTL_SANDBOX": "1"}
        listed = wbctl("services", "list", "-o", "json", env=env)
        assert listed.returncode == 0, listed.stderr
        assert {r["service"] for r in listed.json()["services"] if r["present"]} >= {"wandb-api", "wandb-app"}
        assert wbctl("services", "check", env=env).returncode == 0
        assert real.requests == []


def test_sandbox_misconfigured_services_and_a_lasting_fix(wbctl) -> None:
    env = {"WBCTL_SANDBOX": "1", "WBCTL_SCENARIO": "misconfigured"}
    check = wbctl("services", "check", "-o", "json", env=env)
    assert check.returncode == 1
    failing = {f["check"] for f in check.json()["findings"] if f["status"] == "fail"}
    assert {
        "services.wandb-api.replicas",
        "services.wandb-flat-run-fields-updater.autoscaling",
        "services.wandb-app.single-instance",
    } <= failing
    assert (
        wbctl(
            "services", "autoscale", "flat-run-fields-updater", "--min", "3", "--max", "10", "--yes", env=env
        ).returncode
        == 0
    )
    status = wbctl("services", "status", "flat-run-fields-updater", "-o", "json", env=env).json()
    assert status["services"][0]["cr_values"]["autoscaling"]["horizontal"]["maxReplicas"] == 10  # kept between runs


def test_sandbox_serves_bigtable_and_monitoring(wbctl) -> None:
    env = {
        "WBCTL_SANDBOX": "1",
        "WBCTL_SCENARIO": "misconfigured",
        "WBCTL_GCP_PROJECT": "real-project",
        "WBCTL_GCP_EMULATOR_HOST": "127.0.0.1:1",
    }  # the sandbox overrides both
    check = wbctl("bigtable", "check", "-o", "json", env=env)
    assert check.returncode == 1, check.stderr
    assert {f["check"]: f["status"] for f in check.json()["findings"]}["bigtable.min-nodes"] == "fail"
    assert wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=env).returncode == 0
    assert wbctl("bigtable", "check", env=env).returncode == 0  # the change was kept between runs
    backlog = wbctl("--sandbox", "--scenario", "queue-backlog", "bigtable", "check", "-o", "json")
    assert {f["check"]: f["status"] for f in backlog.json()["findings"]}[
        "bigtable.cpu"
    ] == "fail"  # at its maximum over the CPU target, as the runbook judges it


def test_sandbox_gcs_fuse_healthy_and_refused_without_the_driver(wbctl) -> None:
    assert wbctl("--sandbox", "parquet", "fuse", "check").returncode == 0
    refused = wbctl("--sandbox", "--scenario", "misconfigured", "parquet", "fuse", "enable", "--yes")
    assert refused.returncode == 4 and "enable_gcs_fuse_csi_driver = true" in refused.stderr


def test_sandbox_queue_backlog_tells_the_incident(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "queue-backlog", "runbook", "queue-backlog")
    assert result.returncode == 1, result.stderr
    headline = " ".join(
        result.stdout.split("\n\n", 1)[0].split()
    )  # wrapped to COLUMNS, the command on a line of its own
    assert (
        headline.startswith("queue GROWING +")
        and "next: wbctl --sandbox --scenario queue-backlog bigtable autoscale" in headline
    )
    assert "at its autoscaling maximum of 3 nodes" in result.stdout  # Bigtable at its max
    assert "at its maximum of 5" in result.stdout  # the updater's HPA at its max
    assert (
        "wbctl --sandbox --scenario queue-backlog services autoscale wandb-flat-run-fields-updater --min 5 --max 10"
        in result.stdout
    )
    assert (
        "wbctl --sandbox --scenario queue-backlog run discard k7w3x9qp --ttl 2h" in result.stdout
    )  # the configured query
    healthy = wbctl("--sandbox", "--scenario", "healthy", "runbook", "queue-backlog", "-o", "json")
    assert healthy.returncode == 0 and healthy.json()["verdict"] == "none"


def test_every_command_the_incident_prints_works_when_pasted(wbctl) -> None:
    import shlex

    shown = wbctl("--sandbox", "--scenario", "queue-backlog", "runbook", "queue-backlog").stdout
    commands = sorted({line.split("next: ", 1)[1] for line in shown.splitlines() if "next: wbctl " in line})
    assert len(commands) == 3  # Bigtable, the updater, the noisy run (the headline repeats the first)
    for text in commands:
        argv = shlex.split(text)
        assert argv[:4] == ["wbctl", "--sandbox", "--scenario", "queue-backlog"]
        pasted = wbctl(*argv[1:], "--dry-run")
        assert pasted.returncode == 0, (text, pasted.stderr)
        assert "dry run" in pasted.stderr


def test_sandbox_status_fits_columns_in_a_pipe(wbctl) -> None:
    result = wbctl("--sandbox", "sandbox", "status", env={"COLUMNS": "60"})
    assert result.returncode == 0, result.stderr
    from wbctl.wrapping import units

    assert [line for line in result.stdout.splitlines() if len(line) > 60 and len(units(line)) > 1] == []
