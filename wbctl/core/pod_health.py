"""Is a service's pods' health what the guide needs: the kubelet's and the scheduler's own words
(CrashLoopBackOff, OOMKilled, ImagePullBackOff/ErrImagePull, Pending with the scheduler's
reason, restarts, readiness) and memory near its limit (metrics.k8s.io), each with its remedy.

One piece serves `services.<service>.health` (services.py: `check`, `services status`) and the
runbook's step 3 (runbook/steps.py: an unhealthy updater comes before any scaling), so a pod
the check fails is the pod the runbook stops at, in the same words.

Where a setting lives differs by generation: v1 renders the operator-wandb chart from
`spec.values.<service>` (`resources.limits.memory`, `image`); v2 sizes every application from
`spec.size` (the server manifest's sizing) and its `spec.wandb.applications.<app>` overrides
autoscaling only (wandb/operator api/v2 `WandbApplicationOverride`; docs/sources.md).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from wbctl.core.durations import format_duration
from wbctl.core.kube import Generation, Pod
from wbctl.core.model import Status
from wbctl.core.quantities import bytes_of

__all__ = ["MEMORY_NEAR", "PodProblem", "Settings", "pod_problems", "worst"]

MEMORY_NEAR = 0.9  # memory in use at or over this share of the limit: the next spike is an OOM kill
IMAGE_PULL = frozenset({"ImagePullBackOff", "ErrImagePull", "InvalidImageName"})
STARTING = frozenset({"ContainerCreating", "PodInitializing"})  # the kubelet's normal start, not a fault
_ORDER = {Status.FAIL: 0, Status.UNKNOWN: 1, Status.WARN: 2, Status.OK: 3}


@dataclass(frozen=True)
class Settings:
    """Where a service's settings are written: the chart's values key (v1), or the v2 app."""

    service: str
    values_key: str
    generation: Generation = Generation.V1

    def memory_limit(self, limited: bool = True) -> str:
        """The memory to raise: its limit; or, with none set (killed as its node ran short), a request and limit."""
        if self.generation is Generation.V2:
            return (
                "raise spec.size in the WeightsAndBiases resource: the v2 operator sizes each application's "
                "resources from it (spec.wandb.applications sets autoscaling only)"
            )
        if not limited:
            return (
                f"it has no memory limit, so its node ran short: set values.{self.values_key}.resources.requests.memory "
                "and .limits.memory in the WeightsAndBiases resource to what it uses at its peak"
            )
        return (
            f"raise its memory limit: values.{self.values_key}.resources.limits.memory in the WeightsAndBiases resource"
        )

    def image(self) -> str:
        if self.generation is Generation.V2:
            return "check spec.wandb.version (the server manifest names the images) and the registry's pull access"
        return f"check values.{self.values_key}.image (repository, tag) and the image pull secret"

    def requests(self) -> str:
        if self.generation is Generation.V2:
            return "add nodes (the node pool's autoscaling), or a smaller spec.size in the WeightsAndBiases resource"
        return (
            f"add nodes (the node pool's autoscaling), or lower values.{self.values_key}.resources.requests "
            "in the WeightsAndBiases resource"
        )


@dataclass(frozen=True)
class PodProblem:
    """One pod's trouble: its status, what it is, one line of evidence, the remedy, the look."""

    pod: str
    status: Status
    what: str  # CrashLoopBackOff | ImagePullBackOff | OOMKilled | Pending | restarts | not-ready | memory | waiting
    text: str  # "<pod>: OOMKilled 4m ago (3 restarts)"
    remedy: str  # the setting to change, or "" when the look is the next step
    look: str  # the kubectl that shows it, pasteable

    @property
    def line(self) -> str:
        return f"{self.text}: {self.remedy}" if self.remedy else self.text

    @property
    def next(self) -> str:
        """The remedy and the look, as a finding's remedy reads."""
        return f"{self.remedy}; look: {self.look}" if self.remedy else self.look


def worst(problems: Iterable[PodProblem]) -> Status:
    return min((p.status for p in problems), key=_ORDER.__getitem__, default=Status.OK)


def _ago(moment: datetime | None, now: datetime | None) -> str:
    if moment is None or now is None:
        return ""
    return f" {format_duration(max(0, int((now - moment).total_seconds()))).split(' ')[0]} ago"


def _within(moment: datetime | None, now: datetime | None, window: int | None) -> bool:
    """Whether a time is in the window; an unknown time (or window) counts, as the kubelet said it."""
    if moment is None or now is None or window is None:
        return True
    return now - moment <= timedelta(seconds=window)


def _restarts(pod: Pod) -> str:
    return f"{pod.restarts} restart{'s' if pod.restarts != 1 else ''}"


def _memory_problem(
    pod: Pod,
    used: Mapping[str, int],
    limits: Mapping[str, str],
    settings: Settings,
    describe: str,
) -> PodProblem | None:
    for container, in_use in sorted(used.items()):
        limit = bytes_of(limits.get(container))
        if not limit:
            continue
        share = in_use / limit
        if share >= MEMORY_NEAR:
            return PodProblem(
                pod.name,
                Status.WARN,
                "memory",
                f"{pod.name}: container {container} uses {share:.0%} of its {limits[container]} memory limit",
                settings.memory_limit(),
                describe,
            )
    return None


def _one(
    pod: Pod,
    settings: Settings,
    kubectl: str,
    now: datetime | None,
    window: int | None,
    used: Mapping[str, int] | None,
    limits: Mapping[str, str],
) -> PodProblem | None:
    """The pod's worst trouble, the kubelet's order: what stops it first."""
    describe = f"{kubectl} describe pod {pod.name}"
    previous = f"{kubectl} logs {pod.name} --previous"
    waiting = set(pod.waiting)
    if "CrashLoopBackOff" in waiting:
        oom = "; its last run was OOMKilled" if "OOMKilled" in pod.last_terminated else ""
        remedy = settings.memory_limit(bool(limits)) if oom else ""
        return PodProblem(
            pod.name,
            Status.FAIL,
            "CrashLoopBackOff",
            f"{pod.name}: CrashLoopBackOff ({_restarts(pod)}){oom}",
            remedy,
            f"{previous}; {describe}",
        )
    pulling = sorted(waiting & IMAGE_PULL)
    if pulling:
        said = f": {pod.waiting_messages[0]}" if pod.waiting_messages else ""
        return PodProblem(
            pod.name, Status.FAIL, "ImagePullBackOff", f"{pod.name}: {pulling[0]}{said}", settings.image(), describe
        )
    if "OOMKilled" in pod.last_terminated and _within(pod.last_terminated_at, now, window):
        return PodProblem(
            pod.name,
            Status.FAIL,
            "OOMKilled",
            f"{pod.name}: OOMKilled{_ago(pod.last_terminated_at, now)} ({_restarts(pod)})",
            settings.memory_limit(bool(limits)),
            f"{describe}; {previous}",
        )
    if pod.phase == "Pending":
        if pod.unschedulable:
            short = "memory" in pod.unschedulable.lower() or "cpu" in pod.unschedulable.lower()
            return PodProblem(
                pod.name,
                Status.FAIL,
                "Pending",
                f"{pod.name}: Pending ({pod.unschedulable})",
                settings.requests() if short else "",
                describe,
            )
        if not (waiting - STARTING):
            return PodProblem(pod.name, Status.WARN, "Pending", f"{pod.name}: Pending", "", describe)
    other = sorted(waiting - STARTING)
    if other:
        said = f": {pod.waiting_messages[0]}" if pod.waiting_messages else ""
        return PodProblem(
            pod.name, Status.FAIL, "waiting", f"{pod.name}: waiting ({', '.join(other)}){said}", "", describe
        )
    if pod.restarts > 0 and _within(pod.last_terminated_at, now, window):
        why = f", last ended {'/'.join(pod.last_terminated)}" if pod.last_terminated else ""
        when = _ago(pod.last_terminated_at, now) or " (when unknown)"
        return PodProblem(
            pod.name, Status.WARN, "restarts", f"{pod.name}: {_restarts(pod)}{why}, the last{when}", "", previous
        )
    if pod.phase == "Running" and not pod.ready and not waiting:
        return PodProblem(pod.name, Status.WARN, "not-ready", f"{pod.name}: running, not ready", "", describe)
    if used is not None:
        return _memory_problem(pod, used, limits, settings, describe)
    return None


def pod_problems(
    pods: Iterable[Pod],
    settings: Settings,
    *,
    kubectl: str = "kubectl",
    now: datetime | None = None,
    window: int | None = None,
    memory: Mapping[str, Mapping[str, int]] | None = None,
    limits: Mapping[str, str] | None = None,
) -> list[PodProblem]:
    """Each pod's worst trouble, worst pods first (a finished Job's pod is not trouble).

    `window`: seconds back that an OOM kill or a restart counts (its time known from the
    container's lastState.terminated.finishedAt; an unknown time counts). `memory`: each pod's
    containers' use in bytes (metrics.k8s.io; None: unknown), against `limits`, each container's
    memory limit as the pod template writes it."""
    found = []
    for pod in pods:
        if pod.job_pod and pod.phase in ("Succeeded", "Failed"):
            continue
        used = None if memory is None else memory.get(pod.name)
        problem = _one(pod, settings, kubectl, now, window, used, limits or {})
        if problem is not None:
            found.append(problem)
    return sorted(found, key=lambda p: _ORDER[p.status])
