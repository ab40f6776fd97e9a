"""The alerts as data: thresholds from the settings, selectors per context, what is left out
when something is unknown, and Cloud Monitoring policies the real AlertPolicy proto accepts."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
import yaml
from google.cloud.monitoring_v3 import AlertPolicy
from google.protobuf import json_format

from wbctl.core import alerts
from wbctl.core.queue_source import resolve
from wbctl.errors import UsageError

DEFAULT = alerts.AlertSettings(
    context=None,
    queue_source="pubsub",
    queue="Pub/Sub subscription wandb-flat-run-fields-updater",
    subscription="wandb-flat-run-fields-updater",
    project=None,
    bigtable_instance="wandb-bigtable",
    retention=7 * 86400,
    allowed_backlog=0,
    allowed_age=300,
    auditor_interval=300,
)
KAFKA = replace(
    DEFAULT,
    queue_source="kafka",
    queue="Kafka topic wandb-run-updates-shadow (consumer group flat-run-fields-updater)",
    subscription=None,
    retention=None,
)


WBCTL = 'wbctl{{ if ne $labels.context "default" }} --context {{ $labels.context }}{{ end }}'  # no --context for an unnamed one


def rules(settings: alerts.AlertSettings) -> dict[str, dict]:
    return {rule["alert"]: rule for group in alerts.prometheus_document(settings)["groups"] for rule in group["rules"]}


def test_the_default_rules_and_their_thresholds() -> None:
    found = rules(DEFAULT)
    assert list(found) == [
        "WbctlQueueBacklogGrowing",
        "WbctlQueueStalled",
        "WbctlQueueOldestMessageAge",
        "WbctlQueueDataLossProjected",
        "WbctlQueueDrainPastRetention",
        "WbctlBigtableCpuOverTargetAtMaxNodes",
        "WbctlUpdaterAtMaxReplicasWhileGrowing",
        "WbctlServicePodsUnhealthy",
        "WbctlCheckFailing",
        "WbctlCheckUnknown",
        "WbctlAuditorAbsent",
        "WbctlAuditorSilent",
    ]
    assert (
        found["WbctlQueueBacklogGrowing"]["expr"] == 'wbctl_queue_verdict{queue="run-updates", verdict="growing"} == 1'
    )
    assert found["WbctlQueueBacklogGrowing"]["for"] == "10m"
    assert found["WbctlQueueOldestMessageAge"]["expr"] == 'wbctl_queue_oldest_age_seconds{queue="run-updates"} > 302400'
    assert "604800" in found["WbctlQueueDrainPastRetention"]["expr"]
    assert found["WbctlCheckFailing"]["expr"] == 'wbctl_check_status{status="fail", group!="queue"} == 1'
    assert found["WbctlCheckFailing"]["for"] == "1h"
    assert found["WbctlAuditorSilent"]["expr"] == "time() - wbctl_check_last_run_timestamp_seconds > 900"
    assert found["WbctlAuditorAbsent"]["for"] == "15m"
    for name, rule in found.items():
        assert rule["labels"]["severity"] in ("warning", "critical"), name
        assert {"summary", "description", "runbook"} <= set(rule["annotations"]), name
        assert "runbook_url" not in rule["annotations"], name  # no base URL configured
    severities = {name: rule["labels"]["severity"] for name, rule in found.items()}
    assert {name for name, severity in severities.items() if severity == "critical"} == {
        "WbctlQueueStalled",
        "WbctlQueueDataLossProjected",
        "WbctlQueueDrainPastRetention",
    }
    assert found["WbctlQueueStalled"]["annotations"]["runbook"] == WBCTL + " runbook queue-backlog"
    assert found["WbctlCheckFailing"]["annotations"]["runbook"] == WBCTL + " check --only {{ $labels.group }}"


def test_the_thresholds_follow_the_settings() -> None:
    three_days = rules(replace(DEFAULT, retention=3 * 86400, auditor_interval=600))
    assert (
        three_days["WbctlQueueOldestMessageAge"]["expr"]
        == 'wbctl_queue_oldest_age_seconds{queue="run-updates"} > 129600'
    )
    assert "1d 12h (half the 3d retention)" in three_days["WbctlQueueOldestMessageAge"]["annotations"]["description"]
    assert ">= 259200 unless" in three_days["WbctlQueueDrainPastRetention"]["expr"]
    assert three_days["WbctlAuditorSilent"]["expr"].endswith("> 1800")
    assert three_days["WbctlAuditorAbsent"]["for"] == "30m"
    # never warn on an age the context allows: the allowed age wins over half a short retention
    short = rules(replace(DEFAULT, retention=600, allowed_age=900))
    assert short["WbctlQueueOldestMessageAge"]["expr"] == 'wbctl_queue_oldest_age_seconds{queue="run-updates"} > 900'


def test_a_context_selects_its_own_series_everywhere() -> None:
    found = rules(replace(DEFAULT, context="prod"))
    for name, rule in found.items():
        metrics = re.findall(r"(wbctl_\w+)(\{[^}]*\})?", rule["expr"])
        assert metrics, name
        for metric, matchers in metrics:
            assert 'context="prod"' in matchers, (name, metric)
    assert found["WbctlAuditorAbsent"]["expr"] == 'absent(wbctl_check_last_run_timestamp_seconds{context="prod"})'
    assert found["WbctlAuditorAbsent"]["annotations"]["runbook"] == "wbctl --context prod check -o prometheus"
    assert found["WbctlQueueStalled"]["annotations"]["runbook"] == "wbctl --context prod runbook queue-backlog"
    groups = [group["name"] for group in alerts.prometheus_document(replace(DEFAULT, context="prod"))["groups"]]
    assert groups == ["wbctl-queue prod", "wbctl-capacity prod", "wbctl-drift prod", "wbctl-auditor prod"]


def test_a_context_name_is_quoted_not_injected() -> None:
    expr = rules(replace(DEFAULT, context='a"b'))["WbctlQueueStalled"]["expr"]
    assert expr == 'wbctl_queue_verdict{queue="run-updates", verdict="stalled", context="a\\"b"} == 1'


def test_combined_metrics_match_on_context() -> None:
    found = rules(DEFAULT)
    assert "on(context, cluster)" in found["WbctlBigtableCpuOverTargetAtMaxNodes"]["expr"]
    assert found["WbctlUpdaterAtMaxReplicasWhileGrowing"]["expr"].count("on(context)") == 2
    assert "unless on(context)" in found["WbctlQueueDrainPastRetention"]["expr"]


def test_runbook_url_only_when_configured() -> None:
    found = rules(replace(DEFAULT, runbook_url="https://github.com/acme/wbctl/blob/main/docs/"))
    assert (
        found["WbctlQueueStalled"]["annotations"]["runbook_url"]
        == "https://github.com/acme/wbctl/blob/main/docs/runbook.md"
    )
    assert found["WbctlCheckFailing"]["annotations"]["runbook_url"].endswith("/docs/runbook.md#alerts")


def test_kafka_without_a_retention() -> None:
    found = rules(KAFKA)
    assert "WbctlQueueDrainPastRetention" not in found
    assert found["WbctlQueueOldestMessageAge"]["expr"] == (
        'wbctl_queue_oldest_age_seconds{queue="run-updates"} > on(context) group_left() '
        '(0.5 * wbctl_queue_retention_seconds{queue="run-updates"})'
    )
    assert "Kafka topic wandb-run-updates-shadow" in found["WbctlQueueStalled"]["annotations"]["description"]
    assert any("queue-retention" in note for note in alerts.notes(KAFKA))
    assert "set queue-retention" in alerts.prometheus_text(KAFKA).splitlines()[2]
    assert alerts.notes(DEFAULT) == ()


def test_no_queue_no_queue_alerts() -> None:
    found = rules(replace(DEFAULT, queue_source="none", subscription=None))
    assert not [name for name in found if name.startswith("WbctlQueue")]
    assert "WbctlUpdaterAtMaxReplicasWhileGrowing" not in found
    assert "WbctlBigtableCpuOverTargetAtMaxNodes" in found and "WbctlCheckFailing" in found


def test_the_text_is_a_header_and_the_document() -> None:
    text = alerts.prometheus_text(DEFAULT)
    assert text.startswith("# Prometheus alerting rules")
    assert yaml.safe_load(text) == alerts.prometheus_document(DEFAULT)
    assert "retention 7d, allowed age 5m, allowed backlog 0, auditor every 5m" in text


@pytest.mark.parametrize(
    ("seconds", "text"), [(600, "10m"), (3600, "1h"), (900, "15m"), (90, "90s"), (86400, "1d"), (5400, "90m")]
)
def test_prometheus_duration(seconds: int, text: str) -> None:
    assert alerts.prometheus_duration(seconds) == text


def test_queue_words_from_the_resolved_address() -> None:
    pubsub = resolve(None, source=None, subscription=None, topic=None, project="p", install="wandb")
    kafka = resolve(None, source="kafka", subscription=None, topic=None, project=None, install="wandb")
    assert alerts.queue_words(pubsub) == "Pub/Sub subscription wandb-flat-run-fields-updater"
    assert alerts.queue_words(kafka) == "Kafka topic wandb-run-updates-shadow (consumer group flat-run-fields-updater)"


# --- Cloud Monitoring -----------------------------------------------------------------


def gcp(settings: alerts.AlertSettings) -> dict[str, dict]:
    found, _ = alerts.policies(settings)
    return {policy.name: policy.document for policy in found}


@pytest.mark.parametrize(
    "settings",
    [DEFAULT, replace(DEFAULT, context="prod", project="my-proj", runbook_url="https://example.com/docs")],
    ids=["default", "context"],
)
def test_every_policy_is_an_alert_policy(settings: alerts.AlertSettings) -> None:
    for name, document in gcp(settings).items():
        text = json.dumps(document)
        parsed = AlertPolicy.from_json(text)  # proto-plus: unknown fields refused
        json_format.Parse(text, AlertPolicy.pb()(), ignore_unknown_fields=False)
        assert parsed.display_name == document["displayName"], name
        assert parsed.documentation.mime_type == "text/markdown"
        assert parsed.severity in (AlertPolicy.Severity.WARNING, AlertPolicy.Severity.CRITICAL)
        for condition in parsed.conditions:
            threshold = condition.condition_threshold or condition.condition_absent
            assert threshold.filter and threshold.duration.total_seconds() > 0, name


def test_a_misspelt_field_is_refused_by_the_proto() -> None:
    document = gcp(DEFAULT)["WbctlQueueStalled"]
    document["conditions"][0]["conditionThreshold"]["tresholdValue"] = 1
    with pytest.raises(json_format.ParseError):
        json_format.Parse(json.dumps(document), AlertPolicy.pb()(), ignore_unknown_fields=False)


def test_policies_select_the_contexts_subscription_and_instance() -> None:
    settings = replace(
        DEFAULT,
        context="prod",
        project="my-proj",
        subscription="prod-updater",
        bigtable_instance="prod-bt",
        retention=3 * 86400,
    )
    found = gcp(settings)
    assert list(found) == [
        "WbctlQueueBacklogGrowing",
        "WbctlQueueStalled",
        "WbctlQueueOldestMessageAge",
        "WbctlQueueDataLoss",
        "WbctlBigtableCpuOverTarget",
    ]
    for name, document in found.items():
        for condition in document["conditions"]:
            body = condition.get("conditionThreshold") or condition["conditionAbsent"]
            assert 'resource.labels.project_id = "my-proj"' in body["filter"], name
            wanted = (
                'resource.labels.instance = "prod-bt"'
                if "Bigtable" in name
                else 'resource.labels.subscription_id = "prod-updater"'
            )
            assert wanted in body["filter"], name
        assert document["displayName"].startswith("wbctl (prod): ")
        assert "`wbctl --context prod runbook queue-backlog`" in document["documentation"]["content"]
    age = found["WbctlQueueOldestMessageAge"]["conditions"][0]["conditionThreshold"]
    assert age["thresholdValue"] == 129600 and "oldest_unacked_message_age" in age["filter"]
    loss = found["WbctlQueueDataLoss"]["conditions"][0]["conditionThreshold"]
    assert loss["thresholdValue"] == 259200 and "ack_message_count" in loss["denominatorFilter"]
    cpu = found["WbctlBigtableCpuOverTarget"]["conditions"]
    assert [c["conditionThreshold"]["filter"].split('"')[1] for c in cpu] == [
        "bigtable.googleapis.com/cluster/cpu_load",
        "bigtable.googleapis.com/cluster/node_count",
    ]
    assert found["WbctlQueueStalled"]["conditions"][1]["conditionAbsent"]["duration"] == "600s"


def test_kafka_has_no_pubsub_policies() -> None:
    found, notes = alerts.policies(KAFKA)
    assert [policy.name for policy in found] == ["WbctlBigtableCpuOverTarget"]
    assert any("Kafka" in note for note in notes)


def test_the_document_and_its_refusals() -> None:
    one = alerts.document("gcp", DEFAULT, "WbctlQueueStalled")
    assert json.loads(one["text"])["displayName"] == "wbctl: the run-updates queue is stalled"
    everything = alerts.document("gcp", DEFAULT)
    assert [p["name"] for p in everything["policies"]] == list(gcp(DEFAULT))
    assert json.loads(everything["text"]) == [p["policy"] for p in everything["policies"]]
    with pytest.raises(UsageError, match=r"^--format nope: expected one of prometheus, gcp$"):
        alerts.document("nope", DEFAULT)
    with pytest.raises(UsageError, match="^--policy Nope: expected one of WbctlQueueBacklogGrowing, "):
        alerts.document("gcp", DEFAULT, "Nope")
    with pytest.raises(UsageError, match="^--policy only applies with --format gcp"):
        alerts.document("prometheus", DEFAULT, "WbctlQueueStalled")


# --- the filestream queue ---------------------------------------------------------------

FILESTREAM = replace(DEFAULT, filestream_subscription="wandb-filestream-gorilla")


def test_the_filestream_queue_has_the_queue_rules_under_its_own_names_and_label() -> None:
    found = rules(FILESTREAM)
    names = [name for name in found if name.startswith("WbctlFilestreamQueue")]
    assert names == [
        name.replace("WbctlQueue", "WbctlFilestreamQueue") for name in rules(DEFAULT) if name.startswith("WbctlQueue")
    ]
    assert (
        found["WbctlFilestreamQueueBacklogGrowing"]["expr"]
        == 'wbctl_queue_verdict{queue="filestream", verdict="growing"} == 1'
    )
    assert (
        found["WbctlFilestreamQueueOldestMessageAge"]["expr"]
        == 'wbctl_queue_oldest_age_seconds{queue="filestream"} > 302400'
    )
    # every queue series it reads, in expressions and annotations, is the filestream queue's
    for name in names:
        rule = found[name]
        assert 'queue="run-updates"' not in rule["expr"] and '"run-updates"' not in rule["annotations"]["description"]
        assert "Pub/Sub subscription wandb-filestream-gorilla" in rule["annotations"]["description"]
        assert rule["annotations"]["runbook"].endswith("runbook queue-backlog")
    assert "filestream cannot process" in found["WbctlFilestreamQueueStalled"]["annotations"]["description"]
    groups = [group["name"] for group in alerts.prometheus_document(FILESTREAM)["groups"]]
    assert groups[:2] == ["wbctl-queue", "wbctl-filestream-queue"]


def test_no_filestream_subscription_no_filestream_rules_or_policies() -> None:
    assert not [name for name in rules(DEFAULT) if "Filestream" in name]
    assert not [p.name for p in alerts.policies(DEFAULT)[0] if "Filestream" in p.name]


def test_the_filestream_policies_select_its_subscription() -> None:
    found = {p.name: p.document for p in alerts.policies(FILESTREAM)[0]}
    policy = found["WbctlFilestreamQueueDataLoss"]
    filters = [condition["conditionThreshold"]["filter"] for condition in policy["conditions"]]
    assert all('resource.labels.subscription_id = "wandb-filestream-gorilla"' in f for f in filters)
    assert policy["displayName"] == "wbctl: data loss on the filestream queue"
    AlertPolicy.from_json(json.dumps(policy))  # the real proto accepts it


def test_a_service_s_pods_failing_alert_within_a_quarter_hour() -> None:
    """services.<service>.health failing fires sooner than the drift's hour, and names the services area."""
    found = rules(DEFAULT)["WbctlServicePodsUnhealthy"]
    assert found["expr"] == 'wbctl_check_status{status="fail", check=~"services\\\\..+\\\\.health"} == 1'
    assert found["for"] == "15m"
    assert found["annotations"]["runbook"] == WBCTL + " check --only services"
