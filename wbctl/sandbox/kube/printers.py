"""The columns and cells of the API server's Table output, kind by kind, as kube-apiserver's
printers compute them (pkg/printers/internalversion): what `kubectl get` shows. The server
always fills the wide (priority 1) columns too; kubectl shows them with `-o wide`. Kinds the
printers know: Pod, Deployment, ReplicaSet, HorizontalPodAutoscaler, Node, Event, ConfigMap, StatefulSet,
DaemonSet, Job, CronJob; a custom resource gets a CRD's default columns (Name, Age, for a CRD
without additionalPrinterColumns), and any other kind the generic Name and Created At.
Separate from tables.py (content negotiation and the Table object) because this is the
long, kind-by-kind part, and pure: an object in, cells out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from wbctl.sandbox.kube.columns import (
    AGE,
    AGE_DOC,
    CONTAINERS,
    IMAGES,
    NAME,
    SELECTOR,
    column,
    condition_true,
    containers_cells,
    format_selector,
    get_path,
    human_duration,
    labels_text,
    meta,
    selector_text,
    since,
)
from wbctl.sandbox.kube.types import Obj

Cells = list[Any]
Printer = Callable[[Obj, datetime], tuple[Cells, list[Obj] | None]]


# --- the kinds --------------------------------------------------------------------------------


def _terminated_reason(terminated: Obj) -> str:
    return terminated.get("reason") or (
        f"Signal:{terminated['signal']}" if terminated.get("signal") else f"ExitCode:{terminated.get('exitCode', 0)}"
    )


@dataclass
class _PodStatus:
    """What printPod accumulates over a Pod's containers: READY, RESTARTS and STATUS."""

    reason: str
    ready: int = 0
    restarts: int = 0
    last_restart: str = ""
    sidecar_restarts: int = 0
    sidecar_last_restart: str = ""


def _scheduling_reason(status: Obj) -> str:
    reason = status.get("reason") or status.get("phase") or ""
    for condition in status.get("conditions") or []:
        if condition.get("type") == "PodScheduled" and condition.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    return reason


def _init_containers(status: Obj, init_specs: dict[Any, Obj], pod: _PodStatus) -> bool:
    """Count the init containers (restartable ones are sidecars); True while one still runs."""

    def restartable(name: str | None) -> bool:
        return (init_specs.get(name) or {}).get("restartPolicy") == "Always"

    for index, container in enumerate(status.get("initContainerStatuses") or []):
        pod.restarts += container.get("restartCount", 0)
        finished = get_path(container, "lastState.terminated.finishedAt", "")
        pod.last_restart = max(pod.last_restart, finished or "")
        if restartable(container.get("name")):
            pod.sidecar_restarts += container.get("restartCount", 0)
            pod.sidecar_last_restart = max(pod.sidecar_last_restart, finished or "")
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated is not None and terminated.get("exitCode", 0) == 0:
            continue
        if restartable(container.get("name")) and container.get("started"):
            pod.ready += 1 if container.get("ready") else 0
            continue
        if terminated is not None:
            pod.reason = "Init:" + _terminated_reason(terminated)
        elif waiting is not None and waiting.get("reason") and waiting["reason"] != "PodInitializing":
            pod.reason = "Init:" + waiting["reason"]
        else:
            pod.reason = f"Init:{index}/{len(init_specs)}"
        return True
    return False


def _app_containers(status: Obj, pod: _PodStatus) -> None:
    """Count the app containers, the sidecars' restarts kept, the last one's state winning."""
    pod.restarts, pod.last_restart = pod.sidecar_restarts, pod.sidecar_last_restart
    has_running = False
    for container in reversed(status.get("containerStatuses") or []):
        pod.restarts += container.get("restartCount", 0)
        pod.last_restart = max(pod.last_restart, get_path(container, "lastState.terminated.finishedAt", "") or "")
        state = container.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if waiting is not None and waiting.get("reason"):
            pod.reason = waiting["reason"]
        elif terminated is not None:
            pod.reason = _terminated_reason(terminated)
        elif container.get("ready") and state.get("running") is not None:
            has_running = True
            pod.ready += 1
    if pod.reason == "Completed" and has_running:
        pod.reason = "Running" if condition_true(status.get("conditions"), "Ready") else "NotReady"


def _pod_status(pod: Obj, init_specs: dict[Any, Obj]) -> _PodStatus:
    status = pod.get("status") or {}
    counted = _PodStatus(_scheduling_reason(status))
    initializing = _init_containers(status, init_specs, counted)
    if not initializing or condition_true(status.get("conditions"), "Initialized"):
        _app_containers(status, counted)
    if meta(pod).get("deletionTimestamp"):
        if status.get("reason") == "NodeLost":
            counted.reason = "Unknown"
        elif status.get("phase") not in ("Succeeded", "Failed"):
            counted.reason = "Terminating"
    return counted


def _readiness_gates(spec: Obj, status: Obj) -> str:
    gates = spec.get("readinessGates") or []
    if not gates:
        return "<none>"
    by_type = {c.get("type"): c.get("status") for c in reversed(status.get("conditions") or [])}
    return f"{sum(1 for g in gates if by_type.get(g.get('conditionType')) == 'True')}/{len(gates)}"


def _pod(pod: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    spec, status = pod.get("spec") or {}, pod.get("status") or {}
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total = len(spec.get("containers") or []) + sum(
        1 for c in init_specs.values() if c.get("restartPolicy") == "Always"
    )
    counted = _pod_status(pod, init_specs)
    restarts_text = str(counted.restarts)
    if counted.restarts and counted.last_restart:
        restarts_text = f"{counted.restarts} ({since(counted.last_restart, now)} ago)"
    pod_ips = status.get("podIPs") or []
    cells = [
        meta(pod).get("name"),
        f"{counted.ready}/{total}",
        counted.reason,
        restarts_text,
        since(meta(pod).get("creationTimestamp"), now),
        (pod_ips[0].get("ip") if pod_ips else "") or "<none>",
        spec.get("nodeName") or "<none>",
        status.get("nominatedNodeName") or "<none>",
        _readiness_gates(spec, status),
    ]
    phase = status.get("phase")
    conditions = None
    if phase in ("Succeeded", "Failed"):
        message = "The pod has completed successfully." if phase == "Succeeded" else "The pod failed."
        conditions = [{"type": "Completed", "status": "True", "reason": phase, "message": message}]
    return cells, conditions


def _deployment(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        meta(obj).get("name"),
        f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 1)}",
        status.get("updatedReplicas", 0),
        status.get("availableReplicas", 0),
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.template.spec")),
        selector_text(spec.get("selector")),
    ], None


def _metric_text(spec: Obj, status: Obj | None) -> str:
    kind = spec.get("type", "")
    key = kind[:1].lower() + kind[1:]
    source, current = spec.get(key) or {}, (status or {}).get(key) if status else None
    target = source.get("target") or {}
    now_value = (current or {}).get("current") or {}
    if kind in ("External", "Object"):
        if target.get("averageValue") is not None:
            return f"{now_value.get('averageValue') or '<unknown>'}/{target['averageValue']} (avg)"
        return f"{now_value.get('value', '0') if current else '<unknown>'}/{target.get('value', '0')}"
    if kind == "Pods":
        return f"{now_value.get('averageValue', '0') if current else '<unknown>'}/{target.get('averageValue', '0')}"
    if kind in ("Resource", "ContainerResource"):
        if target.get("averageValue") is not None:
            shown = now_value.get("averageValue", "0") if current else "<unknown>"
            return f"{source.get('name')}: {shown}/{target['averageValue']}"
        utilization = now_value.get("averageUtilization")
        goal = target.get("averageUtilization")
        return (
            f"{source.get('name')}: {'<unknown>' if utilization is None else f'{utilization}%'}/"
            f"{'<auto>' if goal is None else f'{goal}%'}"
        )
    return "<unknown type>"


def _hpa(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    metrics, statuses = spec.get("metrics") or [], status.get("currentMetrics") or []
    texts = [_metric_text(m, statuses[i] if i < len(statuses) else None) for i, m in enumerate(metrics)]
    targets = ", ".join(texts[:2]) + (f" + {len(texts) - 2} more..." if len(texts) > 2 else "") if texts else "<none>"
    ref = spec.get("scaleTargetRef") or {}
    minimum = spec.get("minReplicas")
    return [
        meta(obj).get("name"),
        f"{ref.get('kind', '')}/{ref.get('name', '')}",
        targets,
        "<unset>" if minimum is None else str(minimum),
        spec.get("maxReplicas", 0),
        status.get("currentReplicas", 0),
        since(meta(obj).get("creationTimestamp"), now),
    ], None


def _node(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    status, labels = obj.get("status") or {}, meta(obj).get("labels") or {}
    ready = next((c for c in status.get("conditions") or [] if c.get("type") == "Ready"), None)
    states = ["Unknown"] if ready is None else ["Ready" if ready.get("status") == "True" else "NotReady"]
    if get_path(obj, "spec.unschedulable"):
        states.append("SchedulingDisabled")
    roles = sorted(
        {
            k.removeprefix("node-role.kubernetes.io/")
            for k in labels
            if k.startswith("node-role.kubernetes.io/") and k != "node-role.kubernetes.io/"
        }
        | ({labels["kubernetes.io/role"]} if labels.get("kubernetes.io/role") else set())
    )
    addresses = {a.get("type"): a.get("address") for a in reversed(status.get("addresses") or [])}
    info = status.get("nodeInfo") or {}
    return [
        meta(obj).get("name"),
        ",".join(states),
        ",".join(roles) or "<none>",
        since(meta(obj).get("creationTimestamp"), now),
        info.get("kubeletVersion", ""),
        addresses.get("InternalIP") or "<none>",
        addresses.get("ExternalIP") or "<none>",
        info.get("osImage") or "<unknown>",
        info.get("kernelVersion") or "<unknown>",
        info.get("containerRuntimeVersion") or "<unknown>",
    ], None


def _event(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    first = since(obj.get("firstTimestamp") or obj.get("eventTime"), now)
    last = since(obj["lastTimestamp"], now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 1
    if obj.get("series"):
        last, count = since(obj["series"].get("lastObservedTime"), now), obj["series"].get("count", count)
    involved = obj.get("involvedObject") or {}
    target = involved.get("kind", "").lower() + (f"/{involved['name']}" if involved.get("name") else "")
    component = (
        get_path(obj, "source.component") or obj.get("reportingComponent") or obj.get("reportingController") or ""
    )
    host = get_path(obj, "source.host") or obj.get("reportingInstance") or ""
    return [
        last,
        obj.get("type", ""),
        obj.get("reason", ""),
        target,
        involved.get("fieldPath", ""),
        f"{component}, {host}" if host else component,
        (obj.get("message") or "").strip(),
        first,
        count,
        meta(obj).get("name"),
    ], None


def _stateful_set(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    return [
        meta(obj).get("name"),
        f"{get_path(obj, 'status.readyReplicas', 0)}/{get_path(obj, 'spec.replicas', 1)}",
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.template.spec")),
    ], None


def _replica_set(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    """kubectl's ReplicaSet columns (pkg/printers/internalversion: printReplicaSet)."""
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return [
        meta(obj).get("name"),
        spec.get("replicas", 1),
        status.get("replicas", 0),
        status.get("readyReplicas", 0),
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.template.spec")),
        selector_text(spec.get("selector")),
    ], None


def _daemon_set(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    status = obj.get("status") or {}
    return [
        meta(obj).get("name"),
        *(
            status.get(k, 0)
            for k in (
                "desiredNumberScheduled",
                "currentNumberScheduled",
                "numberReady",
                "updatedNumberScheduled",
                "numberAvailable",
            )
        ),
        labels_text(get_path(obj, "spec.template.spec.nodeSelector")),
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.template.spec")),
        format_selector(get_path(obj, "spec.selector")),
    ], None


def _job(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    else:
        completions = f"{succeeded}/1 of {spec['parallelism']}" if spec.get("parallelism", 0) > 1 else f"{succeeded}/1"
    duration = ""
    if status.get("startTime"):
        start = datetime.fromisoformat(status["startTime"])
        end = datetime.fromisoformat(status["completionTime"]) if status.get("completionTime") else now
        duration = human_duration((end - start).total_seconds())
    conditions = status.get("conditions")
    state = next(
        (label for kind, label in (("Complete", "Complete"), ("Failed", "Failed")) if condition_true(conditions, kind)),
        None,
    )
    if state is None:
        state = (
            "Terminating"
            if meta(obj).get("deletionTimestamp")
            else "Suspended"
            if condition_true(conditions, "Suspended")
            else "FailureTarget"
            if condition_true(conditions, "FailureTarget")
            else "Running"
        )
    return [
        meta(obj).get("name"),
        state,
        completions,
        duration,
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.template.spec")),
        format_selector(spec.get("selector")),
    ], None


def _cron_job(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    last = since(status["lastScheduleTime"], now) if status.get("lastScheduleTime") else "<none>"
    suspend = spec.get("suspend")
    return [
        meta(obj).get("name"),
        spec.get("schedule", ""),
        spec.get("timeZone") or "<none>",
        "<unset>" if suspend is None else ("True" if suspend else "False"),
        len(status.get("active") or []),
        last,
        since(meta(obj).get("creationTimestamp"), now),
        *containers_cells(get_path(obj, "spec.jobTemplate.spec.template.spec")),
        format_selector(get_path(obj, "spec.jobTemplate.spec.selector")),
    ], None


def _config_map(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    return [
        meta(obj).get("name"),
        len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
        since(meta(obj).get("creationTimestamp"), now),
    ], None


def _custom(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    return [meta(obj).get("name"), since(meta(obj).get("creationTimestamp"), now)], None


def _generic(obj: Obj, now: datetime) -> tuple[Cells, list[Obj] | None]:
    return [meta(obj).get("name"), meta(obj).get("creationTimestamp") or ""], None


_READY_DOC = "Number of the pod with ready state"
PRINTERS: dict[str, tuple[list[Obj], Printer]] = {
    "pods": (
        [
            NAME,
            column("Ready", "The aggregate readiness state of this pod for accepting traffic."),
            column("Status", "The aggregate status of the containers in this pod."),
            column(
                "Restarts",
                "The number of times the containers in this pod have been restarted and when the last "
                "container in this pod has restarted.",
            ),
            AGE,
            column(
                "IP",
                "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
                priority=1,
            ),
            column("Node", "NodeName indicates in which node this pod is scheduled.", priority=1),
            column(
                "Nominated Node",
                "nominatedNodeName is set only when this pod preempts other pods on the node.",
                priority=1,
            ),
            column(
                "Readiness Gates", "If specified, all readiness gates will be evaluated for pod readiness.", priority=1
            ),
        ],
        _pod,
    ),
    "deployments": (
        [
            NAME,
            column("Ready", _READY_DOC),
            column(
                "Up-to-date",
                "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
            ),
            column(
                "Available",
                "Total number of available non-terminating pods (ready for at least "
                "minReadySeconds) targeted by this deployment.",
            ),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _deployment,
    ),
    "horizontalpodautoscalers": (
        [
            NAME,
            column(
                "Reference",
                "reference to scaled resource; horizontal pod autoscaler "
                "will learn the current resource consumption and will set "
                "the desired number of pods by using its Scale subresource.",
            ),
            column("Targets", "the specifications for which to use to calculate the desired replica count"),
            column("MinPods", "the lower limit for the number of pods that can be set by the autoscaler, default 1."),
            column(
                "MaxPods",
                "the upper limit for the number of pods that can be set by the "
                "autoscaler; cannot be smaller than MinReplicas.",
            ),
            column("Replicas", "current number of replicas of pods managed by this autoscaler."),
            AGE,
        ],
        _hpa,
    ),
    "nodes": (
        [
            NAME,
            column("Status", "The status of the node"),
            column("Roles", "The roles of the node"),
            AGE,
            column("Version", "Kubelet Version reported by the node."),
            column("Internal-IP", "List of addresses reachable to the node.", priority=1),
            column("External-IP", "List of addresses reachable to the node.", priority=1),
            column("OS-Image", "OS Image reported by the node from /etc/os-release.", priority=1),
            column("Kernel-Version", "Kernel Version reported by the node.", priority=1),
            column("Container-Runtime", "ContainerRuntime Version reported by the node.", priority=1),
        ],
        _node,
    ),
    "events": (
        [
            column("Last Seen", "The time at which the most recent occurrence of this event was recorded."),
            column("Type", "Type of this event (Normal, Warning), new types could be added in the future"),
            column(
                "Reason",
                "This should be a short, machine understandable string that gives the reason for "
                "the transition into the object's current status.",
            ),
            column("Object", "The object that this event is about."),
            column("Subobject", "The field of the object this event is about.", priority=1),
            column("Source", "The component reporting this event.", priority=1),
            column("Message", "A human-readable description of the status of this operation."),
            column("First Seen", "The time at which the event was first recorded.", priority=1),
            column("Count", "The number of times this event has occurred.", priority=1),
            {**NAME, "priority": 1},
        ],
        _event,
    ),
    "configmaps": ([NAME, column("Data", "Number of entries in the config map.", type_="integer"), AGE], _config_map),
    "replicasets": (
        [
            NAME,
            column("Desired", "Number of desired pods.", type_="integer"),
            column("Current", "Number of actual replicas.", type_="integer"),
            column("Ready", "Number of ready replicas.", type_="integer"),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _replica_set,
    ),
    "statefulsets": ([NAME, column("Ready", _READY_DOC), AGE, CONTAINERS, IMAGES], _stateful_set),
    "daemonsets": (
        [
            NAME,
            *(column(n, type_="integer") for n in ("Desired", "Current", "Ready", "Up-to-date", "Available")),
            column("Node Selector", "NodeSelector is a selector which must be true for the pod to fit on a node."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _daemon_set,
    ),
    "jobs": (
        [
            NAME,
            column("Status", "Status of the job."),
            column("Completions", "The number of succeeded pods."),
            column("Duration", "Time required to complete the job."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _job,
    ),
    "cronjobs": (
        [
            NAME,
            column("Schedule", "The schedule in Cron format."),
            column("Timezone", "The time zone name."),
            column("Suspend", "Whether subsequent executions are suspended.", type_="boolean"),
            column("Active", "The number of actively running jobs.", type_="integer"),
            column("Last Schedule", "The last time the job was successfully scheduled."),
            AGE,
            CONTAINERS,
            IMAGES,
            SELECTOR,
        ],
        _cron_job,
    ),
}
CUSTOM = ([NAME, {**AGE, "type": "date"}], _custom)  # a CRD without additionalPrinterColumns
GENERIC = ([NAME, column("Created At", AGE_DOC, type_="date")], _generic)  # the default table convertor
