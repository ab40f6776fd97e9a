"""Alerts that point at the runbook: Prometheus rules over `wbctl check -o prometheus`, and
Google Cloud Monitoring alert policies over Pub/Sub's and Bigtable's own metrics.

Rules are data here (`Rule`, `Policy`), built from the context's settings (`AlertSettings`)
and dumped as text at the end, so `wbctl alerts rules` and the committed
docs/alerts/wbctl-rules.yaml come from one place (a test compares them).

Prometheus reads the auditor's gauges (a CronJob pushes `wbctl check -o prometheus` every few
minutes to a Pushgateway, grouped by `job="wbctl"` and `context`): wbctl has already judged
the queue (the verdict, docs/runbook.md), so the rules fire on its judgement held for a while,
never on one raw sample. Each rule's annotations carry the numbers (the firing value, and the
context's other series through Prometheus's `query` template function) and the command to run
next (`runbook`), with `runbook_url` into docs/runbook.md when `alerts-runbook-url` is set.

Cloud Monitoring has no wbctl verdict: its policies approximate the same alerts from the raw
metrics (a threshold condition compares one series, or a ratio of two, with a constant), and
say so in their documentation. The AlertPolicy fields are the REST resource's
(https://cloud.google.com/monitoring/api/ref_v3/rest/v3/projects.alertPolicies).
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass
from typing import Any

from wbctl.core.context_label import UNNAMED_CONTEXT
from wbctl.core.durations import format_duration
from wbctl.core.queue_source import QueueAddress
from wbctl.errors import UsageError

FORMATS = ("prometheus", "gcp")

AGE_SHARE = 0.5  # the oldest message past half the retention: a warning, with half the retention left to act
LOSS_AGE_SHARE = 0.9  # Cloud Monitoring: the oldest message within a tenth of the retention is about to be dropped
GROWTH_PERCENT = (
    5.0  # a 5 % rise over 10 minutes: Cloud Monitoring's rate of change (core/queue.py judges against the throughput)
)
FILESTREAM_RETENTION = 7 * 86400  # the filestream subscription's, in W&B's Terraform module (docs/sources.md)
GUIDE_CPU_TARGET = 0.7  # the guide's Bigtable CPU target (core/bigtable.py proposes 70 %)
NODES_PHASE_IN = 1200  # new Bigtable nodes help only after up to 20 minutes (docs/runbook.md, step 2)
SILENT_RUNS = 3  # the auditor is silent once three of its runs are missing
GROWING_FOR = 600
CRITICAL_FOR = 300
DRIFT_FOR = 3600
PODS_FOR = 900  # three of the auditor's runs at its default interval: a pod's trouble that lasts
HEALTH_CHECKS = r"services\..+\.health"  # the pods' health findings (wbctl.core.services)

# the pushed `context` label is the operator's context name, or "default" for a check run
# without one: then the command to paste takes no --context (wbctl.core.measurements)
WBCTL = f'wbctl{{{{ if ne $labels.context "{UNNAMED_CONTEXT}" }}}} --context {{{{ $labels.context }}}}{{{{ end }}}}'
QUEUE_RUNBOOK = "runbook queue-backlog"
DRIFT_RUNBOOK = "check --only {{ $labels.group }}"
AUDITOR_RUNBOOK = "check -o prometheus"
IN_CONTEXT = "in {{ $labels.context }}"


@dataclass(frozen=True)
class AlertSettings:
    """What the alerts take from the context: names to select, thresholds, where the runbook is."""

    context: str | None
    queue_source: str  # pubsub | kafka | none
    queue: str  # the queue in words (QueueAddress.describe())
    subscription: str | None
    project: str | None
    bigtable_instance: str
    retention: float | None  # seconds; None: unknown (Kafka without queue-retention)
    allowed_backlog: float
    allowed_age: float
    auditor_interval: float
    runbook_url: str | None = None  # the base URL of wbctl's docs/ (alerts-runbook-url)
    filestream_subscription: str | None = None  # the filestream's Pub/Sub subscription; None: no such queue
    namespace: str = "default"  # W&B's namespace (the dashboards' kube-state-metrics panels select it)

    @property
    def age_threshold(self) -> float | None:
        """The oldest message's age that warns: half the retention, never under the allowed age."""
        return None if self.retention is None else max(self.allowed_age, AGE_SHARE * self.retention)


@dataclass(frozen=True)
class Rule:
    """One Prometheus alerting rule (https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/)."""

    alert: str
    expr: str
    severity: str  # warning | critical
    summary: str
    description: str
    runbook: str
    page: str = "runbook.md"  # where runbook_url points, under alerts-runbook-url
    for_seconds: int = 0

    def as_dict(self, runbook_url: str | None) -> dict[str, Any]:
        rule: dict[str, Any] = {"alert": self.alert, "expr": self.expr}
        if self.for_seconds:
            rule["for"] = prometheus_duration(self.for_seconds)
        rule["labels"] = {"severity": self.severity}
        rule["annotations"] = {"summary": self.summary, "description": self.description, "runbook": self.runbook}
        if runbook_url:
            rule["annotations"]["runbook_url"] = f"{runbook_url.rstrip('/')}/{self.page}"
        return rule


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Rule, ...]


@dataclass(frozen=True)
class Policy:
    """One Cloud Monitoring alert policy, named like the Prometheus alert it stands for."""

    name: str
    document: dict[str, Any]


def queue_words(address: QueueAddress) -> str:
    """The queue as the alerts name it (no project: the Pushgateway's context says which)."""
    if address.source == "kafka":
        return f"Kafka topic {address.topic} (consumer group {address.group})"
    return f"Pub/Sub subscription {address.subscription}"


def prometheus_duration(seconds: float) -> str:
    """A Prometheus duration in its largest exact unit: 600 -> 10m, 3600 -> 1h."""
    whole = int(seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if whole and whole % size == 0:
            return f"{whole // size}{unit}"
    return f"{whole}s"


def _quote(text: str) -> str:
    """A PromQL or Cloud Monitoring filter string literal (both take JSON's escapes)."""
    return json.dumps(text)


def _selector(
    settings: AlertSettings,
    metric: str,
    exclude: dict[str, str] | None = None,
    matching: dict[str, str] | None = None,
    **matchers: str,
) -> str:
    """`metric{...}`, restricted to the context's series when a context is selected: rules made
    for several contexts can then be loaded side by side without firing twice. `matching`:
    labels matched by a regular expression (`=~`)."""
    pairs = [f"{label}={_quote(value)}" for label, value in matchers.items()]
    pairs += [f"{label}=~{_quote(value)}" for label, value in (matching or {}).items()]
    pairs += [f"{label}!={_quote(value)}" for label, value in (exclude or {}).items()]
    if settings.context:
        pairs.append(f"context={_quote(settings.context)}")
    return f"{metric}{{{', '.join(pairs)}}}" if pairs else metric


def _value(
    metric: str,
    pipe: str,
    *,
    cluster: bool = False,
    label: str | None = None,
    condition: str = "",
    queue: str | None = None,
) -> str:
    """Another of the context's numbers in an annotation, read when the alert fires (the
    `query` template function), or `unknown` when the auditor did not report it. `queue`:
    one queue's series (`queue` label: run-updates, filestream)."""
    matchers, args = (
        ("context=%q,cluster=%q", "$labels.context $labels.cluster") if cluster else ("context=%q", "$labels.context")
    )
    if queue is not None:
        matchers, args = f"{matchers},queue=%q", f'{args} "{queue}"'

    shown = f'label "{label}"' if label else f"value | {pipe}"
    return (
        f'{{{{ with printf "{metric}{{{matchers}}}{condition}" {args} | query }}}}{{{{ . | first | {shown} }}}}'
        f"{{{{ else }}}}unknown{{{{ end }}}}"
    )


def _command(s: AlertSettings, rest: str) -> str:
    """The wbctl command an alert names. Rules made for a context name it, quoted for a shell;
    rules for every context take it from the series' label (a template cannot quote it)."""
    if s.context:
        return f"wbctl --context {_literal(shlex.quote(s.context))} {rest}"
    return f"{WBCTL} {rest}"


def _literal(text: str) -> str:
    """A name from the settings, shown as it is in an annotation: Prometheus expands annotations
    as Go templates, where `{{` would begin an action (a context named `a{{x}}` broke the file)."""
    return text.replace("{{", '{{ "{{" }}')


def _duration(seconds: float | None) -> str:
    return "unknown" if seconds is None else format_duration(seconds)


# --- Prometheus -------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueView:
    """One queue as its rules name it: the run-updates queue (`WbctlQueue*`) or the filestream
    service's subscription (`WbctlFilestreamQueue*`), told apart by the `queue` label."""

    label: str  # the series' `queue` label (a QueueKind's name)
    alert: str  # the alerts' name prefix
    title: str  # "run-updates queue" in a summary
    words: str  # the queue in words (Pub/Sub subscription ...)
    consumer: str  # what consumes it
    lost: str  # what a dropped message loses
    retention: float | None
    age_threshold: float | None
    subscription: str | None  # Pub/Sub's (Cloud Monitoring's policies select it)

    def selector(self, s: AlertSettings, metric: str, **matchers: str) -> str:
        return _selector(s, metric, None, None, queue=self.label, **matchers)

    def value(self, metric: str, pipe: str, *, label: str | None = None, condition: str = "") -> str:
        return _value(metric, pipe, label=label, condition=condition, queue=self.label)


def run_updates_queue(s: AlertSettings) -> QueueView:
    return QueueView(
        "run-updates",
        "WbctlQueue",
        "run-updates queue",
        s.queue,
        "the flat-run-fields-updater",
        "lost run updates",
        s.retention,
        s.age_threshold,
        s.subscription,
    )


def filestream_queue(s: AlertSettings) -> QueueView | None:
    """The filestream's subscription with Pub/Sub (Terraform's 7 days); None without one."""
    if s.filestream_subscription is None:
        return None
    retention = FILESTREAM_RETENTION
    return QueueView(
        "filestream",
        "WbctlFilestreamQueue",
        "filestream queue",
        f"Pub/Sub subscription {s.filestream_subscription}",
        "filestream",
        "lost streamed run data",
        retention,
        max(s.allowed_age, AGE_SHARE * retention),
        s.filestream_subscription,
    )


@dataclass(frozen=True)
class QueueViewValues:
    """A queue's numbers as the rules' descriptions template them."""

    backlog: str
    trend: str
    consume: str
    publish: str
    age: str

    @classmethod
    def of(cls, q: QueueView) -> QueueViewValues:
        return cls(
            backlog=q.value("wbctl_queue_backlog_messages", "humanize"),
            trend=q.value("wbctl_queue_backlog_trend_messages_per_second", "humanize"),
            consume=q.value("wbctl_queue_consume_messages_per_second", "humanize"),
            publish=q.value("wbctl_queue_publish_messages_per_second", "humanize"),
            age=q.value("wbctl_queue_oldest_age_seconds", "humanizeDuration"),
        )


def _queue_rules(s: AlertSettings, q: QueueView) -> list[Rule]:
    values = QueueViewValues.of(q)
    return [*_queue_verdict_rules(s, q, values), _queue_age_rule(s, q, values), *_queue_loss_rules(s, q, values)]


def _queue_verdict_rules(s: AlertSettings, q: QueueView, v: QueueViewValues) -> list[Rule]:
    """The queue growing, or stalled, as wbctl's verdict says."""
    verdict = "wbctl_queue_verdict"
    backlog, trend, consume, publish, age = v.backlog, v.trend, v.consume, v.publish, v.age
    retention = _duration(q.retention)
    return [
        Rule(
            f"{q.alert}BacklogGrowing",
            f"{q.selector(s, verdict, verdict='growing')} == 1",
            "warning",
            f"The {q.title} has been growing for {prometheus_duration(GROWING_FOR)} {IN_CONTEXT}",
            f"wbctl's verdict on {_literal(q.words)} has been growing for {prometheus_duration(GROWING_FOR)}: {backlog} messages "
            f"behind, rising {trend}/s (publishing {publish}/s, consuming {consume}/s); the oldest is {age} old.",
            _command(s, QUEUE_RUNBOOK),
            for_seconds=GROWING_FOR,
        ),
        Rule(
            f"{q.alert}Stalled",
            f"{q.selector(s, verdict, verdict='stalled')} == 1",
            "critical",
            f"The {q.title} is stalled {IN_CONTEXT}",
            f"{_literal(q.words)} is stalled: {backlog} messages wait, the oldest {age} old, consumed at {consume}/s. "
            f"A message {q.consumer} cannot process, not load: read its logs. "
            f"Messages older than the retention ({retention}) are dropped.",
            _command(s, QUEUE_RUNBOOK),
            for_seconds=CRITICAL_FOR,
        ),
    ]


def _queue_age_rule(s: AlertSettings, q: QueueView, v: QueueViewValues) -> Rule:
    """The oldest message past half the retention (the auditor's, when the rules do not know it)."""
    retention = _duration(q.retention)
    threshold = q.age_threshold
    age_metric = q.selector(s, "wbctl_queue_oldest_age_seconds")
    if threshold is not None:
        age_expr = f"{age_metric} > {threshold:g}"
        past = f"{format_duration(threshold)} (half the {retention} retention)"
    else:  # unknown here: compared with the retention the auditor reports, when it knows one
        age_expr = f"{age_metric} > on(context) group_left() ({AGE_SHARE:g} * {q.selector(s, 'wbctl_queue_retention_seconds')})"
        past = "half the retention the auditor reports"
    whose = "The queue's" if q.label == "run-updates" else f"The {q.title}'s"
    return Rule(
        f"{q.alert}OldestMessageAge",
        age_expr,
        "warning",
        f"{whose} oldest unacked message is past half its retention {IN_CONTEXT}",
        f"The oldest unacked message of {_literal(q.words)} is {{{{ $value | humanizeDuration }}}} old, past {past}; "
        f"at the retention it is dropped. Backlog {v.backlog} messages, verdict "
        f"{q.value('wbctl_queue_verdict', '', label='verdict', condition=' == 1')}.",
        _command(s, QUEUE_RUNBOOK),
        for_seconds=GROWING_FOR,
    )


def _queue_loss_rules(s: AlertSettings, q: QueueView, v: QueueViewValues) -> list[Rule]:
    """Data loss projected by wbctl, and (with a known retention) a drain that would pass it."""
    backlog, consume, age = v.backlog, v.consume, v.age
    retention = _duration(q.retention)
    age_metric = q.selector(s, "wbctl_queue_oldest_age_seconds")
    rules = [
        Rule(
            f"{q.alert}DataLossProjected",
            f"{q.selector(s, 'wbctl_queue_data_loss_projected')} == 1",
            "critical",
            f"Data loss projected on the {q.title} {IN_CONTEXT}",
            f"wbctl projects that messages of {_literal(q.words)} will reach the retention before they are processed, and be "
            f"dropped ({q.lost}): {q.value('wbctl_queue_retention_headroom_seconds', 'humanizeDuration')} of "
            f"headroom; the oldest is {age} old, {backlog} messages behind, consumed at {consume}/s.",
            _command(s, QUEUE_RUNBOOK),
            for_seconds=CRITICAL_FOR,
        )
    ]
    if q.retention is not None:
        drain = q.selector(s, "wbctl_queue_drain_eta_seconds")
        projected = q.selector(s, "wbctl_queue_data_loss_projected")
        rules.append(
            Rule(
                f"{q.alert}DrainPastRetention",
                f"{age_metric} + on(context) group_left() {drain} >= {q.retention:g} unless on(context) {projected} == 1",
                "critical",
                f"Draining the {q.title} would take it past its retention {IN_CONTEXT}",
                f"The oldest message of {_literal(q.words)} is {age} old and the backlog drains in "
                f"{q.value('wbctl_queue_drain_eta_seconds', 'humanizeDuration')}: {{{{ $value | humanizeDuration }}}}, "
                f"past the {retention} retention, so the oldest messages will be dropped before they are processed.",
                _command(s, QUEUE_RUNBOOK),
                for_seconds=CRITICAL_FOR,
            )
        )
    return rules


def _capacity_rules(s: AlertSettings) -> list[Rule]:
    on = "on(context, cluster) group_left()"
    cpu = (
        f"{_selector(s, 'wbctl_bigtable_cpu_ratio')} > {on} {_selector(s, 'wbctl_bigtable_cpu_target_ratio')} "
        f"and on(context, cluster) {_selector(s, 'wbctl_bigtable_nodes')} >= {on} {_selector(s, 'wbctl_bigtable_max_nodes')}"
    )
    rules = [
        Rule(
            "WbctlBigtableCpuOverTargetAtMaxNodes",
            cpu,
            "warning",
            f"Bigtable's CPU is over its target at its maximum nodes {IN_CONTEXT}",
            f"Cluster {{{{ $labels.cluster }}}} of Bigtable instance {_literal(s.bigtable_instance)} runs at "
            f"{{{{ $value | humanizePercentage }}}} CPU, over its autoscaling target of "
            f"{_value('wbctl_bigtable_cpu_target_ratio', 'humanizePercentage', cluster=True)}, at its maximum of "
            f"{_value('wbctl_bigtable_max_nodes', 'humanize', cluster=True)} nodes: the autoscaler cannot add more.",
            _command(s, QUEUE_RUNBOOK),
            for_seconds=GROWING_FOR,
        )
    ]
    if s.queue_source != "none":
        replicas = (
            f"{_selector(s, 'wbctl_updater_replicas')} >= on(context) group_left() "
            f"{_selector(s, 'wbctl_updater_max_replicas')} and on(context) "
            f"{_selector(s, 'wbctl_queue_verdict', queue='run-updates', verdict='growing')} == 1"
        )
        rules.append(
            Rule(
                "WbctlUpdaterAtMaxReplicasWhileGrowing",
                replicas,
                "warning",
                f"The flat-run-fields-updater is at its maximum replicas while the queue grows {IN_CONTEXT}",
                f"The flat-run-fields-updater runs {{{{ $value }}}} replicas, its maximum "
                f"{_value('wbctl_updater_max_replicas', 'humanize')}, while the backlog of {_literal(s.queue)} grows "
                f"({_backlog_words()}).",
                _command(s, QUEUE_RUNBOOK),
                for_seconds=GROWING_FOR,
            )
        )
    return rules


def _backlog_words() -> str:
    return (
        f"{_value('wbctl_queue_backlog_messages', 'humanize', queue='run-updates')} messages, rising "
        f"{_value('wbctl_queue_backlog_trend_messages_per_second', 'humanize', queue='run-updates')}/s"
    )


def _drift_rules(s: AlertSettings) -> list[Rule]:
    status = "wbctl_check_status"
    return [
        Rule(
            "WbctlCheckFailing",
            f"{_selector(s, status, exclude={'group': 'queue'}, status='fail')} == 1",
            "warning",
            f"wbctl check {{{{ $labels.check }}}} has failed for an hour {IN_CONTEXT}",
            "The finding {{ $labels.check }} ({{ $labels.group }}) of wbctl check has failed for an hour in "
            "{{ $labels.context }}: the deployment has drifted from the scaling guide; the command in `runbook` "
            "prints the remedy.",
            _command(s, DRIFT_RUNBOOK),
            page="runbook.md#alerts",
            for_seconds=DRIFT_FOR,
        ),
        Rule(
            "WbctlCheckUnknown",
            f"{_selector(s, status, status='unknown')} == 1",
            "warning",
            f"wbctl check {{{{ $labels.check }}}} has been unknown for an hour {IN_CONTEXT}",
            "wbctl could not judge {{ $labels.check }} ({{ $labels.group }}) for an hour in {{ $labels.context }}: "
            "what it reads is unreachable, refuses it or holds no data, so the alerts built on it cannot fire; "
            "the command in `runbook` says why.",
            _command(s, DRIFT_RUNBOOK),
            page="runbook.md#alerts",
            for_seconds=DRIFT_FOR,
        ),
    ]


def _pod_health_rules(s: AlertSettings) -> list[Rule]:
    """A service's pods failing (`services.<service>.health`: crash loops, OOM kills, image pulls,
    unschedulable): sooner than the drift's hour, since the pods are failing now, not drifting."""
    status = "wbctl_check_status"
    return [
        Rule(
            "WbctlServicePodsUnhealthy",
            f"{_selector(s, status, matching={'check': HEALTH_CHECKS}, status='fail')} == 1",
            "warning",
            f"wbctl check {{{{ $labels.check }}}}: the service's pods are failing {IN_CONTEXT}",
            "The pods of a W&B service are failing in {{ $labels.context }} (crash looping, OOM killed, unable to "
            "pull their image or to be scheduled): the command in `runbook` prints each pod's trouble and the "
            "setting to raise, or the kubectl to look with.",
            _command(s, "check --only services"),
            page="runbook.md#alerts",
            for_seconds=PODS_FOR,
        ),
    ]


def _auditor_rules(s: AlertSettings) -> list[Rule]:
    last = _selector(s, "wbctl_check_last_run_timestamp_seconds")
    silent = int(SILENT_RUNS * s.auditor_interval)
    every = format_duration(s.auditor_interval)
    return [
        # absent() carries the selector's context label only when the rules select one
        Rule(
            "WbctlAuditorAbsent",
            f"absent({last})",
            "warning",
            "wbctl's auditor has not reported" + (f" {IN_CONTEXT}" if s.context else ""),
            f"No {_literal(last)} series for {format_duration(silent)}: the CronJob that runs `wbctl check -o prometheus` every "
            f"{every} has not pushed, or its Pushgateway is not scraped, so every other wbctl alert is blind.",
            _command(s, AUDITOR_RUNBOOK) if s.context else "wbctl check -o prometheus",
            page="runbook.md#alerts",
            for_seconds=silent,
        ),
        Rule(
            "WbctlAuditorSilent",
            f"time() - {last} > {silent}",
            "warning",
            f"wbctl's auditor last reported {{{{ $value | humanizeDuration }}}} ago {IN_CONTEXT}",
            f"wbctl check last finished {{{{ $value | humanizeDuration }}}} ago; it is expected every {every}: its "
            "CronJob fails or is suspended, and the other wbctl alerts judge stale numbers.",
            _command(s, AUDITOR_RUNBOOK),
            page="runbook.md#alerts",
        ),
    ]


def rule_groups(s: AlertSettings) -> tuple[RuleGroup, ...]:
    suffix = f" {s.context}" if s.context else ""
    groups = []
    if s.queue_source != "none":
        groups.append(RuleGroup(f"wbctl-queue{suffix}", tuple(_queue_rules(s, run_updates_queue(s)))))
    filestream = filestream_queue(s)
    if filestream is not None:
        groups.append(RuleGroup(f"wbctl-filestream-queue{suffix}", tuple(_queue_rules(s, filestream))))
    groups += [
        RuleGroup(f"wbctl-capacity{suffix}", tuple(_capacity_rules(s))),
        RuleGroup(f"wbctl-drift{suffix}", tuple(_pod_health_rules(s) + _drift_rules(s))),
        RuleGroup(f"wbctl-auditor{suffix}", tuple(_auditor_rules(s))),
    ]
    return tuple(groups)


def _thresholds(s: AlertSettings) -> str:
    retention = _duration(s.retention) + (
        "" if s.retention is not None or s.queue_source == "none" else " (set queue-retention)"
    )
    return (
        f"retention {retention}, allowed age {format_duration(s.allowed_age)}, allowed backlog "
        f"{s.allowed_backlog:g}, auditor every {format_duration(s.auditor_interval)}"
    )


def prometheus_document(s: AlertSettings) -> dict[str, Any]:
    return {
        "groups": [
            {"name": group.name, "rules": [rule.as_dict(s.runbook_url) for rule in group.rules]}
            for group in rule_groups(s)
        ]
    }


def prometheus_text(s: AlertSettings) -> str:
    """The rule file: a header that says where it came from, then the groups as YAML."""
    import yaml

    context = s.context or "(none: the defaults)"
    header = (
        "# Prometheus alerting rules over the metrics of `wbctl check -o prometheus`\n"
        f"# (docs/alerts/README.md). Made by `wbctl alerts rules` for context {context}:\n"
        f"# {_thresholds(s)}.\n"
        "# Regenerate them rather than edit them.\n"
    )
    body: str = yaml.safe_dump(
        prometheus_document(s), sort_keys=False, allow_unicode=True, width=10**6, default_flow_style=False
    )
    return header + body


# --- Google Cloud Monitoring ----------------------------------------------------------


def _aggregation(period: int, aligner: str, reducer: str | None = None, by: tuple[str, ...] = ()) -> dict[str, Any]:
    aggregation: dict[str, Any] = {"alignmentPeriod": f"{period}s", "perSeriesAligner": aligner}
    if reducer:
        aggregation.update(crossSeriesReducer=reducer, groupByFields=list(by))
    return aggregation


def _threshold(
    name: str, filter_: str, aggregation: dict[str, Any], comparison: str, value: float, duration: int, **ratio: Any
) -> dict[str, Any]:
    condition: dict[str, Any] = {"filter": filter_, "aggregations": [aggregation]}
    condition.update(ratio)
    condition.update(comparison=comparison, thresholdValue=value, duration=f"{duration}s", trigger={"count": 1})
    return {"displayName": name, "conditionThreshold": condition}


def _absent(name: str, filter_: str, aggregation: dict[str, Any], duration: int) -> dict[str, Any]:
    return {
        "displayName": name,
        "conditionAbsent": {
            "filter": filter_,
            "aggregations": [aggregation],
            "duration": f"{duration}s",
            "trigger": {"count": 1},
        },
    }


def _filter(s: AlertSettings, metric: str, resource: str, **labels: str) -> str:
    parts = [f"metric.type = {_quote(metric)}", f"resource.type = {_quote(resource)}"]
    if s.project:
        parts.append(f"resource.labels.project_id = {_quote(s.project)}")
    parts += [f"resource.labels.{label} = {_quote(value)}" for label, value in labels.items()]
    return " AND ".join(parts)


def _policy(
    s: AlertSettings,
    name: str,
    title: str,
    severity: str,
    what: str,
    conditions: list[dict[str, Any]],
    combiner: str = "OR",
    runbook: str = "runbook queue-backlog",
) -> Policy:
    context = f" ({s.context})" if s.context else ""
    command = f"wbctl{f' --context {shlex.quote(s.context)}' if s.context else ''} {runbook}"
    content = (
        f"**{title[0].upper()}{title[1:]}**{context}\n\n{what}\n\nNext: run `{command}`: it diagnoses the queue and proposes the fix "
        f"(docs/runbook.md). Made by `wbctl alerts rules --format gcp` as {name}."
    )
    documentation: dict[str, Any] = {
        "content": content,
        "mimeType": "text/markdown",
        "subject": f"wbctl{context}: {title}",
    }
    if s.runbook_url:
        documentation["links"] = [{"displayName": "wbctl runbook", "url": f"{s.runbook_url.rstrip('/')}/runbook.md"}]
    document = {
        "displayName": f"wbctl{context}: {title}",
        "documentation": documentation,
        "userLabels": {"source": "wbctl", "severity": severity.lower()},
        "conditions": conditions,
        "combiner": combiner,
        "enabled": True,
        "severity": severity,
    }
    return Policy(name, document)


@dataclass(frozen=True)
class _Subscription:
    """The Cloud Monitoring filters of one Pub/Sub subscription's signals."""

    undelivered: str
    oldest: str
    acked: str


def _pubsub_policies(s: AlertSettings, q: QueueView) -> list[Policy]:
    assert q.subscription is not None and q.retention is not None
    sub = {"subscription_id": q.subscription}
    signals = _Subscription(
        undelivered=_filter(
            s, "pubsub.googleapis.com/subscription/num_undelivered_messages", "pubsub_subscription", **sub
        ),
        oldest=_filter(
            s, "pubsub.googleapis.com/subscription/oldest_unacked_message_age", "pubsub_subscription", **sub
        ),
        acked=_filter(s, "pubsub.googleapis.com/subscription/ack_message_count", "pubsub_subscription", **sub),
    )
    return [
        *_pubsub_backlog_policies(s, q, signals),
        _pubsub_age_policy(s, q, signals),
        _pubsub_loss_policy(s, q, signals),
    ]


def _pubsub_backlog_policies(s: AlertSettings, q: QueueView, signals: _Subscription) -> list[Policy]:
    """The backlog growing, and held with nothing acknowledged (stalled)."""
    backlog_over = _threshold(
        f"backlog over {s.allowed_backlog:g} messages (queue-allowed-backlog)",
        signals.undelivered,
        _aggregation(60, "ALIGN_MAX"),
        "COMPARISON_GT",
        s.allowed_backlog,
        GROWING_FOR,
    )
    return [
        _policy(
            s,
            f"{q.alert}BacklogGrowing",
            f"the {q.title} is growing",
            "WARNING",
            f"The backlog of Pub/Sub subscription {q.subscription} rose more than {GROWTH_PERCENT:g} % over 10 "
            "minutes, for 10 minutes, above the allowed backlog (Cloud Monitoring's rate of change, in place of "
            "wbctl's verdict).",
            [
                backlog_over,
                _threshold(
                    f"backlog up {GROWTH_PERCENT:g} % in 10 minutes",
                    signals.undelivered,
                    _aggregation(GROWING_FOR, "ALIGN_PERCENT_CHANGE"),
                    "COMPARISON_GT",
                    GROWTH_PERCENT,
                    GROWING_FOR,
                ),
            ],
            combiner="AND_WITH_MATCHING_RESOURCE",
        ),
        _policy(
            s,
            f"{q.alert}Stalled",
            f"the {q.title} is stalled",
            "CRITICAL",
            f"Pub/Sub subscription {q.subscription} holds messages and acknowledged none for 10 minutes: a message "
            f"{q.consumer} cannot process (read its logs), or no consumer at all.",
            [
                backlog_over,
                _absent(
                    "no acknowledgement for 10 minutes", signals.acked, _aggregation(60, "ALIGN_RATE"), GROWING_FOR
                ),
            ],
            combiner="AND",
        ),
    ]


def _pubsub_age_policy(s: AlertSettings, q: QueueView, signals: _Subscription) -> Policy:
    """The oldest message past half the retention."""
    threshold = q.age_threshold
    assert threshold is not None and q.retention is not None
    return _policy(
        s,
        f"{q.alert}OldestMessageAge",
        "the queue's oldest message is past half its retention"
        if q.label == "run-updates"
        else f"the {q.title}'s oldest message is past half its retention",
        "WARNING",
        f"The oldest unacked message of Pub/Sub subscription {q.subscription} is older than "
        f"{format_duration(threshold)} (half the {format_duration(q.retention)} retention) for 10 minutes; at the "
        "retention it is dropped.",
        [
            _threshold(
                f"oldest unacked message older than {format_duration(threshold)}",
                signals.oldest,
                _aggregation(60, "ALIGN_MAX"),
                "COMPARISON_GT",
                threshold,
                GROWING_FOR,
            )
        ],
    )


def _pubsub_loss_policy(s: AlertSettings, q: QueueView, signals: _Subscription) -> Policy:
    """Messages about to be dropped at the retention: too slow a drain, or too old a message."""
    assert q.retention is not None
    retention = format_duration(q.retention)
    by_subscription = ("resource.label.subscription_id",)
    return _policy(
        s,
        f"{q.alert}DataLoss",
        f"data loss on the {q.title}",
        "CRITICAL",
        f"Messages of Pub/Sub subscription {q.subscription} are about to be dropped at the {retention} "
        "retention: the backlog takes longer than the retention to drain at the current acknowledgement "
        f"rate, or the oldest message is within a tenth of the retention. (A threshold condition cannot add "
        "the age to the time to drain, as wbctl's own projection does: each is checked alone.)",
        [
            _threshold(
                f"time to drain (backlog / acks per second) past {retention}",
                signals.undelivered,
                _aggregation(60, "ALIGN_MAX", "REDUCE_SUM", by_subscription),
                "COMPARISON_GT",
                q.retention,
                CRITICAL_FOR,
                denominatorFilter=signals.acked,
                denominatorAggregations=[_aggregation(60, "ALIGN_RATE", "REDUCE_SUM", by_subscription)],
            ),
            _threshold(
                f"oldest unacked message older than {format_duration(LOSS_AGE_SHARE * q.retention)}",
                signals.oldest,
                _aggregation(60, "ALIGN_MAX"),
                "COMPARISON_GT",
                LOSS_AGE_SHARE * q.retention,
                CRITICAL_FOR,
            ),
        ],
    )


def _bigtable_policies(s: AlertSettings) -> list[Policy]:
    instance = {"instance": s.bigtable_instance}
    cpu = _filter(s, "bigtable.googleapis.com/cluster/cpu_load", "bigtable_cluster", **instance)
    nodes = _filter(s, "bigtable.googleapis.com/cluster/node_count", "bigtable_cluster", **instance)
    return [
        _policy(
            s,
            "WbctlBigtableCpuOverTarget",
            "Bigtable's CPU is over target and no node is being added",
            "WARNING",
            f"A cluster of Bigtable instance {s.bigtable_instance} has run over the guide's {GUIDE_CPU_TARGET:.0%} CPU "
            f"target for {format_duration(NODES_PHASE_IN)} while its node count did not rise: its autoscaler is at its "
            "maximum, or not acting (quota?). Cloud Monitoring does not know the autoscaling limits: "
            "`wbctl bigtable status` shows them.",
            [
                _threshold(
                    f"CPU over {GUIDE_CPU_TARGET:.0%}",
                    cpu,
                    _aggregation(60, "ALIGN_MEAN"),
                    "COMPARISON_GT",
                    GUIDE_CPU_TARGET,
                    NODES_PHASE_IN,
                ),
                _threshold(
                    "node count not rising",
                    nodes,
                    _aggregation(NODES_PHASE_IN, "ALIGN_PERCENT_CHANGE"),
                    "COMPARISON_LT",
                    1.0,
                    NODES_PHASE_IN,
                ),
            ],
            combiner="AND_WITH_MATCHING_RESOURCE",
        )
    ]


def policies(s: AlertSettings) -> tuple[tuple[Policy, ...], tuple[str, ...]]:
    """The Cloud Monitoring policies and what could not be expressed there."""
    notes = [
        "the updater's replicas, wbctl's drift findings and the auditor's silence have no Cloud Monitoring "
        "metric: those alerts are in the Prometheus rules only (--format prometheus)"
    ]
    found: list[Policy] = []
    if s.queue_source == "pubsub":
        found += _pubsub_policies(s, run_updates_queue(s))
    filestream = filestream_queue(s)
    if filestream is not None:
        found += _pubsub_policies(s, filestream)
    elif s.queue_source == "kafka":
        notes.append(
            "the queue is Kafka: Cloud Monitoring has no metric of it, so its alerts are in the Prometheus rules only"
        )
    found += _bigtable_policies(s)
    return tuple(found), tuple(notes)


def notes(s: AlertSettings) -> tuple[str, ...]:
    if s.queue_source == "kafka" and s.retention is None:
        return (
            "the Kafka topic's retention is unknown: WbctlQueueOldestMessageAge compares with the retention the "
            "auditor reports and WbctlQueueDrainPastRetention is left out; set queue-retention",
        )
    return ()


# --- the command's document -----------------------------------------------------------


def document(fmt: str, s: AlertSettings, policy: str | None = None) -> dict[str, Any]:
    """`alerts rules --format FMT -o json`: `text` is what the format prints, `notes` what it
    says on stderr; prometheus adds the rule `groups`, gcp the `policies` by name."""
    if fmt not in FORMATS:
        raise UsageError(f"--format {fmt}: expected one of {', '.join(FORMATS)}")
    if fmt == "prometheus":
        if policy is not None:
            raise UsageError("--policy only applies with --format gcp: a rule file is loaded whole")
        groups = prometheus_document(s)["groups"]
        return {
            "format": fmt,
            "context": s.context,
            "text": prometheus_text(s),
            "notes": list(notes(s)),
            "groups": groups,
        }
    found, gcp_notes = policies(s)
    if policy is not None:
        chosen = [p for p in found if p.name == policy]
        if not chosen:
            raise UsageError(f"--policy {policy}: expected one of {', '.join(p.name for p in found)}")
        text = json.dumps(chosen[0].document, indent=2) + "\n"
        found = tuple(chosen)
    else:
        text = json.dumps([p.document for p in found], indent=2) + "\n"
    return {
        "format": fmt,
        "context": s.context,
        "text": text,
        "notes": list(gcp_notes),
        "policies": [{"name": p.name, "policy": p.document} for p in found],
    }
