"""What check's observability group reads in a chart namespace, as the chart and wbctl render it:
the bundled OpenTelemetry collector's ConfigMap (`<instance>-otel-daemonset`, from the 0.43.8
snapshot: charts/otel, its traces and logs pipelines ending in `debug`), and, for a namespace
set up to be observed (`observe`), the values and the objects they render:

- `<svc>.traceRatio` on every traced service, and its Deployment's GORILLA_TRACER as
  templates/_env.tpl `wandb.observabilityEnvs` renders it (core.observability.chart_tracer);
- an `otlp` exporter in the collector (`otel.daemonset.config.exporters.otlp`, listed in its
  traces pipeline), and the ConfigMap as charts/otel's agent renders it then (the values'
  config merged over the chart's, lists replaced, keys sorted: `mustMergeOverwrite`, `toYaml`);
- `app.podAnnotations` asking the chart's Prometheus to scrape wandb-app's 8181 (wandb-base's
  `podAnnotations`), on the app's pod template;
- wbctl's own auditor, the CronJob `wbctl deploy auditor` prints (core.deploy), having run on
  its schedule (`auditor_ran`: the world keeps it so on the simulated clock).

Separate from chart_043.py: the same builders serve the operator's re-render
(sim/operator.py) and the world's CronJob runs (sim/world.py).
"""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Mapping
from datetime import datetime, timedelta
from typing import Any

import yaml

from wbctl.core import observability
from wbctl.sandbox.kube.objects.basics import Obj, deployment_named, name_label, stable_uid, timestamp
from wbctl.sandbox.kube.objects.snapshot import snapshot_manifests

TRACE_RATIO = 0.1  # what an observed namespace's services sample (core.observability.SUGGESTED_RATIO)
OTLP_ENDPOINT = "tempo-distributor.monitoring.svc:4317"  # an in-cluster trace backend (Grafana Tempo's OTLP port)
AUDITOR_IMAGE = "registry.example.com/wbctl:0.1.0"  # core.deploy's example registry: never pulled
AUDITOR_TOOK = timedelta(seconds=40)  # a run's duration, from schedule to success
COLLECTOR_OTLP: dict[str, Any] = {
    "exporters": {"otlp": {"endpoint": OTLP_ENDPOINT, "tls": {"insecure": True}}},
    "service": {"pipelines": {"traces": {"exporters": ["otlp"]}}},
}


def _merge(base: Any, extra: Any) -> Any:
    """Sprig's mustMergeOverwrite as the agent's config uses it: maps merged, anything else
    (lists included) replaced."""
    if isinstance(base, dict) and isinstance(extra, Mapping):
        out = dict(base)
        for key, value in extra.items():
            out[key] = _merge(base.get(key), value)
        return out
    return copy.deepcopy(extra)


def collector_config_map(
    instance: str, namespace: str, chart_label: str, now: datetime, config: Mapping[str, Any]
) -> Obj:
    """The collector's ConfigMap as the snapshot renders it, with `config` (the values'
    otel.daemonset.config) merged over the rendered config."""
    name = f"{instance}{observability.COLLECTOR_SUFFIXES[0]}"
    rendered = snapshot_manifests("fmb.snap", instance, namespace, chart_label, ("ConfigMap",))
    config_map = next(m for m in rendered if m["metadata"]["name"] == name)
    if config:
        merged = _merge(yaml.safe_load(config_map["data"][observability.COLLECTOR_KEY]), config)
        config_map["data"][observability.COLLECTOR_KEY] = yaml.safe_dump(merged, sort_keys=True)
    metadata = config_map["metadata"]
    if not metadata.get("annotations"):
        metadata.pop("annotations", None)  # rendered as `annotations:` with nothing under it; the API omits it
    metadata.setdefault("uid", stable_uid("ConfigMap", namespace, name))
    metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=90)))
    return config_map


def set_tracer(deployment: Obj, tracer: str | None) -> bool:
    """GORILLA_TRACER on the Deployment's main container (named after its app.kubernetes.io/name,
    else the first), set or removed; True when the template changed."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    main = [c for c in containers if c.get("name") == name_label(deployment)] or containers[:1]
    changed = False
    for container in main:
        env = list(container.get("env") or [])
        current = next((e.get("value") for e in env if e.get("name") == observability.TRACER_ENV), None)
        if current == tracer:
            continue
        env = [e for e in env if e.get("name") != observability.TRACER_ENV]
        container["env"] = env + ([{"name": observability.TRACER_ENV, "value": tracer}] if tracer else [])
        changed = True
    return changed


def tracer_of(deployment: Obj) -> str | None:
    """The GORILLA_TRACER of the Deployment's main container (as set_tracer sets it), or None."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    main = [c for c in containers if c.get("name") == name_label(deployment)] or containers[:1]
    env = (main[0].get("env") or []) if main else []
    return next((e.get("value") for e in env if e.get("name") == observability.TRACER_ENV), None)


def rendered_tracer(values: Mapping[str, Any], service: str, instance: str) -> str | None:
    """The GORILLA_TRACER the chart renders for a service, or None (traceRatio unset or 0)."""
    raw = (values.get(service) or {}).get("traceRatio") if isinstance(values.get(service), dict) else None
    if not observability.parse_ratio(raw).traces:
        return None
    return observability.chart_tracer(dict(values), instance, raw)


def observe(workloads: list[Obj], values: Obj, instance: str) -> None:
    """The values of a namespace set up to be observed, and the Deployments rendered with them
    (before their Pods are made, so the Pods carry the annotations)."""
    for deployment in workloads:
        service = name_label(deployment) if deployment.get("kind") == "Deployment" else None
        if service in observability.TRACED_SERVICES:
            values.setdefault(service, {})["traceRatio"] = TRACE_RATIO
            set_tracer(deployment, rendered_tracer(values, service, instance))
    otel = values.setdefault("otel", {}).setdefault("daemonset", {})
    otel["config"] = _merge(otel.get("config") or {}, COLLECTOR_OTLP)
    values.setdefault(observability.APP_SERVICE, {})["podAnnotations"] = dict(observability.SCRAPE_ANNOTATIONS)
    app = deployment_named(workloads, observability.APP_SERVICE)
    if app is not None:
        template = app["spec"]["template"].setdefault("metadata", {})
        template.setdefault("annotations", {}).update(observability.SCRAPE_ANNOTATIONS)


@functools.cache
def _rendered_config(config_json: str) -> str:
    """The collector's `config` text for the values' otel.daemonset.config (as JSON: a cache key)."""
    from datetime import UTC

    config_map = collector_config_map("x", "x", "x", datetime.now(UTC), json.loads(config_json))
    return str(config_map["data"][observability.COLLECTOR_KEY])


def rendered_collector_config(values: Mapping[str, Any]) -> str:
    """What charts/otel renders into `<instance>-otel-daemonset`'s `config` for these CR values
    (the rendered config names no release)."""
    return _rendered_config(json.dumps(collector_values(values), sort_keys=True))


def collector_values(values: Mapping[str, Any]) -> Mapping[str, Any]:
    found = ((values.get("otel") or {}).get("daemonset") or {}).get("config")
    return found if isinstance(found, Mapping) else {}


def auditor_cronjob(namespace: str, now: datetime) -> Obj:
    """The CronJob `wbctl deploy auditor` prints for this namespace, created a week ago."""
    from wbctl.core.deploy import AuditorRequest, manifests

    request = AuditorRequest(context=None, settings={"namespace": namespace}, defaults={}, image=AUDITOR_IMAGE)
    cronjob = next(obj for obj in manifests(request) if obj["kind"] == "CronJob")
    metadata = cronjob["metadata"]
    metadata.setdefault("uid", stable_uid("CronJob", namespace, metadata["name"]))
    metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=7)))
    metadata.setdefault("generation", 1)
    cronjob["status"] = auditor_ran(cronjob, now) or {}
    return cronjob


_EVERY = re.compile(r"^\*/(\d+) \* \* \* \*$")


def auditor_ran(cronjob: Mapping[str, Any], now: datetime) -> Obj | None:
    """The status of a `*/N * * * *` CronJob that has run at every tick up to `now`, each run
    succeeding AUDITOR_TOOK later; None for a schedule of another form, or a suspended one."""
    spec = cronjob.get("spec") or {}
    found = _EVERY.match(str(spec.get("schedule") or ""))
    if found is None or spec.get("suspend") or int(found.group(1)) <= 0:
        return None
    step = int(found.group(1))
    tick = now.replace(second=0, microsecond=0) - timedelta(minutes=now.minute % step)
    done = tick if now - tick >= AUDITOR_TOOK else tick - timedelta(minutes=step)
    return {"lastScheduleTime": timestamp(tick), "lastSuccessfulTime": timestamp(done + AUDITOR_TOOK)}
