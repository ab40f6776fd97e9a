"""`wbctl check --only observability` through the sandbox: the misconfigured scenario's fails (the
chart's defaults: tracing off, the collector to debug, the app unscraped, no auditor), the healthy
one's oks, the v2 operator's telemetry mode, and every pasted remedy that is a command taking
effect on a served sandbox (kubectl, as an SRE pastes it)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from wbctl.core import observability as obs


def findings(result) -> dict[str, dict]:
    return {f["check"]: f for f in result.json()["findings"]}


def test_misconfigured_shows_the_charts_defaults_as_fails(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "observability", "-o", "json")
    assert result.returncode == 1, result.stderr
    found = findings(result)
    assert list(found) == list(obs.CHECK_IDS)  # the group alone: --only works
    assert {check: f["status"] for check, f in found.items()} == {
        obs.TRACING: "fail",
        obs.TRACE_EXPORT: "warn",  # nothing traces yet, and the collector would drop it
        obs.APP_METRICS: "fail",
        obs.AUDITOR: "warn",
        obs.TELEMETRY: "ok",  # not part of v1
    }
    assert "tracing off" in found[obs.TRACING]["message"]
    assert "wandb-otel-daemonset: traces ends in debug" in found[obs.TRACE_EXPORT]["message"]
    assert "not installed here: ServiceMonitor, PodMonitor" in found[obs.APP_METRICS]["message"]
    # the remedies reach the sandbox's cluster when pasted: its kubeconfig and context
    assert " --context sandbox -n default patch weightsandbiases wandb --type merge -p " in found[obs.TRACING]["remedy"]


def test_healthy_is_observable_and_still_passes_whole(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "--only", "observability", "-o", "json")
    assert result.returncode == 0, result.stdout
    found = findings(result)
    assert {f["status"] for f in found.values()} == {"ok"}, found
    assert "flat-run-fields-updater (0.1 to wandb-otel-daemonset:4317)" in found[obs.TRACING]["message"]
    assert found[obs.TRACE_EXPORT]["observed"] == {"wandb-otel-daemonset": {"traces": ["otlp"]}}
    assert "annotated prometheus.io/scrape" in found[obs.APP_METRICS]["message"]
    assert found[obs.AUDITOR]["message"].startswith("last success ")
    whole = wbctl("--sandbox", "--scenario", "healthy", "check")
    assert whole.returncode == 0, whole.stdout


def test_the_v2_operator_shows_its_telemetry_mode(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "operator-v2", "check", "--only", "observability", "-o", "json")
    found = findings(result)
    assert found[obs.TELEMETRY]["status"] == "fail" and found[obs.TELEMETRY]["observed"] == "off"
    assert "state Disabled" in found[obs.TELEMETRY]["message"]
    assert found[obs.TRACING]["status"] == "fail" and "telemetry.mode" in found[obs.TRACING]["remedy"]
    assert found[obs.TRACE_EXPORT]["expected"] == found[obs.APP_METRICS]["expected"] == "absent from v2"


def test_the_group_is_in_the_metrics(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "observability", "-o", "prometheus")
    lines = [line for line in result.stdout.splitlines() if line.startswith("wbctl_check_status{")]
    assert lines and all('group="observability"' in line for line in lines)
    assert len(lines) == 4 * len(obs.CHECK_IDS)  # one series per finding and status
    failing = [line for line in lines if 'check="observability.tracing"' in line and 'status="fail"' in line]
    assert len(failing) == 1 and failing[0].endswith(" 1.0")


@dataclass
class Served:
    process: subprocess.Popen[str]
    env: dict[str, str]

    def run(self, *argv: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), env=self.env, capture_output=True, text=True, stdin=subprocess.DEVNULL, timeout=timeout
        )

    def check(self) -> dict[str, dict]:
        result = self.run(sys.executable, "-m", "wbctl", "check", "--only", "observability", "-o", "json")
        return {f["check"]: f for f in json.loads(result.stdout)["findings"]}


def _serve(scenario: str) -> Iterator[Served]:
    """`sandbox serve --scenario SCENARIO`, and the shell its printed exports make."""
    if shutil.which("kubectl") is None:
        pytest.skip("kubectl is not installed")
    env = dict(os.environ)
    process = subprocess.Popen(
        [sys.executable, "-m", "wbctl", "sandbox", "serve", "--scenario", scenario, "-o", "json"],
        env=env,
        text=True,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        line = process.stdout.readline()
        assert line, process.stderr.read()
        yield Served(process, {**env, **json.loads(line)["env"]})
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()


@pytest.fixture
def misconfigured(isolated_env: Path) -> Iterator[Served]:
    yield from _serve("misconfigured")


@pytest.fixture
def healthy(isolated_env: Path) -> Iterator[Served]:
    yield from _serve("healthy")


def test_the_pasted_remedies_make_the_namespace_observable(misconfigured: Served) -> None:
    before = misconfigured.check()
    for check in (obs.TRACING, obs.APP_METRICS, obs.TRACE_EXPORT):
        command = before[check]["remedy"].split(" (", 1)[0]  # the command, without its note
        pasted = misconfigured.run("bash", "-c", command)
        assert pasted.returncode == 0, (command, pasted.stderr)
    after = misconfigured.check()
    assert {check: after[check]["status"] for check in (obs.TRACING, obs.TRACE_EXPORT, obs.APP_METRICS)} == {
        obs.TRACING: "ok",
        obs.TRACE_EXPORT: "ok",
        obs.APP_METRICS: "ok",
    }, after
    # what the sandbox's operator rendered from the patched resource, as the chart would
    api = json.loads(misconfigured.run("kubectl", "get", "deployment", "wandb-api", "-o", "json").stdout)
    env = {e["name"]: e.get("value") for e in api["spec"]["template"]["spec"]["containers"][0]["env"]}
    assert env["GORILLA_TRACER"] == "otlp+grpc://wandb-otel-daemonset:4317?trace_ratio=0.1"
    config = json.loads(misconfigured.run("kubectl", "get", "configmap", "wandb-otel-daemonset", "-o", "json").stdout)
    assert obs.pipelines(config["data"]["config"]).sending == {"traces": ("googlecloud",)}


def test_a_suspended_auditor_fails_and_its_pasted_remedy_resumes_it(healthy: Served) -> None:
    suspended = healthy.run("kubectl", "patch", "cronjob", obs.AUDITOR_NAME, "-p", '{"spec":{"suspend":true}}')
    assert suspended.returncode == 0, suspended.stderr
    finding = healthy.check()[obs.AUDITOR]
    assert finding["status"] == "fail" and "suspended" in finding["message"]
    pasted = healthy.run("bash", "-c", finding["remedy"])
    assert pasted.returncode == 0, pasted.stderr
    resumed = healthy.check()[obs.AUDITOR]
    assert resumed["status"] == "ok" and resumed["message"].startswith("last success "), resumed
