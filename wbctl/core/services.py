"""The guide's services as they run (service_view.py maps them), judged against the guide,
and shown by `services list` and `services status`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wbctl.core import catalog, pod_health
from wbctl.core.catalog import ServiceSpec
from wbctl.core.kube import Autoscaler, Container, Generation, KubeObservation
from wbctl.core.model import Finding, Report, Status
from wbctl.core.pod_health import PodProblem, Settings
from wbctl.core.scaling import AutoscaleRequest, ScaleRequest
from wbctl.core.service_view import ServiceView, map_services
from wbctl.core.versions import parse_version

__all__ = ["ServiceView", "check", "list_cells", "list_rows", "map_services", "status_document"]

API_ARRIVED = (0, 23, 0)
HEALTH_WINDOW = 3600  # seconds back an OOM kill or a restart counts, unless the caller's window says


# --- the guide's checks ---------------------------------------------------------------


def _present(view: ServiceView, spec: ServiceSpec, observation: KubeObservation) -> Finding:
    check = f"services.{spec.name}.present"
    target = observation.target
    if view.workload is not None:
        ready = len(view.ready_pods)
        desired = view.workload.desired
        detail = f"{view.workload.kind} {view.workload.name}" + (
            f", {ready}/{desired} ready" if desired is not None else ""
        )
        return Finding(check, Status.OK, target, view.workload.name, "present", detail)
    absent = observation.absent(spec.name)
    if absent is not None:  # e.g. wandb-app on the v2 operator: not a failure
        return Finding(check, Status.OK, target, None, f"absent from {observation.generation.value}", absent)
    if not spec.required:
        return Finding(check, Status.OK, target, None, "optional", "not deployed (optional)")
    if observation.generation is Generation.V2:
        remedy = (
            f"the v2 operator runs {spec.short} from its server manifest: see status.conditions of the "
            "WeightsAndBiases resource and the operator's log"
        )
        return Finding(check, Status.FAIL, target, None, "present", "not deployed", remedy)
    chart = observation.cr.chart_version if observation.cr else None
    version = parse_version(chart)
    if spec.name == "wandb-api" and version is not None and version < API_ARRIVED:
        message = f"not deployed: chart {chart} has no wandb-api (it arrived in operator-wandb 0.23.0)"
        remedy = "upgrade the operator-wandb chart to 0.23.0 or later (spec.chart.version in the CR)"
    else:
        message = "not deployed"
        remedy = f"set values.{spec.values_key}.install: true in the WeightsAndBiases resource"
    return Finding(check, Status.FAIL, target, None, "present", message, remedy)


def _replicas(view: ServiceView, spec: ServiceSpec, target: str) -> Finding:
    ready = len(view.ready_pods)
    check = f"services.{spec.name}.replicas"
    expected = f">= {spec.min_replicas}"
    if ready >= spec.min_replicas:
        return Finding(check, Status.OK, target, ready, expected, f"{ready} ready replicas")
    autoscaler = view.autoscaler
    proposal: AutoscaleRequest | ScaleRequest
    if autoscaler is not None:
        proposal = AutoscaleRequest(
            spec.name, spec.min_replicas, max(autoscaler.max_replicas or 0, spec.min_replicas * 3)
        )
    else:
        proposal = ScaleRequest(spec.name, spec.min_replicas)
    message = f"{ready} ready; the guide asks for at least {spec.min_replicas}, on different machines"
    return Finding(check, Status.FAIL, target, ready, expected, message, proposal=proposal)


def _spread_where(spec: ServiceSpec, generation: Generation) -> str:
    """Where the install's pod placement is set: per service on v1, once for every app on v2."""
    if generation is Generation.V2:
        return "spec.affinity in the WeightsAndBiases resource, for every app"
    return f"values.{spec.values_key} in the WeightsAndBiases resource"


def _spread(view: ServiceView, spec: ServiceSpec, target: str, generation: Generation = Generation.V1) -> Finding:
    nodes = view.nodes
    check = f"services.{spec.name}.spread"
    expected = f">= {spec.min_replicas} nodes"
    if len(nodes) >= spec.min_replicas:
        return Finding(check, Status.OK, target, len(nodes), expected, f"ready replicas on {len(nodes)} nodes")
    ready = len(view.ready_pods)
    message = f"{ready} ready replicas on {len(nodes)} node(s); the guide asks for different machines"
    if ready < spec.min_replicas:
        autoscaler = view.autoscaler
        proposal: AutoscaleRequest | ScaleRequest = ScaleRequest(spec.name, spec.min_replicas)
        if generation is Generation.V2 and autoscaler is not None:  # v2 sets replicas by bounds alone
            proposal = AutoscaleRequest(
                spec.name, spec.min_replicas, max(autoscaler.max_replicas or 0, spec.min_replicas * 3)
            )
        return Finding(check, Status.FAIL, target, len(nodes), expected, message, proposal=proposal)
    remedy = (
        f"spread the pods: pod anti-affinity or topologySpreadConstraints on kubernetes.io/hostname "
        f"({_spread_where(spec, generation)}), and enough nodes"
    )
    return Finding(check, Status.FAIL, target, len(nodes), expected, message, remedy)


def _autoscaling(view: ServiceView, spec: ServiceSpec, target: str) -> Finding:
    check = f"services.{spec.name}.autoscaling"
    autoscaler = view.autoscaler
    if autoscaler is not None and autoscaler.enabled:
        kind = "KEDA ScaledObject" if autoscaler.kind == "ScaledObject" or autoscaler.keda else "HPA"
        bounds = f"{autoscaler.min_replicas}-{autoscaler.max_replicas}"
        return Finding(
            check,
            Status.OK,
            target,
            f"{kind} {autoscaler.name} {bounds}",
            "enabled",
            f"autoscaled by {kind} {autoscaler.name} ({bounds} replicas)",
        )
    proposal = AutoscaleRequest(spec.name, spec.min_replicas, 10)
    return Finding(
        check,
        Status.FAIL,
        target,
        None,
        "enabled",
        "no autoscaler; the guide recommends autoscaling",
        proposal=proposal,
    )


def _single_instance(view: ServiceView, spec: ServiceSpec, target: str) -> Finding:
    check = f"services.{spec.name}.single-instance"
    desired = view.workload.desired if view.workload else None
    autoscaler = view.autoscaler
    most = max(desired or 0, len(view.pods), (autoscaler.max_replicas or 0) if autoscaler else 0)
    if most <= 1:
        return Finding(check, Status.OK, target, most, 1, "one replica")
    if autoscaler is not None and (autoscaler.max_replicas or 0) > 1:
        remedy = f"wbctl services autoscale {spec.name} --disable, then wbctl services scale {spec.name} --replicas 1"
    else:
        return Finding(
            check,
            Status.FAIL,
            target,
            most,
            1,
            f"up to {most} replicas; the guide says {spec.name} cannot run in HA mode",
            proposal=ScaleRequest(spec.name, 1),
        )
    message = f"up to {most} replicas; the guide says {spec.name} cannot run in HA mode"
    return Finding(check, Status.FAIL, target, most, 1, message, remedy)


def settings_of(view: ServiceView, generation: Generation) -> Settings:
    """Where the service's settings are written, for its remedies."""
    key = view.spec.values_key if view.spec else view.name.removeprefix(catalog.PREFIX)
    return Settings(view.name, key, generation)


def health_problems(
    view: ServiceView, observation: KubeObservation, *, kubectl: str, now: datetime | None, window: int | None
) -> list[PodProblem]:
    """The service's pods' trouble (pod_health.py), memory against its pod template's limits."""
    limits = {
        c.name: c.limits["memory"] for c in (view.workload.containers if view.workload else ()) if "memory" in c.limits
    }
    return pod_health.pod_problems(
        view.pods,
        settings_of(view, observation.generation),
        kubectl=kubectl,
        now=now,
        window=window,
        memory=observation.pod_memory,
        limits=limits,
    )


def _memory_note(observation: KubeObservation, limited: bool) -> str:
    if observation.pod_memory is None:
        return f"; memory use unknown: {observation.memory_unknown}"
    return "" if limited else "; memory: no limit set"


def _health(
    view: ServiceView,
    spec: ServiceSpec,
    observation: KubeObservation,
    *,
    kubectl: str,
    now: datetime | None,
    window: int | None,
) -> Finding:
    check = f"services.{spec.name}.health"
    target = observation.target
    problems = health_problems(view, observation, kubectl=kubectl, now=now, window=window)
    limited = any("memory" in c.limits for c in (view.workload.containers if view.workload else ()))
    note = _memory_note(observation, limited)
    if not problems:
        pods = len([p for p in view.pods if not (p.job_pod and p.phase in ("Succeeded", "Failed"))])
        return Finding(check, Status.OK, target, 0, 0, f"{pods} pod(s) healthy{note}")
    shown = "; ".join(p.text for p in problems[:3]) + (f" (+{len(problems) - 3} more)" if len(problems) > 3 else "")
    return Finding(check, pod_health.worst(problems), target, len(problems), 0, shown + note, problems[0].next)


def check_ids() -> list[str]:
    """The ids `check` reports for a deployment that runs every service of the guide."""
    ids: list[str] = []
    for spec in catalog.CATALOG:
        ids.append(f"services.{spec.name}.present")
        ids.append(f"services.{spec.name}.health")
        if spec.min_replicas >= 3:
            ids.append(f"services.{spec.name}.replicas")
        if spec.spread_required:
            ids.append(f"services.{spec.name}.spread")
        if spec.autoscale:
            ids.append(f"services.{spec.name}.autoscaling")
        if spec.single_instance:
            ids.append(f"services.{spec.name}.single-instance")
    return ids


def check(
    observation: KubeObservation,
    *,
    now: datetime | None = None,
    window: int | None = HEALTH_WINDOW,
    kubectl: str | None = None,
) -> Report:
    """The guide's checks of every service, and its pods' health (`services.<service>.health`):
    an OOM kill or a restart counts within `window` seconds before `now`; `kubectl` starts the
    printed looks (default: `kubectl -n <namespace>`)."""
    kubectl = kubectl or f"kubectl -n {observation.namespace}"
    findings: list[Finding] = []
    target = observation.target
    for view in map_services(observation):
        spec = view.spec
        if spec is None or view.name != spec.name:
            continue
        findings.append(_present(view, spec, observation))
        if view.workload is None:
            continue
        findings.append(_health(view, spec, observation, kubectl=kubectl, now=now, window=window))
        if spec.min_replicas >= 3:
            findings.append(_replicas(view, spec, target))
        if spec.spread_required:
            findings.append(_spread(view, spec, target, observation.generation))
        if spec.autoscale:
            findings.append(_autoscaling(view, spec, target))
        if spec.single_instance:
            findings.append(_single_instance(view, spec, target))
    return Report(tuple(findings))


# --- what `services list` and `services status` show ------------------------------------

GOVERNING_VALUES = ("install", "replicaCount", "autoscaling", "size", "resources", "image")


def _autoscaler_json(autoscaler: Autoscaler | None) -> dict[str, object] | None:
    if autoscaler is None:
        return None
    return {
        "kind": autoscaler.kind,
        "name": autoscaler.name,
        "min": autoscaler.min_replicas,
        "max": autoscaler.max_replicas,
        "current": autoscaler.current,
        "desired": autoscaler.desired,
        "cpu_target": autoscaler.cpu_target,
        "keda": autoscaler.keda,
        "last_scale": autoscaler.last_scale.isoformat() if autoscaler.last_scale else None,
        "conditions": [
            {"type": c.type, "status": c.status, "reason": c.reason, "message": c.message}
            for c in autoscaler.conditions
        ],
    }


def list_cells(row: dict[str, Any]) -> dict[str, Any]:
    """A `list_rows` row as the table shows it: ready as 3/3, the autoscaler as min-max, now N."""
    autoscaler = row["autoscaling"]
    role = f"{row['absent']} ({row['role']})" if row.get("absent") else row["role"]
    if not row["present"]:
        ready = None
    elif row["kind"] == "CronJob":
        ready = "suspended" if row.get("suspended") else f"{row['ready']} active"
    else:
        ready = f"{row['ready']}/{row['desired']}"
    scaling = None
    if autoscaler:
        now = f", now {autoscaler['current']}" if autoscaler["current"] is not None else ""
        scaling = f"{autoscaler['min']}-{autoscaler['max']}{now}"
    return {**row, "ready": ready, "autoscaling": scaling, "role": role}


def list_rows(observation: KubeObservation) -> list[dict[str, object]]:
    rows: list[dict[str, object]] = []
    for view in map_services(observation):
        workload = view.workload
        tags = sorted({c.tag for c in workload.containers}) if workload else []
        rows.append(
            {
                "service": view.name,
                "in_guide": view.spec is not None,
                "known": view.spec is not None or view.known is not None,
                "present": workload is not None,
                "kind": workload.kind if workload else None,
                "workload": workload.name if workload else None,
                "desired": workload.desired if workload else None,
                "ready": len(view.ready_pods) if workload else None,
                "image": ",".join(tags) or None,
                "autoscaling": _autoscaler_json(view.autoscaler),
                "nodes": len(view.nodes) if workload else None,
                "suspended": workload.suspended if workload else None,
                "role": view.role,
                "absent": observation.absent(view.spec.name) if view.spec and not workload else None,
            }
        )
    return rows


def _age(started: datetime | None, now: datetime) -> int | None:
    return None if started is None else max(0, int((now - started).total_seconds()))


@dataclass(frozen=True)
class PodLine:
    name: str
    node: str | None
    zone: str | None
    phase: str
    ready: bool
    restarts: int
    age_seconds: int | None


@dataclass(frozen=True)
class WorkloadLine:
    kind: str
    name: str
    desired: int | None
    ready: int
    schedule: str | None = None  # a CronJob's
    suspended: bool | None = None
    last_schedule: datetime | None = None
    last_success: datetime | None = None


@dataclass(frozen=True)
class ServiceStatus:
    """What `services status` shows of one service: typed, rendered by the command."""

    service: str
    role: str
    workload: WorkloadLine | None
    pods: tuple[PodLine, ...]
    containers: tuple[Container, ...]
    autoscaler: Autoscaler | None
    cr_values: dict[str, Any]
    health: tuple[PodProblem, ...] = ()  # its pods' trouble, worst first (pod_health.py)

    @property
    def health_status(self) -> Status | None:
        """Its pods' health in a word (None: nothing deployed to judge)."""
        return None if self.workload is None else pod_health.worst(self.health)

    def to_json(self) -> dict[str, object]:
        workload = self.workload
        entry: dict[str, object] = {
            "service": self.service,
            "role": self.role,
            "present": workload is not None,
            "workload": None
            if workload is None
            else {"kind": workload.kind, "name": workload.name, "desired": workload.desired, "ready": workload.ready},
            "pods": [pod.__dict__.copy() for pod in self.pods],
            "containers": [
                {"name": c.name, "image": c.image, "requests": c.requests, "limits": c.limits} for c in self.containers
            ],
            "autoscaler": _autoscaler_json(self.autoscaler),
            "cr_values": self.cr_values,
            "health": None
            if self.health_status is None
            else {
                "status": self.health_status.value,
                "problems": [
                    {"pod": p.pod, "status": p.status.value, "what": p.what, "message": p.text, "remedy": p.next}
                    for p in self.health
                ],
            },
        }
        if workload is not None and workload.kind == "CronJob":
            entry["cronjob"] = {
                "schedule": workload.schedule,
                "suspended": workload.suspended,
                "last_schedule": workload.last_schedule.isoformat() if workload.last_schedule else None,
                "last_success": workload.last_success.isoformat() if workload.last_success else None,
            }
        return entry


def status_views(
    observation: KubeObservation, views: list[ServiceView], now: datetime, kubectl: str | None = None
) -> list[ServiceStatus]:
    kubectl = kubectl or f"kubectl -n {observation.namespace}"
    cr = observation.cr
    result: list[ServiceStatus] = []
    for view in views:
        workload = view.workload
        key = view.spec.values_key if view.spec else view.name.removeprefix(catalog.PREFIX)
        service_values: dict[str, Any] = cr.service_values(key) if cr else {}
        line = (
            None
            if workload is None
            else WorkloadLine(
                workload.kind,
                workload.name,
                workload.desired,
                len(view.ready_pods),
                workload.schedule,
                workload.suspended,
                workload.last_schedule,
                workload.last_success,
            )
        )
        pods = tuple(
            PodLine(
                pod.name,
                pod.node,
                observation.node_zones.get(pod.node or "") or None,
                pod.phase,
                pod.ready,
                pod.restarts,
                _age(pod.started, now),
            )
            for pod in view.pods
        )
        result.append(
            ServiceStatus(
                view.name,
                view.role,
                line,
                pods,
                workload.containers if workload else (),
                view.autoscaler,
                {k: service_values[k] for k in GOVERNING_VALUES if k in service_values},
                tuple(health_problems(view, observation, kubectl=kubectl, now=now, window=HEALTH_WINDOW)),
            )
        )
    return result


def status_document(observation: KubeObservation, views: list[ServiceView], now: datetime) -> list[dict[str, object]]:
    return [status.to_json() for status in status_views(observation, views, now)]
