"""The Kubernetes adapter's converters: API objects as the server sends them (JSON) into
wbctl's observations (Workload, Pod, Autoscaler, WandbResource of wbctl.core.kube), tolerant
of the fields the API server omits when empty. Pure functions, no client: separate so the
mapping from the API's shapes to wbctl's reads, and tests, without a cluster.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from wbctl.core.kube import (
    Autoscaler,
    Condition,
    Container,
    EnvVar,
    Generation,
    Pod,
    WandbResource,
    Workload,
)
from wbctl.core.quantities import bytes_of


def one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _env(container: dict[str, Any]) -> tuple[EnvVar, ...]:
    result = []
    for entry in container.get("env") or []:
        value_from = entry.get("valueFrom") or {}
        ref = value_from.get("configMapKeyRef") or {}
        config_map = (str(ref.get("name", "")), str(ref.get("key", ""))) if ref else None
        secret_ref = value_from.get("secretKeyRef") or {}
        secret = (str(secret_ref.get("name", "")), str(secret_ref.get("key", ""))) if secret_ref else None
        value = entry.get("value")
        result.append(EnvVar(str(entry.get("name", "")), None if value is None else str(value), config_map, secret))
    return tuple(result)


def _containers(pod_spec: dict[str, Any] | None) -> tuple[Container, ...]:
    result = []
    for container in (pod_spec or {}).get("containers") or []:
        resources = container.get("resources") or {}
        result.append(
            Container(
                container.get("name", ""),
                container.get("image", ""),
                {k: str(v) for k, v in (resources.get("requests") or {}).items()},
                {k: str(v) for k, v in (resources.get("limits") or {}).items()},
                env=_env(container),
                env_from=tuple(
                    str((source.get("configMapRef") or {}).get("name", ""))
                    for source in container.get("envFrom") or []
                    if source.get("configMapRef")
                ),
            )
        )
    return tuple(result)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def deployment(obj: dict[str, Any]) -> Workload:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return Workload(
        kind="Deployment",
        name=_meta(obj).get("name", ""),
        labels=dict(_meta(obj).get("labels") or {}),
        selector=dict(((spec.get("selector") or {}).get("matchLabels")) or {}),
        desired=spec.get("replicas"),
        ready=status.get("readyReplicas") or 0,
        containers=_containers((spec.get("template") or {}).get("spec")),
        resource_version=_meta(obj).get("resourceVersion", ""),
    )


def cronjob(obj: dict[str, Any]) -> Workload:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    return Workload(
        kind="CronJob",
        name=_meta(obj).get("name", ""),
        labels=dict(_meta(obj).get("labels") or {}),
        selector={},
        desired=None,
        ready=len(status.get("active") or []),
        containers=_containers(template.get("spec")),
        schedule=spec.get("schedule"),
        suspended=bool(spec.get("suspend")),
        last_schedule=_time(status.get("lastScheduleTime")),
        last_success=_time(status.get("lastSuccessfulTime")),
        resource_version=_meta(obj).get("resourceVersion", ""),
    )


def pod(obj: dict[str, Any]) -> Pod:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    labels = dict(_meta(obj).get("labels") or {})
    owners = {ref.get("kind") for ref in _meta(obj).get("ownerReferences") or []}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    statuses = status.get("containerStatuses") or []
    scheduled: dict[str, Any] = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
    return Pod(
        name=_meta(obj).get("name", ""),
        labels=labels,
        node=spec.get("nodeName"),
        phase=status.get("phase") or "Unknown",
        ready=ready,
        restarts=sum(int(c.get("restartCount") or 0) for c in statuses),
        started=_time(status.get("startTime")),
        job_pod="Job" in owners or "job-name" in labels or "batch.kubernetes.io/job-name" in labels,
        annotations=dict(_meta(obj).get("annotations") or {}),
        waiting=tuple(
            str(w["reason"]) for c in statuses if (w := (c.get("state") or {}).get("waiting")) and w.get("reason")
        ),
        last_terminated=tuple(
            str(t["reason"])
            for c in statuses
            if (t := (c.get("lastState") or {}).get("terminated")) and t.get("reason")
        ),
        unschedulable=one_line(str(scheduled.get("message") or scheduled.get("reason") or ""))
        if scheduled.get("status") == "False"
        else "",
        last_terminated_at=max(
            (
                moment
                for c in statuses
                if (moment := _time(((c.get("lastState") or {}).get("terminated") or {}).get("finishedAt")))
            ),
            default=None,
        ),
        waiting_messages=tuple(
            one_line(str(w["message"]))
            for c in statuses
            if (w := (c.get("state") or {}).get("waiting")) and w.get("message")
        ),
    )


def pod_memory(obj: dict[str, Any]) -> tuple[str, dict[str, int]]:
    """A PodMetrics (metrics.k8s.io): the pod's name, and each container's memory in use (bytes)."""
    containers: dict[str, int] = {}
    for container in obj.get("containers") or []:
        used = bytes_of((container.get("usage") or {}).get("memory"))
        if used is not None:
            containers[str(container.get("name", ""))] = used
    return str(_meta(obj).get("name", "")), containers


def cpu_target_percent(metrics: Any) -> int | None:
    for metric in metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            return (resource.get("target") or {}).get("averageUtilization")
    return None


def _metric_names(metrics: Any) -> tuple[str, ...]:
    names = []
    for metric in metrics or []:
        kind = str(metric.get("type", "")).lower()
        inner = metric.get(kind) or {}
        if kind in ("resource", "containerresource"):
            names.append(str(inner.get("name", "")))
        else:
            names.append(f"{kind}:{(inner.get('metric') or {}).get('name', '')}")
    return tuple(names)


def _cpu_current(current_metrics: Any) -> int | None:
    for metric in current_metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            value = (resource.get("current") or {}).get("averageUtilization")
            return int(value) if isinstance(value, (int, float)) else None
    return None


def hpa(obj: dict[str, Any]) -> Autoscaler:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    owners = {ref.get("kind") for ref in _meta(obj).get("ownerReferences") or []}
    name = _meta(obj).get("name", "")
    return Autoscaler(
        kind="HorizontalPodAutoscaler",
        name=name,
        target=(spec.get("scaleTargetRef") or {}).get("name", ""),
        min_replicas=spec.get("minReplicas", 1),
        max_replicas=spec.get("maxReplicas"),
        current=status.get("currentReplicas"),
        desired=status.get("desiredReplicas"),
        cpu_target=cpu_target_percent(spec.get("metrics")),
        last_scale=_time(status.get("lastScaleTime")),
        conditions=tuple(
            Condition(
                str(c.get("type", "")),
                str(c.get("status", "")),
                str(c.get("reason", "")),
                one_line(c.get("message") or c.get("reason") or ""),
            )
            for c in status.get("conditions") or []
        ),
        keda="ScaledObject" in owners or name.startswith("keda-hpa-"),
        resource_version=_meta(obj).get("resourceVersion", ""),
        cpu_current=_cpu_current(status.get("currentMetrics")),
        metrics=_metric_names(spec.get("metrics")),
    )


def scaled_object(obj: dict[str, Any]) -> Autoscaler:
    spec = obj.get("spec") or {}
    return Autoscaler(
        kind="ScaledObject",
        name=_meta(obj).get("name", ""),
        target=(spec.get("scaleTargetRef") or {}).get("name", ""),
        min_replicas=spec.get("minReplicaCount", 0),
        max_replicas=spec.get("maxReplicaCount", 100),
        keda=True,
        resource_version=_meta(obj).get("resourceVersion", ""),
        metrics=tuple(
            str(t.get("type", "")) if t.get("type") in ("cpu", "memory") else f"external:{t.get('type', '')}"
            for t in spec.get("triggers") or []
        ),
    )


def wandb_resource(obj: dict[str, Any]) -> WandbResource:
    """The CR at the version it was read at: v1's chart and values, or v2's spec.wandb and
    status (Ready and its conditions; v2 has no spec.chart and no status.phase)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metadata = _meta(obj)
    if obj.get("apiVersion") == Generation.V2.api_version:
        wandb = spec.get("wandb") or {}
        ready = status.get("ready")
        return WandbResource(
            name=metadata.get("name", ""),
            chart_version=None,
            values={},
            phase=None,
            resource_version=metadata.get("resourceVersion", ""),
            generation=Generation.V2,
            server_version=str(wandb.get("version") or "") or None,
            applications=dict(wandb.get("applications") or {}),
            features={str(k): v is True for k, v in (wandb.get("features") or {}).items()},
            ready=ready if isinstance(ready, bool) else None,
            conditions=tuple(
                Condition(
                    str(c.get("type", "")),
                    str(c.get("status", "")),
                    str(c.get("reason", "")),
                    one_line(str(c.get("message") or c.get("reason") or "")),
                )
                for c in status.get("conditions") or []
            ),
            written_as=spec_written_as(metadata),
            telemetry_status=telemetry if isinstance(telemetry := status.get("telemetryStatus"), dict) else None,
        )
    return WandbResource(
        name=metadata.get("name", ""),
        chart_version=str((spec.get("chart") or {}).get("version") or "") or None,
        values=dict(spec.get("values") or {}),
        phase=status.get("phase"),
        resource_version=metadata.get("resourceVersion", ""),
        written_as=spec_written_as(metadata),
    )


def spec_written_as(metadata: dict[str, Any]) -> str | None:
    """The apiVersion the spec was last written at, from managedFields (the newest entry that
    owns spec fields, the status subresource's left out); None when the server keeps none."""
    latest: tuple[str, str] | None = None
    for entry in metadata.get("managedFields") or []:
        if entry.get("subresource") or "f:spec" not in (entry.get("fieldsV1") or {}):
            continue
        moment = str(entry.get("time") or "")
        if latest is None or moment >= latest[0]:
            latest = (moment, str(entry.get("apiVersion") or ""))
    return latest[1] or None if latest else None
