"""The `observability` group of `wbctl check`: can an on-call see this deployment at all?

Five findings, each from what the cluster runs (docs/sources.md, "Observability"):

- `observability.tracing`: which services send traces. The operator-wandb chart renders
  `GORILLA_TRACER=otlp+<proto>://<host>:<port>?trace_ratio=<r>` into a service's env only
  when that service's `traceRatio` is set and not 0 (helm-charts charts/operator-wandb
  `templates/_env.tpl` `wandb.observabilityEnvs`, `templates/_helpers.tpl`
  `wandb.otelTracesEndpoint`: `global.otel.traces.{host,port,proto}`, the host defaulting to
  the bundled collector `<release>-otel-daemonset`); no default sets one, so tracing is off
  until someone turns it on. Judged from the CR's values and from the Deployments' env: the CR
  is what the operator keeps, the env is what runs.
- `observability.trace-export`: where the bundled collector (charts/otel, ConfigMap
  `<release>-otel-daemonset`, key `config`) sends what it receives. The chart's own pipelines
  end in its `debug` exporter for traces and logs: the collector's log, i.e. nowhere.
- `observability.app-metrics`: whether anything scrapes wandb-app's metrics port 8181 (the
  `prometheus` port of the chart's app Service). The chart's Prometheus (charts/prometheus)
  keeps only pods and Services annotated `prometheus.io/scrape: "true"` (its
  `kubernetes-pods` and `kubernetes-service-endpoints` jobs), and the chart annotates none of
  the app's; so the evidence read is the app pods' annotations, and ServiceMonitors and
  PodMonitors (Prometheus Operator, monitoring.coreos.com) and PodMonitorings (Google Cloud
  Managed Service for Prometheus, monitoring.googleapis.com) that select the app's pods on 8181.
- `observability.auditor`: wbctl's own auditor (`wbctl deploy auditor`: the CronJob
  `wbctl-auditor`) is there and its last success is recent (within the alert rules' silence:
  three runs at alerts-auditor-interval, `WbctlAuditorSilent`).
- `observability.telemetry`: on the v2 operator, its telemetry stack's mode
  (`telemetry.mode: off|forward|full`, an operator Helm value reported on the CR as
  `status.telemetryStatus.{mode,state,ready}`: wandb/operator docs/monitoring.md,
  api/v2/weightsandbiases_types.go `TelemetryInfraStatus`).

A read that failed makes its finding `unknown` with why; nothing is guessed.
"""

from __future__ import annotations

import json
import math
import shlex
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wbctl.core import deploy
from wbctl.core.durations import format_duration
from wbctl.core.kube import Generation, KubeObservation, WandbResource, Workload, lookup
from wbctl.core.model import Finding, Observed, Report, Status

TRACING, TRACE_EXPORT, APP_METRICS, AUDITOR, TELEMETRY = (
    "observability.tracing",
    "observability.trace-export",
    "observability.app-metrics",
    "observability.auditor",
    "observability.telemetry",
)
CHECK_IDS = (TRACING, TRACE_EXPORT, APP_METRICS, AUDITOR, TELEMETRY)

TRACER_ENV = "GORILLA_TRACER"
#: the chart's services whose env includes `wandb.observabilityEnvs` (values.yaml, 0.43.8)
TRACED_SERVICES = (
    "api",
    "app",
    "executor",
    "filemeta",
    "filestream",
    "flat-run-fields-updater",
    "glue",
    "history-reader",
    "history-updater",
    "metric-observer",
    "parquet",
    "parquet-metadata-cache",
)
SUGGESTED_RATIO = 0.1  # one request in ten traced: wbctl's suggestion, not a chart default (it has none)
COLLECTOR_SUFFIXES = ("-otel-daemonset", "-otel-deployment")  # the otel chart's two aliases of its agent
COLLECTOR_KEY = "config"  # the ConfigMap's key (charts/otel/charts/agent/templates/configmap.yaml)
#: exporters that send nowhere: the collector's own log (debug, and logging before it), or nothing
NOWHERE_EXPORTERS = ("debug", "logging", "nop")
APP_SERVICE = "app"  # wandb-app's app.kubernetes.io/name
METRICS_PORT, METRICS_PORT_NAME = 8181, "prometheus"  # charts/app: the Service's `prometheus` port
SCRAPE_ANNOTATIONS = {"prometheus.io/scrape": "true", "prometheus.io/port": str(METRICS_PORT)}
AUDITOR_NAME = deploy.NAME  # the CronJob `wbctl deploy auditor` creates
AUDITOR_SELECTOR = f"app.kubernetes.io/name={AUDITOR_NAME}"  # its Jobs' and Pods' label (core.deploy._labels)
TELEMETRY_MODES = ("off", "forward", "full")


# --- what is read ---------------------------------------------------------------------------


@dataclass(frozen=True)
class LabelRequirement:
    """One `matchExpressions` entry of a label selector."""

    key: str
    operator: str  # In | NotIn | Exists | DoesNotExist
    values: tuple[str, ...] = ()

    def matches(self, labels: dict[str, str]) -> bool:
        present = self.key in labels
        if self.operator == "In":
            return present and labels[self.key] in self.values
        if self.operator == "NotIn":
            return not present or labels[self.key] not in self.values
        if self.operator == "Exists":
            return present
        if self.operator == "DoesNotExist":
            return not present
        return False  # an operator the API server would have refused: selects nothing


@dataclass(frozen=True)
class Monitor:
    """A scrape object that selects pods (PodMonitor, PodMonitoring) or Services labelled like
    them (ServiceMonitor), and the ports of its endpoints, as written (a name or a number)."""

    kind: str  # ServiceMonitor | PodMonitor | PodMonitoring
    name: str
    match_labels: dict[str, str]
    match_expressions: tuple[LabelRequirement, ...] = ()
    ports: tuple[str, ...] = ()

    def selects(self, labels: dict[str, str]) -> bool:
        """An empty selector selects everything in the namespace, as the Prometheus Operator does."""
        return all(labels.get(k) == v for k, v in self.match_labels.items()) and all(
            requirement.matches(labels) for requirement in self.match_expressions
        )

    def scrapes_metrics_port(self) -> bool:
        return any(port in (METRICS_PORT_NAME, str(METRICS_PORT)) for port in self.ports)


@dataclass(frozen=True)
class TelemetryStatus:
    """The v2 operator's `status.telemetryStatus` (mode, state, ready; gorillaTracer: the tracer
    URL it hands the applications)."""

    mode: str
    state: str
    ready: bool | None
    gorilla_tracer: str = ""


@dataclass(frozen=True)
class Monitors:
    """The scrape objects read, and what could not be read (a kind whose CRD is not installed is
    no evidence either way and is named in `absent`)."""

    found: tuple[Monitor, ...] = ()
    absent: tuple[str, ...] = ()  # kinds the cluster does not serve (no CRD): nothing of them can scrape
    unreadable: tuple[str, ...] = ()  # "<kind>: <why>": kinds that were refused or failed


@dataclass(frozen=True)
class ObservabilityReads:
    """What the group reads beyond the Kubernetes observation, each known or unknown with why."""

    collectors: Observed[dict[str, str]]  # ConfigMap name -> its `config` text, for those that exist
    monitors: Monitors
    auditor: Observed[tuple[Workload, ...]]  # the CronJob wbctl-auditor: () when there is none
    auditor_namespace: str


@dataclass(frozen=True)
class Tracer:
    """A GORILLA_TRACER value taken apart (`otlp+grpc://host:4317?trace_ratio=0.1`)."""

    text: str
    scheme: str
    host: str
    port: str
    ratio: float | None  # None: absent or not a number (the tracer samples nothing)

    @property
    def traces(self) -> bool:
        return self.ratio is not None and self.ratio > 0

    @property
    def destination(self) -> str:
        return f"{self.host}:{self.port}" if self.port else self.host


@dataclass(frozen=True)
class Ratio:
    """A service's `traceRatio` as the chart reads it: traced when a number other than 0;
    `invalid` when it is something the chart's `ne .Values.traceRatio 0.0` cannot compare."""

    value: float | None
    invalid: str = ""

    @property
    def traces(self) -> bool:
        return self.value is not None and self.value != 0


def parse_ratio(value: Any) -> Ratio:
    """`traceRatio` from the CR's values: absent or 0 is off; a number is on; anything else
    (a string, a bool, a list) is what the chart's template cannot compare with 0.0."""
    if value is None:
        return Ratio(None)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return Ratio(None, f"{json.dumps(value, default=str)} is not a number")
    number = float(value)
    if not math.isfinite(number):
        return Ratio(None, f"{value!r} is not a finite number")
    return Ratio(number if number != 0 else None)


def parse_tracer(text: str) -> Tracer:
    """GORILLA_TRACER as the chart writes it; anything else comes back with what could be read
    (no ratio: it traces nothing). Never raises."""
    try:
        parts = urlsplit(text.strip())
        host, port = parts.hostname or "", str(parts.port or "")
    except ValueError:
        return Tracer(text, "", "", "", None)
    ratio: float | None = None
    values = parse_qs(parts.query).get("trace_ratio")
    if values:
        try:
            number = float(values[-1])
        except ValueError:
            number = math.nan
        ratio = number if math.isfinite(number) else None
    return Tracer(text, parts.scheme, host, port, ratio)


def chart_tracer(values: dict[str, Any], instance: str, ratio: Any) -> str:
    """GORILLA_TRACER as the chart renders it for a service with this traceRatio
    (templates/_helpers.tpl `wandb.otelTracesEndpoint`: `global.otel.traces.{proto,host,port}`,
    values.yaml's grpc and 4317, the host defaulting to `<release>-otel-daemonset`). The sandbox
    renders its Deployments with it, so what it serves is what the chart would."""
    traces = lookup(values, ("global", "otel", "traces"))
    traces = traces if isinstance(traces, dict) else {}
    host = traces.get("host") or f"{instance}{COLLECTOR_SUFFIXES[0]}"
    proto, port = traces.get("proto") or "grpc", traces.get("port") or 4317
    return f"otlp+{proto}://{host}:{port}?trace_ratio={ratio}"


# --- the findings ---------------------------------------------------------------------------


def _patch(kubectl: str, instance: str, values: dict[str, Any]) -> str:
    """The merge patch of the CR's spec.values that the operator keeps, as a pasteable command."""
    body = json.dumps({"spec": {"values": values}}, separators=(",", ":"))
    return f"{kubectl} patch weightsandbiases {shlex.quote(instance)} --type merge -p {shlex.quote(body)}"


def _service_workloads(observation: KubeObservation) -> dict[str, Workload]:
    """The instance's Deployments by app.kubernetes.io/name (the chart's values key)."""
    return {w.label_name: w for w in observation.workloads if w.kind == "Deployment" and w.label_name}


def running_tracers(observation: KubeObservation) -> dict[str, Tracer]:
    """Each Deployment's GORILLA_TRACER (the first container that has one), by service."""
    found: dict[str, Tracer] = {}
    for service, workload in sorted(_service_workloads(observation).items()):
        for container in workload.containers:
            var = container.env_value(TRACER_ENV)
            if var is not None and var.value is not None:
                found[service] = parse_tracer(var.value)
                break
    return found


def _ratios(values: dict[str, Any]) -> dict[str, Ratio]:
    return {service: parse_ratio(lookup(values, (service, "traceRatio"))) for service in TRACED_SERVICES}


def _describe(tracers: dict[str, Tracer]) -> str:
    return ", ".join(f"{name} ({tracer.ratio:g} to {tracer.destination})" for name, tracer in tracers.items())


V2_TELEMETRY_FIX = (
    "turn the v2 operator's telemetry on: telemetry.mode: forward (with telemetry.forwarding.otlp.endpoint) or "
    "full in the operator's Helm values (wandb/operator deploy/operator/profiles/telemetry-*.yaml), then "
    "upgrade its release; the operator wires GORILLA_TRACER into the applications"
)


def tracing_finding(observation: KubeObservation, kubectl: str) -> Finding:
    target = observation.target
    running = {name: tracer for name, tracer in running_tracers(observation).items() if tracer.traces}
    expected = "traceRatio set on the services (GORILLA_TRACER in their env)"
    if observation.generation is Generation.V2:
        if running:
            return Finding(
                TRACING, Status.OK, target, sorted(running), "GORILLA_TRACER", f"tracing: {_describe(running)}"
            )
        return Finding(
            TRACING,
            Status.FAIL,
            target,
            [],
            "GORILLA_TRACER",
            "tracing off: no application's Deployment has GORILLA_TRACER with a trace_ratio above 0",
            V2_TELEMETRY_FIX,
        )
    if observation.cr is None:
        return Finding(
            TRACING, Status.UNKNOWN, target, None, expected, "no WeightsAndBiases resource: its traceRatio unknown"
        )
    installed = _service_workloads(observation)
    ratios = {name: ratio for name, ratio in _ratios(observation.cr.values).items() if name in installed}
    invalid = {name: ratio.invalid for name, ratio in ratios.items() if ratio.invalid}
    configured = sorted(name for name, ratio in ratios.items() if ratio.traces)
    suggest = {name: {"traceRatio": SUGGESTED_RATIO} for name in sorted(installed) if name in TRACED_SERVICES}
    remedy = _patch(kubectl, observation.cr.name, suggest) if suggest else ""
    if invalid:
        named = "; ".join(f"{name}.traceRatio {why}" for name, why in sorted(invalid.items()))
        fix = _patch(kubectl, observation.cr.name, {name: {"traceRatio": SUGGESTED_RATIO} for name in sorted(invalid)})
        return Finding(
            TRACING,
            Status.FAIL,
            target,
            {name: why for name, why in sorted(invalid.items())},
            "a number",
            f"{named}: the chart compares it with 0.0 (templates/_env.tpl) and cannot render it",
            fix,
        )
    if not configured and not running:
        return Finding(
            TRACING,
            Status.FAIL,
            target,
            [],
            expected,
            "tracing off: no service sets traceRatio in the WeightsAndBiases resource and no Deployment has "
            f"{TRACER_ENV} (the chart sets none by default)",
            remedy,
        )
    pending = [name for name in configured if name not in running]
    if pending:
        return Finding(
            TRACING,
            Status.WARN,
            target,
            sorted(running),
            configured,
            f"traceRatio is set for {', '.join(pending)} but its Deployment has no {TRACER_ENV} yet "
            "(the operator has not rendered it: see its logs)",
        )
    by_hand = sorted(name for name in running if name not in configured)
    if by_hand:
        fix = _patch(
            kubectl,
            observation.cr.name,
            {name: {"traceRatio": running[name].ratio} for name in by_hand},
        )
        return Finding(
            TRACING,
            Status.WARN,
            target,
            sorted(running),
            configured,
            f"{', '.join(by_hand)} trace{'s' if len(by_hand) == 1 else ''} ({TRACER_ENV} in the env) without "
            "traceRatio in the WeightsAndBiases resource: the operator's next render removes it",
            fix,
        )
    not_traced = sorted(name for name in installed if name in TRACED_SERVICES and name not in running)
    rest = f"; not traced: {', '.join(not_traced)}" if not_traced else ""
    return Finding(TRACING, Status.OK, target, sorted(running), expected, f"tracing: {_describe(running)}{rest}")


@dataclass(frozen=True)
class Pipelines:
    """The collector config's pipelines of one signal: their exporters, and those that send somewhere."""

    exporters: dict[str, tuple[str, ...]] = field(default_factory=dict)  # pipeline -> exporters
    error: str = ""  # the config could not be read as a collector's

    @property
    def sending(self) -> dict[str, tuple[str, ...]]:
        return {
            name: tuple(e for e in exporters if not nowhere(e))
            for name, exporters in self.exporters.items()
            if any(not nowhere(e) for e in exporters)
        }


def nowhere(exporter: str) -> bool:
    """`debug`, `debug/detailed`, `logging`, `nop`: an exporter that sends nothing anywhere."""
    return exporter.split("/", 1)[0] in NOWHERE_EXPORTERS


def pipelines(config: str, signal: str = "traces") -> Pipelines:
    """The `service.pipelines` of a collector config (YAML) for one signal (`traces`,
    `traces/<name>`). Never raises: what is not a collector config comes back as `error`."""
    import yaml  # pyyaml: a dependency (the sandbox's chart fixtures); imported only here

    try:
        document = yaml.safe_load(config)
    except yaml.YAMLError as exc:
        return Pipelines(error=f"not YAML ({str(exc).splitlines()[0] if str(exc) else type(exc).__name__})")
    found = lookup(document, ("service", "pipelines")) if isinstance(document, dict) else None
    if not isinstance(found, dict):
        return Pipelines(error="no service.pipelines")
    result: dict[str, tuple[str, ...]] = {}
    for name, pipeline in found.items():
        if str(name).split("/", 1)[0] != signal:
            continue
        exporters = pipeline.get("exporters") if isinstance(pipeline, dict) else None
        result[str(name)] = tuple(str(e) for e in exporters) if isinstance(exporters, list) else ()
    return Pipelines(result)


def _collector_host(host: str, instance: str) -> str | None:
    """The bundled collector's ConfigMap a tracer host names (`wandb-otel-daemonset`, with or
    without `.<namespace>.svc...`), or None for a host outside the chart."""
    short = host.split(".", 1)[0]
    return short if short in (f"{instance}{suffix}" for suffix in COLLECTOR_SUFFIXES) else None


#: the exporter the remedy adds: Cloud Trace, in the collector-contrib image the chart runs (0.97.0); on
#: GKE it finds its project on the metadata server and needs roles/cloudtrace.agent for its identity
EXPORTER = "googlecloud"
EXPORT_VALUES: dict[str, Any] = {
    "otel": {
        "daemonset": {
            "config": {"exporters": {EXPORTER: {}}, "service": {"pipelines": {"traces": {"exporters": [EXPORTER]}}}}
        }
    }
}


def export_fix(kubectl: str, instance: str) -> str:
    """The CR patch that gives the bundled collector's traces pipeline a real exporter."""
    return (
        _patch(kubectl, instance, EXPORT_VALUES)
        + " (Cloud Trace: the collector's service account needs roles/cloudtrace.agent; another backend: "
        "its exporter in spec.values.otel.daemonset.config instead)"
    )


def trace_export_finding(observation: KubeObservation, reads: ObservabilityReads, kubectl: str) -> Finding:
    target = observation.target
    expected = "a traces pipeline with an exporter other than debug"
    if observation.generation is Generation.V2:
        return Finding(
            TRACE_EXPORT,
            Status.OK,
            target,
            None,
            "absent from v2",
            "not part of this generation: the v2 operator runs no chart collector (charts/otel); its telemetry "
            "gateway exports (observability.telemetry)",
        )
    instance = observation.instance
    fix = export_fix(kubectl, observation.cr.name) if observation.cr is not None else ""
    tracers = {name: t for name, t in running_tracers(observation).items() if t.traces}
    outside = sorted({t.destination for t in tracers.values() if _collector_host(t.host, instance) is None})
    if outside:
        return Finding(
            TRACE_EXPORT,
            Status.UNKNOWN,
            target,
            outside,
            expected,
            f"traces go to {', '.join(outside)}: a collector outside the chart, whose pipelines wbctl does not read",
        )
    if not reads.collectors.known:
        return Finding(TRACE_EXPORT, Status.UNKNOWN, target, None, expected, reads.collectors.reason)
    configs = reads.collectors.value or {}
    named = sorted({h for t in tracers.values() if (h := _collector_host(t.host, instance))})
    wanted = named or [f"{instance}{COLLECTOR_SUFFIXES[0]}"]  # the chart's default host
    missing = [name for name in wanted if name not in configs]
    if missing:
        if tracers:
            return Finding(
                TRACE_EXPORT,
                Status.FAIL,
                target,
                None,
                expected,
                f"the services send traces to {', '.join(missing)}, but no ConfigMap {', '.join(missing)} exists "
                "(the bundled collector is not installed: otel.install)",
                _patch(kubectl, observation.cr.name, {"otel": {"install": True, "daemonset": {"install": True}}})
                + f"; then {fix}"
                if observation.cr is not None
                else "",
            )
        return Finding(
            TRACE_EXPORT,
            Status.WARN,
            target,
            None,
            expected,
            f"no bundled collector (no ConfigMap {missing[0]}) and no service traces: traces have nowhere to go",
        )
    findings: list[str] = []
    sending: dict[str, dict[str, tuple[str, ...]]] = {}
    for name in wanted:
        found = pipelines(configs[name])
        if found.error:
            return Finding(
                TRACE_EXPORT, Status.UNKNOWN, target, None, expected, f"ConfigMap {name} key config: {found.error}"
            )
        if found.sending:
            sending[name] = found.sending
        else:
            ends = sorted({e for exporters in found.exporters.values() for e in exporters}) or ["no exporter"]
            pipes = ", ".join(sorted(found.exporters)) or "no traces pipeline"
            findings.append(f"{name}: {pipes} end{'s' if len(found.exporters) == 1 else ''} in {', '.join(ends)}")
    if sending and not findings:
        described = "; ".join(
            f"{name}: " + ", ".join(f"{p} -> {'/'.join(e)}" for p, e in sorted(pipes.items()))
            for name, pipes in sorted(sending.items())
        )
        return Finding(
            TRACE_EXPORT,
            Status.OK,
            target,
            {name: {p: list(e) for p, e in pipes.items()} for name, pipes in sending.items()},
            expected,
            f"traces exported: {described}",
        )
    where = "; ".join(findings)
    if tracers:
        return Finding(
            TRACE_EXPORT,
            Status.FAIL,
            target,
            where,
            expected,
            f"traces are received and dropped: {where} (the chart's default: the collector's own log)",
            fix,
        )
    return Finding(
        TRACE_EXPORT,
        Status.WARN,
        target,
        where,
        expected,
        f"no service traces, and the collector would drop what it gets: {where}",
        fix,
    )


def _app_pods(observation: KubeObservation) -> tuple[Workload | None, list[dict[str, str]], list[dict[str, str]]]:
    """wandb-app's Deployment, its pods' labels and their annotations."""
    workload = _service_workloads(observation).get(APP_SERVICE)
    if workload is None:
        return None, [], []
    pods = [
        pod
        for pod in observation.pods
        if not pod.job_pod and workload.selector and all(pod.labels.get(k) == v for k, v in workload.selector.items())
    ]
    return workload, [pod.labels for pod in pods], [pod.annotations for pod in pods]


def annotated_for_scrape(annotations: dict[str, str]) -> bool:
    """`prometheus.io/scrape: "true"`, and the port 8181 or none (the pod role then targets every
    declared container port, the app's 8181 among them)."""
    port = annotations.get("prometheus.io/port")
    return annotations.get("prometheus.io/scrape") == "true" and port in (None, str(METRICS_PORT))


def app_metrics_finding(observation: KubeObservation, reads: ObservabilityReads, kubectl: str) -> Finding:
    target = observation.target
    expected = f"something scrapes wandb-app's port {METRICS_PORT}"
    if observation.generation is Generation.V2:
        return Finding(
            APP_METRICS,
            Status.OK,
            target,
            None,
            "absent from v2",
            f"not part of this generation: the v2 server manifest runs no wandb-app (port {METRICS_PORT}); the "
            "operator's scrapes come with its telemetry stack (observability.telemetry)",
        )
    workload, labels, annotations = _app_pods(observation)
    if workload is None:
        return Finding(
            APP_METRICS,
            Status.OK,
            target,
            None,
            expected,
            f"no wandb-app Deployment in namespace {observation.namespace}: no port {METRICS_PORT} to scrape",
        )
    evidence: list[str] = []
    annotated = sum(1 for a in annotations if annotated_for_scrape(a))
    if labels and annotated == len(labels):
        evidence.append(f"its pods are annotated prometheus.io/scrape (the chart's Prometheus keeps them: {annotated})")
    selector_labels = labels or [workload.selector]
    for monitor in reads.monitors.found:
        if monitor.scrapes_metrics_port() and any(monitor.selects(pod_labels) for pod_labels in selector_labels):
            evidence.append(f"{monitor.kind} {monitor.name}")
    if evidence:
        return Finding(
            APP_METRICS, Status.OK, target, evidence, expected, f"port {METRICS_PORT} scraped: " + "; ".join(evidence)
        )
    if reads.monitors.unreadable:
        return Finding(
            APP_METRICS,
            Status.UNKNOWN,
            target,
            None,
            expected,
            "no annotation or monitor found, and not all could be read: " + "; ".join(reads.monitors.unreadable),
        )
    cr = observation.cr
    fix = (
        _patch(kubectl, cr.name, {APP_SERVICE: {"podAnnotations": dict(SCRAPE_ANNOTATIONS)}})
        + " (the chart's Prometheus then scrapes it: its kubernetes-pods job)"
        if cr is not None
        else ""
    )
    partly = f" ({annotated}/{len(labels)} pods annotated: not rolled out yet)" if annotated else ""
    absent = f"; not installed here: {', '.join(reads.monitors.absent)}" if reads.monitors.absent else ""
    return Finding(
        APP_METRICS,
        Status.FAIL,
        target,
        [],
        expected,
        f"nothing scrapes port {METRICS_PORT}: no prometheus.io/scrape annotation on the app pods{partly}, no "
        f"ServiceMonitor, PodMonitor or PodMonitoring selecting them{absent}",
        fix,
    )


AUDITOR_FIX = (
    "deploy it: wbctl deploy auditor --push-url <your Pushgateway> --image <registry>/wbctl:<version> "
    "| kubectl apply -f - (docs/deploy/README.md)"
)


def auditor_finding(
    reads: ObservabilityReads, *, now: datetime, interval: float, silent_runs: int, kubectl: str
) -> Finding:
    """Present, not suspended, and its last success within `silent_runs` runs of `interval`
    seconds (the WbctlAuditorSilent alert's window: the check and the alert agree)."""
    target = f"cronjob/{AUDITOR_NAME} in namespace {reads.auditor_namespace}"
    allowed = timedelta(seconds=interval * silent_runs)
    expected = f"a success within {format_duration(allowed.total_seconds())}"
    if not reads.auditor.known:
        return Finding(AUDITOR, Status.UNKNOWN, target, None, expected, reads.auditor.reason)
    jobs = reads.auditor.value or ()
    if not jobs:
        return Finding(
            AUDITOR,
            Status.WARN,
            target,
            None,
            expected,
            f"no CronJob {AUDITOR_NAME} in namespace {reads.auditor_namespace}: nothing runs wbctl check on a "
            "schedule, so wbctl's alerts have no numbers (another namespace is not looked in)",
            AUDITOR_FIX,
        )
    job = jobs[0]
    if job.suspended:
        return Finding(
            AUDITOR,
            Status.FAIL,
            target,
            "suspended",
            expected,
            "the auditor's CronJob is suspended",
            f"{kubectl} patch cronjob {AUDITOR_NAME} " + """-p '{"spec":{"suspend":false}}'""",
        )
    if job.last_success is None:
        ran = f"last scheduled {job.last_schedule.isoformat()}" if job.last_schedule else "never scheduled"
        status = Status.FAIL if job.last_schedule is not None else Status.WARN
        return Finding(
            AUDITOR,
            status,
            target,
            None,
            expected,
            f"the auditor has never succeeded ({ran}; schedule {job.schedule})",
            f"{kubectl} logs -l {AUDITOR_SELECTOR} --tail 50",
        )
    age = now - job.last_success
    observed = job.last_success.isoformat()
    if age > allowed:
        return Finding(
            AUDITOR,
            Status.FAIL,
            target,
            observed,
            expected,
            f"the auditor last succeeded {format_duration(age.total_seconds())} ago (schedule {job.schedule}): "
            "wbctl's alerts judge stale numbers",
            f"{kubectl} get jobs -l {AUDITOR_SELECTOR} --sort-by=.status.startTime",
        )
    return Finding(
        AUDITOR,
        Status.OK,
        target,
        observed,
        expected,
        f"last success {format_duration(max(age.total_seconds(), 0))} ago (schedule {job.schedule})",
    )


def telemetry_of(cr: WandbResource | None) -> Observed[TelemetryStatus]:
    """`status.telemetryStatus` of a v2 resource (wandb/operator api/v2 TelemetryInfraStatus),
    from the resource the observation already read."""
    if cr is None:
        return Observed.unknown("no WeightsAndBiases resource: the telemetry mode unknown")
    found = cr.telemetry_status
    if found is None:
        return Observed.unknown(
            "the resource's status has no telemetryStatus (an operator before its telemetry stack, "
            "or not reconciled yet): the mode unknown"
        )
    ready = found.get("ready")
    connection = found.get("connection") or {}
    return Observed(
        TelemetryStatus(
            str(found.get("mode") or ""),
            str(found.get("state") or ""),
            ready if isinstance(ready, bool) else None,
            str(connection.get("gorillaTracer") or "") if isinstance(connection, dict) else "",
        )
    )


def telemetry_finding(observation: KubeObservation) -> Finding:
    target = observation.target
    expected = "forward or full, Ready"
    if observation.generation is not Generation.V2:
        return Finding(
            TELEMETRY,
            Status.OK,
            target,
            None,
            "v2 only",
            "not part of this generation: telemetry.mode is the v2 operator's (the chart's tracing and collector "
            "are judged above)",
        )
    telemetry = telemetry_of(observation.cr)
    if not telemetry.known:
        return Finding(TELEMETRY, Status.UNKNOWN, target, None, expected, telemetry.reason)
    status = telemetry.value
    assert status is not None
    mode = status.mode or "off"
    if mode == "off" or status.state == "Disabled":
        return Finding(
            TELEMETRY,
            Status.FAIL,
            target,
            mode,
            expected,
            f"the v2 operator's telemetry is off (status.telemetryStatus: mode {mode}, state {status.state or '?'}): "
            "no traces, metrics or logs leave the applications",
            V2_TELEMETRY_FIX,
        )
    if mode not in TELEMETRY_MODES:
        return Finding(
            TELEMETRY,
            Status.UNKNOWN,
            target,
            mode,
            expected,
            f"telemetry mode {mode!r} is none of {', '.join(TELEMETRY_MODES)} (wandb/operator docs/monitoring.md)",
        )
    if status.ready is True or status.state == "Ready":
        return Finding(TELEMETRY, Status.OK, target, mode, expected, f"telemetry {mode}, Ready")
    return Finding(
        TELEMETRY,
        Status.WARN,
        target,
        mode,
        expected,
        f"telemetry {mode}, but its stack is {status.state or 'not ready'} (the Victoria resources it installs)",
    )


def check(
    observation: KubeObservation,
    reads: ObservabilityReads,
    *,
    kubectl: str,
    now: datetime,
    auditor_interval: float,
    silent_runs: int,
) -> Report:
    """The group's five findings, in CHECK_IDS order."""
    return Report(
        (
            tracing_finding(observation, kubectl),
            trace_export_finding(observation, reads, kubectl),
            app_metrics_finding(observation, reads, kubectl),
            auditor_finding(reads, now=now, interval=auditor_interval, silent_runs=silent_runs, kubectl=kubectl),
            telemetry_finding(observation),
        )
    )
