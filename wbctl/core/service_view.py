"""The guide's services as they run: live workloads mapped to the catalog.

Workloads are matched to the catalog by their `app.kubernetes.io/name` label and kind (the
parquet Deployment and the parquet-backfill CronJob share a label), falling back to the name
(`<instance>-<svc>` or the `-bc` names of chart >= 0.33). Workloads the guide does not name
are kept as extras, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from wbctl.core import catalog
from wbctl.core.catalog import ServiceSpec
from wbctl.core.kube import Autoscaler, KubeObservation, Pod, Workload


@dataclass
class ServiceView:
    name: str  # the guide's name, or wandb-<short> for an extra workload
    spec: ServiceSpec | None  # None: a workload of the instance the guide does not name
    workload: Workload | None = None
    pods: list[Pod] = field(default_factory=list)
    autoscalers: list[Autoscaler] = field(default_factory=list)

    @property
    def present(self) -> bool:
        return self.workload is not None

    @property
    def ready_pods(self) -> list[Pod]:
        return [pod for pod in self.pods if pod.ready]

    @property
    def nodes(self) -> set[str]:
        return {pod.node for pod in self.ready_pods if pod.node}

    @property
    def autoscaler(self) -> Autoscaler | None:
        """The autoscaler in charge: a ScaledObject wins over the HPA KEDA made for it."""
        keda = [a for a in self.autoscalers if a.kind == "ScaledObject"]
        return next(iter(keda or self.autoscalers), None)

    @property
    def known(self) -> catalog.KnownWorkload | None:
        """Not the guide's, but the chart's: what it is (catalog.KNOWN_WORKLOADS)."""
        return None if self.spec else catalog.known_workload(self.name)

    @property
    def role(self) -> str:
        if self.spec:
            return self.spec.role
        known = self.known
        return known.role if known else "(a workload of this release the guide does not name)"


def _short_from_name(name: str, instance: str) -> str:
    short = name.removeprefix(f"{instance}-")
    return short.removesuffix("-bc")


def _spec_for(workload: Workload, instance: str) -> tuple[str, ServiceSpec | None]:
    spec = catalog.for_label(workload.label_name, workload.kind) if workload.label_name else None
    if spec is None:
        short = _short_from_name(workload.name, instance)
        candidate = catalog.BY_NAME.get(catalog.PREFIX + short)
        if candidate is not None and candidate.kind == workload.kind:
            spec = candidate
        else:
            return catalog.PREFIX + (workload.label_name or short), None
    return spec.name, spec


def _owns(workload: Workload, pod: Pod) -> bool:
    if workload.kind == "CronJob":
        return pod.job_pod and pod.labels.get("app.kubernetes.io/name") == workload.label_name
    selector = workload.selector
    return not pod.job_pod and bool(selector) and all(pod.labels.get(k) == v for k, v in selector.items())


UPDATER = "wandb-flat-run-fields-updater"  # the consumer of the run-updates queue: what the runbook reads most


def service_named(observation: KubeObservation, name: str) -> ServiceView | None:
    return next((view for view in map_services(observation) if view.name == name), None)


def map_services(observation: KubeObservation) -> list[ServiceView]:
    """One view per catalog service (present or not), then the extras, sorted by name."""
    views: dict[str, ServiceView] = {spec.name: ServiceView(spec.name, spec) for spec in catalog.CATALOG}
    for workload in observation.workloads:
        name, spec = _spec_for(workload, observation.instance)
        view = views.setdefault(name, ServiceView(name, spec))
        if view.workload is not None:  # two workloads for one service: keep both visible
            name = f"{name} ({workload.name})"
            view = views.setdefault(name, ServiceView(name, spec))
        view.workload = workload
        view.pods = [pod for pod in observation.pods if _owns(workload, pod)]
        view.autoscalers = [a for a in observation.autoscalers if a.target == workload.name]
    ordered = [views.pop(spec.name) for spec in catalog.CATALOG]
    return ordered + sorted(views.values(), key=lambda view: view.name)
