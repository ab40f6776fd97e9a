"""What wbctl sees of a W&B instance on Kubernetes, as plain data the adapter fills in.

The adapter turns API objects into these; the core's checks and plans read only these, so
both chart generations and the tests' fakes look the same to them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any

from wbctl.core.model import Change, KubeWrite, Plan
from wbctl.core.versions import parse_version

NEW_LAYOUT = (0, 33, 0)  # chart >= 0.33: autoscaling.horizontal.*, -bc Deployments, install flags
NAME_LABEL = "app.kubernetes.io/name"
INSTANCE_LABEL = "app.kubernetes.io/instance"


class Generation(str, Enum):
    """Which W&B operator runs the install, as the API answers it (the adapter detects it: the
    versions the WeightsAndBiases CRD serves). Everything that differs between the two is read
    from here, so a v1 and a v2 install go through the same checks.

    v1: the operator renders the operator-wandb chart from `spec.chart` and `spec.values`; its
    workloads are `<instance>-<svc>` (chart >= 0.33: `-bc`), labelled with the CR's name.
    v2 (wandb/operator `main`, apps.wandb.com/v2): it runs the server manifest's applications,
    each a Deployment and HPA named after the app (`api`), selected by
    `app.kubernetes.io/name=<app>` and `app.kubernetes.io/instance=<namespace>`; replicas come
    from `spec.wandb.applications.<app>.autoscaling` (docs/sources.md, "The v2 operator")."""

    V1 = "v1"
    V2 = "v2"

    @property
    def api_version(self) -> str:
        return f"apps.wandb.com/{self.value}"

    def instance_label(self, namespace: str, instance: str) -> str:
        """The value of `app.kubernetes.io/instance` on the install's Pods: the CR's name on v1,
        the namespace on v2 (the Application controller's `getSelectorLabels`)."""
        return namespace if self is Generation.V2 else instance

    def absent(self, service: str, features: dict[str, bool] | None = None) -> str | None:
        """Why a service of the guide is not part of this generation (None: it is)."""
        if self is not Generation.V2:
            return None
        if service in V2_NOT_RUN:
            return "not part of this generation: the v2 operator's server manifest does not run it"
        feature = V2_FEATURE_GATED.get(service)
        if feature is not None and not (features or {}).get(feature):
            return (
                f"not part of this generation unless the {feature} feature is on "
                f"(spec.wandb.features.{feature} in the WeightsAndBiases resource)"
            )
        return None


# what the v2 operator's install has no part of: it stores runs in MySQL, ClickHouse and object
# storage and queues them in Kafka (api/v2/weightsandbiases_types.go: no Bigtable, no Pub/Sub)
V2_NO_BIGTABLE = (
    "not part of this generation: the v2 operator runs no Bigtable "
    "(its stores: MySQL, Redis, Kafka, ClickHouse and object storage)"
)

# the guide's services the v2 server manifest (0.84.0) does not run, and those it runs behind a feature
V2_NOT_RUN = frozenset(
    {"wandb-app", "wandb-console", "wandb-prometheus-server", "wandb-stackdriver", "wandb-parquet-backfill"}
)
V2_FEATURE_GATED = {"wandb-filestream": "filestreamQueue"}


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
        """Its app.kubernetes.io/name: its own label, else its selector's (the v2 operator's
        Deployments carry no labels of their own)."""
        return self.labels.get(NAME_LABEL) or self.selector.get(NAME_LABEL, "")


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
    last_terminated_at: datetime | None = None  # when the newest of those previous ends came (finishedAt)
    waiting_messages: tuple[str, ...] = ()  # the kubelet's words beside `waiting`, e.g. the image it cannot pull


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
    """The WeightsAndBiases CR: the operator re-applies it at every reconcile.

    v1: `chart_version`, `values` and `phase`. v2: `server_version` (spec.wandb.version),
    `applications` (spec.wandb.applications), `features`, `ready` and `conditions`; no chart,
    and `values` empty (the v1 values a v2 object stashes in an annotation are not what the
    operator applies). `written_as`: the apiVersion the resource's spec was last written as
    (its managedFields), so a v1 resource the v2 operator took over is told apart."""

    name: str
    chart_version: str | None
    values: dict[str, Any]
    phase: str | None
    resource_version: str
    generation: Generation = Generation.V1
    server_version: str | None = None
    applications: dict[str, Any] = field(default_factory=dict)
    features: dict[str, bool] = field(default_factory=dict)
    ready: bool | None = None
    conditions: tuple[Condition, ...] = ()
    written_as: str | None = None
    telemetry_status: dict[str, Any] | None = None  # v2: status.telemetryStatus as the operator reports it

    @property
    def new_layout(self) -> bool:
        version = parse_version(self.chart_version)
        return version is not None and version >= NEW_LAYOUT

    def service_values(self, key: str) -> dict[str, Any]:
        """What the CR sets for one service: `spec.values.<key>` (v1), or
        `spec.wandb.applications.<app>` (v2)."""
        found = (self.applications if self.generation is Generation.V2 else self.values).get(key)
        return found if isinstance(found, dict) else {}

    @property
    def state(self) -> str | None:
        """v1's phase, or v2's Ready condition in a word (`Ready`, `NotReady: <reason>`)."""
        if self.generation is not Generation.V2:
            return self.phase
        condition = next((c for c in self.conditions if c.type == "Ready"), None)
        if condition is None:
            return None if self.ready is None else ("Ready" if self.ready else "NotReady")
        return "Ready" if condition.status == "True" else f"NotReady: {condition.reason}"


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
    generation: Generation = Generation.V1  # which operator's CRD the API serves (the adapter detects it)
    # each pod's containers' memory in use (bytes), from metrics.k8s.io; None: not read, see memory_unknown
    pod_memory: dict[str, dict[str, int]] | None = None
    memory_unknown: str = "not read by this command (services check reads metrics.k8s.io)"  # why pod_memory is None

    def absent(self, service: str) -> str | None:
        """Why a guide service is not part of this install's generation (None: it is)."""
        return self.generation.absent(service, self.cr.features if self.cr else None)

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


def _patch_version(cr: WandbResource) -> str:
    """The version a CR patch names: v2's explicitly; v1's is the adapter's default ("")."""
    return cr.generation.api_version if cr.generation is Generation.V2 else ""


CR_ROOTS = {Generation.V1: ("spec", "values"), Generation.V2: ("spec", "wandb", "applications")}


def cr_values_plan(
    observation: KubeObservation,
    cr: WandbResource,
    changes: list[tuple[tuple[str, ...], Any]],
    summary: str,
    context: str,
    notes: list[str],
) -> Plan:
    """A merge patch of the CR's per-service settings, the change the operator keeps:
    `spec.values` (v1) or `spec.wandb.applications` (v2; a v1 write of spec.values there would
    be accepted, never applied, and would drop v2's own spec in the conversion back), sent at
    the CR's own version and guarded by its
    resourceVersion; only the paths whose value differs become changes."""
    target = f"weightsandbiases/{cr.name}"
    root = CR_ROOTS[cr.generation]
    base = cr.applications if cr.generation is Generation.V2 else cr.values
    planned = tuple(
        Change(target, ".".join((*root, *path)), lookup(base, path), after, path=(*root, *path))
        for path, after in changes
        if lookup(base, path) != after
    )
    return Plan(
        context=context,
        target=observation.target,
        changes=planned,
        summary=summary,
        notes=tuple(notes),
        nothing_to_do=f"no changes: {target} already holds these values",
        writes={target: KubeWrite(cr.resource_version, api_version=_patch_version(cr))},
    )
