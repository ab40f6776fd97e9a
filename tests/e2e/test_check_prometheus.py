"""`wbctl check -o prometheus|openmetrics`, `--push` and `--textfile`: the check as metrics.

Parsed with prometheus-client's own parsers, linted by `promtool check metrics`, pushed to a
real Pushgateway that a real Prometheus scrapes, and read back with PromQL.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
from prometheus_client import delete_from_gateway
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families

from tests.support.net import free_port, silent_listener
from tests.support.prometheus import PrometheusStack, find_promtool


def families(text: str) -> dict[str, list]:
    return {family.name: family.samples for family in text_string_to_metric_families(text)}


def status_series(samples: list) -> dict[tuple[str, str], float]:
    return {(s.labels["check"], s.labels["status"]): s.value for s in samples}


def test_every_finding_of_a_sandbox_check_is_a_series_per_status(wbctl) -> None:
    report = wbctl("--sandbox", "check", "-o", "json")
    exposition = wbctl("--sandbox", "check", "-o", "prometheus")
    assert exposition.returncode == report.returncode == 1, exposition.stderr  # the incident: the backlog fails
    parsed = families(exposition.stdout)
    series = status_series(parsed["wbctl_check_status"])
    findings = report.json()["findings"]
    assert len(parsed["wbctl_check_status"]) == 4 * len(findings)
    for finding in findings:
        values = {status: series[(finding["check"], status)] for status in ("ok", "warn", "fail", "unknown")}
        assert values == {status: (1.0 if status == finding["status"] else 0.0) for status in values}, finding
    groups = {s.labels["group"] for s in parsed["wbctl_check_status"]}
    assert groups == {"redis", "services", "parquet", "bigtable", "mysql", "queue", "observability"}

    def value(name: str, **labels: str) -> float:
        if name.startswith("wbctl_queue_"):  # both queues' series: the run-updates queue's unless told
            labels = {"queue": "run-updates", **labels}
        [sample] = [s for s in parsed[name] if all(s.labels.get(k) == v for k, v in labels.items())]
        return sample.value

    assert (
        value("wbctl_queue_verdict", verdict="growing") == 1.0 and value("wbctl_queue_verdict", verdict="none") == 0.0
    )
    assert value("wbctl_queue_backlog_messages") > 100_000
    assert value("wbctl_queue_consume_messages_per_second") < value("wbctl_queue_publish_messages_per_second")
    assert value("wbctl_queue_retention_seconds") == 7 * 86400
    age = value("wbctl_queue_oldest_age_seconds")
    drain = value("wbctl_queue_backlog_messages") / value("wbctl_queue_consume_messages_per_second")
    assert value("wbctl_queue_retention_headroom_seconds") == pytest.approx(7 * 86400 - age - drain, rel=1e-6)
    assert "wbctl_queue_drain_eta_seconds" not in parsed  # a growing queue does not drain
    # the filestream's subscription beside it, quiet in this story, told apart by the label
    assert value("wbctl_queue_verdict", queue="filestream", verdict="none") == 1.0
    assert value("wbctl_queue_backlog_messages", queue="filestream") == 0.0
    assert {s.labels["queue"] for s in parsed["wbctl_queue_verdict"]} == {"run-updates", "filestream"}
    assert value("wbctl_bigtable_nodes", cluster="wandb-bigtable-c1") == value(
        "wbctl_bigtable_max_nodes", cluster="wandb-bigtable-c1"
    )
    assert value("wbctl_bigtable_cpu_ratio", cluster="wandb-bigtable-c1") > value(
        "wbctl_bigtable_cpu_target_ratio", cluster="wandb-bigtable-c1"
    )
    assert value("wbctl_updater_replicas") == value("wbctl_updater_max_replicas") >= 1
    assert {s.labels["group"] for s in parsed["wbctl_check_duration_seconds"]} == groups
    assert value("wbctl_check_last_run_timestamp_seconds") > 1.7e9
    assert exposition.stderr == ""


def test_openmetrics_parses_and_ends_with_eof(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "-o", "openmetrics")
    assert result.returncode == 0, result.stderr
    assert result.stdout.endswith("# EOF\n")
    parsed = {family.name: family for family in parse_openmetrics(result.stdout)}
    assert {s.labels["verdict"] for s in parsed["wbctl_queue_verdict"].samples if s.value == 1} == {"none"}
    assert all(s.value == 0 for s in parsed["wbctl_check_status"].samples if s.labels["status"] != "ok")


def test_names_pass_promtool_check_metrics(wbctl) -> None:
    _, promtool = find_promtool()
    text = wbctl("--sandbox", "check", "-o", "prometheus").stdout
    lint = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=30)
    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert lint.stdout.strip() == "" and lint.stderr.strip() == "", lint.stdout + lint.stderr  # not even a warning


def test_an_unreachable_backend_is_unknown_and_its_numbers_absent(wbctl) -> None:
    env = {"WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"}
    result = wbctl("--timeout", "2", "check", "--only", "redis", "-o", "prometheus", "--exit-zero", env=env)
    assert result.returncode == 0, result.stderr
    parsed = families(result.stdout)
    unknown = [s for s in parsed["wbctl_check_status"] if s.labels["status"] == "unknown"]
    assert unknown and all(s.value == 1 for s in unknown)
    assert "wbctl_queue_backlog_messages" not in parsed and "wbctl_bigtable_nodes" not in parsed
    assert [s.labels["group"] for s in parsed["wbctl_check_duration_seconds"]] == ["redis"]


def test_textfile_is_written_whole_for_node_exporter(wbctl, tmp_path: Path) -> None:
    directory = tmp_path / "textfiles"
    directory.mkdir()
    target = directory / "wbctl.prom"
    target.write_text("old\n")
    result = wbctl("--sandbox", "check", "--textfile", str(target), "--exit-zero")
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert result.stderr.startswith("wrote ") and str(target) in result.stderr
    written = families(target.read_text())
    assert {sample.labels["context"] for samples in written.values() for sample in samples} == {"sandbox/queue-backlog"}
    assert 'context="sandbox/queue-backlog"' in result.stderr
    assert [p.name for p in directory.iterdir()] == ["wbctl.prom"]  # no temporary file left behind


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("--push", "ftp://gateway:9091"),
            "--push ftp://gateway:9091: expected an http:// or https:// URL with a host",
        ),
        (("--push", "http://gate\nway:9091"), "invisible"),
        (("--push", "http://u:hunter2@gateway:9091?x=1"), "--push http://gateway:9091: expected no query"),
        (("--push", "http://:9091"), "expected an http:// or https:// URL with a host"),
        (("--textfile", "/tmp/wbctl.txt"), "ending in .prom"),
        (("--textfile", "/nonexistent/dir/wbctl.prom"), "does not exist"),
        (
            ("--push", "http://127.0.0.1:9", "-o", "json"),
            "-o json: --push and --textfile send the Prometheus text format",
        ),
        (("-o", "yaml"), "-o yaml: expected one of table, json, prometheus, openmetrics"),
    ],
)
def test_bad_export_options_fail_before_any_read(
    wbctl, isolated_env: Path, args: tuple[str, ...], message: str
) -> None:
    # a Redis URL nobody answers: if the command read backends first, it would take the timeout
    result = wbctl(
        "--timeout", "30", "check", *args, env={"WBCTL_REDIS_URL": "redis://10.255.255.1:6379/0"}, timeout=20
    )
    assert result.returncode == 2, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert result.stdout == "" and "hunter2" not in result.stderr


def test_a_pushgateway_that_is_down_is_a_backend_error(wbctl) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "--push", url)
    assert result.returncode == 3, result.stderr
    assert result.stderr.startswith(f'wbctl: error: push to {url} as job="wbctl"') and "refused" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_push_lands_in_prometheus(wbctl, prometheus_stack: PrometheusStack) -> None:
    gateway = prometheus_stack.pushgateway_url.replace(
        "http://", "http://auditor:s3cr%2Ft@"
    )  # basic auth is ignored by an open gateway
    try:
        result = wbctl("--sandbox", "check", "--push", gateway, "--exit-zero")
        assert result.returncode == 0, result.stderr
        assert result.stdout == ""
        assert "s3cr" not in result.stderr and "auditor" not in result.stderr
        assert "pushed" in result.stderr and 'context="sandbox/queue-backlog"' in result.stderr
        growing = prometheus_stack.wait_for(
            'wbctl_queue_verdict{job="wbctl",context="sandbox/queue-backlog",verdict="growing"} == 1'
        )
        assert [series["metric"]["queue"] for series in growing] == ["run-updates"]
        [backlog] = prometheus_stack.wait_for(
            'wbctl_queue_backlog_messages{context="sandbox/queue-backlog",queue="run-updates"}'
        )
        assert float(backlog["value"][1]) > 100_000
        failing = prometheus_stack.query('wbctl_check_status{job="wbctl",status="fail"} == 1')
        assert {"queue.backlog"} <= {series["metric"]["check"] for series in failing}
        # a second push replaces the group: a check that no longer runs leaves no series behind
        again = wbctl(
            "--sandbox", "check", "--only", "redis", "--push", prometheus_stack.pushgateway_url, "--exit-zero"
        )
        assert again.returncode == 0, again.stderr
        prometheus_stack.wait_for('absent(wbctl_queue_backlog_messages{context="sandbox/queue-backlog"})')
    finally:
        # prometheus-client encodes a grouping value holding "/" as base64, as the push did
        delete_from_gateway(
            prometheus_stack.pushgateway_url, job="wbctl", grouping_key={"context": "sandbox/queue-backlog"}
        )


def test_a_pushgateway_that_never_answers_times_out(wbctl) -> None:
    import time

    with silent_listener() as port:
        url = f"http://127.0.0.1:{port}"
        began = time.monotonic()
        result = wbctl("--timeout", "2", "--sandbox", "--scenario", "healthy", "check", "--push", url, timeout=60)
        assert result.returncode == 3, result.stderr
        assert "timed out" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert time.monotonic() - began < 30


def test_the_auditors_cronjob_command_pushes(wbctl, prometheus_stack: PrometheusStack) -> None:
    """The CronJob's arguments, exactly as `wbctl deploy auditor` prints them, run here against
    the sandbox: they parse, push, and Prometheus has the run's timestamp."""
    import yaml

    printed = wbctl("deploy", "auditor", "--push-url", prometheus_stack.pushgateway_url)
    assert printed.returncode == 0, printed.stderr
    [cronjob] = [doc for doc in yaml.safe_load_all(printed.stdout) if doc and doc["kind"] == "CronJob"]
    [container] = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    try:
        result = wbctl("--sandbox", "--scenario", "healthy", *container["args"])
        assert result.returncode == 0, result.stderr
        assert result.stderr.startswith("pushed ")
        prometheus_stack.wait_for('wbctl_check_last_run_timestamp_seconds{job="wbctl",context="sandbox/healthy"}')
        assert prometheus_stack.query('wbctl_queue_verdict{context="sandbox/healthy",verdict="none"} == 1')
    finally:
        delete_from_gateway(prometheus_stack.pushgateway_url, job="wbctl", grouping_key={"context": "sandbox/healthy"})
