"""Unhealthy Pods, made from a healthy one as the kubelet and the scheduler report them:
`crash_looping` (CrashLoopBackOff, its last run ended in Error), `oom_killed` (running again
after the OOM killer's exit code 137) and `pending` (unschedulable for lack of CPU). Separate
so any Pod of any fixture can be made sick, and the kubelet's wording is kept in one place.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.basics import Obj, hex_digest, timestamp


def _container_status(pod: Obj, container: str | None) -> Obj:
    statuses = pod["status"]["containerStatuses"]
    return next((c for c in statuses if c["name"] == container), statuses[0]) if container else statuses[0]


def _not_ready(pod: Obj, container: str, since: str) -> None:
    for condition in pod["status"]["conditions"]:
        if condition["type"] in ("Ready", "ContainersReady"):
            condition.update(
                status="False",
                reason="ContainersNotReady",
                lastTransitionTime=since,
                message=f"containers with unready status: [{container}]",
            )


def crash_looping(
    pod: Mapping[str, Any], restarts: int = 7, *, container: str | None = None, now: datetime | None = None
) -> Obj:
    """The Pod with one container (default: the first) in CrashLoopBackOff, as the kubelet
    reports it: waiting, its last run ended in Error, not ready, and the Pod not Ready."""
    now = now or datetime.now(UTC)
    out = copy.deepcopy(dict(pod))
    status = _container_status(out, container)
    name, metadata = status["name"], out["metadata"]
    status.update(
        ready=False,
        started=False,
        restartCount=restarts,
        state={
            "waiting": {
                "reason": "CrashLoopBackOff",
                "message": f"back-off 5m0s restarting failed container={name} pod={metadata['name']}_"
                f"{metadata['namespace']}({metadata.get('uid', '')})",
            }
        },
        lastState={
            "terminated": {
                "exitCode": 1,
                "reason": "Error",
                "containerID": status.get("containerID", ""),
                "startedAt": timestamp(now - timedelta(seconds=95)),
                "finishedAt": timestamp(now - timedelta(seconds=90)),
            }
        },
    )
    _not_ready(out, name, timestamp(now - timedelta(minutes=restarts)))
    return out


def oom_killed(
    pod: Mapping[str, Any], restarts: int = 3, *, container: str | None = None, now: datetime | None = None
) -> Obj:
    """The Pod with one container (default: the first) running again after the kernel's OOM
    killer ended its last run (exit code 137), as the kubelet reports it."""
    now = now or datetime.now(UTC)
    out = copy.deepcopy(dict(pod))
    status = _container_status(out, container)
    restarted = now - timedelta(minutes=2)
    status.update(
        ready=True,
        started=True,
        restartCount=restarts,
        state={"running": {"startedAt": timestamp(restarted)}},
        lastState={
            "terminated": {
                "exitCode": 137,
                "reason": "OOMKilled",
                "containerID": status.get("containerID", ""),
                "startedAt": timestamp(restarted - timedelta(minutes=40)),
                "finishedAt": timestamp(restarted - timedelta(seconds=1)),
            }
        },
    )
    status["containerID"] = f"containerd://{hex_digest(status.get('containerID', '') + 'restarted')}"
    return out


def pending(pod: Mapping[str, Any], *, nodes: int = 3, now: datetime | None = None) -> Obj:
    """The Pod as the scheduler leaves one it cannot place for lack of CPU: Pending, on no
    node, without IPs or container statuses, PodScheduled False (Unschedulable)."""
    now = now or datetime.now(UTC)
    out = copy.deepcopy(dict(pod))
    out["spec"].pop("nodeName", None)
    status = out["status"]
    for key in ("hostIP", "hostIPs", "podIP", "podIPs", "startTime", "containerStatuses", "initContainerStatuses"):
        status.pop(key, None)
    status["phase"] = "Pending"
    status["conditions"] = [
        {
            "type": "PodScheduled",
            "status": "False",
            "reason": "Unschedulable",
            "lastTransitionTime": timestamp(now),
            "message": f"0/{nodes} nodes are available: {nodes} Insufficient cpu. preemption: 0/{nodes} nodes are "
            f"available: {nodes} No preemption victims found for incoming pod.",
        }
    ]
    return out
