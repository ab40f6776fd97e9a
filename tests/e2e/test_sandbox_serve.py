"""`wbctl sandbox serve`: one simulated deployment, kept up for kubectl, redis-cli, the mysql
client and `--sandbox` commands in other shells. The server runs as a subprocess, as a user
starts it; the clients are the real binaries, driven with what the server printed."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.cli import Subprocess, terminate_after_fix


@dataclass
class Served:
    process: subprocess.Popen[str]
    document: dict
    env: dict[str, str]  # the shell another terminal would have after the printed `export` lines

    def run(self, *argv: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
        )

    @property
    def redis_port(self) -> str:
        return self.document["backends"]["redis-url"].rsplit(":", 1)[1].split("/")[0]

    @property
    def mysql_port(self) -> str:
        return self.document["backends"]["mysql-url"].rsplit(":", 1)[1].split("/")[0]


def _serve(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wbctl", "sandbox", "serve", *args],
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


@pytest.fixture
def served(isolated_env: Path) -> Iterator[Served]:
    env = dict(os.environ)
    process = _serve(env, "-o", "json")
    try:
        line = process.stdout.readline()  # the JSON document is one line, printed once the servers listen
        assert line, process.stderr.read()
        document = json.loads(line)
        yield Served(process, document, {**env, **document["env"]})
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()


def needs(binary: str) -> None:
    if shutil.which(binary) is None:
        pytest.skip(f"{binary} is not installed")


def test_the_printed_exports_name_the_kubeconfig_and_the_clients(wbctl_process: Subprocess) -> None:
    process = _serve(wbctl_process.env)
    try:
        lines = [process.stdout.readline() for _ in range(9)]
        exports = [line for line in lines if line.startswith("export ")]
        assert exports[0].startswith("export KUBECONFIG=")
        assert Path(exports[0].split("=", 1)[1].strip()).is_file()
    finally:
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
    assert "WBCTL_SANDBOX=1 WBCTL_SCENARIO=queue-backlog" in exports[1]
    assert any("redis-cli -p" in line for line in lines) and any("mysql -h 127.0.0.1" in line for line in lines)
    assert exports[2].startswith("export BIGTABLE_EMULATOR_HOST=127.0.0.1:")
    assert any("cbt -project wandb-sandbox -instance wandb-bigtable ls" in line for line in lines)
    # Ctrl-C is how serving ends: a message, exit 0, and the kubeconfig it advertised is kept
    assert process.returncode == 0, err
    assert "stopped serving 'queue-backlog'" in err and "interrupted" not in err


def test_kubectl_reads_and_dry_runs_against_the_served_cluster(served: Served) -> None:
    needs("kubectl")
    listing = served.run("kubectl", "get", "deploy,hpa,pods,wandb", "-o", "wide")
    assert listing.returncode == 0, listing.stderr
    assert "deployment.apps/wandb-flat-run-fields-updater-bc" in listing.stdout
    assert "horizontalpodautoscaler.autoscaling/wandb-flat-run-fields-updater" in listing.stdout
    assert "Running" in listing.stdout
    assert "weightsandbiases.apps.wandb.com/wandb" in listing.stdout

    described = served.run("kubectl", "describe", "hpa", "wandb-flat-run-fields-updater")
    assert described.returncode == 0, described.stderr
    assert "Max replicas:" in described.stdout and "ScalingLimited" in described.stdout

    dry = served.run("kubectl", "scale", "deploy", "wandb-api", "--replicas=4", "--dry-run=server")
    assert dry.returncode == 0 and "(server dry run)" in dry.stdout, dry.stderr
    after = served.run("kubectl", "get", "deploy", "wandb-api", "-o", "jsonpath={.spec.replicas}")
    assert after.stdout == "3"  # a dry run changes nothing


def test_redis_cli_sees_a_discard_with_its_ttl_in_simulated_time(served: Served) -> None:
    needs("redis-cli")
    discard = served.run(sys.executable, "-m", "wbctl", "run", "discard", "noisy-run", "--ttl", "2h", "--yes")
    assert discard.returncode == 0, discard.stderr
    value = served.run("redis-cli", "-p", served.redis_port, "get", "gorilla.DiscardV2UpdatesForRun")
    assert value.stdout.strip() == "noisy-run"
    ttl = int(served.run("redis-cli", "-p", served.redis_port, "ttl", "gorilla.DiscardV2UpdatesForRun").stdout)
    assert 7000 <= ttl <= 7200  # simulated seconds (60x wall time), not wall seconds

    advanced = served.run(sys.executable, "-m", "wbctl", "sandbox", "advance", "90m")
    assert advanced.returncode == 0, advanced.stderr
    ttl = int(served.run("redis-cli", "-p", served.redis_port, "ttl", "gorilla.DiscardV2UpdatesForRun").stdout)
    assert 1500 <= ttl <= 1800  # the advance moved Redis's clock too

    served.run(sys.executable, "-m", "wbctl", "sandbox", "advance", "31m")
    gone = served.run("redis-cli", "-p", served.redis_port, "exists", "gorilla.DiscardV2UpdatesForRun")
    assert gone.stdout.strip() == "0"


def test_redis_cli_info_and_wbctl_read_the_served_redis_version(served: Served) -> None:
    needs("redis-cli")
    info = served.run("redis-cli", "-p", served.redis_port, "info", "server")
    assert info.returncode == 0, info.stderr
    version = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)["redis_version"]
    assert version.startswith("7.")  # what W&B's docs require
    policy = served.run("redis-cli", "-p", served.redis_port, "config", "get", "maxmemory-policy")
    assert policy.stdout.split() == ["maxmemory-policy", "noeviction"]
    shown = served.run(sys.executable, "-m", "wbctl", "redis", "show", "-o", "json")
    assert shown.returncode == 0, shown.stderr
    finding = {f["check"]: f for f in json.loads(shown.stdout)["findings"]}["redis.version"]
    assert (finding["status"], finding["observed"]) == ("ok", version)


def test_the_mysql_client_reads_the_flags_wbctl_judges(served: Served) -> None:
    needs("mysql")
    shown = served.run(
        "mysql",
        "-h",
        "127.0.0.1",
        "-P",
        served.mysql_port,
        "-u",
        "wandb",
        "wandb_local",
        "-e",
        "SHOW GLOBAL VARIABLES LIKE 'binlog%'",
    )
    assert shown.returncode == 0, shown.stderr
    assert "binlog_row_image\tMINIMAL" in shown.stdout
    version = served.run(
        "mysql", "-h", "127.0.0.1", "-P", served.mysql_port, "-u", "wandb", "-N", "-e", "SELECT VERSION()"
    )
    assert version.stdout.strip().startswith("8.4.")  # the incident's deployment runs the series W&B moves to


@pytest.mark.slow
def test_a_sandbox_command_joins_the_served_story(served: Served) -> None:
    status = served.run(sys.executable, "-m", "wbctl", "sandbox", "status", "-o", "json")
    assert status.returncode == 0, status.stderr
    before = json.loads(status.stdout)
    assert before["served"] is True and before["queue"]["backlog"] > 0

    applied = served.run(
        sys.executable,
        "-m",
        "wbctl",
        "bigtable",
        "autoscale",
        "--min",
        "3",
        "--max",
        "10",
        "--cpu-target",
        "70",
        "--cluster",
        "wandb-bigtable-c1",
        "--yes",
    )
    assert applied.returncode == 0, applied.stderr
    # the server, not the command, holds the story: its next tick shows the change
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        after = json.loads(served.run(sys.executable, "-m", "wbctl", "sandbox", "status", "-o", "json").stdout)
        if any("max" in line and "10" in line for line in after["changes"]):
            break
        time.sleep(0.5)
    assert any("10" in line for line in after["changes"]), after

    runbook = served.run(sys.executable, "-m", "wbctl", "runbook", "queue-backlog", "-o", "json", timeout=60)
    assert runbook.returncode in (0, 1), runbook.stderr
    assert json.loads(runbook.stdout)["verdict"] in {"growing", "draining", "steady", "none"}


@pytest.mark.slow
def test_config_init_against_the_served_cluster_writes_a_context_that_works_without_the_sandbox(
    served: Served, isolated_env: Path
) -> None:
    """The served resource and workloads name the served endpoints, so the context config init
    derives reaches Redis, MySQL, Bigtable and the queue with no --sandbox and no WBCTL_SANDBOX."""
    config = isolated_env / "wbctl.toml"
    config.write_text("")
    env = {k: v for k, v in served.env.items() if k not in ("WBCTL_SANDBOX", "WBCTL_SCENARIO")}
    env["WBCTL_CONFIG"] = str(config)

    def wbctl(*argv: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "wbctl", *argv],
            env=env,
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )

    init = wbctl("config", "init", "--yes")
    assert init.returncode == 0, init.stderr
    text = config.read_text()
    context = tomllib.loads(text)["contexts"]["wandb"]
    backends = served.document["backends"]
    assert context["redis-url"] == backends["redis-url"] and context["mysql-url"] == backends["mysql-url"]
    assert context["gcp-emulator-host"] == backends["gcp-emulator-host"]
    assert (context["gcp-project"], context["bigtable-instance"]) == ("wandb-sandbox", "wandb-bigtable")
    assert context["queue-source"] == "pubsub"
    assert "deployment/wandb-anaconda2 env BIGTABLE_EMULATOR_HOST" in init.stdout  # its origin is said
    # no secret in the file or the output: passwords stay to fill, with how
    assert "WBCTL_MYSQL_PASSWORD" in text and "WBCTL_REDIS_PASSWORD" in text
    assert not any(secret in init.stdout + init.stderr + text for secret in ("redis123", "testpassword"))
    assert wbctl("config", "use-context", "wandb").returncode == 0

    check = wbctl("check", "-o", "json")
    assert check.returncode in (0, 1), check.stderr  # a finding fails (the incident), none is unknown
    findings = {f["check"]: f for f in json.loads(check.stdout)["findings"]}
    for group in ("redis.", "mysql.", "bigtable.", "queue."):
        ours = [f for name, f in findings.items() if name.startswith(group)]
        assert ours and all(f["status"] != "unknown" for f in ours), (group, ours)
    assert findings["redis.bigtablev3.filestream.metric_points_chunk_size"]["observed"] == "20000"
    assert findings["mysql.binlog_row_image"]["observed"] == "MINIMAL"
    assert findings["bigtable.autoscaling"]["observed"].startswith("1-3 nodes")
    assert findings["queue.backlog"]["observed"] > 0

    redis = wbctl("redis", "show", "-o", "json")
    assert redis.returncode == 0, redis.stderr
    assert all(f["status"] != "unknown" for f in json.loads(redis.stdout)["findings"])
    mysql = wbctl("mysql", "check", "-o", "json")
    assert mysql.returncode in (0, 1), mysql.stderr
    assert all(f["status"] != "unknown" for f in json.loads(mysql.stdout)["findings"])

    runbook = wbctl("runbook", "queue-backlog", "-o", "json")
    assert runbook.returncode in (0, 1), runbook.stderr
    look = json.loads(runbook.stdout)
    assert look["queue"]["subscription"] == "wandb-flat-run-fields-updater" and look["backlog"] > 0
    assert look["verdict"] == "growing"

    # the served ports are not saved: once serving stops, the state holds the chart's values again
    served.process.send_signal(signal.SIGINT)
    served.process.wait(timeout=20)
    state = json.loads((isolated_env / ".local/state/wbctl/sandbox/queue-backlog.json").read_text())
    values = state["cr_values"]["global"]
    assert values["bigtable"]["project"] == "wandb-sandbox" and values["redis"] == {"password": "redis123"}
    assert "mysql" not in values and values["env"]["BIGTABLE_EMULATOR_HOST"] == "bigtable-wandb-base:8086"


def test_reset_is_refused_while_served_and_state_survives_the_stop(served: Served) -> None:
    refused = served.run(sys.executable, "-m", "wbctl", "sandbox", "reset")
    assert refused.returncode != 0 and "being served" in refused.stderr
    served.run(sys.executable, "-m", "wbctl", "run", "discard", "kept-run", "--ttl", "1d", "--yes")
    served.process.send_signal(signal.SIGTERM)  # `kill PID` stops it as Ctrl-C does
    assert served.process.wait(timeout=20) == 0
    state_dir = Path(served.env["XDG_STATE_HOME"]) / "wbctl" / "sandbox"
    assert not (state_dir / "queue-backlog.serving.json").exists()
    saved = json.loads((state_dir / "queue-backlog.json").read_text())
    assert saved["redis"]["gorilla.DiscardV2UpdatesForRun"][0] == "kept-run"
    # a command after the server stopped starts the sandbox itself, from the saved state
    again = served.run(sys.executable, "-m", "wbctl", "redis", "show", "-o", "json")
    assert again.returncode == 0, again.stderr
    assert "kept-run" in again.stdout


def test_a_second_server_for_the_same_scenario_is_refused(served: Served) -> None:
    second = served.run(sys.executable, "-m", "wbctl", "sandbox", "serve", timeout=30)
    assert second.returncode == 4
    assert f"already served by `wbctl sandbox serve` (pid {served.process.pid})" in second.stderr
    assert served.process.poll() is None  # the first one serves on


def test_kubectl_logs_show_the_updaters_rate_and_the_noisy_run(served: Served) -> None:
    """The on-call's next reach after the HPA: the updater's own lines, from the queue's model."""
    needs("kubectl")
    logs = served.run("kubectl", "logs", "deploy/wandb-flat-run-fields-updater-bc", "--tail", "3")
    assert logs.returncode == 0, logs.stderr
    lines = logs.stdout.splitlines()
    assert len(lines) == 3 and all("msg=" in line and "per_second=" in line for line in lines)
    assert all("top_run=k7w3x9qp" in line for line in lines)  # the noisy run, by the id the runbook names
    pods = served.run("kubectl", "get", "pods", "-o", "name")
    api = next(line for line in pods.stdout.splitlines() if "wandb-api" in line)
    other = served.run("kubectl", "logs", api, "--tail", "1", "--timestamps")
    assert other.returncode == 0 and other.stdout.count("\n") == 1, other.stderr
    missing = served.run("kubectl", "logs", "no-such-pod")
    assert missing.returncode == 1 and "not found" in missing.stderr.lower(), missing.stderr


def test_kubectl_top_pods_and_nodes_from_the_same_model(served: Served) -> None:
    needs("kubectl")
    pods = served.run("kubectl", "top", "pods")
    assert pods.returncode == 0, pods.stderr
    assert pods.stdout.split()[:3] == ["NAME", "CPU(cores)", "MEMORY(bytes)"]
    updater = [line.split() for line in pods.stdout.splitlines() if "flat-run-fields-updater" in line]
    assert len(updater) == 5  # the five replicas the incident has
    assert all(int(cpu.removesuffix("m")) > 0 for _, cpu, _ in updater)
    nodes = served.run("kubectl", "top", "nodes")
    assert nodes.returncode == 0, nodes.stderr
    assert "gke-wandb-pool-1" in nodes.stdout and "CPU%" in nodes.stdout


def test_the_readme_tour_names_what_a_second_shell_needs(wbctl_process: Subprocess, isolated_env: Path) -> None:
    """The tour's second-shell lines are the ones `sandbox serve` prints (its state under ~)."""
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    tour = readme.split("## A tour of the sandbox", 1)[1].split("\n## ", 1)[0]
    process = _serve(wbctl_process.env)
    try:
        printed = [process.stdout.readline() for _ in range(3)]
    finally:
        process.send_signal(signal.SIGINT)
        process.communicate(timeout=20)
    exports = [line.strip().replace(str(isolated_env), "~") for line in printed if line.startswith("export ")]
    assert "wbctl sandbox serve" in tour and len(exports) == 2
    for line in exports:
        assert line in tour, line


def test_the_rate_limit_patch_step_4_prints_works_when_pasted(served: Served) -> None:
    needs("kubectl")
    runbook = served.run(sys.executable, "-m", "wbctl", "runbook", "queue-backlog", "-o", "json", timeout=60)
    fourth = json.loads(runbook.stdout)["steps"][3]
    [line] = [line for line in fourth["evidence"] if "patch weightsandbiases" in line]
    pasted = served.run("bash", "-c", line.split(": ", 1)[1])
    assert pasted.returncode == 0, pasted.stderr
    cr = json.loads(served.run("kubectl", "get", "weightsandbiases", "wandb", "-o", "json").stdout)
    assert cr["spec"]["values"]["global"]["api"]["rateLimits"] == {"enabled": True, "fileStreamPerRunCount": 2}
    assert cr["spec"]["values"]["global"]["bigtable"], "the merge patch keeps the other values"


def test_googles_cbt_lists_instances_tables_and_clusters_as_on_a_real_project(served: Served) -> None:
    needs("cbt")
    assert served.env["BIGTABLE_EMULATOR_HOST"] == served.document["backends"]["gcp-emulator-host"]
    where = ("cbt", "-project", "wandb-sandbox")
    instances = served.run(*where, "listinstances")
    assert instances.returncode == 0, instances.stderr
    assert "wandb-bigtable" in instances.stdout.split()
    inside = (*where, "-instance", "wandb-bigtable")
    tables = served.run(*inside, "ls")
    assert tables.returncode == 0, tables.stderr
    # the tables W&B's Terraform module creates (modules/bigtable/main.tf)
    assert tables.stdout.split() == ["history", "logs", "omni-history", "omni-history-lookup", "runs"]
    families = served.run(*inside, "ls", "runs")
    assert families.returncode == 0, families.stderr
    assert [line.split()[0] for line in families.stdout.splitlines()[2:]] == ["data", "metadata"]
    clusters = served.run(*inside, "listclusters")
    assert clusters.returncode == 0 and "wandb-bigtable-c1" in clusters.stdout, clusters.stderr
    missing = served.run(*inside, "ls", "no-such-table")
    assert missing.returncode != 0 and "NotFound" in missing.stderr


def test_sigterm_to_a_command_joined_to_the_served_sandbox_keeps_its_change(served: Served) -> None:
    """issue 17, item 3, against `sandbox serve`: the killed command exits 143, the server keeps
    serving and holds what the command changed."""
    status, rest = terminate_after_fix(
        ["runbook", "queue-backlog", "--fix", "--yes", "--watch", "--interval", "1h"], served.env
    )
    assert status == 143 and rest.strip().splitlines()[-1] == "wbctl: terminated"
    assert served.process.poll() is None  # the server is untouched
    listed = served.run(sys.executable, "-m", "wbctl", "services", "list", "-o", "json")
    assert listed.returncode == 0, listed.stderr
    [updater] = [r for r in json.loads(listed.stdout)["services"] if r["service"] == "wandb-flat-run-fields-updater"]
    assert updater["autoscaling"]["max"] == 10
