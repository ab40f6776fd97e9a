"""The `operator-v2` sandbox's Kafka lag, read as a v2 install's is: from Prometheus, here the
sandbox's own (wbctl/sandbox/prometheus.py), never the default 127.0.0.1:9090 nor one the
environment names. Its story: the updater at its maximum of 10 behind 1,700 updates/s, so the
lag grows until `--fix` raises the bounds, and then drains."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading

from wbctl.config.keys import KEYS

SANDBOX = ("--sandbox", "--scenario", "operator-v2")


def _runbook(wbctl, *args: str) -> dict:
    result = wbctl(*SANDBOX, "runbook", "queue-backlog", *args, "-o", "json")
    assert result.returncode in (0, 1), result.stderr
    return result.json()


def test_the_runbook_judges_the_kafka_queue_growing(wbctl) -> None:
    document = _runbook(wbctl)
    assert (document["verdict"], document["queue"]["source"], document["queue"]["group"]) == (
        "growing",
        "kafka",
        "flat-run-fields-updater",
    )


def test_check_knows_the_queues_backlog(wbctl) -> None:
    result = wbctl(*SANDBOX, "check", "--only", "queue", "-o", "json")
    backlog = next(f for f in result.json()["findings"] if f["check"] == "queue.backlog")
    assert backlog["status"] == "fail"  # a growing lag, read from the sandbox's Prometheus


def test_the_lag_drains_after_the_fix(wbctl) -> None:
    before = _runbook(wbctl)["backlog"]
    fixed = wbctl(*SANDBOX, "runbook", "queue-backlog", "--fix", "--yes")
    assert fixed.returncode in (0, 1), fixed.stderr
    advanced = wbctl(*SANDBOX, "sandbox", "advance", "30m")
    assert advanced.returncode == 0, advanced.stderr
    assert _runbook(wbctl)["backlog"] < before / 10


def test_the_settings_point_at_the_sandboxs_prometheus(wbctl) -> None:
    settings = wbctl(*SANDBOX, "config", "show", "--origin", "-o", "json").json()["settings"]
    url, source = settings["prometheus-url"], settings["metrics-source"]
    assert (url["origin"], url["value"] == KEYS["prometheus-url"].default, source["value"]) == (
        "sandbox operator-v2",
        False,
        "prometheus",
    )


def test_no_prometheus_the_environment_names_is_contacted(wbctl) -> None:
    """A listener stands where WBCTL_PROMETHEUS_URL points (as a real Prometheus on 9090 would):
    the rehearsal reads its lag without a single connection to it."""
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]
    connections: list[object] = []

    def accept() -> None:
        try:
            while True:
                connection, _ = listener.accept()
                connections.append(connection)
                connection.close()
        except OSError:
            pass

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    try:
        env = {"WBCTL_PROMETHEUS_URL": f"http://127.0.0.1:{port}", "WBCTL_METRICS_SOURCE": "prometheus"}
        result = wbctl(*SANDBOX, "runbook", "queue-backlog", "-o", "json", env=env)
    finally:
        listener.close()
        thread.join(timeout=5)
    assert (result.json()["verdict"], connections) == ("growing", [])


def test_a_served_v2_sandbox_serves_its_prometheus_to_another_shell(isolated_env) -> None:
    """`sandbox serve`: a wbctl in another shell joins it and reads the lag from the served
    Prometheus, whose address the serving document names."""
    process = subprocess.Popen(
        [sys.executable, "-m", "wbctl", "sandbox", "serve", "--scenario", "operator-v2", "-o", "json"],
        env=dict(os.environ),
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        document = json.loads(process.stdout.readline() or "{}")
        joined = subprocess.run(
            [sys.executable, "-m", "wbctl", "runbook", "queue-backlog", "-o", "json"],
            env={**os.environ, **document["env"]},
            capture_output=True,
            text=True,
            stdin=subprocess.DEVNULL,
            timeout=60,
        )
    finally:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=20)
    assert (json.loads(joined.stdout)["verdict"], document["backends"]["metrics-source"]) == ("growing", "prometheus")
