"""check's observability group (wbctl/core/observability.py): each finding, each status, on
hand-made observations shaped as operator-wandb 0.43.8 renders them (no cluster). The
collector's config is the chart's own (data/otel-daemonset-config.yaml, from its snapshot)."""

from __future__ import annotations

import json
import math
import shlex
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core import observability as obs
from wbctl.core.kube import Container, EnvVar, Generation, KubeObservation, Pod, WandbResource, Workload
from wbctl.core.model import Observed, Status

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)
KUBECTL = "kubectl -n default"
CHART_CONFIG = (Path(__file__).parent / "data" / "otel-daemonset-config.yaml").read_text()
COLLECTOR = "wandb-otel-daemonset"
# the chart's tracer for a traceRatio of 0.1 (templates/_helpers.tpl wandb.otelTracesEndpoint, defaults)
TRACER = "otlp+grpc://wandb-otel-daemonset:4317?trace_ratio=0.1"


def exporting(config: str = CHART_CONFIG, exporter: str = "otlp") -> str:
    """The chart's config with the traces pipeline sending to `exporter` (as the values would set it)."""
    document = yaml.safe_load(config)
    document["exporters"][exporter] = {"endpoint": "tempo:4317"}
    document["service"]["pipelines"]["traces"]["exporters"] = [exporter]
    return yaml.safe_dump(document)


def workload(service: str, *, tracer: str | None = None, name: str | None = None) -> Workload:
    labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/instance": "wandb"}
    env = (EnvVar("GORILLA_TRACER", tracer),) if tracer is not None else ()
    container = Container(service, "wandb/local:0.70.1", {}, {}, env=(EnvVar("GORILLA_LIMITER", "noop://"), *env))
    return Workload("Deployment", name or f"wandb-{service}", labels, dict(labels), 1, 1, (container,))


def observation(
    *,
    services: tuple[str, ...] = ("api", "app", "filestream", "frontend"),
    ratios: dict[str, object] | None = None,
    tracers: dict[str, str] | None = None,
    annotations: dict[str, str] | None = None,
    cr: bool = True,
    generation: Generation = Generation.V1,
    telemetry: dict[str, object] | None = None,
) -> KubeObservation:
    kube = KubeObservation("https://k8s", "default", "wandb", generation=generation)
    values: dict[str, object] = {name: {"traceRatio": ratio} for name, ratio in (ratios or {}).items()}
    if cr:
        kube.cr = WandbResource(
            "wandb", "0.43.8", values, "Completed", "7", generation=generation, telemetry_status=telemetry
        )
    for service in services:
        kube.workloads.append(workload(service, tracer=(tracers or {}).get(service)))
        labels = {"app.kubernetes.io/name": service, "app.kubernetes.io/instance": "wandb"}
        pod_notes = dict(annotations or {}) if service == "app" else {}
        kube.pods.append(Pod(f"wandb-{service}-0", labels, "n1", "Running", True, 0, NOW, False, pod_notes))
    return kube


def reads(
    *,
    collectors: Observed[dict[str, str]] | None = None,
    monitors: obs.Monitors | None = None,
    auditor: Observed[tuple[Workload, ...]] | None = None,
) -> obs.ObservabilityReads:
    return obs.ObservabilityReads(
        collectors=collectors if collectors is not None else Observed({COLLECTOR: CHART_CONFIG}),
        monitors=monitors if monitors is not None else obs.Monitors(absent=("ServiceMonitor", "PodMonitor")),
        auditor=auditor if auditor is not None else Observed(()),
        auditor_namespace="default",
    )


def auditor(
    *, success: datetime | None, schedule: datetime | None = None, suspended: bool = False
) -> Observed[tuple[Workload, ...]]:
    job = Workload(
        "CronJob",
        obs.AUDITOR_NAME,
        {"app.kubernetes.io/name": obs.AUDITOR_NAME},
        {},
        None,
        0,
        (),
        schedule="*/5 * * * *",
        suspended=suspended,
        last_schedule=schedule if schedule is not None else success,
        last_success=success,
    )
    return Observed((job,))


def findings(kube: KubeObservation, read: obs.ObservabilityReads | None = None) -> dict[str, object]:
    report = obs.check(kube, read or reads(), kubectl=KUBECTL, now=NOW, auditor_interval=300, silent_runs=3)
    return {finding.check: finding for finding in report.findings}


def patch_of(remedy: str) -> dict[str, object]:
    """The JSON body of a `kubectl patch ... -p BODY` remedy, read as a shell would split it."""
    words = shlex.split(remedy.split(" (", 1)[0].split("; then ", 1)[0])
    assert words[:3] == ["kubectl", "-n", "default"] and words[3:5] == ["patch", "weightsandbiases"]
    assert words[words.index("--type") + 1] == "merge"
    return json.loads(words[words.index("-p") + 1])


def test_the_group_reports_its_ids_in_order() -> None:
    report = obs.check(observation(), reads(), kubectl=KUBECTL, now=NOW, auditor_interval=300, silent_runs=3)
    assert [f.check for f in report.findings] == list(obs.CHECK_IDS)


# --- observability.tracing -------------------------------------------------------------------


def test_tracing_off_fails_with_the_patch_that_sets_trace_ratio_on_the_installed_services() -> None:
    tracing = findings(observation())[obs.TRACING]
    assert tracing.status is Status.FAIL and "tracing off" in tracing.message
    body = patch_of(tracing.remedy)
    # frontend is not a traced service of the chart (its env has no wandb.observabilityEnvs)
    assert body == {"spec": {"values": {s: {"traceRatio": 0.1} for s in ("api", "app", "filestream")}}}


def test_tracing_ok_names_each_service_its_ratio_and_where_it_sends() -> None:
    kube = observation(ratios={"api": 0.1, "filestream": 0.1}, tracers={"api": TRACER, "filestream": TRACER})
    tracing = findings(kube)[obs.TRACING]
    assert tracing.status is Status.OK and tracing.observed == ["api", "filestream"]
    assert "api (0.1 to wandb-otel-daemonset:4317)" in tracing.message and "not traced: app" in tracing.message


def test_trace_ratio_set_but_not_rendered_yet_warns() -> None:
    tracing = findings(observation(ratios={"api": 0.1}))[obs.TRACING]
    assert tracing.status is Status.WARN and "api" in tracing.message and "has no GORILLA_TRACER yet" in tracing.message


def test_a_tracer_set_by_hand_warns_that_the_next_render_removes_it_and_puts_it_in_the_resource() -> None:
    tracing = findings(observation(tracers={"app": TRACER}))[obs.TRACING]
    assert tracing.status is Status.WARN and "next render removes it" in tracing.message
    assert patch_of(tracing.remedy) == {"spec": {"values": {"app": {"traceRatio": 0.1}}}}


def test_a_zero_ratio_is_off_and_a_string_one_is_what_the_chart_cannot_render() -> None:
    assert findings(observation(ratios={"api": 0}))[obs.TRACING].status is Status.FAIL
    tracing = findings(observation(ratios={"api": "0.1"}))[obs.TRACING]
    assert tracing.status is Status.FAIL and 'api.traceRatio "0.1" is not a number' in tracing.message
    assert patch_of(tracing.remedy) == {"spec": {"values": {"api": {"traceRatio": 0.1}}}}


def test_a_tracer_with_ratio_zero_traces_nothing() -> None:
    tracer = TRACER.replace("0.1", "0.0")
    assert findings(observation(tracers={"api": tracer}))[obs.TRACING].status is Status.FAIL


def test_tracing_without_the_resource_is_unknown() -> None:
    tracing = findings(observation(cr=False))[obs.TRACING]
    assert tracing.status is Status.UNKNOWN and "no WeightsAndBiases resource" in tracing.message


def test_v2_tracing_is_judged_from_the_env_and_fixed_by_the_operators_telemetry() -> None:
    off = findings(observation(generation=Generation.V2, cr=False))[obs.TRACING]
    assert off.status is Status.FAIL and "telemetry.mode" in off.remedy
    on = findings(observation(generation=Generation.V2, tracers={"api": TRACER}))[obs.TRACING]
    assert on.status is Status.OK and on.observed == ["api"]


@given(st.text())
def test_any_tracer_text_parses_without_raising(text: str) -> None:
    tracer = obs.parse_tracer(text)
    assert tracer.ratio is None or math.isfinite(tracer.ratio)


@given(st.floats(allow_nan=False, allow_infinity=False, min_value=1e-6, max_value=1.0))
def test_a_chart_rendered_tracer_gives_back_its_ratio_and_collector(ratio: float) -> None:
    tracer = obs.parse_tracer(obs.chart_tracer({}, "wandb", ratio))
    assert tracer.traces and tracer.ratio == pytest.approx(ratio)
    assert (tracer.scheme, tracer.host, tracer.port) == ("otlp+grpc", COLLECTOR, "4317")


@given(st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), st.text(), st.lists(st.integers())))
def test_any_trace_ratio_value_is_on_off_or_invalid(value: object) -> None:
    ratio = obs.parse_ratio(value)
    on_chart = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value) and value != 0
    assert ratio.traces == on_chart
    assert bool(ratio.invalid) == (
        value is not None and not on_chart and not (value == 0 and not isinstance(value, bool))
    )


def test_the_chart_tracer_follows_global_otel_traces() -> None:
    values = {"global": {"otel": {"traces": {"host": "collector.obs.svc", "port": 4318, "proto": "http"}}}}
    assert obs.chart_tracer(values, "wandb", 0.5) == "otlp+http://collector.obs.svc:4318?trace_ratio=0.5"


# --- observability.trace-export --------------------------------------------------------------


def test_the_charts_collector_drops_traces_it_receives() -> None:
    kube = observation(ratios={"api": 0.1}, tracers={"api": TRACER})
    export = findings(kube)[obs.TRACE_EXPORT]
    assert export.status is Status.FAIL and "traces ends in debug" in export.message
    assert patch_of(export.remedy)["spec"]["values"]["otel"]["daemonset"]["config"]["service"] == {
        "pipelines": {"traces": {"exporters": ["googlecloud"]}}
    }


def test_the_charts_collector_with_nothing_to_send_warns() -> None:
    export = findings(observation())[obs.TRACE_EXPORT]
    assert export.status is Status.WARN and "would drop" in export.message and export.remedy


def test_a_collector_exporting_over_otlp_is_ok() -> None:
    kube = observation(ratios={"api": 0.1}, tracers={"api": TRACER})
    export = findings(kube, reads(collectors=Observed({COLLECTOR: exporting()})))[obs.TRACE_EXPORT]
    assert export.status is Status.OK and export.observed == {COLLECTOR: {"traces": ["otlp"]}}


def test_a_debug_exporter_beside_a_real_one_still_exports() -> None:
    document = yaml.safe_load(exporting())
    document["service"]["pipelines"]["traces"]["exporters"] = ["debug", "otlp"]
    pipes = obs.pipelines(yaml.safe_dump(document))
    assert pipes.sending == {"traces": ("otlp",)}


def test_every_traces_pipeline_counts_and_logging_and_nop_send_nowhere() -> None:
    document = yaml.safe_load(CHART_CONFIG)
    document["service"]["pipelines"]["traces/extra"] = {"receivers": ["otlp"], "exporters": ["logging", "nop"]}
    pipes = obs.pipelines(yaml.safe_dump(document))
    assert set(pipes.exporters) == {"traces", "traces/extra"} and pipes.sending == {}
    assert obs.pipelines(CHART_CONFIG, "logs").sending == {}  # the chart's logs go nowhere too
    assert obs.pipelines(CHART_CONFIG, "metrics").sending == {"metrics": ("prometheus",)}


def test_traces_to_a_collector_outside_the_chart_are_unknown() -> None:
    tracer = "otlp+grpc://otel.observability.svc:4317?trace_ratio=0.2"
    export = findings(observation(ratios={"api": 0.2}, tracers={"api": tracer}))[obs.TRACE_EXPORT]
    assert export.status is Status.UNKNOWN and "otel.observability.svc:4317" in export.message


def test_traces_to_a_collector_that_is_not_installed_fail_with_its_install() -> None:
    kube = observation(ratios={"api": 0.1}, tracers={"api": TRACER})
    export = findings(kube, reads(collectors=Observed({})))[obs.TRACE_EXPORT]
    assert export.status is Status.FAIL and "no ConfigMap wandb-otel-daemonset" in export.message
    assert patch_of(export.remedy) == {"spec": {"values": {"otel": {"install": True, "daemonset": {"install": True}}}}}
    assert findings(observation(), reads(collectors=Observed({})))[obs.TRACE_EXPORT].status is Status.WARN


@pytest.mark.parametrize("config", ["exporters: [", "just text", "service: {pipelines: 3}"])
def test_a_config_that_is_no_collectors_is_unknown(config: str) -> None:
    export = findings(observation(), reads(collectors=Observed({COLLECTOR: config})))[obs.TRACE_EXPORT]
    assert export.status is Status.UNKNOWN and "ConfigMap wandb-otel-daemonset" in export.message


def test_an_unreadable_collector_is_unknown_with_why() -> None:
    unread = Observed.unknown("the collector's ConfigMaps not readable (forbidden: get configmaps)")
    export = findings(observation(), reads(collectors=unread))[obs.TRACE_EXPORT]
    assert export.status is Status.UNKNOWN and "forbidden" in export.message


@given(st.text(max_size=300))
def test_any_config_text_is_judged_without_raising(text: str) -> None:
    pipes = obs.pipelines(text)
    assert pipes.error or isinstance(pipes.exporters, dict)


def test_v2_has_no_chart_collector() -> None:
    export = findings(observation(generation=Generation.V2))[obs.TRACE_EXPORT]
    assert export.status is Status.OK and export.expected == "absent from v2"


# --- observability.app-metrics ---------------------------------------------------------------


def test_nothing_scraping_8181_fails_with_the_annotation_patch() -> None:
    metrics = findings(observation())[obs.APP_METRICS]
    assert metrics.status is Status.FAIL and "not installed here: ServiceMonitor, PodMonitor" in metrics.message
    assert patch_of(metrics.remedy) == {
        "spec": {"values": {"app": {"podAnnotations": {"prometheus.io/scrape": "true", "prometheus.io/port": "8181"}}}}
    }


@pytest.mark.parametrize(
    ("annotations", "status"),
    [
        ({"prometheus.io/scrape": "true", "prometheus.io/port": "8181"}, Status.OK),
        ({"prometheus.io/scrape": "true"}, Status.OK),  # the pod role targets every declared port
        ({"prometheus.io/scrape": "true", "prometheus.io/port": "8080"}, Status.FAIL),
        ({"prometheus.io/scrape": "false", "prometheus.io/port": "8181"}, Status.FAIL),
    ],
)
def test_pod_annotations_are_evidence_when_they_name_8181(annotations: dict[str, str], status: Status) -> None:
    assert findings(observation(annotations=annotations))[obs.APP_METRICS].status is status


@pytest.mark.parametrize(
    ("monitor", "status"),
    [
        (obs.Monitor("PodMonitoring", "wandb-app", {"app.kubernetes.io/name": "app"}, (), ("8181",)), Status.OK),
        (
            obs.Monitor("ServiceMonitor", "wandb", {"app.kubernetes.io/instance": "wandb"}, (), ("prometheus",)),
            Status.OK,
        ),
        (obs.Monitor("PodMonitor", "all", {}, (), ("prometheus",)), Status.OK),  # an empty selector selects all
        (obs.Monitor("PodMonitor", "api", {"app.kubernetes.io/name": "api"}, (), ("prometheus",)), Status.FAIL),
        (obs.Monitor("PodMonitor", "app-http", {"app.kubernetes.io/name": "app"}, (), ("http",)), Status.FAIL),
        (
            obs.Monitor(
                "PodMonitor",
                "expr",
                {},
                (obs.LabelRequirement("app.kubernetes.io/name", "In", ("app", "api")),),
                ("prometheus",),
            ),
            Status.OK,
        ),
        (
            obs.Monitor(
                "PodMonitor",
                "not-app",
                {},
                (obs.LabelRequirement("app.kubernetes.io/name", "NotIn", ("app",)),),
                ("8181",),
            ),
            Status.FAIL,
        ),
    ],
)
def test_a_monitor_is_evidence_when_it_selects_the_app_on_its_metrics_port(
    monitor: obs.Monitor, status: Status
) -> None:
    metrics = findings(observation(), reads(monitors=obs.Monitors((monitor,))))[obs.APP_METRICS]
    assert metrics.status is status
    if status is Status.OK:
        assert f"{monitor.kind} {monitor.name}" in metrics.message


def test_an_unreadable_monitor_kind_leaves_it_unknown_unless_something_else_settles_it() -> None:
    refused = obs.Monitors(unreadable=("PodMonitorings: forbidden: list podmonitorings.monitoring.googleapis.com",))
    assert findings(observation(), reads(monitors=refused))[obs.APP_METRICS].status is Status.UNKNOWN
    annotated = observation(annotations={"prometheus.io/scrape": "true"})
    assert findings(annotated, reads(monitors=refused))[obs.APP_METRICS].status is Status.OK


def test_no_app_nothing_to_scrape_and_v2_has_none() -> None:
    assert findings(observation(services=("api",)))[obs.APP_METRICS].status is Status.OK
    v2 = findings(observation(generation=Generation.V2))[obs.APP_METRICS]
    assert v2.status is Status.OK and v2.expected == "absent from v2"


# --- observability.auditor -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("read", "status", "words"),
    [
        (Observed(()), Status.WARN, "no CronJob wbctl-auditor"),
        (auditor(success=NOW - timedelta(minutes=4)), Status.OK, "last success 4m ago"),
        (auditor(success=NOW - timedelta(minutes=16)), Status.FAIL, "last succeeded 16m ago"),
        (auditor(success=None), Status.WARN, "never scheduled"),
        (auditor(success=None, schedule=NOW - timedelta(minutes=3)), Status.FAIL, "never succeeded"),
        (auditor(success=NOW, suspended=True), Status.FAIL, "suspended"),
        (Observed.unknown("cronjob wbctl-auditor not readable (forbidden)"), Status.UNKNOWN, "forbidden"),
    ],
)
def test_the_auditor_is_there_and_fresh(read: Observed[tuple[Workload, ...]], status: Status, words: str) -> None:
    finding = findings(observation(), reads(auditor=read))[obs.AUDITOR]
    assert finding.status is status and words in finding.message, finding.message


def test_the_auditor_is_stale_after_as_many_runs_as_its_alert_allows() -> None:
    from wbctl.core.alerts import SILENT_RUNS

    fresh = auditor(success=NOW - timedelta(seconds=300 * SILENT_RUNS))
    stale = auditor(success=NOW - timedelta(seconds=300 * SILENT_RUNS + 1))
    judge = obs.auditor_finding
    assert (
        judge(reads(auditor=fresh), now=NOW, interval=300, silent_runs=SILENT_RUNS, kubectl=KUBECTL).status is Status.OK
    )
    found = judge(reads(auditor=stale), now=NOW, interval=300, silent_runs=SILENT_RUNS, kubectl=KUBECTL)
    assert found.status is Status.FAIL and found.remedy.startswith("kubectl -n default get jobs -l ")


# --- observability.telemetry -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        ({"mode": "off", "state": "Disabled", "ready": False}, Status.FAIL),
        ({"state": "Disabled", "ready": False}, Status.FAIL),
        ({"mode": "full", "state": "Ready", "ready": True}, Status.OK),
        ({"mode": "forward", "state": "Pending", "ready": False}, Status.WARN),
        ({"mode": "sideways", "state": "Ready", "ready": True}, Status.UNKNOWN),
    ],
)
def test_the_v2_telemetry_mode(status: dict[str, object], expected: Status) -> None:
    kube = observation(generation=Generation.V2, telemetry=status)
    finding = findings(kube, reads())[obs.TELEMETRY]
    assert finding.status is expected, finding.message


@pytest.mark.parametrize(
    ("telemetry", "parsed"),
    [
        ({"mode": "full", "state": "Ready", "ready": True}, obs.TelemetryStatus("full", "Ready", True)),
        ({"mode": "forward", "connection": "?"}, obs.TelemetryStatus("forward", "", None)),
        (
            {"mode": "full", "ready": "yes", "connection": {"gorillaTracer": "otlp+grpc://gw:4317"}},
            obs.TelemetryStatus("full", "", None, "otlp+grpc://gw:4317"),
        ),
    ],
)
def test_the_telemetry_status_is_read_as_the_operator_writes_it(
    telemetry: dict[str, object], parsed: obs.TelemetryStatus
) -> None:
    kube = observation(generation=Generation.V2, telemetry=telemetry)
    assert obs.telemetry_of(kube.cr).value == parsed


def test_a_v2_resource_without_telemetry_status_is_unknown_and_v1_has_no_mode() -> None:
    kube = observation(generation=Generation.V2)
    unread = findings(kube)[obs.TELEMETRY]
    assert unread.status is Status.UNKNOWN and "no telemetryStatus" in unread.message
    gone = findings(observation(generation=Generation.V2, cr=False))[obs.TELEMETRY]
    assert gone.status is Status.UNKNOWN and "no WeightsAndBiases resource" in gone.message
    v1 = findings(observation())[obs.TELEMETRY]
    assert v1.status is Status.OK and v1.expected == "v2 only"
