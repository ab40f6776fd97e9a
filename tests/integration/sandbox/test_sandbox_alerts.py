"""The sandbox's stories through the alert rules: wbctl check's metrics, as the in-cluster
auditor would push them every 5 minutes, evaluated by Prometheus's rule engine (`promtool test
rules`). The incident fires the backlog alert; a filestream falling behind fires its own; the
healthy deployment fires none.

The sandbox's clock is stopped (WBCTL_SANDBOX_SPEED=0) and moved 5 simulated minutes between
runs with `wbctl sandbox advance 5m`, so each snapshot is one auditor run. The series carry the
labels the Pushgateway adds (`job="wbctl"`, `context`); the last-run timestamps are moved so that
the first run is promtool's time 0. The rules are `wbctl alerts rules`'s, without their
annotations (which tests/integration/test_alert_rules_promtool.py renders and checks): here
only which alerts fire, with which labels, is asserted.
"""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml
from prometheus_client.parser import text_string_to_metric_families

from tests.support.prometheus import find_promtool

RUNS = 5  # t = 0, 5, 10, 15, 20 minutes
EVERY = "5m"


def snapshots(wbctl, scenario: str) -> list[dict[tuple[str, tuple[tuple[str, str], ...]], float]]:
    env = {"WBCTL_SANDBOX_SPEED": "0"}  # each test's HOME is its own: the story starts fresh
    taken = []
    for run in range(RUNS):
        if run:
            advanced = wbctl("--sandbox", "--scenario", scenario, "sandbox", "advance", EVERY, env=env)
            assert advanced.returncode == 0, advanced.stderr
        result = wbctl("--sandbox", "--scenario", scenario, "check", "--exit-zero", "-o", "prometheus", env=env)
        assert result.returncode == 0, result.stderr
        taken.append(
            {
                (sample.name, tuple(sorted(sample.labels.items()))): sample.value
                for family in text_string_to_metric_families(result.stdout)
                for sample in family.samples
            }
        )
    return taken


def input_series(taken: list[dict], context: str) -> list[dict[str, str]]:
    keys = sorted({key for snapshot in taken for key in snapshot})
    start = taken[0][("wbctl_check_last_run_timestamp_seconds", ())]
    series = []
    for name, labels in keys:
        values = []
        for snapshot in taken:
            value = snapshot.get((name, labels))
            if value is not None and name == "wbctl_check_last_run_timestamp_seconds":
                value -= start
            values.append("_" if value is None else repr(value))
        rendered = ", ".join(f'{key}="{value}"' for key, value in (*labels, ("job", "wbctl"), ("context", context)))
        series.append({"series": f"{name}{{{rendered}}}", "values": " ".join(values)})
    return series


def firing_alerts(
    wbctl, tmp_path: Path, scenario: str, expected: dict[str, list[dict[str, str]]]
) -> subprocess.CompletedProcess[str]:
    _, promtool = find_promtool()
    rules = yaml.safe_load(wbctl("alerts", "rules").stdout)
    for group in rules["groups"]:
        for rule in group["rules"]:
            rule.pop("annotations", None)
    (tmp_path / "rules.yaml").write_text(yaml.safe_dump(rules))
    names = [rule["alert"] for group in rules["groups"] for rule in group["rules"]]
    context = f"sandbox/{scenario}"
    test: dict[str, Any] = {
        "rule_files": ["rules.yaml"],
        "evaluation_interval": "1m",
        "tests": [
            {
                "interval": EVERY,
                "input_series": input_series(snapshots(wbctl, scenario), context),
                "alert_rule_test": [
                    {
                        "eval_time": f"{5 * (RUNS - 1)}m",
                        "alertname": name,
                        "exp_alerts": [
                            {"exp_labels": {**labels, "job": "wbctl", "context": context}}
                            for labels in expected.get(name, [])
                        ],
                    }
                    for name in names
                ],
            }
        ],
    }
    (tmp_path / "test.yaml").write_text(yaml.safe_dump(test))
    return subprocess.run(
        [promtool, "test", "rules", "test.yaml"], cwd=tmp_path, capture_output=True, text=True, timeout=60
    )


def test_the_incident_fires_the_backlog_alert(wbctl, tmp_path: Path) -> None:
    # the story's whole picture, as the runbook reads it: growing, Bigtable and the updater at their limits
    expected = {
        "WbctlQueueBacklogGrowing": [{"severity": "warning", "queue": "run-updates", "verdict": "growing"}],
        "WbctlBigtableCpuOverTargetAtMaxNodes": [{"severity": "warning", "cluster": "wandb-bigtable-c1"}],
        "WbctlUpdaterAtMaxReplicasWhileGrowing": [{"severity": "warning"}],
    }
    result = firing_alerts(wbctl, tmp_path, "queue-backlog", expected)
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_healthy_deployment_fires_no_alert(wbctl, tmp_path: Path) -> None:
    result = firing_alerts(wbctl, tmp_path, "healthy", {})
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_filestream_falling_behind_fires_its_own_backlog_alert(wbctl, tmp_path: Path) -> None:
    # the run-updates queue is clear: only the filestream queue's rule fires, on its own series
    expected = {
        "WbctlFilestreamQueueBacklogGrowing": [{"severity": "warning", "queue": "filestream", "verdict": "growing"}]
    }
    result = firing_alerts(wbctl, tmp_path, "filestream-backlog", expected)
    assert result.returncode == 0, result.stdout + result.stderr
