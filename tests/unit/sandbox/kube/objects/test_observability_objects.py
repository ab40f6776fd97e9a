"""The sandbox's observed and unobserved namespaces (wbctl/sandbox/kube/objects/observability.py):
rendered as the chart renders them (GORILLA_TRACER, the collector's config merged over the chart's,
the app's pod annotations) and the auditor's CronJob as `wbctl deploy auditor` prints it, having
run at every tick of its schedule."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import yaml

from wbctl.core import deploy, observability
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.objects import observability as observed
from wbctl.sandbox.kube.objects.basics import name_label

NOW = datetime(2026, 12, 3, 12, 7, 30, tzinfo=UTC)


def _env(deployment: dict, name: str) -> str | None:
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    return next((e.get("value") for e in container.get("env") or [] if e["name"] == name), None)


def test_an_observed_namespace_is_what_the_chart_renders_for_its_values() -> None:
    objs = fx.chart_043(now=NOW, observable=True)
    cr = fx.find(objs, "WeightsAndBiases", "wandb")
    values = cr["spec"]["values"]
    traced = [d for d in fx.of_kind(objs, "Deployment") if name_label(d) in observability.TRACED_SERVICES]
    assert traced  # the fmb values install api, app, filestream, the updater, ...
    for deployment in traced:
        service = name_label(deployment)
        assert values[service]["traceRatio"] == observed.TRACE_RATIO
        assert _env(deployment, "GORILLA_TRACER") == observability.chart_tracer(values, "wandb", observed.TRACE_RATIO)
    frontend = next(d for d in fx.of_kind(objs, "Deployment") if name_label(d) == "frontend")
    assert _env(frontend, "GORILLA_TRACER") is None  # not one of the chart's traced services
    app_pods = [p for p in fx.of_kind(objs, "Pod") if p["metadata"]["labels"].get("app.kubernetes.io/name") == "app"]
    assert app_pods and all(
        p["metadata"]["annotations"]["prometheus.io/scrape"] == "true" for p in app_pods
    )  # from the template
    config = yaml.safe_load(fx.find(objs, "ConfigMap", "wandb-otel-daemonset")["data"]["config"])
    traces = config["service"]["pipelines"]["traces"]
    # the values' list replaces the chart's; its processors and receivers stay (mustMergeOverwrite)
    assert traces == {
        "exporters": ["otlp"],
        "processors": ["memory_limiter", "batch", "k8sattributes"],
        "receivers": ["otlp"],
    }
    assert set(config["exporters"]) == {"debug", "debug/detailed", "prometheus", "otlp"}
    assert fx.find(objs, "CronJob", deploy.NAME)["spec"]["schedule"] == deploy.DEFAULT_SCHEDULE


def test_the_charts_defaults_trace_nothing_and_keep_the_rendered_config() -> None:
    objs = fx.chart_043(now=NOW)
    assert all(_env(d, "GORILLA_TRACER") is None for d in fx.of_kind(objs, "Deployment"))
    text = fx.find(objs, "ConfigMap", "wandb-otel-daemonset")["data"]["config"]
    assert observability.pipelines(text).exporters == {"traces": ("debug",)}
    assert observed.rendered_collector_config({}) == text  # the operator's re-render changes nothing
    with pytest.raises(KeyError):
        fx.find(objs, "CronJob", deploy.NAME)


@pytest.mark.parametrize(
    ("now", "scheduled", "succeeded"),
    [
        (NOW, "2026-12-03T12:05:00Z", "2026-12-03T12:05:40Z"),
        (NOW.replace(minute=5, second=20), "2026-12-03T12:05:00Z", "2026-12-03T12:00:40Z"),  # still running
        (NOW.replace(minute=0, second=0), "2026-12-03T12:00:00Z", "2026-12-03T11:55:40Z"),
    ],
)
def test_the_auditor_has_run_at_every_tick(now: datetime, scheduled: str, succeeded: str) -> None:
    cronjob = observed.auditor_cronjob("default", NOW - timedelta(days=1))
    assert observed.auditor_ran(cronjob, now) == {"lastScheduleTime": scheduled, "lastSuccessfulTime": succeeded}


def test_a_suspended_or_unusual_schedule_is_left_alone() -> None:
    cronjob = observed.auditor_cronjob("default", NOW)
    assert observed.auditor_ran({**cronjob, "spec": {**cronjob["spec"], "suspend": True}}, NOW) is None
    assert observed.auditor_ran({"spec": {"schedule": "0 3 * * 1"}}, NOW) is None
