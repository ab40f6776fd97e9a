"""`wbctl check`: every backend in one report; an unreachable backend's findings are unknown."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.net import free_port
from tests.support.redis import RedisServer


def test_sandbox_healthy_passes_everything(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "-o", "json")
    assert result.returncode == 0, result.stdout
    findings = result.json()["findings"]
    sections = {f["check"].split(".")[0] for f in findings}
    assert {"redis", "services", "parquet", "versions", "bigtable", "mysql", "queue"} <= sections
    assert {f["status"] for f in findings} == {"ok"}, [f for f in findings if f["status"] != "ok"]
    only = wbctl("--sandbox", "--scenario", "healthy", "check", "--only", "redis,queue", "-o", "json")
    assert only.returncode == 0 and {f["check"].split(".")[0] for f in only.json()["findings"]} == {"redis", "queue"}


def test_check_exits_3_when_nothing_could_be_checked(wbctl, isolated_env: Path) -> None:
    down = {
        "WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "KUBECONFIG": "/nonexistent",
        "WBCTL_MYSQL_URL": f"mysql://u@127.0.0.1:{free_port()}/db",
    }
    for args in ((), ("--fail-on", "warn")):
        result = wbctl("--timeout", "2", "check", *args, env=down)
        assert result.returncode == 3, result.stdout
        assert "0 ok, 0 warn, 0 fail" in result.stdout
    assert wbctl("--timeout", "2", "check", "--exit-zero", env=down).returncode == 0


def test_only_takes_known_groups(wbctl) -> None:
    for bad in ("redis,nope", "", "redis,,queue", " "):
        result = wbctl("--sandbox", "check", "--only", bad)
        assert result.returncode == 2 and "--only" in result.stderr and len(result.stderr.strip().splitlines()) == 1


def test_a_table_collapses_unknown_findings_one_line_per_backend(wbctl) -> None:
    env = {
        "WBCTL_MYSQL_URL": f"mysql://u@127.0.0.1:{free_port()}/db",
        "KUBECONFIG": "/nonexistent",
        "WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
    }
    table = wbctl("--timeout", "2", "check", "--only", "mysql,services", env=env).stdout
    assert table.count("connection refused") == 1 and "mysql.* (17 checks)" in table
    assert table.count("cannot load a kubeconfig") == 1


def test_fail_on_warn(wbctl, redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.mset(
        {
            "bigtablev3.filestream.metric_points_chunk_size": "20000",
            "bigtablev3.filestream.metric_points_parallelization": "4",
            "bigtablev3.filestream.write_cache_size": "10000000",
        }
    )
    client.set("gorilla.DiscardV2UpdatesForRun", "noisy1", ex=3600)  # a discard in place is a warning
    env = {
        "WBCTL_REDIS_URL": redis_server.url,
        "KUBECONFIG": "/nonexistent",
        "WBCTL_MYSQL_URL": f"mysql://u@127.0.0.1:{free_port()}/db",
    }
    report = wbctl("--timeout", "2", "check", "--only", "redis", "-o", "json", env=env)
    assert report.returncode == 0, report.stdout
    statuses = {f["status"] for f in report.json()["findings"]}
    assert "warn" in statuses and "fail" not in statuses
    assert wbctl("--timeout", "2", "check", "--only", "redis", "--fail-on", "warn", env=env).returncode == 1
    bad = wbctl("--sandbox", "check", "--fail-on", "never")
    assert bad.returncode == 2 and "--fail-on never: expected fail or warn" in bad.stderr


def test_sandbox_queue_backlog_fails_the_queue_and_names_the_runbook(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "queue-backlog", "check", "-o", "json")
    assert result.returncode == 1
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["queue.backlog"]["status"] == "fail" and "growing" in findings["queue.backlog"]["message"]
    assert findings["queue.backlog"]["remedy"] == "wbctl --sandbox --scenario queue-backlog runbook queue-backlog"
    assert findings["queue.oldest-age"]["status"] == "warn"
    # one state, one judgement: Bigtable at its maximum over the CPU target fails in both, with one raise
    runbook = wbctl("--sandbox", "--scenario", "queue-backlog", "runbook", "queue-backlog", "-o", "json").json()
    step_2 = next(step for step in runbook["steps"] if step["step"] == 2)
    assert findings["bigtable.cpu"]["status"] == step_2["status"] == "fail"
    assert findings["bigtable.cpu"]["remedy"] == step_2["next"]
    step_1 = next(step for step in runbook["steps"] if step["step"] == 1)
    assert findings["queue.backlog"]["status"] == step_1["status"]


def test_dead_backends_do_not_hide_the_live_one(wbctl, redis_server: RedisServer, isolated_env: Path) -> None:
    kubeconfig = isolated_env / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        f"clusters: [{{name: dead, cluster: {{server: 'http://127.0.0.1:{free_port()}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
    )
    env = {
        "WBCTL_REDIS_URL": redis_server.url,
        "KUBECONFIG": str(kubeconfig),
        "WBCTL_MYSQL_URL": f"mysql://wandb@127.0.0.1:{free_port()}/wandb_local",
    }
    result = wbctl("--timeout", "2", "check", "-o", "json", env=env)
    assert result.returncode == 1  # the live Redis is untuned
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["redis.bigtablev3.filestream.write_cache_size"]["status"] == "fail"
    assert findings["services.wandb-api.replicas"]["status"] == "unknown"
    assert "cannot reach the Kubernetes API" in findings["services.wandb-api.replicas"]["message"]
    assert findings["parquet.fuse"]["status"] == "unknown"
    assert "gcp-project is not set" in findings["bigtable.min-nodes"]["message"]
    assert "connection refused" in findings["mysql.version"]["message"]
    assert result.json()["summary"]["unknown"] > 20


@pytest.mark.slow
def test_concurrent_reads_never_race_on_imports(wbctl_process, isolated_env: Path) -> None:
    """Kubernetes and Google both configured, every backend down: the reads run side by side in
    fresh processes, and two threads importing the SDKs at once once made `requests.utils`
    half-initialised (an internal error about 4 runs in 10). Twenty runs, four at a time."""
    from concurrent.futures import ThreadPoolExecutor

    kubeconfig = isolated_env / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: dead\n"
        f"clusters: [{{name: dead, cluster: {{server: 'http://127.0.0.1:{free_port()}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: dead, context: {cluster: dead, user: u}}]\n"
    )
    env = {
        "KUBECONFIG": str(kubeconfig),
        "WBCTL_GCP_PROJECT": "p",
        "GOOGLE_APPLICATION_CREDENTIALS": "/nonexistent.json",
        "WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "WBCTL_MYSQL_URL": f"mysql://u@127.0.0.1:{free_port()}/db",
    }
    with ThreadPoolExecutor(max_workers=4) as pool:
        runs = list(pool.map(lambda _: wbctl_process("--timeout", "2", "check", "-o", "json", env=env), range(20)))
    for result in runs:
        assert "internal error" not in result.stdout + result.stderr, result.stdout + result.stderr
        assert result.returncode == 3, result.stderr
        messages = {f["message"] for f in result.json()["findings"]}
        assert any("no Google Cloud credentials" in m for m in messages)
        assert any("cannot reach the Kubernetes API" in m for m in messages)
