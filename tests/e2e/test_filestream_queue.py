"""The filestream service's own Pub/Sub subscription end to end: found in its Deployment (the
chart's GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS), judged in `check` (queue.filestream.*), its
numbers in `-o prometheus` under a `queue` label, its alert rules, and the runbook's step 1,
which shows it beside the run-updates queue when it backs up and hides it when it is `none`.
Over the sandbox (scenario filestream-backlog: healthy, filestream behind for 30 minutes) and
over the fakes staged by hand (the MySQL form: no queue)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import replace
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.e2e.test_runbook_queue_backlog import INCIDENT, NAMES, World, world  # noqa: F401 (the fixture)
from wbctl.sandbox.sim.queue_model import FilestreamStory

BACKING_UP = ("--sandbox", "--scenario", "filestream-backlog")
AUTOSCALE = ("services", "autoscale", "wandb-filestream", "--min", "6", "--max", "10")  # 3 ready, HPA 1-10
SECRET = "fs-hunter2"  # a password in the MySQL form: never printed


def findings(result) -> dict[str, dict]:
    return {finding["check"]: finding for finding in result.json()["findings"]}


def test_check_judges_a_backing_up_filestream_queue(wbctl) -> None:
    result = wbctl(*BACKING_UP, "check", "--only", "queue", "-o", "json")
    assert result.returncode == 1, result.stderr
    found = findings(result)
    backlog, oldest = found["queue.filestream.backlog"], found["queue.filestream.oldest-age"]
    assert backlog["status"] == "fail" and backlog["message"].startswith("growing:")
    assert backlog["target"].startswith("Pub/Sub subscription wandb-filestream-gorilla of topic wandb-filestream")
    assert backlog["remedy"] == "wbctl --sandbox --scenario filestream-backlog runbook queue-backlog"
    assert oldest["status"] == "warn"  # older than queue-allowed-age, far from the 7 days
    assert found["queue.backlog"]["status"] == found["queue.oldest-age"]["status"] == "ok"


def test_a_quiet_filestream_queue_passes(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "--only", "queue", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert {check: f["status"] for check, f in findings(result).items()} == {
        "queue.backlog": "ok",
        "queue.oldest-age": "ok",
        "queue.filestream.backlog": "ok",
        "queue.filestream.oldest-age": "ok",
    }


def test_prometheus_tells_the_two_queues_apart_by_label(wbctl) -> None:
    result = wbctl(*BACKING_UP, "check", "--only", "queue", "-o", "prometheus", "--exit-zero")
    assert result.returncode == 0, result.stderr
    parsed = {family.name: family.samples for family in text_string_to_metric_families(result.stdout)}
    verdicts = {(s.labels["queue"], s.labels["verdict"]) for s in parsed["wbctl_queue_verdict"] if s.value == 1}
    assert verdicts == {("run-updates", "none"), ("filestream", "growing")}
    backlog = {s.labels["queue"]: s.value for s in parsed["wbctl_queue_backlog_messages"]}
    assert backlog["run-updates"] == 0 and backlog["filestream"] > 10_000
    failing = {s.labels["check"] for s in parsed["wbctl_check_status"] if s.labels["status"] == "fail" and s.value == 1}
    assert failing == {"queue.filestream.backlog"}


def test_the_alert_rules_include_the_filestream_queue(wbctl, tmp_path: Path) -> None:
    result = wbctl("alerts", "rules")
    assert result.returncode == 0, result.stderr
    groups = {group["name"]: group for group in yaml.safe_load(result.stdout)["groups"]}
    names = [rule["alert"] for rule in groups["wbctl-filestream-queue"]["rules"]]
    assert names == [
        "WbctlFilestreamQueueBacklogGrowing",
        "WbctlFilestreamQueueStalled",
        "WbctlFilestreamQueueOldestMessageAge",
        "WbctlFilestreamQueueDataLossProjected",
        "WbctlFilestreamQueueDrainPastRetention",
    ]
    promtool = shutil.which("promtool") or "/usr/bin/promtool"
    if Path(promtool).exists():  # the machine's promtool, when it has one
        (tmp_path / "rules.yaml").write_text(result.stdout)
        checked = subprocess.run(
            [promtool, "check", "rules", "rules.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
        )
        assert checked.returncode == 0, checked.stdout + checked.stderr
    kafka = wbctl("alerts", "rules", env={"WBCTL_QUEUE_SOURCE": "kafka"})
    assert "WbctlFilestreamQueue" not in kafka.stdout  # without Pub/Sub the chart's filestream reads MySQL


def test_the_runbook_shows_it_and_its_remedy_which_works_when_pasted(wbctl) -> None:
    result = wbctl(*BACKING_UP, "runbook", "queue-backlog")
    assert result.returncode == 0, result.stderr  # the run-updates queue's verdict decides the code
    command = f"wbctl {' '.join(BACKING_UP)} {' '.join(AUTOSCALE)}"
    assert "filestream queue GROWING" in result.stdout.splitlines()[0]
    assert command in [line.strip() for line in result.stdout.splitlines()]  # wrapped before it, never inside
    assert "filestream queue: Pub/Sub subscription wandb-filestream-gorilla" in result.stdout
    document = wbctl(*BACKING_UP, "runbook", "queue-backlog", "-o", "json").json()
    assert "filestream queue GROWING" in document["headline"] and document["headline"].endswith(f"next: {command}")
    [first] = [step for step in document["steps"] if step["step"] == 1]
    assert first["status"] == "fail" and first["proposals"] == [list(AUTOSCALE)] and first["next"] == command
    filestream = document["filestream_queue"]
    assert filestream["verdict"] == "growing" and filestream["queue"]["subscription"] == "wandb-filestream-gorilla"
    assert filestream["backlog"] > 10_000 and document["verdict"] == "none"
    pasted = wbctl(*command.split()[1:], "--dry-run")
    assert pasted.returncode == 0, pasted.stderr
    assert "spec.values.filestream.autoscaling.horizontal.minReplicas" in pasted.stdout


def test_the_runbook_hides_a_filestream_without_a_queue(world: World, wbctl) -> None:  # noqa: F811
    mysql = f"mysql://wandb:{SECRET}@mysql.internal:3306/wandb_local?tls=preferred"
    world.stage(filestream_address=mysql)
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=world.env)
    assert result.returncode == 1, result.stderr  # the incident: the run-updates queue grows
    [first] = [step for step in result.json()["steps"] if step["step"] == 1]
    assert not any("filestream" in line for line in first["evidence"])
    assert result.json()["filestream_queue"] is None
    checked = wbctl("check", "--only", "queue", "-o", "json", "--exit-zero", env=world.env)
    assert not [check for check in findings(checked) if check.startswith("queue.filestream.")]
    for output in (result, checked):
        assert SECRET not in output.stdout and SECRET not in output.stderr


def test_the_runbook_shows_it_beside_a_growing_run_updates_queue(world: World, wbctl) -> None:  # noqa: F811
    behind = FilestreamStory(publish=120, slow_from=40 * 60, slow_consume=60)
    world.stage(story=replace(INCIDENT, filestream=behind))
    document = wbctl("runbook", "queue-backlog", "-o", "json", env=world.env).json()
    [first] = [step for step in document["steps"] if step["step"] == 1]
    assert document["verdict"] == "growing"
    assert f"filestream queue: Pub/Sub subscription {NAMES.filestream_subscription}" in " ".join(first["evidence"])
    assert first["next"].startswith("wbctl services autoscale wandb-filestream --min ")
    assert "services autoscale wandb-filestream" not in document["next"]  # the run-updates path first


def test_no_filestream_workload_means_no_filestream_queue(world: World, wbctl) -> None:  # noqa: F811
    world.stage()
    [deployment] = [
        d
        for d in world.kube.objects("deployments", "default")
        if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == "filestream"
    ]
    assert world.kube.remove("deployments", "default", deployment["metadata"]["name"])
    checked = wbctl("check", "--only", "queue", "-o", "json", "--exit-zero", env=world.env)
    assert sorted(findings(checked)) == ["queue.backlog", "queue.oldest-age"]
    document = wbctl("runbook", "queue-backlog", "-o", "json", env=world.env).json()
    assert document["filestream_queue"] is None


def test_the_remedy_rehearsed_drains_the_filestream_queue(wbctl) -> None:
    """In the sandbox the remedy does what it says: filestream's replicas (as the operator
    clamps them to the new minimum) consume its subscription faster, and the backlog clears."""
    env = {"WBCTL_SANDBOX_SPEED": "0"}  # the clock moves only with `sandbox advance`
    applied = wbctl(*BACKING_UP, *AUTOSCALE, "--yes", env=env)
    assert applied.returncode == 0, applied.stderr
    assert wbctl(*BACKING_UP, "sandbox", "advance", "50m", env=env).returncode == 0
    result = wbctl(*BACKING_UP, "check", "--only", "queue", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    backlog = findings(result)["queue.filestream.backlog"]
    assert backlog["status"] == "ok" and backlog["observed"] == 0
    status = wbctl(*BACKING_UP, "sandbox", "status", env=env)
    assert "filestream 3 -> 6 replicas" in status.stdout
