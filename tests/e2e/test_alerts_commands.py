"""`wbctl alerts rules` as a subprocess: the committed rule file is its output for the default
configuration, the context's settings change the thresholds, bad input is one line, and no
secret from the configuration reaches the output."""

from __future__ import annotations

import json
from pathlib import Path

import yaml
from google.cloud.monitoring_v3 import AlertPolicy

from tests.support.text import commands_listed

ROOT = Path(__file__).resolve().parents[2]
COMMITTED = ROOT / "docs" / "alerts" / "wbctl-rules.yaml"


def rules_of(stdout: str) -> dict[str, dict]:
    return {rule["alert"]: rule for group in yaml.safe_load(stdout)["groups"] for rule in group["rules"]}


def test_the_committed_rules_are_the_default_output(wbctl) -> None:
    result = wbctl("alerts", "rules")
    assert result.returncode == 0, result.stderr
    assert result.stdout == COMMITTED.read_text(), (
        "docs/alerts/wbctl-rules.yaml is stale: run `wbctl alerts rules > docs/alerts/wbctl-rules.yaml` with no config"
    )
    assert result.stderr == ""
    assert wbctl("alerts", "rules", "--format", "prometheus").stdout == result.stdout


def test_json_document(wbctl) -> None:
    result = wbctl("alerts", "rules", "-o", "json")
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["format"] == "prometheus" and document["context"] is None
    assert document["text"] == COMMITTED.read_text()
    assert {"groups": document["groups"]} == yaml.safe_load(document["text"])


def test_a_contexts_retention_and_interval_change_the_thresholds(wbctl, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        'current-context = "prod"\n[contexts.prod]\nqueue-retention = "3d"\nalerts-auditor-interval = "10m"\n'
        'alerts-runbook-url = "https://github.com/acme/wbctl/blob/main/docs"\n'
        'queue-subscription = "prod-updater"\n'
    )
    result = wbctl("--config", str(config), "alerts", "rules")
    assert result.returncode == 0, result.stderr
    found = rules_of(result.stdout)
    assert (
        found["WbctlQueueOldestMessageAge"]["expr"]
        == 'wbctl_queue_oldest_age_seconds{queue="run-updates", context="prod"} > 129600'
    )
    assert (
        found["WbctlAuditorSilent"]["expr"] == 'time() - wbctl_check_last_run_timestamp_seconds{context="prod"} > 1800'
    )
    assert "Pub/Sub subscription prod-updater" in found["WbctlQueueStalled"]["annotations"]["description"]
    assert (
        found["WbctlQueueStalled"]["annotations"]["runbook_url"]
        == "https://github.com/acme/wbctl/blob/main/docs/runbook.md"
    )
    assert "for context prod:" in result.stdout.splitlines()[1]
    # the environment wins over the file, as for every key
    env = wbctl("--config", str(config), "alerts", "rules", env={"WBCTL_QUEUE_RETENTION": "1d"})
    assert rules_of(env.stdout)["WbctlQueueOldestMessageAge"]["expr"].endswith("> 43200")


def test_kafka_without_a_retention_says_so(wbctl) -> None:
    result = wbctl("alerts", "rules", env={"WBCTL_QUEUE_SOURCE": "kafka"})
    assert result.returncode == 0, result.stderr
    assert "WbctlQueueDrainPastRetention" not in rules_of(result.stdout)
    assert "note: the Kafka topic's retention is unknown" in result.stderr and "set queue-retention" in result.stderr
    gcp = wbctl("alerts", "rules", "--format", "gcp", env={"WBCTL_QUEUE_SOURCE": "kafka"})
    assert [p["displayName"] for p in json.loads(gcp.stdout)] == [
        "wbctl: Bigtable's CPU is over target and no node is being added"
    ]


def test_gcp_policies_parse_as_alert_policies(wbctl) -> None:
    env = {"WBCTL_GCP_PROJECT": "my-proj", "WBCTL_BIGTABLE_INSTANCE": "prod-bt"}
    result = wbctl("alerts", "rules", "--format", "gcp", env=env)
    assert result.returncode == 0, result.stderr
    policies = json.loads(result.stdout)
    assert len(policies) == 9  # four for each Pub/Sub subscription (the updater's, filestream's), one for Bigtable
    for policy in policies:
        parsed = AlertPolicy.from_json(json.dumps(policy))
        assert all(
            '"my-proj"' in (c.condition_threshold.filter or c.condition_absent.filter) for c in parsed.conditions
        )
    assert 'resource.labels.instance = "prod-bt"' in policies[-1]["conditions"][0]["conditionThreshold"]["filter"]
    assert "note: the updater's replicas" in result.stderr
    one = wbctl("alerts", "rules", "--format", "gcp", "--policy", "WbctlQueueDataLoss", env=env)
    assert one.returncode == 0, one.stderr
    assert json.loads(one.stdout) == policies[3]
    as_json = wbctl("alerts", "rules", "--format", "gcp", "-o", "json", env=env).json()
    assert [p["policy"] for p in as_json["policies"]] == policies


def test_bad_input_is_one_line_and_exit_2(wbctl) -> None:
    for args, message in (
        (("--format", "alertmanager"), "wbctl: error: --format alertmanager: expected one of prometheus, gcp"),
        (
            ("--format", "gcp", "--policy", "Nope"),
            "wbctl: error: --policy Nope: expected one of WbctlQueueBacklogGrowing, ",
        ),
        (("--policy", "WbctlQueueStalled"), "wbctl: error: --policy only applies with --format gcp"),
    ):
        result = wbctl("alerts", "rules", *args)
        assert result.returncode == 2, (args, result.stderr)
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith(message), (args, result.stderr)
    bad_key = wbctl("alerts", "rules", env={"WBCTL_ALERTS_RUNBOOK_URL": "ftp://example.com/docs"})
    assert bad_key.returncode == 2 and len(bad_key.stderr.strip().splitlines()) == 1
    assert "WBCTL_ALERTS_RUNBOOK_URL" in bad_key.stderr


def test_no_secret_reaches_the_output(wbctl, tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text('[contexts.prod]\nredis-url = "redis://10.0.0.3:6379/0"\n')
    env = {
        "WBCTL_REDIS_URL": "redis://:redis-Secret-123@10.0.0.3:6379/0",
        "WBCTL_MYSQL_URL": "mysql://wandb:mysql-Secret-456@10.0.0.4:3306/wandb_local",
        "WBCTL_REDIS_PASSWORD": "redis-Secret-789",
        "WBCTL_MYSQL_PASSWORD": "mysql-Secret-000",
    }
    for args in ((), ("--format", "gcp"), ("-o", "json"), ("--format", "gcp", "-o", "json")):
        result = wbctl("--config", str(config), "alerts", "rules", *args, env=env)
        assert result.returncode == 0, result.stderr
        for secret in (
            "redis-Secret-123",
            "mysql-Secret-456",
            "redis-Secret-789",
            "mysql-Secret-000",
            "10.0.0.3",
            "10.0.0.4",
        ):
            assert secret not in result.stdout + result.stderr, (args, secret)


def test_the_group_alone_lists_its_one_command_and_exits_2(wbctl) -> None:
    result = wbctl("alerts")
    assert (result.returncode, result.stderr) == (2, "")
    assert commands_listed(result.stdout) == ["rules"]
