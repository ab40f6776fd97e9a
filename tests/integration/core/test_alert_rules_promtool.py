"""The alert rules under the real promtool: `check rules` accepts them, and `test rules` drives
every alert both firing and not firing from series shaped like `wbctl check -o prometheus`'s
(pushed with `job="wbctl"` and `context`), with the annotations' numbers as Prometheus renders them.

promtool's clock starts at 0 (the Unix epoch), one sample a minute here; `for:` counts from
the first evaluation the expression holds. A rule file must sit beside its test file
(`rule_files` are relative to it), so both are written to a temporary directory.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.prometheus import find_promtool

ROOT = Path(__file__).resolve().parents[3]
COMMITTED = ROOT / "docs" / "alerts" / "wbctl-rules.yaml"
PROD = {"job": "wbctl", "context": "prod"}
QUEUE_RUNBOOK = "wbctl --context prod runbook queue-backlog"
SUB = "Pub/Sub subscription wandb-flat-run-fields-updater"
FILESTREAM_SUB = "Pub/Sub subscription wandb-filestream-gorilla"
ALERTS = (
    "WbctlQueueBacklogGrowing",
    "WbctlQueueStalled",
    "WbctlQueueOldestMessageAge",
    "WbctlQueueDataLossProjected",
    "WbctlQueueDrainPastRetention",
    "WbctlFilestreamQueueBacklogGrowing",
    "WbctlFilestreamQueueStalled",
    "WbctlFilestreamQueueOldestMessageAge",
    "WbctlFilestreamQueueDataLossProjected",
    "WbctlFilestreamQueueDrainPastRetention",
    "WbctlBigtableCpuOverTargetAtMaxNodes",
    "WbctlUpdaterAtMaxReplicasWhileGrowing",
    "WbctlServicePodsUnhealthy",
    "WbctlCheckFailing",
    "WbctlCheckUnknown",
    "WbctlAuditorAbsent",
    "WbctlAuditorSilent",
)


def series(name: str, values: str, **labels: str) -> dict[str, str]:
    if name.startswith("wbctl_queue_"):  # a queue's series carry its name (the run-updates queue unless told)
        labels = {"queue": "run-updates", **labels}
    merged = {**PROD, **labels}
    rendered = ", ".join(f'{key}="{value}"' for key, value in merged.items())
    return {"series": f"{name}{{{rendered}}}", "values": values}


def runs(minutes: int, every: int = 5) -> str:
    """The auditor's last-run timestamp: a run every `every` minutes from t=0."""
    return " ".join(str(minute // every * every * 60) for minute in range(minutes + 1))


def expect(alert: str, at: str, *firing: dict[str, Any]) -> dict[str, Any]:
    return {"eval_time": at, "alertname": alert, "exp_alerts": list(firing)}


def firing(labels: dict[str, str], **annotations: str) -> dict[str, Any]:
    return {"exp_labels": labels, "exp_annotations": annotations}


def growing_case() -> dict[str, Any]:
    """A queue growing from minute 5, the updater at its maximum, Bigtable's c1 over target at its maximum."""
    verdicts = [
        series(
            "wbctl_queue_verdict", "0x4 1x25" if v == "growing" else ("1x4 0x25" if v == "none" else "0x29"), verdict=v
        )
        for v in ("none", "stalled", "growing", "draining", "steady", "unknown")
    ]
    clusters = [  # cpu, target, nodes, max: only c1 is over target *and* at its maximum
        ("wandb-bigtable-c1", "0.85", "0.7", "10", "10"),
        ("wandb-bigtable-c2", "0.85", "0.7", "5", "10"),
        ("wandb-bigtable-c3", "0.5", "0.7", "10", "10"),
    ]
    bigtable = [
        item
        for cluster, cpu, target, nodes, top in clusters
        for item in (
            series("wbctl_bigtable_cpu_ratio", f"{cpu}x29", cluster=cluster),
            series("wbctl_bigtable_cpu_target_ratio", f"{target}x29", cluster=cluster),
            series("wbctl_bigtable_nodes", f"{nodes}x29", cluster=cluster),
            series("wbctl_bigtable_min_nodes", "3x29", cluster=cluster),
            series("wbctl_bigtable_max_nodes", f"{top}x29", cluster=cluster),
        )
    ]
    growing = (
        f"wbctl's verdict on {SUB} has been growing for 10m: 1.5k messages behind, rising 2.5/s "
        "(publishing 100/s, consuming 97.5/s); the oldest is 1h 0m 0s old."
    )
    return {
        "interval": "1m",
        "input_series": [
            *verdicts,
            series("wbctl_queue_backlog_messages", "1500x29"),
            series("wbctl_queue_backlog_trend_messages_per_second", "2.5x29"),
            series("wbctl_queue_publish_messages_per_second", "100x29"),
            series("wbctl_queue_consume_messages_per_second", "97.5x29"),
            series("wbctl_queue_oldest_age_seconds", "3600x29"),
            series("wbctl_queue_retention_seconds", "604800x29"),
            series("wbctl_queue_retention_headroom_seconds", "600000x29"),
            series("wbctl_queue_data_loss_projected", "0x29"),
            series("wbctl_updater_replicas", "10x29"),
            series("wbctl_updater_max_replicas", "10x29"),
            series(
                "wbctl_check_status",
                "1x29",
                check="redis.bigtablev3.filestream.write_cache_size",
                group="redis",
                status="ok",
            ),
            series(
                "wbctl_check_status",
                "0x29",
                check="redis.bigtablev3.filestream.write_cache_size",
                group="redis",
                status="fail",
            ),
            series("wbctl_check_last_run_timestamp_seconds", runs(29)),
            *bigtable,
        ],
        "alert_rule_test": [
            expect("WbctlQueueBacklogGrowing", "14m"),  # pending: growing for 9 minutes
            expect(
                "WbctlQueueBacklogGrowing",
                "16m",
                firing(
                    {**PROD, "queue": "run-updates", "severity": "warning", "verdict": "growing"},
                    summary="The run-updates queue has been growing for 10m in prod",
                    description=growing,
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            expect("WbctlUpdaterAtMaxReplicasWhileGrowing", "14m"),
            expect(
                "WbctlUpdaterAtMaxReplicasWhileGrowing",
                "16m",
                firing(
                    {**PROD, "severity": "warning"},
                    summary="The flat-run-fields-updater is at its maximum replicas while the queue grows in prod",
                    description=(
                        f"The flat-run-fields-updater runs 10 replicas, its maximum 10, while the backlog of {SUB} "
                        "grows (1.5k messages, rising 2.5/s)."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            expect("WbctlBigtableCpuOverTargetAtMaxNodes", "9m"),
            expect(
                "WbctlBigtableCpuOverTargetAtMaxNodes",
                "11m",
                firing(
                    {**PROD, "severity": "warning", "cluster": "wandb-bigtable-c1"},
                    summary="Bigtable's CPU is over its target at its maximum nodes in prod",
                    description=(
                        "Cluster wandb-bigtable-c1 of Bigtable instance wandb-bigtable runs at 85% CPU, over its "
                        "autoscaling target of 70%, at its maximum of 10 nodes: the autoscaler cannot add more."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            *(
                expect(alert, "16m")
                for alert in (
                    "WbctlQueueStalled",
                    "WbctlQueueOldestMessageAge",
                    "WbctlQueueDataLossProjected",
                    "WbctlQueueDrainPastRetention",
                    "WbctlCheckFailing",
                    "WbctlCheckUnknown",
                    "WbctlAuditorAbsent",
                    "WbctlAuditorSilent",
                )
            ),
        ],
    }


def stalled_case() -> dict[str, Any]:
    """Stalled for 90 minutes, messages past half the retention, loss projected, a stuck auditor, drift."""
    check = "wbctl_check_status"
    return {
        "interval": "1m",
        "input_series": [
            series("wbctl_queue_verdict", "1x89", verdict="stalled"),
            series("wbctl_queue_verdict", "0x89", verdict="growing"),
            series("wbctl_queue_backlog_messages", "250000x89"),
            series("wbctl_queue_consume_messages_per_second", "0x89"),
            series("wbctl_queue_oldest_age_seconds", "400000+60x89"),
            series("wbctl_queue_retention_headroom_seconds", "-1000x89"),
            series("wbctl_queue_drain_eta_seconds", "250000x89"),
            series("wbctl_queue_data_loss_projected", "1x89"),
            series("wbctl_check_last_run_timestamp_seconds", "0x89"),  # the last run was at t=0
            series(check, "1x89", check="bigtable.min-nodes", group="bigtable", status="fail"),
            series(
                check, "1x89", check="queue.backlog", group="queue", status="fail"
            ),  # the queue has alerts of its own
            series(check, "1 0x88", check="redis.bigtablev3.filestream.write_cache_size", group="redis", status="fail"),
            series(check, "1x89", check="mysql.version", group="mysql", status="unknown"),
            series(check, "1x89", check="services.wandb-app.health", group="services", status="fail"),
            series(check, "1x89", check="services.wandb-api.health", group="services", status="ok"),
        ],
        "alert_rule_test": [
            expect("WbctlQueueStalled", "4m"),
            expect(
                "WbctlQueueStalled",
                "6m",
                firing(
                    {**PROD, "queue": "run-updates", "severity": "critical", "verdict": "stalled"},
                    summary="The run-updates queue is stalled in prod",
                    description=(
                        f"{SUB} is stalled: 250k messages wait, the oldest 4d 15h 12m 40s old, consumed at 0/s. "
                        "A message the flat-run-fields-updater cannot process, not load: read its logs. "
                        "Messages older than the retention (7d) are dropped."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            expect("WbctlQueueOldestMessageAge", "9m"),
            expect(
                "WbctlQueueOldestMessageAge",
                "11m",
                firing(
                    {**PROD, "queue": "run-updates", "severity": "warning"},
                    summary="The queue's oldest unacked message is past half its retention in prod",
                    description=(
                        f"The oldest unacked message of {SUB} is 4d 15h 17m 40s old, past 3d 12h (half the 7d "
                        "retention); at the retention it is dropped. Backlog 250k messages, verdict stalled."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            expect("WbctlQueueDataLossProjected", "4m"),
            expect(
                "WbctlQueueDataLossProjected",
                "6m",
                firing(
                    {**PROD, "queue": "run-updates", "severity": "critical"},
                    summary="Data loss projected on the run-updates queue in prod",
                    description=(
                        f"wbctl projects that messages of {SUB} will reach the retention before they are "
                        "processed, and be dropped (lost run updates): -16m 40s of headroom; the oldest is "
                        "4d 15h 12m 40s old, 250k messages behind, consumed at 0/s."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
            expect("WbctlQueueDrainPastRetention", "30m"),  # past the retention, but already paged as projected loss
            expect("WbctlQueueBacklogGrowing", "30m"),
            expect("WbctlAuditorSilent", "14m"),
            expect(
                "WbctlAuditorSilent",
                "16m",
                firing(
                    {**PROD, "severity": "warning"},
                    summary="wbctl's auditor last reported 16m 0s ago in prod",
                    description=(
                        "wbctl check last finished 16m 0s ago; it is expected every 5m: its CronJob fails or is "
                        "suspended, and the other wbctl alerts judge stale numbers."
                    ),
                    runbook="wbctl --context prod check -o prometheus",
                ),
            ),
            expect("WbctlServicePodsUnhealthy", "14m"),
            expect(
                "WbctlServicePodsUnhealthy",
                "16m",
                firing(
                    {
                        **PROD,
                        "severity": "warning",
                        "check": "services.wandb-app.health",
                        "group": "services",
                        "status": "fail",
                    },
                    summary="wbctl check services.wandb-app.health: the service's pods are failing in prod",
                    description=(
                        "The pods of a W&B service are failing in prod (crash looping, OOM killed, unable to pull "
                        "their image or to be scheduled): the command in `runbook` prints each pod's trouble and "
                        "the setting to raise, or the kubectl to look with."
                    ),
                    runbook="wbctl --context prod check --only services",
                ),
            ),
            expect("WbctlCheckFailing", "59m"),
            expect(
                "WbctlCheckFailing",
                "61m",
                firing(
                    {
                        **PROD,
                        "severity": "warning",
                        "check": "services.wandb-app.health",
                        "group": "services",
                        "status": "fail",
                    },
                    summary="wbctl check services.wandb-app.health has failed for an hour in prod",
                    description=(
                        "The finding services.wandb-app.health (services) of wbctl check has failed for an hour in "
                        "prod: the deployment has drifted from the scaling guide; the command in `runbook` prints "
                        "the remedy."
                    ),
                    runbook="wbctl --context prod check --only services",
                ),
                firing(
                    {
                        **PROD,
                        "severity": "warning",
                        "check": "bigtable.min-nodes",
                        "group": "bigtable",
                        "status": "fail",
                    },
                    summary="wbctl check bigtable.min-nodes has failed for an hour in prod",
                    description=(
                        "The finding bigtable.min-nodes (bigtable) of wbctl check has failed for an hour in prod: "
                        "the deployment has drifted from the scaling guide; the command in `runbook` prints the remedy."
                    ),
                    runbook="wbctl --context prod check --only bigtable",
                ),
            ),
            expect("WbctlCheckUnknown", "59m"),
            expect(
                "WbctlCheckUnknown",
                "61m",
                firing(
                    {**PROD, "severity": "warning", "check": "mysql.version", "group": "mysql", "status": "unknown"},
                    summary="wbctl check mysql.version has been unknown for an hour in prod",
                    description=(
                        "wbctl could not judge mysql.version (mysql) for an hour in prod: what it reads is "
                        "unreachable, refuses it or holds no data, so the alerts built on it cannot fire; the "
                        "command in `runbook` says why."
                    ),
                    runbook="wbctl --context prod check --only mysql",
                ),
            ),
        ],
    }


def draining_case() -> dict[str, Any]:
    """Draining in prod past the retention (no loss projected by the auditor); in staging within it."""
    staging = {"context": "staging"}
    return {
        "interval": "1m",
        "input_series": [
            series("wbctl_queue_oldest_age_seconds", "400000x29"),
            series("wbctl_queue_drain_eta_seconds", "250000x29"),
            series("wbctl_queue_data_loss_projected", "0x29"),
            series("wbctl_queue_oldest_age_seconds", "400000x29", **staging),
            series("wbctl_queue_drain_eta_seconds", "100000x29", **staging),
            series("wbctl_queue_data_loss_projected", "0x29", **staging),
        ],
        "alert_rule_test": [
            expect("WbctlQueueDrainPastRetention", "4m"),
            expect(
                "WbctlQueueDrainPastRetention",
                "6m",
                firing(
                    {**PROD, "queue": "run-updates", "severity": "critical"},
                    summary="Draining the run-updates queue would take it past its retention in prod",
                    description=(
                        f"The oldest message of {SUB} is 4d 15h 6m 40s old and the backlog drains in "
                        "2d 21h 26m 40s: 7d 12h 33m 20s, past the 7d retention, so the oldest messages will be "
                        "dropped before they are processed."
                    ),
                    runbook=QUEUE_RUNBOOK,
                ),
            ),
        ],
    }


def silent_case() -> dict[str, Any]:
    """Nothing from the auditor at all."""
    return {
        "interval": "1m",
        "input_series": [{"series": 'up{job="node"}', "values": "1x29"}],
        "alert_rule_test": [
            expect("WbctlAuditorAbsent", "14m"),
            expect(
                "WbctlAuditorAbsent",
                "16m",
                firing(
                    {"severity": "warning"},
                    summary="wbctl's auditor has not reported",
                    description=(
                        "No wbctl_check_last_run_timestamp_seconds series for 15m: the CronJob that runs "
                        "`wbctl check -o prometheus` every 5m has not pushed, or its Pushgateway is not scraped, "
                        "so every other wbctl alert is blind."
                    ),
                    runbook="wbctl check -o prometheus",
                ),
            ),
            *(expect(alert, "16m") for alert in ALERTS if alert != "WbctlAuditorAbsent"),
        ],
    }


def healthy_case() -> dict[str, Any]:
    """A healthy deployment for 90 minutes: no alert at any of several moments."""
    return {
        "interval": "1m",
        "input_series": [
            series("wbctl_queue_verdict", "1x89", verdict="none"),
            series("wbctl_queue_verdict", "0x89", verdict="growing"),
            series("wbctl_queue_verdict", "0x89", verdict="stalled"),
            series("wbctl_queue_backlog_messages", "0x89"),
            series("wbctl_queue_oldest_age_seconds", "5x89"),
            series("wbctl_queue_data_loss_projected", "0x89"),
            series("wbctl_updater_replicas", "10x89"),  # at its maximum, but the queue is not growing
            series("wbctl_updater_max_replicas", "10x89"),
            series("wbctl_bigtable_cpu_ratio", "0.4x89", cluster="c1"),
            series("wbctl_bigtable_cpu_target_ratio", "0.7x89", cluster="c1"),
            series("wbctl_bigtable_nodes", "3x89", cluster="c1"),
            series("wbctl_bigtable_max_nodes", "10x89", cluster="c1"),
            series("wbctl_check_status", "1x89", check="mysql.version", group="mysql", status="ok"),
            series("wbctl_check_status", "0x89", check="mysql.version", group="mysql", status="fail"),
            series("wbctl_check_status", "0x89", check="mysql.version", group="mysql", status="unknown"),
            series("wbctl_check_last_run_timestamp_seconds", runs(89)),
        ],
        "alert_rule_test": [expect(alert, at) for alert in ALERTS for at in ("11m", "31m", "89m")],
    }


def unnamed_context_case() -> dict[str, Any]:
    """The growing queue pushed by a check run without a named context (`context="default"`):
    the command to paste takes no --context, since the operator has no context of that name."""
    text = json.dumps(growing_case())
    for before, after in (
        ('context=\\"prod\\"', 'context=\\"default\\"'),
        ('"context": "prod"', '"context": "default"'),
        ("wbctl --context prod ", "wbctl "),
        (" in prod", " in default"),
    ):
        assert before in text, before
        text = text.replace(before, after)
    return json.loads(text)


QUEUE_ALERTS = tuple(alert for alert in ALERTS if alert.startswith("WbctlQueue"))
FILESTREAM_ALERTS = tuple(alert for alert in ALERTS if alert.startswith("WbctlFilestreamQueue"))


def filestream_of(case: Any) -> Any:
    """The case's queue as the filestream's subscription: its series labelled queue="filestream",
    its queue alerts as the WbctlFilestreamQueue* ones (the same rules for the other queue), and
    the run-updates queue's alerts quiet on those series wherever one of them fires."""

    def made() -> dict[str, Any]:
        text = json.dumps(case())
        for before, after in (
            ('queue=\\"run-updates\\"', 'queue=\\"filestream\\"'),
            ('"queue": "run-updates"', '"queue": "filestream"'),
            ("WbctlQueue", "WbctlFilestreamQueue"),
            ("the run-updates queue", "the filestream queue"),
            ("The run-updates queue", "The filestream queue"),
            ("The queue's", "The filestream queue's"),
            (SUB, FILESTREAM_SUB),
            ("the flat-run-fields-updater cannot process", "filestream cannot process"),
            ("lost run updates", "lost streamed run data"),
        ):
            text = text.replace(before, after)
        data = json.loads(text)
        data["input_series"] = [item for item in data["input_series"] if item["series"].startswith("wbctl_queue_")]
        tests = [test for test in data["alert_rule_test"] if test["alertname"] in FILESTREAM_ALERTS]
        times = sorted({test["eval_time"] for test in tests if test["exp_alerts"]})
        data["alert_rule_test"] = tests + [expect(alert, at) for at in times for alert in QUEUE_ALERTS]
        return data

    return made


CASES = (
    growing_case,
    stalled_case,
    draining_case,
    silent_case,
    healthy_case,
    unnamed_context_case,
    filestream_of(growing_case),
    filestream_of(stalled_case),
    filestream_of(draining_case),
    filestream_of(healthy_case),
)


def unit_tests(rule_file: str) -> dict[str, Any]:
    return {"rule_files": [rule_file], "evaluation_interval": "1m", "tests": [case() for case in CASES]}


def run_promtool(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    _, promtool = find_promtool()
    return subprocess.run([promtool, *args], cwd=cwd, capture_output=True, text=True, timeout=120)


@pytest.fixture
def printed(tmp_path: Path, wbctl) -> Path:
    """The rules as `wbctl alerts rules` prints them for the default configuration."""
    completed = wbctl("alerts", "rules")
    assert completed.returncode == 0, completed.stderr
    path = tmp_path / "printed.yaml"
    path.write_text(completed.stdout)
    return path


def test_every_alert_is_driven_both_ways() -> None:
    cases = [case() for case in CASES]
    fired = {test["alertname"] for case in cases for test in case["alert_rule_test"] if test["exp_alerts"]}
    quiet = {test["alertname"] for case in cases for test in case["alert_rule_test"] if not test["exp_alerts"]}
    committed = {rule["alert"] for group in yaml.safe_load(COMMITTED.read_text())["groups"] for rule in group["rules"]}
    assert fired == quiet == set(ALERTS) == committed


@pytest.mark.parametrize("which", ["printed", "committed"])
def test_promtool_checks_and_tests_the_rules(which: str, printed: Path, tmp_path: Path) -> None:
    rules = printed if which == "printed" else Path(shutil.copy(COMMITTED, tmp_path / "committed.yaml"))
    checked = run_promtool("check", "rules", rules.name, cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert f"SUCCESS: {len(ALERTS)} rules found" in checked.stdout
    tests = tmp_path / f"{which}-tests.yaml"
    tests.write_text(yaml.safe_dump(unit_tests(rules.name), sort_keys=False, width=10**6))
    tested = run_promtool("test", "rules", tests.name, cwd=tmp_path)
    assert tested.returncode == 0, tested.stdout + tested.stderr


def test_promtool_checks_the_rules_of_a_context(tmp_path: Path, wbctl) -> None:
    """A context's rules select its series only; Kafka without a retention leaves one rule out,
    and Kafka has no filestream queue."""
    config = tmp_path / "config.toml"
    config.write_text('[contexts."prod/eu"]\nqueue-source = "kafka"\nalerts-auditor-interval = "10m"\n')
    completed = wbctl("--config", str(config), "alerts", "rules")
    assert completed.returncode == 0, completed.stderr
    (tmp_path / "kafka.yaml").write_text(completed.stdout)
    checked = run_promtool("check", "rules", "kafka.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    # Kafka: no drain rule without a retention, and no filestream queue (the chart's filestream reads MySQL then)
    assert f"SUCCESS: {len(ALERTS) - len(FILESTREAM_ALERTS) - 1} rules found" in checked.stdout


def test_names_that_look_like_templates_or_quotes_stay_names(tmp_path: Path, wbctl) -> None:
    """Annotations are Go templates and selectors PromQL strings: a context or subscription
    holding `{{`, `"` or a backslash is shown as it is, and the file still loads."""
    config = tmp_path / "config.toml"
    config.write_text('[contexts.\'pr"od {{x}}\\\']\nqueue-subscription = "sub{{ .Value }}"\n')  # one backslash
    completed = wbctl("--config", str(config), "alerts", "rules")
    assert completed.returncode == 0, completed.stderr
    (tmp_path / "odd.yaml").write_text(completed.stdout)
    checked = run_promtool("check", "rules", "odd.yaml", cwd=tmp_path)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    rules = {rule["alert"]: rule for group in yaml.safe_load(completed.stdout)["groups"] for rule in group["rules"]}
    assert 'context="pr\\"od {{x}}\\\\"' in rules["WbctlQueueStalled"]["expr"]
    assert 'sub{{ "{{" }} .Value }}' in rules["WbctlQueueStalled"]["annotations"]["description"]
    # the command is quoted for a shell, and its braces shown as they are
    assert (
        rules["WbctlQueueStalled"]["annotations"]["runbook"]
        == 'wbctl --context \'pr"od {{ "{{" }}x}}\\\' runbook queue-backlog'
    )
