"""Rehearsing in the sandbox: it answers changes like the real deployment, keeps time, and
cleans up after itself. Through the CLI as a subprocess, on the sandbox's own clock (stopped
with WBCTL_SANDBOX_SPEED=0 where a test must not depend on wall time, moved by `sandbox advance`)."""

from __future__ import annotations

import io
import json
import os
import shlex
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.cli import terminate_after_fix
from wbctl.cli import main
from wbctl.environment import Environment

STILL = {"WBCTL_SANDBOX": "1", "WBCTL_SANDBOX_SPEED": "0"}


def failing(wbctl, env: dict[str, str]) -> dict[str, dict]:
    result = wbctl("check", "-o", "json", env=env)
    return {f["check"]: f for f in result.json()["findings"] if f["status"] == "fail"}


def test_misconfigured_every_pasted_remedy_clears_its_finding(wbctl) -> None:
    env = {**STILL, "WBCTL_SCENARIO": "misconfigured"}
    before = failing(wbctl, env)
    assert {
        "redis.bigtablev3.filestream.write_cache_size",
        "services.wandb-api.replicas",
        "services.wandb-flat-run-fields-updater.autoscaling",
        "services.wandb-app.single-instance",
        "bigtable.min-nodes",
        "mysql.binlog_row_image",
        "parquet.csi-driver",
    } <= set(before)
    commands = {f["remedy"] for f in before.values() if f["remedy"].startswith("wbctl ")}
    not_commands = {check for check, f in before.items() if not f["remedy"].startswith("wbctl ")}
    # a remedy that cannot succeed yet names what comes first instead of a command that would be refused
    assert "parquet.fuse" in not_commands and before["parquet.fuse"]["remedy"].startswith(
        "first install the GKE GCS FUSE CSI driver"
    )
    for command in sorted(commands):
        argv = shlex.split(command)
        assert argv[:4] == ["wbctl", "--sandbox", "--scenario", "misconfigured"], command
        pasted = wbctl(*argv[1:], "--yes", env={"WBCTL_SANDBOX_SPEED": "0"})
        assert pasted.returncode == 0, (command, pasted.stderr)
    assert wbctl("sandbox", "advance", "1m", env=env).returncode == 0  # the new pods become ready
    after = failing(wbctl, env)
    cleared = {check for check, f in before.items() if f["remedy"].startswith("wbctl ")}
    assert not cleared & set(after), {check: after[check]["message"] for check in cleared & set(after)}
    assert set(after) <= not_commands  # what is left needs Terraform or a restart


def test_a_discard_with_a_ttl_expires_on_the_sandbox_clock(wbctl) -> None:
    assert wbctl("run", "discard", "x1y2z3", "--ttl", "10s", "--yes", env=STILL).returncode == 0
    assert wbctl("run", "discarded", "-o", "json", env=STILL).json()["run"] == "x1y2z3"
    assert wbctl("sandbox", "advance", "1m", env=STILL).returncode == 0
    assert wbctl("run", "discarded", "-o", "json", env=STILL).json()["run"] is None


def test_status_shows_the_time_and_what_was_changed(wbctl) -> None:
    assert wbctl("bigtable", "autoscale", "--min", "3", "--max", "10", "--yes", env=STILL).returncode == 0
    advanced = wbctl("sandbox", "advance", "5m", "-o", "json", env=STILL).json()
    status = wbctl("sandbox", "status", "-o", "json", env=STILL).json()
    assert status["scenario"] == "queue-backlog" and status["simulated_time"] == advanced["simulated_time"]
    assert any("Bigtable autoscaling 1-3 -> 3-10 nodes" in line for line in status["changes"])
    assert status["queue"]["backlog"] > 0
    reset = wbctl("sandbox", "reset")
    assert reset.returncode == 0
    assert wbctl("sandbox", "status", "-o", "json", env=STILL).json()["changes"] == []


def test_a_read_only_command_does_not_rewrite_the_state(wbctl, isolated_env: Path) -> None:
    state = isolated_env / ".local" / "state" / "wbctl" / "sandbox" / "queue-backlog.json"
    assert wbctl("services", "check", env=STILL).returncode in (0, 1)
    first = state.stat().st_mtime_ns
    for argv in (("services", "status"), ("bigtable", "status"), ("redis", "show"), ("runbook", "queue-backlog")):
        wbctl(*argv, env=STILL)
    assert state.stat().st_mtime_ns == first
    assert state.stat().st_size < 20_000  # the clock, the changes, the values: not the namespace's objects


@pytest.mark.slow
def test_the_incident_plays_out_with_fix_in_under_a_minute(wbctl) -> None:
    started = time.monotonic()
    result = wbctl(
        "--sandbox", "runbook", "queue-backlog", "--fix", "--yes", "--watch", "--until-clear", "-o", "json", timeout=90
    )
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stderr[-2000:]
    rounds = [line for line in result.stdout.splitlines() if line.startswith("{")]
    assert '"verdict": "growing"' in rounds[0] and '"verdict": "none"' in rounds[-1]
    assert elapsed < 60


@pytest.mark.slow
def test_the_incident_clears_after_discarding_the_named_run(wbctl) -> None:
    first = wbctl("--sandbox", "runbook", "queue-backlog", "-o", "json").json()
    noisy = next(step for step in first["steps"] if step["name"] == "noisy run")
    assert noisy["next"].startswith("wbctl --sandbox run discard ")
    assert wbctl(*shlex.split(noisy["next"])[1:], "--yes").returncode == 0
    started = time.monotonic()
    result = wbctl("--sandbox", "runbook", "queue-backlog", "--watch", "--until-clear", "-o", "json", timeout=90)
    assert result.returncode == 0 and time.monotonic() - started < 60


def _sandbox_thread_objects() -> list[threading.Thread]:
    return [
        t
        for t in threading.enumerate()
        if t.name.startswith(("sandbox-", "fake-", "wbctl-sandbox", "wbctl-read")) and t.is_alive()
    ]


def _listening_sockets() -> int:
    """Listening TCP sockets this process holds (from /proc: no psutil here)."""
    inodes = set()
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        listening += sum(1 for line in lines if line.split()[3] == "0A" and line.split()[9] in inodes)
    return listening


def test_no_listener_or_thread_outlives_a_command(isolated_env: Path) -> None:
    before_threads, before_sockets = set(_sandbox_thread_objects()), _listening_sockets()
    for argv in (
        ["--sandbox", "check"],
        ["--sandbox", "services", "status"],
        ["--sandbox", "mysql", "check"],
        ["--sandbox", "runbook", "queue-backlog"],
        ["--sandbox", "redis", "show"],
    ):
        env = Environment(
            environ={**os.environ, "WBCTL_SANDBOX_SPEED": "0"},
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_isatty=False,
            stdout_isatty=False,
            stderr_isatty=False,
        )
        assert main(argv, env) in (0, 1), env.stderr.getvalue()

        # nothing the command started is left (an earlier test's server threads may still be
        # winding down in this worker: they may go, none may come)
        def leftovers() -> tuple[list[str], int]:
            threads = [t.name for t in _sandbox_thread_objects() if t not in before_threads]
            return threads, max(0, _listening_sockets() - before_sockets)

        deadline = time.monotonic() + 3
        while leftovers() != ([], 0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert leftovers() == ([], 0), argv


def test_two_commands_at_once_both_land(wbctl) -> None:
    """Each loads the state at start and saves it at stop: without the scenario lock, the one
    that saved last would erase the other's change."""
    wbctl("--sandbox", "run", "discarded")  # the state exists
    commands = [
        ["--sandbox", "run", "discard", "aaaa1111", "--ttl", "2h", "--yes"],
        ["--sandbox", "bigtable", "autoscale", "--min", "3", "--max", "10", "--cpu-target", "70", "--yes"],
    ]
    processes = [
        subprocess.Popen(
            [sys.executable, "-m", "wbctl", *argv],
            env=wbctl.env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for argv in commands
    ]
    for process in processes:
        _, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
    discarded = wbctl("--sandbox", "run", "discarded", "-o", "json").json()
    assert "aaaa1111" in json.dumps(discarded)
    status = wbctl("--sandbox", "sandbox", "status", "-o", "json").json()
    assert any("3-10 nodes" in line for line in status["changes"]), status["changes"]


def test_reset_is_refused_while_a_command_holds_the_scenario(wbctl) -> None:
    watch = subprocess.Popen(
        [sys.executable, "-m", "wbctl", "--sandbox", "runbook", "queue-backlog", "--watch", "--interval", "5s"],
        env=wbctl.env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert watch.stdout.readline()  # the first round is out: the sandbox is up
        refused = wbctl("sandbox", "reset")
        assert refused.returncode == 4 and "in use by another wbctl command" in refused.stderr
    finally:
        watch.terminate()
        watch.wait(timeout=20)
    assert wbctl("sandbox", "reset").returncode == 0


def test_the_world_runs_on_past_the_story_day(wbctl) -> None:
    """The scripted part ends (the noisy run finishes); the clock and the model do not:
    every `advance` moves time by what it says, and the backlog drains on its own."""
    first = wbctl("sandbox", "advance", "1d", "-o", "json", env=STILL).json()
    second = wbctl("sandbox", "advance", "1d", "-o", "json", env=STILL).json()
    assert second["advanced_seconds"] == 86400
    assert second["backlog_before"] == first["backlog"] and second["backlog"] < first["backlog"]
    third = wbctl("sandbox", "advance", "1d", env=STILL)
    assert "(+1d)" in third.stdout and "backlog" in third.stdout
    status = wbctl("sandbox", "status", "-o", "json", env=STILL).json()
    assert status["story_minutes"] == 80 + 3 * 1440 and status["queue"]["backlog"] == 0
    assert "ends" not in status and status["story"]["script_ended"]
    text = wbctl("sandbox", "status", env=STILL).stdout
    assert "story:" in text and "the model runs on" in text
    runbook = wbctl("runbook", "queue-backlog", "-o", "json", env=STILL)
    assert runbook.returncode == 0, runbook.stdout[-2000:]  # a watch started this late sees it clear


def test_status_says_what_is_playing_and_what_comes_next(wbctl) -> None:
    status = wbctl("sandbox", "status", "-o", "json", env=STILL).json()
    story = status["story"]
    assert "k7w3x9qp" in story["now"] and not story["script_ended"]
    assert "finishes" in story["next"] and story["next_at"] > status["simulated_time"]
    text = wbctl("sandbox", "status", env=STILL).stdout
    assert f"story: {story['now']}" in text and f"next: {story['next']}" in text


def test_sigterm_midway_through_a_fix_keeps_what_it_changed(wbctl, isolated_env: Path) -> None:
    """`kill PID` is Ctrl-C: the sandbox's state is saved and its lock released (issue 17, item 3)."""
    status, rest = terminate_after_fix(
        ["--sandbox", "runbook", "queue-backlog", "--fix", "--yes", "--watch", "--interval", "1h"], wbctl.env
    )
    assert status == 143
    assert rest.strip().splitlines()[-1] == "wbctl: terminated"
    # the next command takes the lock at once and reads the change back from the saved state
    status = wbctl("--sandbox", "services", "list", "-o", "json", timeout=30)
    assert status.returncode == 0, status.stderr
    services = json.loads(status.stdout)["services"]
    [updater] = [row for row in services if row["service"] == "wandb-flat-run-fields-updater"]
    assert (updater["autoscaling"]["min"], updater["autoscaling"]["max"]) == (5, 10)
    bigtable = wbctl("--sandbox", "bigtable", "status", "-o", "json", timeout=30)
    assert json.loads(bigtable.stdout)["clusters"][0]["autoscaling"]["max_nodes"] == 10
