"""The catalogue of signals: what an on-call engineer looks at, each with its query per backend,
the runbook step it belongs to, its thresholds and the alerts that fire on it.

One table serves the three dashboards (wbctl.core.dashboards: Grafana, Datadog, Cloud
Monitoring) and names the alert rules of wbctl.core.alerts: a threshold drawn on a panel is the
number the alert about it compares with, read from the same `AlertSettings` through the same
functions (`age_threshold`, `GUIDE_CPU_TARGET`, the auditor's silence), and
tests/unit/core/test_signals.py holds every rule to a signal and every line to its rule.

The queries, by backend:
- Prometheus: wbctl's own gauges (`wbctl check -o prometheus`, pushed by the auditor,
  labelled `context`), where wbctl has judged the numbers; beside them the metric names W&B's
  own dashboards query (wandb/operator `deploy/telemetry/dashboards/*.json`:
  `http_server_request_duration_seconds_*` with `service_name="gorilla"`, `redis_*`,
  `mysql_global_status_*`, kube-state-metrics' `kube_*`), never a job name: whoever scrapes
  them names their jobs. `$context` and `$namespace` are the dashboard's variables.
- Datadog: its Google Cloud integration's names (`gcp.<service>.<metric path>` with dots,
  https://docs.datadoghq.com/integrations/google_cloud_platform/) and its Kubernetes checks'.
- Cloud Monitoring: the Google metric types (https://cloud.google.com/monitoring/api/metrics_gcp).
A signal a backend cannot show has no query there (wbctl's verdict exists in Prometheus only),
and the dashboard says so in a note rather than drawing an empty panel.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from wbctl.core import alerts
from wbctl.core.alerts import AlertSettings
from wbctl.core.catalog import PREFIX
from wbctl.core.durations import format_duration

RUNBOOK = "runbook queue-backlog"


@dataclass(frozen=True)
class Step:
    """Where a signal belongs in the runbook (docs/runbook.md, "The steps"); 0: not a step of
    the queue-backlog runbook (the deployment's health around it)."""

    number: int
    name: str
    command: str  # the wbctl command that acts on it (without `wbctl` and the context)

    @property
    def heading(self) -> str:
        return f"step {self.number}: {self.name}" if self.number else self.name


BACKLOG = Step(1, "backlog", RUNBOOK)
BIGTABLE = Step(2, "bigtable", RUNBOOK)
UPDATER = Step(3, "flat-run-fields-updater", RUNBOOK)
PODS = Step(0, "pods", "check --only services")
STORES = Step(0, "redis and mysql", "check --only redis,mysql")
REQUESTS = Step(0, "requests", "check --only services")
AUDITOR = Step(0, "the auditor", "check -o prometheus")
STEPS = (BACKLOG, BIGTABLE, UPDATER, PODS, STORES, REQUESTS, AUDITOR)


@dataclass(frozen=True)
class Line:
    """A threshold drawn on a panel: the value an alert compares with, or a limit (the retention)."""

    value: float
    severity: str  # warning | critical
    label: str
    alert: str | None = None  # the rule (or policy) that fires past it


@dataclass(frozen=True)
class Query:
    """One series of a panel in a text query language (PromQL, Datadog's metric queries)."""

    expr: str
    legend: str


@dataclass(frozen=True)
class GoogleQuery:
    """One series of a Cloud Monitoring chart: a time series filter and its aggregation
    (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards#timeseriesfilter)."""

    metric_type: str
    resource_type: str
    labels: tuple[tuple[str, str], ...]  # resource.labels.<name> = value
    aligner: str
    legend: str
    reducer: str | None = None
    group_by: tuple[str, ...] = ()
    period: int = 60
    metric_labels: tuple[tuple[str, str], ...] = ()  # metric.labels.<name> = value

    def filter(self, project: str | None) -> str:
        parts = [f"metric.type = {json.dumps(self.metric_type)}", f"resource.type = {json.dumps(self.resource_type)}"]
        if project:
            parts.append(f"resource.labels.project_id = {json.dumps(project)}")
        parts += [f"resource.labels.{name} = {json.dumps(value)}" for name, value in self.labels]
        parts += [f"metric.labels.{name} = {json.dumps(value)}" for name, value in self.metric_labels]
        return " AND ".join(parts)


@dataclass(frozen=True)
class Signal:
    id: str  # stable: the panel's key in every format and in docs/dashboards.md
    title: str
    step: Step
    shows: str  # what the panel shows and how to read it, one or two sentences
    unit: str  # Grafana's unit id: short, s, percentunit, bytes, reqps, ops, dateTimeAsIso
    kind: str = "timeseries"  # timeseries | stat | table
    prometheus: tuple[Query, ...] = ()
    datadog: tuple[Query, ...] = ()
    google: tuple[GoogleQuery, ...] = ()
    lines: tuple[Line, ...] = ()
    alerts: tuple[str, ...] = ()  # the alert rules and policies about it
    confirmed: bool = True  # False: a metric name W&B's public sources do not show (docs/dashboards.md)
    metrics: tuple[str, ...] = field(default=())  # the Prometheus metric names it reads (for the tests)

    def description(self, command: str) -> str:
        """A panel's description: what it shows, its runbook step and the command to run."""
        alerts_part = f" Alerts: {', '.join(self.alerts)}." if self.alerts else ""
        return f"{self.shows} Runbook {self.step.heading} (docs/runbook.md): `{command}`.{alerts_part}"


def command(settings: AlertSettings, step: Step) -> str:
    """The command a panel names, with this context's --context so it reaches the same deployment."""
    import shlex

    context = f" --context {shlex.quote(settings.context)}" if settings.context else ""
    return f"wbctl{context} {step.command}"


def by_step(signals: list[Signal]) -> list[tuple[Step, list[Signal]]]:
    """The signals grouped by runbook step, in the runbook's order; a step with none is left out."""
    grouped = [(step, [signal for signal in signals if signal.step == step]) for step in STEPS]
    return [(step, mine) for step, mine in grouped if mine]


def step_note(settings: AlertSettings, step: Step, signals: list[Signal]) -> str:
    """A step's note (Markdown) above its panels: the step, its command, what each panel shows."""
    about = "\n".join(f"- **{signal.title}**: {signal.shows}" for signal in signals)
    return f"**Runbook {step.heading}** (docs/runbook.md): `{command(settings, step)}`\n\n{about}"


# --- Prometheus selectors ------------------------------------------------------------------


def _sel(metric: str, matching: dict[str, str] | None = None, **matchers: str) -> str:
    """`metric{context="$context", ...}`: wbctl's gauges carry the auditor's context label.
    `matching`: labels matched by a regular expression."""
    pairs = ['context="$context"', *(f"{label}={json.dumps(value)}" for label, value in matchers.items())]
    pairs += [f"{label}=~{json.dumps(value)}" for label, value in (matching or {}).items()]
    return f"{metric}{{{', '.join(pairs)}}}"


NAMESPACE = 'namespace="$namespace"'


def _ns(metric: str, *more: str) -> str:
    """`metric{namespace="$namespace", ...}`: the deployment's own metrics carry no context."""
    return f"{metric}{{{', '.join([NAMESPACE, *more])}}}"


GORILLA = 'service_name="gorilla"'  # W&B's dashboards select the app so (wandb/operator, telemetry overview)
FILESTREAM_ROUTE = 'http_route=~".*file_stream.*"'


# --- the catalogue ---------------------------------------------------------------------------


def _queue_signals(s: AlertSettings, q: alerts.QueueView) -> list[Signal]:
    label = q.label
    prefix = "queue" if label == "run-updates" else "filestream"
    lines_age = []
    if q.age_threshold is not None:
        lines_age.append(
            Line(
                q.age_threshold,
                "warning",
                f"{format_duration(q.age_threshold)}: half the retention",
                f"{q.alert}OldestMessageAge",
            )
        )
    if q.retention is not None:
        lines_age.append(Line(q.retention, "critical", "the retention: messages dropped"))
    sub = (("subscription_id", q.subscription),) if q.subscription else ()
    pubsub = q.subscription is not None
    google_backlog = (
        (
            GoogleQuery(
                "pubsub.googleapis.com/subscription/num_undelivered_messages",
                "pubsub_subscription",
                sub,
                "ALIGN_MAX",
                "undelivered",
            ),
        )
        if pubsub
        else ()
    )
    google_age = (
        (
            GoogleQuery(
                "pubsub.googleapis.com/subscription/oldest_unacked_message_age",
                "pubsub_subscription",
                sub,
                "ALIGN_MAX",
                "oldest unacked",
            ),
        )
        if pubsub
        else ()
    )
    google_rates = (
        (
            GoogleQuery(
                "pubsub.googleapis.com/subscription/sent_message_count",
                "pubsub_subscription",
                sub,
                "ALIGN_RATE",
                "delivered/s",
            ),
            GoogleQuery(
                "pubsub.googleapis.com/subscription/ack_message_count",
                "pubsub_subscription",
                sub,
                "ALIGN_RATE",
                "acknowledged/s",
            ),
        )
        if pubsub
        else ()
    )
    dd_tag = f"{{subscription_id:{q.subscription}}}" if pubsub else ""
    growing = (f"{q.alert}BacklogGrowing", f"{q.alert}Stalled")
    return [
        Signal(
            f"{prefix}-verdict",
            f"{q.title.capitalize()}: wbctl's verdict",
            BACKLOG,
            f"wbctl's verdict on {q.words} (none, draining, growing, stalled: docs/runbook.md#the-verdict) and "
            "whether data loss is projected; only wbctl judges it, so only Prometheus shows it.",
            "short",
            kind="stat",
            prometheus=(
                Query(f"max by (verdict) ({_sel('wbctl_queue_verdict', queue=label)}) == 1", "{{verdict}}"),
                Query(f"max({_sel('wbctl_queue_data_loss_projected', queue=label)})", "data loss projected"),
            ),
            lines=(Line(1, "critical", "data loss projected", f"{q.alert}DataLossProjected"),),
            alerts=(*growing, f"{q.alert}DataLossProjected"),
            metrics=("wbctl_queue_verdict", "wbctl_queue_data_loss_projected"),
        ),
        Signal(
            f"{prefix}-backlog",
            f"{q.title.capitalize()}: backlog",
            BACKLOG,
            f"Messages waiting in {q.words}, and wbctl's trend of them; over the allowed backlog "
            "(queue-allowed-backlog) while it rises, the queue is growing.",
            "short",
            prometheus=(
                Query(f"max({_sel('wbctl_queue_backlog_messages', queue=label)})", "backlog"),
                Query(f"max({_sel('wbctl_queue_backlog_trend_messages_per_second', queue=label)})", "trend/s"),
            ),
            datadog=(Query(f"max:gcp.pubsub.subscription.num_undelivered_messages{dd_tag}", "undelivered"),)
            if pubsub
            else (),
            google=google_backlog,
            # the verdict's threshold; Cloud Monitoring's policy compares the raw backlog with it
            lines=(
                Line(
                    s.allowed_backlog, "warning", "the allowed backlog", f"{q.alert}BacklogGrowing" if pubsub else None
                ),
            ),
            alerts=growing,
            metrics=("wbctl_queue_backlog_messages", "wbctl_queue_backlog_trend_messages_per_second"),
        ),
        Signal(
            f"{prefix}-oldest-age",
            f"{q.title.capitalize()}: oldest unacked message",
            BACKLOG,
            f"The age of the oldest unacknowledged message of {q.words}; at the retention it is dropped ({q.lost}).",
            "s",
            prometheus=(Query(f"max({_sel('wbctl_queue_oldest_age_seconds', queue=label)})", "oldest age"),),
            datadog=(Query(f"max:gcp.pubsub.subscription.oldest_unacked_message_age{dd_tag}", "oldest unacked"),)
            if pubsub
            else (),
            google=google_age,
            lines=tuple(lines_age),
            alerts=(f"{q.alert}OldestMessageAge",),
            metrics=("wbctl_queue_oldest_age_seconds",),
        ),
        Signal(
            f"{prefix}-rates",
            f"{q.title.capitalize()}: publish and consume",
            BACKLOG,
            f"Messages published to and acknowledged from {q.words} per second: while publishing outruns "
            f"consuming, {q.consumer} is not keeping up.",
            "ops",
            prometheus=(
                Query(f"max({_sel('wbctl_queue_publish_messages_per_second', queue=label)})", "publish/s"),
                Query(f"max({_sel('wbctl_queue_consume_messages_per_second', queue=label)})", "consume/s"),
            ),
            datadog=(
                Query(f"sum:gcp.pubsub.subscription.sent_message_count{dd_tag}.as_rate()", "delivered/s"),
                Query(f"sum:gcp.pubsub.subscription.ack_message_count{dd_tag}.as_rate()", "acknowledged/s"),
            )
            if pubsub
            else (),
            google=google_rates,
            metrics=("wbctl_queue_publish_messages_per_second", "wbctl_queue_consume_messages_per_second"),
        ),
        Signal(
            f"{prefix}-loss-horizon",
            f"{q.title.capitalize()}: data-loss horizon",
            BACKLOG,
            "The retention left once the oldest message's age and the time to drain are spent (below zero: "
            "messages will be dropped), and the time to drain at the current rates.",
            "s",
            prometheus=(
                Query(f"max({_sel('wbctl_queue_retention_headroom_seconds', queue=label)})", "headroom"),
                Query(f"max({_sel('wbctl_queue_drain_eta_seconds', queue=label)})", "time to drain"),
            ),
            lines=(Line(0, "critical", "messages dropped"),),
            alerts=(
                f"{q.alert}DataLossProjected",
                *((f"{q.alert}DrainPastRetention",) if q.retention is not None else ()),
                *((f"{q.alert}DataLoss",) if pubsub else ()),  # Cloud Monitoring's policy of it
            ),
            metrics=("wbctl_queue_retention_headroom_seconds", "wbctl_queue_drain_eta_seconds"),
        ),
    ]


def _bigtable_signals(s: AlertSettings) -> list[Signal]:
    instance = (("instance", s.bigtable_instance),)
    dd = f"{{instance:{s.bigtable_instance}}}"
    return [
        Signal(
            "bigtable-cpu",
            "Bigtable: CPU against its target",
            BIGTABLE,
            f"The CPU load of each cluster of Bigtable instance {s.bigtable_instance} and its autoscaling target; "
            f"over the guide's {alerts.GUIDE_CPU_TARGET:.0%} at the maximum nodes, the autoscaler cannot help.",
            "percentunit",
            prometheus=(
                Query("max by (cluster) (" + _sel("wbctl_bigtable_cpu_ratio") + ")", "{{cluster}} CPU"),
                Query("max by (cluster) (" + _sel("wbctl_bigtable_cpu_target_ratio") + ")", "{{cluster}} target"),
            ),
            datadog=(Query(f"max:gcp.bigtable.cluster.cpu_load{dd} by {{cluster}}", "CPU"),),
            google=(
                GoogleQuery(
                    "bigtable.googleapis.com/cluster/cpu_load",
                    "bigtable_cluster",
                    instance,
                    "ALIGN_MEAN",
                    "CPU",
                    "REDUCE_MAX",
                    ("resource.label.cluster",),
                ),
            ),
            lines=(Line(alerts.GUIDE_CPU_TARGET, "warning", "the guide's CPU target", "WbctlBigtableCpuOverTarget"),),
            alerts=("WbctlBigtableCpuOverTargetAtMaxNodes", "WbctlBigtableCpuOverTarget"),
            metrics=("wbctl_bigtable_cpu_ratio", "wbctl_bigtable_cpu_target_ratio"),
        ),
        Signal(
            "bigtable-nodes",
            "Bigtable: nodes against min and max",
            BIGTABLE,
            "Nodes serving each cluster, with its autoscaling minimum and maximum: at the maximum with CPU "
            "over target, raise it (`wbctl bigtable autoscale`); new nodes help only after up to 20 minutes.",
            "short",
            prometheus=(
                Query("max by (cluster) (" + _sel("wbctl_bigtable_nodes") + ")", "{{cluster}} nodes"),
                Query("max by (cluster) (" + _sel("wbctl_bigtable_min_nodes") + ")", "{{cluster}} min"),
                Query("max by (cluster) (" + _sel("wbctl_bigtable_max_nodes") + ")", "{{cluster}} max"),
            ),
            datadog=(Query(f"max:gcp.bigtable.cluster.node_count{dd} by {{cluster}}", "nodes"),),
            google=(
                GoogleQuery(
                    "bigtable.googleapis.com/cluster/node_count",
                    "bigtable_cluster",
                    instance,
                    "ALIGN_MAX",
                    "nodes",
                    "REDUCE_MAX",
                    ("resource.label.cluster",),
                ),
            ),
            alerts=("WbctlBigtableCpuOverTargetAtMaxNodes",),
            metrics=("wbctl_bigtable_nodes", "wbctl_bigtable_min_nodes", "wbctl_bigtable_max_nodes"),
        ),
        Signal(
            "bigtable-latency",
            "Bigtable: server latency p95",
            BIGTABLE,
            "The 95th percentile of Bigtable's server-side latency: it rises with CPU past the target, before "
            "the queue does. Google's metric only: no exporter of the chart sends it to Prometheus.",
            "ms",
            datadog=(Query(f"max:gcp.bigtable.server.latencies.p95{dd}", "p95"),),
            google=(
                GoogleQuery(
                    "bigtable.googleapis.com/server/latencies",
                    "bigtable_table",
                    instance,
                    "ALIGN_DELTA",
                    "p95",
                    "REDUCE_PERCENTILE_95",
                ),
            ),
            confirmed=False,
        ),
    ]


def _replicas_signals(s: AlertSettings) -> list[Signal]:
    updater, filestream = f"{PREFIX}flat-run-fields-updater", f"{PREFIX}filestream"
    both = f"{updater}|{filestream}"
    return [
        Signal(
            "service-replicas",
            "flat-run-fields-updater and filestream: replicas against their maxima",
            UPDATER,
            "Ready replicas of the two consumers of the queues and their autoscalers' maxima: at the maximum "
            "while its queue grows, raise it (`wbctl services autoscale`). The updater's from wbctl's "
            "auditor; both from kube-state-metrics where it runs.",
            "short",
            prometheus=(
                Query(f"max({_sel('wbctl_updater_replicas')})", "updater (wbctl)"),
                Query(f"max({_sel('wbctl_updater_max_replicas')})", "updater max (wbctl)"),
                Query(
                    f"max by (deployment) ({_ns('kube_deployment_status_replicas_ready', f'deployment=~{json.dumps(both)}')})",
                    "{{deployment}}",
                ),
                Query(
                    "max by (horizontalpodautoscaler) ("
                    + _ns(
                        "kube_horizontalpodautoscaler_spec_max_replicas", f"horizontalpodautoscaler=~{json.dumps(both)}"
                    )
                    + ")",
                    "{{horizontalpodautoscaler}} max",
                ),
            ),
            datadog=(
                Query(
                    f"max:kubernetes_state.deployment.replicas_ready{{$namespace,kube_deployment:{updater}}}",
                    "updater",
                ),
                Query(
                    f"max:kubernetes_state.deployment.replicas_ready{{$namespace,kube_deployment:{filestream}}}",
                    "filestream",
                ),
                Query(
                    f"max:kubernetes_state.hpa.max_replicas{{$namespace,horizontalpodautoscaler:{updater}}}",
                    "updater max",
                ),
                Query(
                    f"max:kubernetes_state.hpa.max_replicas{{$namespace,horizontalpodautoscaler:{filestream}}}",
                    "filestream max",
                ),
            ),
            google=(
                GoogleQuery(
                    "prometheus.googleapis.com/kube_deployment_status_replicas_ready/gauge",
                    "prometheus_target",
                    (("namespace", s.namespace),),
                    "ALIGN_MAX",
                    "${metric.label.deployment}",
                    "REDUCE_MAX",
                    ("metric.label.deployment",),
                ),
                GoogleQuery(
                    "prometheus.googleapis.com/kube_horizontalpodautoscaler_spec_max_replicas/gauge",
                    "prometheus_target",
                    (("namespace", s.namespace),),
                    "ALIGN_MAX",
                    "${metric.label.horizontalpodautoscaler} max",
                    "REDUCE_MAX",
                    ("metric.label.horizontalpodautoscaler",),
                ),
            ),
            alerts=("WbctlUpdaterAtMaxReplicasWhileGrowing",) if s.queue_source != "none" else (),
            metrics=(
                "wbctl_updater_replicas",
                "wbctl_updater_max_replicas",
                "kube_deployment_status_replicas_ready",
                "kube_horizontalpodautoscaler_spec_max_replicas",
            ),
        ),
        Signal(
            "pod-restarts",
            "Pods: restarts and OOM kills",
            PODS,
            "Container restarts in the last hour by pod, the containers whose last end was an OOM kill, and "
            "wbctl's failing pod-health findings: unhealthy pods come before any scaling (runbook step 3).",
            "short",
            prometheus=(
                Query(
                    "sum by (pod) (increase("
                    + _ns("kube_pod_container_status_restarts_total", 'container!=""')
                    + "[1h]))",
                    "{{pod}} restarts/1h",
                ),
                Query(
                    "sum by (pod) ("
                    + _ns("kube_pod_container_status_last_terminated_reason", 'reason="OOMKilled"')
                    + ")",
                    "{{pod}} OOMKilled",
                ),
                Query(
                    f"count({_sel('wbctl_check_status', {'check': alerts.HEALTH_CHECKS}, status='fail')} == 1)",
                    "unhealthy services (wbctl)",
                ),
            ),
            datadog=(
                Query("sum:kubernetes.containers.restarts{$namespace} by {pod_name}", "restarts"),
                Query(
                    "sum:kubernetes.containers.last_state.terminated{$namespace,reason:oomkilled} by {pod_name}",
                    "OOMKilled",
                ),
            ),
            google=(
                GoogleQuery(
                    "kubernetes.io/container/restart_count",
                    "k8s_container",
                    (("namespace_name", s.namespace),),
                    "ALIGN_DELTA",
                    "${resource.label.pod_name}",
                    "REDUCE_SUM",
                    ("resource.label.pod_name",),
                    period=3600,
                ),
            ),
            lines=(Line(1, "warning", "a restart"),),
            alerts=("WbctlServicePodsUnhealthy",),
            metrics=(
                "kube_pod_container_status_restarts_total",
                "kube_pod_container_status_last_terminated_reason",
                "wbctl_check_status",
            ),
        ),
    ]


def _store_signals(s: AlertSettings) -> list[Signal]:
    return [
        Signal(
            "redis-memory",
            "Redis: memory and evictions",
            STORES,
            "Redis's used memory against its maxmemory, and keys evicted per second: evictions mean the cache "
            "(and the discard keys of `wbctl run discard`) is squeezed; `wbctl redis tune` sets the guide's policy.",
            "bytes",
            prometheus=(
                Query("sum(redis_memory_used_bytes)", "used"),
                Query("max(redis_memory_max_bytes) > 0", "maxmemory"),
                Query("sum(rate(redis_evicted_keys_total[$__rate_interval]))", "evicted/s"),
            ),
            datadog=(
                Query("max:gcp.redis.stats.memory.usage{*}", "used"),
                Query("max:gcp.redis.stats.memory.maxmemory{*}", "maxmemory"),
                Query("sum:gcp.redis.stats.evicted_keys{*}.as_rate()", "evicted/s"),
            ),
            google=(
                GoogleQuery("redis.googleapis.com/stats/memory/usage", "redis_instance", (), "ALIGN_MAX", "used"),
                GoogleQuery(
                    "redis.googleapis.com/stats/memory/maxmemory", "redis_instance", (), "ALIGN_MAX", "maxmemory"
                ),
                GoogleQuery("redis.googleapis.com/stats/evicted_keys", "redis_instance", (), "ALIGN_RATE", "evicted/s"),
            ),
            metrics=("redis_memory_used_bytes", "redis_memory_max_bytes", "redis_evicted_keys_total"),
        ),
        Signal(
            "mysql-connections",
            "MySQL: connections and slow queries",
            STORES,
            "Connected threads and slow queries per second (over long_query_time, which `wbctl mysql tune` sets "
            "from the guide): many more slow queries than usual, and MySQL is the bottleneck.",
            "short",
            prometheus=(
                Query("max(mysql_global_status_threads_connected)", "connections"),
                Query("sum(rate(mysql_global_status_slow_queries[$__rate_interval]))", "slow queries/s"),
            ),
            datadog=(
                Query("max:gcp.cloudsql.database.network.connections{*}", "connections"),
                Query("sum:gcp.cloudsql.database.mysql.queries{*}.as_rate()", "queries/s"),
            ),
            google=(
                GoogleQuery(
                    "cloudsql.googleapis.com/database/network/connections",
                    "cloudsql_database",
                    (),
                    "ALIGN_MAX",
                    "connections",
                ),
                GoogleQuery(
                    "cloudsql.googleapis.com/database/mysql/queries",
                    "cloudsql_database",
                    (),
                    "ALIGN_RATE",
                    "queries/s",
                ),
            ),
            metrics=("mysql_global_status_threads_connected", "mysql_global_status_slow_queries"),
        ),
    ]


def _request_signals(s: AlertSettings) -> list[Signal]:
    count = "http_server_request_duration_seconds_count"
    bucket = "http_server_request_duration_seconds_bucket"
    signals = []
    for key, title, route in (("api", "API", ""), ("filestream", "filestream", FILESTREAM_ROUTE)):
        matchers = ", ".join(m for m in (GORILLA, route) if m)
        where = "" if not route else " (W&B's dashboards note the route label is empty on older servers)"
        signals.append(
            Signal(
                f"{key}-requests",
                f"{title} requests: rate, errors, p95",
                REQUESTS,
                f"Requests per second to the {title}, the 5xx among them, and the 95th percentile of their "
                f"duration, from the app's OpenTelemetry metrics{where}.",
                "reqps",
                prometheus=(
                    Query(f"sum(rate({count}{{{matchers}}}[$__rate_interval]))", "requests/s"),
                    Query(
                        f'sum(rate({count}{{{matchers}, http_response_status_code=~"5.."}}[$__rate_interval])) or vector(0)',
                        "5xx/s",
                    ),
                    Query(
                        f"histogram_quantile(0.95, sum by (le) (rate({bucket}{{{matchers}}}[$__rate_interval])))",
                        "p95 (s)",
                    ),
                ),
                datadog=(
                    Query(
                        "sum:gcp.loadbalancing.https.request_count{*}.as_rate()"
                        if key == "api"
                        else "sum:trace.http.request.hits{service:filestream}.as_rate()",
                        "requests/s",
                    ),
                ),
                google=(
                    (
                        GoogleQuery(
                            "loadbalancing.googleapis.com/https/request_count",
                            "https_lb_rule",
                            (),
                            "ALIGN_RATE",
                            "${metric.label.response_code_class}",
                            "REDUCE_SUM",
                            ("metric.label.response_code_class",),
                        ),
                    )
                    if key == "api"
                    else ()
                ),
                confirmed=key == "api",
                metrics=(count, bucket),
            )
        )
    return signals


def _auditor_signals(s: AlertSettings) -> list[Signal]:
    silent = alerts.SILENT_RUNS * s.auditor_interval
    return [
        Signal(
            "auditor-freshness",
            "wbctl's auditor: time since its last check",
            AUDITOR,
            "How long ago the auditor (`wbctl deploy auditor`'s CronJob) last pushed `wbctl check`: past three "
            "of its runs, every panel above that reads wbctl's gauges shows stale numbers.",
            "s",
            kind="stat",
            prometheus=(Query(f"time() - max({_sel('wbctl_check_last_run_timestamp_seconds')})", "since last check"),),
            lines=(Line(silent, "warning", "three runs missed", "WbctlAuditorSilent"),),
            alerts=("WbctlAuditorSilent", "WbctlAuditorAbsent"),
            metrics=("wbctl_check_last_run_timestamp_seconds",),
        ),
        Signal(
            "check-findings",
            "wbctl check: failing and unknown findings",
            AUDITOR,
            "The findings of `wbctl check` that fail or are unknown now, by group: drift from the scaling guide "
            "that the auditor has seen.",
            "short",
            kind="table",
            prometheus=(
                Query(
                    f"max by (group, check, status) ({_sel('wbctl_check_status', {'status': 'fail|unknown'})}) == 1",
                    "{{group}} {{check}} {{status}}",
                ),
            ),
            alerts=("WbctlCheckFailing", "WbctlCheckUnknown"),
            metrics=("wbctl_check_status",),
        ),
    ]


def catalogue(s: AlertSettings) -> tuple[Signal, ...]:
    """Every signal for this context, in the runbook's order."""
    found: list[Signal] = []
    if s.queue_source != "none":
        found += _queue_signals(s, alerts.run_updates_queue(s))
    filestream = alerts.filestream_queue(s)
    if filestream is not None:
        found += _queue_signals(s, filestream)
    found += _bigtable_signals(s) + _replicas_signals(s) + _store_signals(s) + _request_signals(s)
    found += _auditor_signals(s)
    return tuple(found)


# the wbctl changes drawn on every graph: the auditor exports when the audit log last recorded a
# change of each kind (wbctl.core.measurements), so a graph shows when a limit was raised
CHANGES_METRIC = "wbctl_audit_last_change_timestamp_seconds"
CHANGES_QUERY = f"max by (kind) ({_sel(CHANGES_METRIC)}) * 1000"
