"""The catalogue and the alerts can never disagree: every rule and policy belongs to a signal, every
line drawn at an alert's threshold is the number that alert compares with, and every metric a
rule reads is on a panel. Checked over the settings that change what exists (a context, the
filestream queue, Kafka, no queue)."""

from __future__ import annotations

import re
from dataclasses import replace

import promql_parser
import pytest

from tests.support.alert_settings import DEFAULT, VARIANTS
from wbctl.core import alerts, measurements, signals
from wbctl.core.signals import Signal


def prometheus_rules(settings: alerts.AlertSettings) -> dict[str, alerts.Rule]:
    return {rule.alert: rule for group in alerts.rule_groups(settings) for rule in group.rules}


def gcp_policies(settings: alerts.AlertSettings) -> dict[str, alerts.Policy]:
    return {policy.name: policy for policy in alerts.policies(settings)[0]}


def metrics_of(expr: str) -> set[str]:
    """The metric names an expression selects, read off promql-parser's syntax tree."""
    names: set[str] = set()

    def visit(node: object) -> None:
        if isinstance(node, promql_parser.VectorSelector) and node.name:
            names.add(node.name)

    promql_parser.walk(promql_parser.parse(expr.replace("$__rate_interval", "5m")), visit)
    return names


@pytest.fixture(params=sorted(VARIANTS))
def settings(request: pytest.FixtureRequest) -> alerts.AlertSettings:
    return VARIANTS[request.param]


def test_every_alert_rule_and_policy_belongs_to_a_signal(settings: alerts.AlertSettings) -> None:
    named = {alert for signal in signals.catalogue(settings) for alert in signal.alerts}
    assert set(prometheus_rules(settings)) <= named
    assert set(gcp_policies(settings)) <= named


def test_every_alert_a_signal_names_exists(settings: alerts.AlertSettings) -> None:
    existing = set(prometheus_rules(settings)) | set(gcp_policies(settings))
    for signal in signals.catalogue(settings):
        assert set(signal.alerts) <= existing, signal.id


def test_each_line_is_the_number_its_alert_compares_with(settings: alerts.AlertSettings) -> None:
    rules, policies = prometheus_rules(settings), gcp_policies(settings)
    checked = 0
    for signal in signals.catalogue(settings):
        for line in signal.lines:
            if line.alert is None:
                continue
            in_rule = line.alert in rules and re.search(rf"(?<![\w.]){line.value:g}(?![\w.])", rules[line.alert].expr)
            values = [
                condition.get("conditionThreshold", {}).get("thresholdValue")
                for condition in (policies[line.alert].document["conditions"] if line.alert in policies else [])
            ]
            assert in_rule or line.value in values, (signal.id, line)
            checked += 1
    assert checked >= 2  # the auditor's silence and Bigtable's target at least


def test_an_age_line_moves_with_the_setting_as_its_alert_does() -> None:
    longer = replace(DEFAULT, allowed_age=5 * 86400)  # past half the 7 days: the allowed age wins
    [line] = [
        line
        for signal in signals.catalogue(longer)
        if signal.id == "queue-oldest-age"
        for line in signal.lines
        if line.alert
    ]
    assert line.value == 5 * 86400
    assert "> 432000" in prometheus_rules(longer)["WbctlQueueOldestMessageAge"].expr


def test_every_metric_a_rule_reads_is_on_a_panel(settings: alerts.AlertSettings) -> None:
    on_panels = {metric for signal in signals.catalogue(settings) for metric in signal.metrics}
    for rule in prometheus_rules(settings).values():
        read = metrics_of(rule.expr) - {"wbctl_queue_retention_seconds"}  # a rule's fallback, drawn nowhere
        assert read <= on_panels, (rule.alert, read - on_panels)


def test_each_panel_names_the_metrics_its_queries_read(settings: alerts.AlertSettings) -> None:
    for signal in signals.catalogue(settings):
        read = set().union(*(metrics_of(query.expr) for query in signal.prometheus)) if signal.prometheus else set()
        assert read == set(signal.metrics), signal.id
        assert {name for name in read if name.startswith("wbctl_")} <= set(measurements.FAMILIES), signal.id


def test_every_prometheus_query_parses(settings: alerts.AlertSettings) -> None:
    for signal in signals.catalogue(settings):
        for query in signal.prometheus:
            promql_parser.parse(query.expr.replace("$__rate_interval", "5m"))
    promql_parser.parse(signals.CHANGES_QUERY)


def test_ids_are_unique_and_every_signal_is_shown_somewhere(settings: alerts.AlertSettings) -> None:
    found = signals.catalogue(settings)
    assert len({signal.id for signal in found}) == len(found)
    for signal in found:
        assert signal.prometheus or signal.datadog or signal.google, signal.id
        assert signal.step in signals.STEPS


def test_what_exists_follows_the_settings() -> None:
    ids = {name: {signal.id for signal in signals.catalogue(value)} for name, value in VARIANTS.items()}
    assert {"queue-backlog", "filestream-backlog", "bigtable-cpu", "auditor-freshness"} <= ids["default"]
    assert "filestream-backlog" not in ids["no-filestream"]
    assert not {i for i in ids["no-queue"] if i.startswith(("queue-", "filestream-")) and i != "filestream-requests"}
    kafka = {signal.id: signal for signal in signals.catalogue(VARIANTS["kafka"])}
    assert kafka["queue-backlog"].prometheus and not kafka["queue-backlog"].google  # no Google metric of Kafka
    assert not [line for line in kafka["queue-oldest-age"].lines]  # no retention known: no line drawn


def test_descriptions_name_the_step_and_the_command_with_the_context() -> None:
    signal: Signal = next(s for s in signals.catalogue(VARIANTS["context"]) if s.id == "queue-backlog")
    text = signal.description(signals.command(VARIANTS["context"], signal.step))
    assert "Runbook step 1: backlog" in text and "`wbctl --context prod runbook queue-backlog`" in text
    assert "WbctlQueueBacklogGrowing" in text
    odd = replace(DEFAULT, context="it's prod")
    assert signals.command(odd, signals.BACKLOG) == "wbctl --context 'it'\"'\"'s prod' runbook queue-backlog"
