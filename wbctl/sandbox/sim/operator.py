"""The sandbox's W&B operator: what github.com/wandb/operator and the cluster's controllers do
with the WeightsAndBiases CR's values at each reconcile, played on a FakeKubeAPI through its
Python store API (get, objects, add, merge, remove), never over HTTP.

`reconcile` reads `weightsandbiases/<instance>` and, for every Deployment of the instance with
an `app.kubernetes.io/name` label (both chart generations: `wandb-api`, `-bc`), does what the
chart's re-render and the controllers under it would:

- autoscaling: `<svc>.autoscaling.horizontal.*` (chart >= 0.33) or `<svc>.autoscaling.*`
  (older) enabled -> the HPA `<instance>-<svc>` is created or updated to the values' bounds and
  CPU target; disabled or absent -> an HPA the chart made (label helm.sh/chart operator-wandb-*)
  is removed, one made by hand is left alone. `<svc>.autoscaling.keda.{min,max}ReplicaCount`
  update an existing ScaledObject, and KEDA's own HPA follows its ScaledObject;
- replicas: with an HPA, `desired_replicas[svc]` (what the HPA controller wants: the queue
  model says) or the current count, clamped to the HPA's bounds, with the HPA's status
  (ScalingLimited as the controller words it) and a SuccessfulRescale Event; without one,
  `<svc>.replicaCount` when set, else the count the chart rendered (recorded on the Deployment
  as `sandbox.wbctl/rendered-replicas` the first time the operator sees it). So a direct
  `kubectl scale` is undone, as the real operator undoes it;
- a ReplicaSet per pod template, with its revision (rollouts.py): a changed template is a
  rollout (`kubectl rollout history`);
- pods follow the Deployment (operator_pods.py), and parquet's carry `gke-gcsfuse/volumes`
  exactly when `parquet.fuse.enabled` is true, the bucket is on GCS and global.cloudProvider
  is gcp (as the chart renders it), and the GCS FUSE CSIDriver exists.

Time is the caller's `now` (the sandbox's simulated clock); nothing here reads the wall clock.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.core import catalog
from wbctl.core.kube import NEW_LAYOUT
from wbctl.core.observability import TRACED_SERVICES
from wbctl.core.parquet import CSI_DRIVER, fuse_honoured
from wbctl.core.versions import parse_version
from wbctl.sandbox.kube.objects.autoscalers import hpa_status, rescale_event
from wbctl.sandbox.kube.objects.basics import Obj, chart_labels, timestamp
from wbctl.sandbox.sim.operator_pods import (
    READY_AT,
    Store,
    pods_of,
    schedulable,
    sync_deployment_status,
    sync_pods,
)
from wbctl.sandbox.sim.rollouts import pods_hash, sync_replica_sets

__all__ = ["READY_AT", "RENDERED_REPLICAS", "reconcile"]

INSTANCE_LABEL = "app.kubernetes.io/instance"
NAME_LABEL = "app.kubernetes.io/name"
RENDERED_REPLICAS = "sandbox.wbctl/rendered-replicas"  # the count the chart renders when values name none
DEFAULT_MIN, DEFAULT_MAX, DEFAULT_CPU = 1, 10, 80  # the chart's autoscaling defaults (kube/objects/autoscalers.py)


def _words(condition: Mapping[str, Any]) -> tuple[str, str, str]:
    return str(condition.get("status", "")), str(condition.get("reason", "")), str(condition.get("message", ""))


# ScalingLimited in the HPA controller's words (sandbox/kube/objects/autoscalers.py writes the first two)
_WITHIN = _words(hpa_status(0, "")["conditions"][2])
_AT_MAX = _words(hpa_status(0, "", limited=True)["conditions"][2])
_TOO_FEW = ("True", "TooFewReplicas", "the desired replica count is less than the minimum replica count")
_LOCK = threading.Lock()  # concurrent requests each reconciling: one at a time, the later ones find nothing to do


@dataclass
class _Namespace:
    """What one reconcile reads once; the lists are kept current as it writes."""

    namespace: str
    instance: str
    cr: Obj | None
    values: dict[str, Any]
    new_layout: bool
    chart_label: str
    fuse: bool | None  # None: no CR, leave the annotation alone
    hpas: list[Obj]
    scaled_objects: list[Obj]
    pods: list[Obj]
    nodes: list[Obj]
    replica_sets: list[Obj] | None = None  # None: read from the store when needed (operator_v2's)


def reconcile(
    api: Store,
    *,
    namespace: str,
    instance: str,
    now: datetime,
    desired_replicas: Mapping[str, int] | None = None,
    ready_after: timedelta = timedelta(seconds=30),
) -> list[str]:
    """Bring the instance's workloads in line with its CR, as the operator and the controllers
    would at `now`; returns one line per change (nothing changed: []). Idempotent: a second
    call with the same arguments writes nothing. `desired_replicas` is keyed by the values key
    (`flat-run-fields-updater`; the guide's `wandb-` prefix is accepted too)."""
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    wanted = {key.removeprefix(catalog.PREFIX): int(count) for key, count in (desired_replicas or {}).items()}
    with _LOCK:
        state = _read(api, namespace, instance)
        lines: list[str] = []
        for deployment in api.objects("deployments", namespace):
            labels = deployment["metadata"].get("labels") or {}
            if labels.get(INSTANCE_LABEL) == instance and labels.get(NAME_LABEL):
                lines += _service(api, state, deployment, now, wanted, ready_after)
        return lines + _collector(api, state)


def _read(api: Store, namespace: str, instance: str) -> _Namespace:
    cr = api.get("weightsandbiases", namespace, instance)
    spec = (cr or {}).get("spec") or {}
    values = _dict(spec.get("values"))
    version = str((spec.get("chart") or {}).get("version") or "")
    parsed = parse_version(version)
    fuse: bool | None = None
    if cr is not None:
        # as the chart renders it: an enabled block, a GCS bucket on GCP (core.parquet.fuse_honoured)
        fuse = fuse_honoured(values) and api.get("csidrivers", None, CSI_DRIVER) is not None
    return _Namespace(
        namespace,
        instance,
        cr,
        values,
        parsed is not None and parsed >= NEW_LAYOUT,
        f"operator-wandb-{version}",
        fuse,
        api.objects("horizontalpodautoscalers", namespace),
        api.objects("scaledobjects", namespace),
        api.objects("pods", namespace),
        schedulable(api.objects("nodes")),
        api.objects("replicasets", namespace),
    )


def _service(
    api: Store, state: _Namespace, deployment: Obj, now: datetime, wanted: Mapping[str, int], ready_after: timedelta
) -> list[str]:
    label = deployment["metadata"]["labels"][NAME_LABEL]
    spec = catalog.for_label(label, "Deployment")
    key = spec.values_key if spec else label
    values = _dict(state.values.get(key))
    lines: list[str] = []
    scaled_object = next((s for s in state.scaled_objects if _target(s) == deployment["metadata"]["name"]), None)
    if state.cr is not None:
        lines += _keda(api, state, scaled_object, values)
        lines += _hpa(api, state, deployment, key, label, values, now)
        lines += _observability(api, state, deployment, key, values)
    autoscaler = _governing(state, deployment, scaled_object)
    lines += _replicas(api, state, deployment, key, values, autoscaler, wanted.get(key), now)
    mine, pod_lines = sync_pods(
        api,
        deployment,
        pods_of(deployment, state.pods),
        state.pods,
        state.nodes,
        now,
        ready_after,
        state.fuse if label == "parquet" else None,
    )
    sync_deployment_status(api, deployment, mine, now)
    metadata = deployment["metadata"]
    changed = lines or deployment["spec"].get("replicas") != len(mine)  # read again only when written
    current = (api.get("deployments", metadata["namespace"], metadata["name"]) if changed else None) or deployment
    lines += sync_replica_sets(api, current, now, hash_=pods_hash(current, mine), replica_sets=state.replica_sets)
    return lines + pod_lines


# --- observability -------------------------------------------------------------------------


def _observability(api: Store, state: _Namespace, deployment: Obj, key: str, values: Mapping[str, Any]) -> list[str]:
    """As the chart re-renders a service: GORILLA_TRACER from its traceRatio (templates/_env.tpl
    `wandb.observabilityEnvs`), its `podAnnotations` on the pod template (wandb-base), and the
    running pods annotated as the new template's would be (the sandbox does not replace pods on
    a template change; annotations removed from the values stay until then). Reads first and
    copies only what changes: it runs for every Deployment at every reconcile."""
    from wbctl.sandbox.kube.objects.observability import rendered_tracer, set_tracer, tracer_of

    lines: list[str] = []
    metadata = deployment["metadata"]
    template = deployment["spec"]["template"]
    traced = key in TRACED_SERVICES
    tracer = rendered_tracer(state.values, key, state.instance) if traced else None
    wanted = values.get("podAnnotations")
    wanted = {str(k): str(v) for k, v in wanted.items()} if isinstance(wanted, Mapping) else {}
    current = (template.get("metadata") or {}).get("annotations") or {}
    missing = {k: v for k, v in wanted.items() if current.get(k) != v}
    retrace = traced and tracer_of(deployment) != tracer
    if retrace or missing:
        template = copy.deepcopy(template)
        if retrace:
            set_tracer({"metadata": metadata, "spec": {"template": template}}, tracer)
            lines.append(f"deployment/{metadata['name']}: GORILLA_TRACER " + (tracer or "removed"))
        if missing:
            template.setdefault("metadata", {}).setdefault("annotations", {}).update(missing)
            lines.append(f"deployment/{metadata['name']}: pod annotations {', '.join(sorted(missing))}")
        updated = _update(api, "deployments", deployment, {"spec": {"template": template}})
        deployment["spec"]["template"] = template
        metadata["generation"] = updated["metadata"].get("generation")
        metadata["resourceVersion"] = updated["metadata"].get("resourceVersion")
    for pod in pods_of(deployment, state.pods) if wanted else []:
        annotations = pod["metadata"].get("annotations") or {}
        extra = {k: v for k, v in wanted.items() if annotations.get(k) != v}
        if extra:
            pod["metadata"].setdefault("annotations", {}).update(extra)
            api.merge(
                "pods", pod["metadata"]["namespace"], pod["metadata"]["name"], {"metadata": {"annotations": extra}}
            )
            lines.append(f"pod/{pod['metadata']['name']}: annotated {', '.join(sorted(extra))}")
    return lines


def _collector(api: Store, state: _Namespace) -> list[str]:
    """The bundled collector's ConfigMap re-rendered from `otel.daemonset.config` (charts/otel),
    where the namespace has one."""
    from wbctl.core.observability import COLLECTOR_KEY, COLLECTOR_SUFFIXES
    from wbctl.sandbox.kube.objects.observability import rendered_collector_config

    if state.cr is None:
        return []
    name = f"{state.instance}{COLLECTOR_SUFFIXES[0]}"
    version = str((state.cr.get("metadata") or {}).get("resourceVersion", ""))
    if _COLLECTOR_RENDERED.get((id(api), state.namespace, name)) == version:
        return []  # rendered from this very resource already
    config_map = api.get("configmaps", state.namespace, name)
    if config_map is None:
        return []
    _COLLECTOR_RENDERED[(id(api), state.namespace, name)] = version
    text = rendered_collector_config(state.values)
    if (config_map.get("data") or {}).get(COLLECTOR_KEY) == text:
        return []
    api.merge("configmaps", state.namespace, name, {"data": {COLLECTOR_KEY: text}})
    return [f"configmap/{name}: the collector's config re-rendered"]


# (store, namespace, ConfigMap) -> the resource's version the collector was last rendered from
_COLLECTOR_RENDERED: dict[tuple[int, str, str], str] = {}


# --- autoscalers ---------------------------------------------------------------------------


def _target(obj: Mapping[str, Any]) -> str:
    return str(((obj.get("spec") or {}).get("scaleTargetRef") or {}).get("name", ""))


def _dict(value: Any) -> dict[str, Any]:
    """A values block that is a mapping, or an empty one (a block the chart would ignore)."""
    return value if isinstance(value, dict) else {}


def _int(value: Any, default: int | None) -> int | None:
    if isinstance(value, bool):
        return default
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return default


def _keda_owned(hpa: Mapping[str, Any]) -> bool:
    metadata = hpa["metadata"]
    return any(ref.get("kind") == "ScaledObject" for ref in metadata.get("ownerReferences") or []) or metadata[
        "name"
    ].startswith("keda-hpa-")


def _chart_made(hpa: Mapping[str, Any]) -> bool:
    labels = hpa["metadata"].get("labels") or {}
    return str(labels.get("helm.sh/chart", "")).startswith("operator-wandb") and not _keda_owned(hpa)


def _governing(state: _Namespace, deployment: Obj, scaled_object: Obj | None) -> Obj | None:
    """The HPA the HPA controller acts through: KEDA's when a ScaledObject scales the
    Deployment, else any HPA on it (the chart's, or one made by hand)."""
    on_it = [h for h in state.hpas if _target(h) == deployment["metadata"]["name"]]
    keda = [h for h in on_it if _keda_owned(h)] if scaled_object is not None else []
    return next(iter(keda or on_it), None)


def _bounds(spec: Mapping[str, Any]) -> tuple[int, int]:
    low = _int(spec.get("minReplicas"), 1) or 1
    return low, max(_int(spec.get("maxReplicas"), low) or low, low)


def _cpu(metrics: Any) -> int | None:
    for metric in metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            return _int((resource.get("target") or {}).get("averageUtilization"), None)
    return None


def _with_cpu(metrics: Any, percent: int) -> list[Obj]:
    cpu = {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}},
    }
    others = [
        m for m in metrics or [] if not (m.get("type") == "Resource" and (m.get("resource") or {}).get("name") == "cpu")
    ]
    return [cpu, *others]


def _update(api: Store, resource: str, obj: Obj, patch: Obj) -> Obj:
    """Merge-patch a spec change as the API server takes it (generation bumped) and return it."""
    metadata = obj["metadata"]
    patch = {**patch, "metadata": {**patch.get("metadata", {}), "generation": int(metadata.get("generation", 1)) + 1}}
    return api.merge(resource, metadata.get("namespace"), metadata["name"], patch)


def _replace(items: list[Obj], old: Obj, new: Obj | None) -> None:
    index = next(i for i, item in enumerate(items) if item["metadata"]["name"] == old["metadata"]["name"])
    if new is None:
        del items[index]
    else:
        items[index] = new


def _keda(api: Store, state: _Namespace, scaled_object: Obj | None, values: Mapping[str, Any]) -> list[str]:
    """The values' KEDA bounds onto an existing ScaledObject; KEDA's HPA after it."""
    if scaled_object is None:
        return []
    lines: list[str] = []
    keda = _dict(_dict(values.get("autoscaling")).get("keda"))
    name, spec = scaled_object["metadata"]["name"], scaled_object["spec"]
    old = (_int(spec.get("minReplicaCount"), 0) or 0, _int(spec.get("maxReplicaCount"), 100) or 0)  # KEDA's defaults
    new = (_int(keda.get("minReplicaCount"), old[0]) or 0, _int(keda.get("maxReplicaCount"), old[1]) or 0)
    if new != old:
        updated = _update(
            api, "scaledobjects", scaled_object, {"spec": {"minReplicaCount": new[0], "maxReplicaCount": new[1]}}
        )
        _replace(state.scaled_objects, scaled_object, updated)
        lines.append(f"scaledobject/{name}: {old[0]}-{old[1]} -> {new[0]}-{new[1]} replicas")
    for hpa in [h for h in state.hpas if _keda_owned(h) and _target(h) == _target(scaled_object)]:
        bounds = (max(new[0], 1), max(new[1], new[0], 1))  # KEDA's HPA never goes below 1
        if _bounds(hpa["spec"]) != bounds:
            before = _bounds(hpa["spec"])
            updated = _update(
                api, "horizontalpodautoscalers", hpa, {"spec": {"minReplicas": bounds[0], "maxReplicas": bounds[1]}}
            )
            _replace(state.hpas, hpa, updated)
            lines.append(
                f"horizontalpodautoscaler/{hpa['metadata']['name']}: {before[0]}-{before[1]} -> "
                f"{bounds[0]}-{bounds[1]} (KEDA, after scaledobject/{name})"
            )
    return lines


@dataclass(frozen=True)
class _RenderedHpa:
    """The chart's HPA as the values render it."""

    name: str
    labels: dict[str, str]
    ref: dict[str, str]  # its scaleTargetRef
    low: int
    high: int
    cpu: int


def _hpa(
    api: Store, state: _Namespace, deployment: Obj, key: str, label: str, values: Mapping[str, Any], now: datetime
) -> list[str]:
    """The chart's HPA `<instance>-<svc>` as the values render it: created, updated or removed."""
    autoscaling = _dict(values.get("autoscaling"))
    horizontal = _dict(autoscaling.get("horizontal") if state.new_layout else autoscaling)
    name, target = f"{state.instance}-{key}", deployment["metadata"]["name"]
    existing = next((h for h in state.hpas if h["metadata"]["name"] == name), None)
    if horizontal.get("enabled") is not True:
        if existing is None or not _chart_made(existing) or _target(existing) != target:
            return []
        api.remove("horizontalpodautoscalers", state.namespace, name)
        _replace(state.hpas, existing, None)
        return [f"deleted horizontalpodautoscaler/{name} (autoscaling is off in weightsandbiases/{state.instance})"]
    low = _int(horizontal.get("minReplicas"), DEFAULT_MIN) or DEFAULT_MIN
    rendered = _RenderedHpa(
        name,
        chart_labels(label, state.instance, state.chart_label),
        {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        low,
        max(_int(horizontal.get("maxReplicas"), DEFAULT_MAX) or DEFAULT_MAX, low),
        _int(horizontal.get("targetCPUUtilizationPercentage" if state.new_layout else "targetCPU"), DEFAULT_CPU)
        or DEFAULT_CPU,
    )
    if existing is None:
        return _create_hpa(api, state, deployment, rendered, now)
    return _update_hpa(api, state, existing, rendered)


def _create_hpa(api: Store, state: _Namespace, deployment: Obj, hpa: _RenderedHpa, now: datetime) -> list[str]:
    current = int(deployment["spec"].get("replicas", 1))
    created = timestamp(now)
    conditions = hpa_status(current, created)["conditions"]
    state.hpas.append(
        api.add(
            {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {
                    "name": hpa.name,
                    "namespace": state.namespace,
                    "creationTimestamp": created,
                    "labels": hpa.labels,
                },
                "spec": {
                    "scaleTargetRef": hpa.ref,
                    "minReplicas": hpa.low,
                    "maxReplicas": hpa.high,
                    "metrics": _with_cpu([], hpa.cpu),
                },
                "status": {"currentReplicas": current, "desiredReplicas": current, "conditions": conditions},
            }
        )
    )
    return [f"created horizontalpodautoscaler/{hpa.name} ({hpa.low}-{hpa.high}, cpu target {hpa.cpu}%)"]


def _update_hpa(api: Store, state: _Namespace, existing: Obj, hpa: _RenderedHpa) -> list[str]:
    spec, metadata = existing["spec"], existing["metadata"]
    low, high, cpu = hpa.low, hpa.high, hpa.cpu
    before, old_cpu = _bounds(spec), _cpu(spec.get("metrics"))
    patch: Obj = {}
    if (spec.get("minReplicas"), spec.get("maxReplicas")) != (low, high):
        patch.update(minReplicas=low, maxReplicas=high)
    if old_cpu != cpu:
        patch["metrics"] = _with_cpu(spec.get("metrics"), cpu)
    if spec.get("scaleTargetRef") != hpa.ref:
        patch["scaleTargetRef"] = hpa.ref
    relabel = {k: v for k, v in hpa.labels.items() if (metadata.get("labels") or {}).get(k) != v}
    if not patch and not relabel:
        return []
    body: Obj = {"metadata": {"labels": relabel}} if relabel else {}
    if patch:
        updated = _update(api, "horizontalpodautoscalers", existing, {**body, "spec": patch})
    else:
        updated = api.merge("horizontalpodautoscalers", state.namespace, hpa.name, body)
    _replace(state.hpas, existing, updated)
    changes = [f"{before[0]}-{before[1]} -> {low}-{high}"] if before != (low, high) else []
    changes += [f"cpu target {old_cpu}% -> {cpu}%"] if old_cpu != cpu else []
    changes += ["now the chart's (labels)"] if relabel else []
    return [f"horizontalpodautoscaler/{hpa.name}: {', '.join(changes or ['scale target ' + hpa.ref['name']])}"]


# --- replicas --------------------------------------------------------------------------------


def _replicas(
    api: Store,
    state: _Namespace,
    deployment: Obj,
    key: str,
    values: Mapping[str, Any],
    hpa: Obj | None,
    wanted: int | None,
    now: datetime,
) -> list[str]:
    metadata = deployment["metadata"]
    current = int(deployment["spec"].get("replicas", 1))
    rendered = _int((metadata.get("annotations") or {}).get(RENDERED_REPLICAS), None)
    record = rendered is None and state.cr is not None
    if hpa is not None:
        low, high = _bounds(hpa["spec"])
        target = min(max(current if wanted is None else wanted, low), high)
        why = f" (horizontalpodautoscaler/{hpa['metadata']['name']}, {low}-{high})"
    elif state.cr is not None:
        count = _int(values.get("replicaCount"), None)
        target = count if count is not None else (current if rendered is None else rendered)
        why = f" (values.{key}.replicaCount)" if count is not None else " (as the chart renders it)"
    else:
        target, why = current, ""
    lines: list[str] = []
    if target != current or record:
        patch: Obj = {"metadata": {"annotations": {RENDERED_REPLICAS: str(current)}}} if record else {}
        if target != current:
            updated = _update(api, "deployments", deployment, {**patch, "spec": {"replicas": target}})
            lines.append(f"deployment/{metadata['name']}: {current} -> {target} replicas{why}")
        else:
            updated = api.merge("deployments", state.namespace, metadata["name"], patch)
        deployment.clear()
        deployment.update(updated)
    if hpa is not None:
        lines += _hpa_status(api, state, hpa, current, target, wanted, now)
    return lines


def _limit(hpa: Obj, asked: int | None, target: int) -> tuple[str, str, str]:
    """ScalingLimited as the HPA controller words it: from what it wants (`asked`) when the
    caller says; otherwise its last word stands, unless the bounds have made it untrue."""
    low, high = _bounds(hpa["spec"])
    if asked is not None:
        return _AT_MAX if asked > high else _TOO_FEW if asked < low else _WITHIN
    last = next(
        (c for c in (hpa.get("status") or {}).get("conditions") or [] if c.get("type") == "ScalingLimited"), None
    )
    if last is None:
        return _WITHIN
    word = _words(last)
    if (word[1] == "TooManyReplicas" and target < high) or (word[1] == "TooFewReplicas" and target > low):
        return _WITHIN
    return word


def _hpa_status(
    api: Store, state: _Namespace, hpa: Obj, before: int, target: int, wanted: int | None, now: datetime
) -> list[str]:
    """The HPA controller's status after it scaled the Deployment (or chose not to)."""
    old = hpa.get("status") or {}
    status = copy.deepcopy(old)
    status.update(currentReplicas=target, desiredReplicas=target)
    if target != before:
        status["lastScaleTime"] = timestamp(now)
    limit = _limit(hpa, wanted, target)
    last: dict[str, Any] = next((c for c in old.get("conditions") or [] if c.get("type") == "ScalingLimited"), {})
    changed = (last.get("status"), last.get("reason")) != limit[:2]
    status["conditions"] = [
        *(c for c in status.get("conditions") or [] if c.get("type") != "ScalingLimited"),
        {
            "type": "ScalingLimited",
            "status": limit[0],
            "reason": limit[1],
            "message": limit[2],
            "lastTransitionTime": timestamp(now) if changed else last.get("lastTransitionTime", timestamp(now)),
        },
    ]
    if status == old:
        return []
    name = hpa["metadata"]["name"]
    updated = api.merge(
        "horizontalpodautoscalers", state.namespace, name, {"status": {k: status.get(k) for k in {*old, *status}}}
    )
    _replace(state.hpas, hpa, updated)
    if target != before:
        event = rescale_event(updated, now=now)
        event["message"] = f"New size: {target}; reason: {_rescale_reason(hpa, before, target, wanted)}"
        api.add(event)
    if changed and limit[0] == "True":
        return [
            f"horizontalpodautoscaler/{name}: wants {wanted if wanted is not None else before}, "
            f"limited to {target} (ScalingLimited: {limit[1]})"
        ]
    if changed and last.get("status") == "True":
        return [f"horizontalpodautoscaler/{name}: no longer limited ({limit[1]})"]
    return []


def _rescale_reason(hpa: Obj, before: int, target: int, wanted: int | None) -> str:
    """The SuccessfulRescale event's reason, in the HPA controller's words."""
    low, high = _bounds(hpa["spec"])
    if before < low and wanted is None:
        return "Current number of replicas below Spec.MinReplicas"
    if before > high and wanted is None:
        return "Current number of replicas above Spec.MaxReplicas"
    if target > before:
        return "cpu resource utilization (percentage of request) above target"
    return "All metrics below target"
