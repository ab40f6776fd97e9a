"""Step 1's second queue: the filestream service's own Pub/Sub subscription, shown beside the
run-updates queue when there is one (not `none`).

A backlog there means filestream is not keeping up with what the SDKs stream (the guide:
autoscale filestream), not the run-updates path the other steps act on, so it adds its lines
and its remedy (`services autoscale wandb-filestream --min N --max M`) to step 1, and never a
change `--fix` makes: the diagnosis, its verdict and its exit status stay the run-updates
queue's. Pure: no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

from wbctl.core import scaling
from wbctl.core.durations import format_duration
from wbctl.core.kube import KubeObservation
from wbctl.core.model import Observed, Status, command
from wbctl.core.queue import Judgement, Verdict, backlog_status
from wbctl.core.queue_source import FILESTREAM, QueueAddress
from wbctl.core.runbook.evidence import amount, clock
from wbctl.core.service_view import ServiceView, service_named

SERVICE = FILESTREAM.service  # wandb-filestream


@dataclass(frozen=True)
class FilestreamQueue:
    """The filestream queue as step 1 shows it: its status, its lines, the command that adds capacity."""

    status: Status
    summary: str
    lines: tuple[str, ...]
    next: str = ""
    proposal: scaling.AutoscaleRequest | None = None


def remedy(view: ServiceView | None) -> scaling.AutoscaleRequest:
    """More filestream replicas (`capacity`'s request)."""
    return capacity(view)[0]


def capacity(view: ServiceView | None) -> tuple[scaling.AutoscaleRequest, str]:
    """More filestream replicas, and why, in words. At its autoscaler's maximum: double the
    ceiling, holding what runs now. Below it while the backlog grows, the autoscaler (on CPU)
    does not see the queue: hold twice the replicas that run now (its minimum; at its maximum,
    twice that). Without one: autoscale from what runs now."""
    ready = len(view.ready_pods) if view is not None else 0
    autoscaler = view.autoscaler if view is not None else None
    if autoscaler is not None:
        minimum, ceiling = autoscaler.min_replicas or 1, autoscaler.max_replicas or max(ready, 1)
        if autoscaler.at_max or ready >= ceiling:
            request = scaling.AutoscaleRequest(SERVICE, max(minimum, ready, 1), 2 * max(ceiling, ready, 1))
            return request, "at its autoscaling maximum: raise it"
        low = max(2 * ready, minimum + 1)
        request = scaling.AutoscaleRequest(SERVICE, low, ceiling if low < ceiling else 2 * low)
        return request, "its autoscaler has room it does not use (on CPU it does not see the queue): hold more replicas"
    desired = view.workload.desired if view is not None and view.workload is not None else 0
    low = max(1, ready, desired or 0)
    why = "autoscale it" if view is None or view.workload is None else "no autoscaler: autoscale it from what runs now"
    return scaling.AutoscaleRequest(SERVICE, low, max(2 * low, 3)), why


def _replicas(view: ServiceView | None) -> str:
    if view is None or view.workload is None:
        return f"{SERVICE}: not deployed"
    autoscaler = view.autoscaler
    bounds = (
        f", {autoscaler.kind} {autoscaler.min_replicas}-{autoscaler.max_replicas}"
        + (" at its maximum" if autoscaler.at_max else "")
        if autoscaler is not None
        else ", no autoscaler"
    )
    return f"{SERVICE}: {len(view.ready_pods)}/{view.workload.desired or 0} ready{bounds}"


def filestream_queue(
    judgement: Judgement,
    address: QueueAddress,
    kube: Observed[KubeObservation],
    invocation: str,
    kubectl: str = "kubectl",
) -> FilestreamQueue:
    """The filestream queue judged as the run-updates queue is (`backlog_status`), with the
    command that adds filestream capacity while its backlog does not clear."""
    status = backlog_status(judgement)
    lines = [f"filestream queue: {address.describe()} (from {address.origin})"]
    known = [
        f"backlog {amount(judgement.backlog, ' messages')}" if judgement.backlog is not None else "",
        f"oldest {format_duration(judgement.oldest_age)}" if judgement.oldest_age is not None else "",
        f"newest point {clock(judgement.readings.backlog.newest)}" if judgement.readings.backlog.known else "",
    ]
    lines.append(f"filestream queue {judgement.verdict.value}: {judgement.reason}")
    if any(known):
        lines.append("filestream queue: " + ", ".join(part for part in known if part))
    if judgement.loss is not None and judgement.loss.projected:
        lines.append(f"filestream queue DATA LOSS: {judgement.loss.reason}")
    view = service_named(kube.value, SERVICE) if kube.value is not None else None
    if kube.value is not None:
        lines.append(_replicas(view))
    summary = f"filestream queue {judgement.verdict.value}"
    if judgement.verdict is Verdict.STALLED:  # a message it cannot process: its logs, not capacity
        name = view.workload.name if view is not None and view.workload is not None else SERVICE
        logs = f"{kubectl} logs deploy/{name} --since=15m --all-containers --prefix | tail -200"
        return FilestreamQueue(status, summary, tuple(lines), logs)
    if not judgement.needs_capacity:
        return FilestreamQueue(status, summary, tuple(lines))
    if kube.value is None:  # its replicas unknown: no numbers guessed, the command that shows them
        lines.append(f"{SERVICE}: unknown ({kube.reason})")
        return FilestreamQueue(status, summary, tuple(lines), f"{invocation} services status {SERVICE}")
    proposal, why = capacity(view)
    lines.append(f"filestream is not keeping up with what the SDKs stream: {why} (the guide: autoscale it)")
    return FilestreamQueue(status, summary, tuple(lines), command(proposal, invocation), proposal)
