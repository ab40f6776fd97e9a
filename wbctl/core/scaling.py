"""Plans for `services scale` and `services autoscale`, in the key layout of the CR's chart.

The operator re-applies the CR's values at every reconcile, so `--via cr` (patching
`spec.values.<service>`) is the change that lasts; `--via deployment|hpa` writes the
workload directly and says that the operator will revert it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from wbctl.core import catalog
from wbctl.core.catalog import ServiceSpec
from wbctl.core.kube import Generation, KubeObservation, cr_values_plan
from wbctl.core.model import Change, KubeWrite, Plan, Write
from wbctl.core.service_view import ServiceView, map_services
from wbctl.errors import BackendError, UsageError

VIA_CR, VIA_DEPLOYMENT, VIA_HPA = "cr", "deployment", "hpa"
OLD_AUTOSCALABLE = {"wandb-executor", "wandb-filestream", "wandb-flat-run-fields-updater"}
NEVER_AUTOSCALED = {"wandb-app", "wandb-prometheus-server", "wandb-stackdriver"}
REVERT_NOTE = (
    "the operator re-applies the CR's values at its next reconcile and will revert this: use --via cr to make it last"
)
V2_BOUNDS = ("autoscaling", "minReplicas"), ("autoscaling", "maxReplicas")  # under spec.wandb.applications.<app>


def _absent(observation: KubeObservation, spec: ServiceSpec) -> None:
    """A service this install's generation does not run cannot be scaled (one line, exit 2)."""
    reason = observation.absent(spec.name)
    if reason is not None:
        raise UsageError(f"{spec.name}: {reason}")


def _v2_bounds(spec: ServiceSpec, low: int, high: int) -> list[tuple[tuple[str, ...], Any]]:
    """The v2 CR's bounds of one app (spec.wandb.applications.<app>.autoscaling): the only
    replica settings the v2 operator reads (sizing.go, ResolveAutoscaling)."""
    return [((spec.values_key, *V2_BOUNDS[0]), low), ((spec.values_key, *V2_BOUNDS[1]), high)]


def view_of(observation: KubeObservation, spec: ServiceSpec) -> ServiceView:
    return next(view for view in map_services(observation) if view.name == spec.name)


def _choose_via(observation: KubeObservation, via: str | None, direct: str) -> str:
    """--via as given, else cr when the CR exists (the lasting change), else the direct write."""
    if via is None:
        return VIA_CR if observation.cr is not None else direct
    if via == VIA_CR and observation.cr is None:
        raise BackendError(
            f"no WeightsAndBiases resource named {observation.instance} in namespace {observation.namespace}: "
            f"use --via {direct}, or set instance/namespace in the config"
        )
    return via


MAX_REPLICAS = 500  # far above any W&B service's need; a typo of 99999999999 is not a plan


def _floor(spec: ServiceSpec, option: str, value: int, force: bool) -> None:
    """One rule for every floor: to zero, or below the guide's minimum, needs --force and says
    what the guide asks."""
    if force:
        return
    if value == 0:
        raise UsageError(f"{option} 0 stops {spec.name} ({spec.role}): add --force if you mean it")
    if value < spec.min_replicas:
        raise UsageError(
            f"{option} {value} is below the guide's {spec.min_replicas} replicas of {spec.name} "
            "(at least 3, on different machines): add --force if you mean it"
        )


def validate_scale(spec: ServiceSpec, replicas: int, via: str | None, force: bool) -> None:
    """Everything about a scale request that can be judged before asking the cluster."""
    if via not in (None, VIA_CR, VIA_DEPLOYMENT):
        raise UsageError(f"--via {via}: scale takes --via cr or --via deployment")
    if not 0 <= replicas <= MAX_REPLICAS:
        raise UsageError(f"--replicas {replicas}: from 0 to {MAX_REPLICAS}")
    if spec.kind != "Deployment":
        raise UsageError(f"{spec.name} is a {spec.kind}: it has no replicas to scale")
    if spec.single_instance and replicas > 1 and not force:
        raise UsageError(f"{spec.name} cannot run in HA mode (the guide): --replicas {replicas} needs --force")
    _floor(spec, "--replicas", replicas, force)


def plan_scale(
    observation: KubeObservation, spec: ServiceSpec, replicas: int, *, via: str | None, force: bool, context: str
) -> Plan:
    validate_scale(spec, replicas, via, force)
    _absent(observation, spec)
    view = view_of(observation, spec)
    via = _choose_via(observation, via, VIA_DEPLOYMENT)
    notes: list[str] = []
    autoscaler = view.autoscaler
    if autoscaler is not None:
        notes.append(
            f"{autoscaler.kind} {autoscaler.name} ({autoscaler.min_replicas}-{autoscaler.max_replicas}) scales "
            f"{spec.name}: it overrides a fixed replica count (use wbctl services autoscale)"
        )
    summary = f"{spec.name} will run {replicas} replica(s)"
    if view.workload is None:
        raise BackendError(
            f"{spec.name} is not deployed in namespace {observation.namespace}: nothing to scale"
            + (
                f" (set values.{spec.values_key}.install: true in the WeightsAndBiases resource first)"
                if observation.cr is not None and observation.cr.new_layout
                else ""
            )
        )
    if via == VIA_CR and observation.cr is not None and observation.cr.generation is Generation.V2:
        if replicas == 0:
            raise UsageError(
                f"--replicas 0: the v2 operator's CR cannot stop {spec.name} (its autoscaling bounds are at least 1)"
            )
        notes = [  # the HPA the operator makes from these bounds is what keeps the count
            "the v2 operator sets replicas only through autoscaling bounds: min = max pins "
            f"{spec.short} at {replicas} (spec.wandb.applications.{spec.values_key}.autoscaling)"
        ]
        return cr_values_plan(
            observation, observation.cr, _v2_bounds(spec, replicas, replicas), summary, context, notes
        )
    if via == VIA_CR and observation.cr is not None:
        return cr_values_plan(
            observation, observation.cr, [((spec.values_key, "replicaCount"), replicas)], summary, context, notes
        )
    workload = view.workload
    if workload is None:
        raise BackendError(f"{spec.name} is not deployed in namespace {observation.namespace}: nothing to scale")
    if observation.cr is not None:
        notes.append(REVERT_NOTE)
    target = f"deployment/{workload.name}"
    changes = (
        ()
        if workload.desired == replicas
        else (Change(target, "spec.replicas", workload.desired, replicas, path=("spec", "replicas")),)
    )
    return Plan(
        context=context,
        target=observation.target,
        changes=changes,
        summary=summary,
        notes=tuple(notes),
        nothing_to_do=f"no changes: {target} already has {replicas} replica(s)",
        writes={target: KubeWrite(workload.resource_version)},
    )


def _can_autoscale(observation: KubeObservation, spec: ServiceSpec) -> bool:
    if spec.kind != "Deployment" or spec.name in NEVER_AUTOSCALED:
        return False
    if observation.cr is not None and observation.cr.generation is Generation.V1 and not observation.cr.new_layout:
        return spec.name in OLD_AUTOSCALABLE
    return True


def validate_autoscale(
    min_replicas: int | None,
    max_replicas: int | None,
    cpu_target: int | None,
    disable: bool,
    via: str | None,
    spec: ServiceSpec | None = None,
    force: bool = False,
) -> None:
    """Everything about an autoscale request that can be judged before asking the cluster."""
    if via not in (None, VIA_CR, VIA_HPA):
        raise UsageError(f"--via {via}: autoscale takes --via cr or --via hpa")
    if disable:
        if min_replicas is not None or max_replicas is not None or cpu_target is not None:
            raise UsageError("--disable takes no --min, --max or --cpu-target")
        return
    if min_replicas is None or max_replicas is None:
        raise UsageError("--min and --max are both needed (or --disable)")
    for option, value in (("--min", min_replicas), ("--max", max_replicas)):
        if not 1 <= value <= MAX_REPLICAS:
            raise UsageError(f"{option} {value}: from 1 to {MAX_REPLICAS}")
    if max_replicas < min_replicas:
        raise UsageError(f"--max {max_replicas} is below --min {min_replicas}")
    if cpu_target is not None and not 1 <= cpu_target <= 100:
        raise UsageError(f"--cpu-target {cpu_target}: must be between 1 and 100 (percent)")
    if spec is not None:
        _floor(spec, "--min", min_replicas, force)


def plan_autoscale(
    observation: KubeObservation,
    spec: ServiceSpec,
    *,
    min_replicas: int | None,
    max_replicas: int | None,
    cpu_target: int | None,
    disable: bool,
    via: str | None,
    context: str,
    force: bool = False,
) -> Plan:
    validate_autoscale(min_replicas, max_replicas, cpu_target, disable, via, spec, force)
    _absent(observation, spec)
    if not disable and not _can_autoscale(observation, spec):  # turning one off is always allowed
        chart = observation.cr.chart_version if observation.cr else "this chart"
        raise UsageError(f"{spec.name} cannot be autoscaled by operator-wandb {chart}")
    via = _choose_via(observation, via, VIA_HPA)
    view = view_of(observation, spec)
    summary = (
        f"{spec.name} will no longer autoscale"
        if disable
        else f"{spec.name} will autoscale between {min_replicas} and {max_replicas} replicas"
        + (f" at {cpu_target}% CPU" if cpu_target else "")
    )
    notes: list[str] = []
    keda = next((a for a in view.autoscalers if a.kind == "ScaledObject"), None)
    cr = observation.cr
    if via == VIA_CR and cr is not None and cr.generation is Generation.V2:
        return _v2_autoscale_plan(observation, spec, min_replicas, max_replicas, cpu_target, disable, summary, context)
    if via == VIA_CR and cr is not None and keda is not None and not disable and cr.new_layout:
        # KEDA is in charge: its ScaledObject's bounds are the ones that count
        notes.append(
            f"KEDA ScaledObject {keda.name} scales {spec.name}: its bounds are changed "
            f"(values.{spec.values_key}.autoscaling.keda), its triggers kept"
        )
        if cpu_target is not None:
            notes.append("--cpu-target is not applied: KEDA's cpu trigger sets it")
        changes = _keda_value_changes(spec, min_replicas, max_replicas)
        return cr_values_plan(observation, cr, changes, summary, context, notes)
    if keda is not None:
        notes.append(
            f"KEDA ScaledObject {keda.name} also scales {spec.name}: check <service>.autoscaling.keda in the CR"
        )
    if via == VIA_CR and cr is not None:
        changes = _hpa_value_changes(spec, cr.new_layout, min_replicas, max_replicas, cpu_target, disable)
        return cr_values_plan(observation, cr, changes, summary, context, notes)
    if keda is not None:
        raise UsageError(
            f"{spec.name} is autoscaled by KEDA ScaledObject {keda.name}, which owns its HPA: use --via cr"
        )
    return _hpa_plan(observation, spec, view, min_replicas, max_replicas, cpu_target, disable, summary, context, notes)


def _v2_autoscale_plan(
    observation: KubeObservation,
    spec: ServiceSpec,
    min_replicas: int | None,
    max_replicas: int | None,
    cpu_target: int | None,
    disable: bool,
    summary: str,
    context: str,
) -> Plan:
    """The v2 CR's `spec.wandb.applications.<app>.autoscaling` bounds: what the operator turns
    into the app's HPA (a v1 `spec.values` patch would be accepted there and never applied)."""
    assert observation.cr is not None
    if disable:
        raise UsageError(
            f"{spec.name}: the v2 operator's CR cannot turn autoscaling off (its bounds are at least 1); "
            f"pin it instead: wbctl services autoscale {spec.name} --min N --max N"
        )
    assert min_replicas is not None and max_replicas is not None  # validate_autoscale saw to it
    notes = [f"{spec.short} is scaled by the HPA the v2 operator makes from these bounds"]
    if cpu_target is not None:
        notes.append("--cpu-target is not applied: the v2 operator's CR sets only minReplicas and maxReplicas")
    changes = _v2_bounds(spec, min_replicas, max_replicas)
    return cr_values_plan(observation, observation.cr, changes, summary, context, notes)


def _keda_value_changes(
    spec: ServiceSpec, min_replicas: int | None, max_replicas: int | None
) -> list[tuple[tuple[str, ...], Any]]:
    """The CR values that bound KEDA's ScaledObject (values.<svc>.autoscaling.keda)."""
    base = (spec.values_key, "autoscaling", "keda")
    return [((*base, "minReplicaCount"), min_replicas), ((*base, "maxReplicaCount"), max_replicas)]


def _hpa_value_changes(
    spec: ServiceSpec,
    new_layout: bool,
    min_replicas: int | None,
    max_replicas: int | None,
    cpu_target: int | None,
    disable: bool,
) -> list[tuple[tuple[str, ...], Any]]:
    """The CR values of the chart's HPA, in the chart's old layout or its new (`horizontal`) one."""
    base = (spec.values_key, "autoscaling", "horizontal") if new_layout else (spec.values_key, "autoscaling")
    cpu_key = "targetCPUUtilizationPercentage" if new_layout else "targetCPU"
    changes: list[tuple[tuple[str, ...], Any]] = [((*base, "enabled"), not disable)]
    if not disable:
        changes += [((*base, "minReplicas"), min_replicas), ((*base, "maxReplicas"), max_replicas)]
        if cpu_target is not None:
            changes.append(((*base, cpu_key), cpu_target))
    return changes


def hpa_manifest(name: str, namespace: str, labels: dict[str, str], deployment: str) -> dict[str, Any]:
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}},
    }


def _hpa_plan(
    observation: KubeObservation,
    spec: ServiceSpec,
    view: ServiceView,
    min_replicas: int | None,
    max_replicas: int | None,
    cpu_target: int | None,
    disable: bool,
    summary: str,
    context: str,
    notes: list[str],
) -> Plan:
    workload = view.workload
    if workload is None:
        raise BackendError(f"{spec.name} is not deployed in namespace {observation.namespace}: nothing to autoscale")
    existing = next((a for a in view.autoscalers if a.kind == "HorizontalPodAutoscaler"), None)
    v2 = observation.generation is Generation.V2  # the v2 operator names an app's HPA after the app
    name = existing.name if existing else (spec.values_key if v2 else f"{observation.instance}-{spec.short}")
    target = f"horizontalpodautoscaler/{name}"
    if observation.cr is not None:
        notes.append(REVERT_NOTE)
    nothing = f"no changes: {target} already has these settings"
    changes: tuple[Change, ...]
    if disable:
        changes = (
            ()
            if existing is None
            else (
                Change(target, "(object)", f"{existing.min_replicas}-{existing.max_replicas} replicas", None, path=()),
            )
        )
        writes: dict[str, Write] = {target: KubeWrite(existing.resource_version)} if existing else {}
        return Plan(context, observation.target, changes, summary, tuple(notes), nothing, writes)
    wanted: list[tuple[str, tuple[str, ...], Any, Any]] = [
        ("spec.minReplicas", ("spec", "minReplicas"), existing.min_replicas if existing else None, min_replicas),
        ("spec.maxReplicas", ("spec", "maxReplicas"), existing.max_replicas if existing else None, max_replicas),
    ]
    cpu = cpu_target if cpu_target is not None else (None if existing else 80)
    if cpu is not None:
        wanted.append(("cpu target %", ("spec", "metrics", "cpu"), existing.cpu_target if existing else None, cpu))
    changes = tuple(
        Change(target, key, before, after, path=path) for key, path, before, after in wanted if before != after
    )
    if existing is not None:
        writes = {target: KubeWrite(existing.resource_version)}
    else:
        instance = observation.generation.instance_label(observation.namespace, observation.instance)
        labels = {"app.kubernetes.io/instance": instance, "app.kubernetes.io/name": spec.label}
        writes = {target: KubeWrite(create=hpa_manifest(name, observation.namespace, labels, workload.name))}
    return Plan(context, observation.target, changes, summary, tuple(notes), nothing, writes)


# --- the commands as data ----------------------------------------------------------------


@dataclass(frozen=True)
class ScaleRequest:
    """`wbctl services scale`, typed or proposed by a check."""

    service: str  # the guide's name (wandb-api)
    replicas: int
    via: str | None = None
    force: bool = False
    backend: ClassVar[str] = "kube"

    def validate(self) -> None:
        validate_scale(catalog.resolve(self.service), self.replicas, self.via, self.force)

    def argv(self) -> tuple[str, ...]:
        return (
            "services",
            "scale",
            self.service,
            "--replicas",
            str(self.replicas),
            *_write_flags(self.via, self.force),
        )

    def plan(self, observation: KubeObservation, context: str) -> Plan:
        return plan_scale(
            observation, catalog.resolve(self.service), self.replicas, via=self.via, force=self.force, context=context
        )


def _write_flags(via: str | None, force: bool) -> tuple[str, ...]:
    """The options both requests share, in the order --help lists them."""
    return (*(("--via", via) if via else ()), *(("--force",) if force else ()))


@dataclass(frozen=True)
class AutoscaleRequest:
    """`wbctl services autoscale`, typed or proposed (a check's remedy, the runbook's fix)."""

    service: str
    min_replicas: int | None = None
    max_replicas: int | None = None
    cpu_target: int | None = None
    disable: bool = False
    via: str | None = None
    force: bool = False
    backend: ClassVar[str] = "kube"

    def validate(self) -> None:
        validate_autoscale(
            self.min_replicas,
            self.max_replicas,
            self.cpu_target,
            self.disable,
            self.via,
            catalog.resolve(self.service),
            self.force,
        )

    def argv(self) -> tuple[str, ...]:
        args = ["services", "autoscale", self.service]
        if self.disable:
            args.append("--disable")
        else:
            args += ["--min", str(self.min_replicas), "--max", str(self.max_replicas)]
        if self.cpu_target is not None:
            args += ["--cpu-target", str(self.cpu_target)]
        return (*args, *_write_flags(self.via, self.force))

    def plan(self, observation: KubeObservation, context: str) -> Plan:
        return plan_autoscale(
            observation,
            catalog.resolve(self.service),
            min_replicas=self.min_replicas,
            max_replicas=self.max_replicas,
            cpu_target=self.cpu_target,
            disable=self.disable,
            via=self.via,
            context=context,
            force=self.force,
        )
