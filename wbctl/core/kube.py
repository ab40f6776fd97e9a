"""What wbctl sees of a W&B instance on Kubernetes, as plain data the adapter fills in.

The adapter turns API objects into these; the core's checks and plans read only these, so
both chart generations and the tests' fakes look the same to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from wbctl.core.model import Change, KubeWrite, Plan
from wbctl.core.versions import parse_version

NEW_LAYOUT = (0, 33, 0)  # chart >= 0.33: autoscaling.horizontal.*, -bc Deployments, install flags


@dataclass(frozen=True)
class EnvVar:
    """One `env` entry of a container. Literal values and ConfigMap references are kept; of a
    `secretKeyRef` only the Secret's name and key, never its value (wbctl reads no Secret)."""

    name: str
    value: str | None
    config_map: tuple[str, str] | None = None  # (ConfigMap name, key) of valueFrom.configMapKeyRef
    secret: tuple[str, str] | None = None  # (Secret name, key) of valueFrom.secretKeyRef: named, not read


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    requests: dict[str, str]
    limits: dict[str, str]
    env: tuple[EnvVar, ...] = ()
    env_from: tuple[str, ...] = ()  # ConfigMaps named by envFrom (secretRefs are not kept)

    def env_value(self, name: str) -> EnvVar | None:
        return next((var for var in self.env if var.name == name), None)

    @property
    def tag(self) -> str:
        image = self.image.split("@", 1)[0]
        name, _, tag = image.rpartition(":")
        return tag if name and "/" not in tag else "latest"


@dataclass(frozen=True)
class Workload:
    kind: str  # Deployment | CronJob
    name: str
    labels: dict[str, str]
    selector: dict[str, str]  # matchLabels of a Deployment
    desired: int | None  # spec.replicas (None for a CronJob)
    ready: int
    containers: tuple[Container, ...]
    schedule: str | None = None
    suspended: bool | None = None
    last_schedule: datetime | None = None
    last_success: datetime | None = None
    resource_version: str = ""

    @property
    def label_name(self) -> str:
        return self.labels.get("app.kubernetes.io/name", "")


@dataclass(frozen=True)
class Pod:
    name: str
    labels: dict[str, str]
    node: str | None
    phase: str
    ready: bool
    restarts: int
    started: datetime | None
    job_pod: bool  # created by a Job (a CronJob run), not by a Deployment
    annotations: dict[str, str] = field(default_factory=dict)
    waiting: tuple[str, ...] = ()  # reasons of containers waiting now, e.g. CrashLoopBackOff
    last_terminated: tuple[str, ...] = ()  # reasons of the containers' previous end, e.g. OOMKilled
    unschedulable: str = ""  # the scheduler's message while PodScheduled is False


@dataclass(frozen=True)
class Condition:
    type: str
    status: str
    reason: str
    message: str


@dataclass(frozen=True)
class Autoscaler:
    """An HPA (the chart's, or the one KEDA owns) or a KEDA ScaledObject."""

    kind: str  # HorizontalPodAutoscaler | ScaledObject
    name: str
    target: str  # the Deployment it scales
    min_replicas: int | None
    max_replicas: int | None
    current: int | None = None
    desired: int | None = None
    cpu_target: int | None = None
    last_scale: datetime | None = None
    conditions: tuple[Condition, ...] = ()
    keda: bool = False
    resource_version: str = ""
    cpu_current: int | None = None  # average CPU utilization (% of request) the HPA last saw
    metrics: tuple[str, ...] = ()  # what it scales on: "cpu", "memory", "external:<name>", ...

    @property
    def enabled(self) -> bool:
        return self.max_replicas is not None and self.max_replicas > 0

    @property
    def at_max(self) -> bool:
        """The HPA controller's own word (ScalingLimited/TooManyReplicas), else current >= max."""
        for condition in self.conditions:
            if (
                condition.type == "ScalingLimited"
                and condition.status == "True"
                and condition.reason == "TooManyReplicas"
            ):
                return True
        return self.current is not None and self.max_replicas is not None and self.current >= self.max_replicas

    @property
    def cpu_only(self) -> bool:
        """It scales on resource use alone, so a backlog in the queue is invisible to it."""
        return bool(self.metrics) and all(metric in ("cpu", "memory") for metric in self.metrics)


@dataclass(frozen=True)
class WandbResource:
    """The WeightsAndBiases CR: the operator re-applies its values at every reconcile."""

    name: str
    chart_version: str | None
    values: dict[str, Any]
    phase: str | None
    resource_version: str

    @property
    def new_layout(self) -> bool:
        version = parse_version(self.chart_version)
        return version is not None and version >= NEW_LAYOUT


@dataclass
class KubeObservation:
    server: str
    namespace: str
    instance: str
    workloads: list[Workload] = field(default_factory=list)
    pods: list[Pod] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)
    node_zones: dict[str, str] = field(default_factory=dict)  # node -> zone (empty when nodes unreadable)
    cr: WandbResource | None = None
    csi_drivers: set[str] | None = None  # names of the cluster's CSIDrivers (None: not read)
    notes: list[str] = field(default_factory=list)  # what could not be read, and why

    @property
    def target(self) -> str:
        return f"namespace {self.namespace} on {self.server}"


def lookup(values: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = values
    for part in path:
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def cr_values_plan(
    observation: KubeObservation,
    cr: WandbResource,
    changes: list[tuple[tuple[str, ...], Any]],
    summary: str,
    context: str,
    notes: list[str],
) -> Plan:
    """A merge patch of `spec.values` (the change the operator keeps), guarded by the CR's
    resourceVersion; only the paths whose value differs become changes."""
    target = f"weightsandbiases/{cr.name}"
    planned = tuple(
        Change(
            target, ".".join(("spec", "values", *path)), lookup(cr.values, path), after, path=("spec", "values", *path)
        )
        for path, after in changes
        if lookup(cr.values, path) != after
    )
    return Plan(
        context=context,
        target=observation.target,
        changes=planned,
        summary=summary,
        notes=tuple(notes),
        nothing_to_do=f"no changes: {target} already holds these values",
        writes={target: KubeWrite(cr.resource_version)},
    )
