"""The runbook's steps 2-4: Bigtable, the flat-run-fields-updater, one noisy run (and the
per-run rate limit that keeps it from coming back).

Each reads its evidence (known or unknown with the reason) and gives a status, its evidence
lines, the next action as a pasteable command, and the changes it proposes as requests
(`Proposal`s) that `--fix` applies with the same planning code as the typed command.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from wbctl.core import bigtable, rate_limits, scaling
from wbctl.core.bigtable import BigtableObservation, ClusterState
from wbctl.core.discard import DiscardRequest
from wbctl.core.durations import format_duration
from wbctl.core.kube import Autoscaler, Generation, KubeObservation, Workload
from wbctl.core.model import AuditRecord, Proposal, Status, command
from wbctl.core.pod_health import PodProblem
from wbctl.core.queue import Verdict
from wbctl.core.runbook.evidence import (
    DISCARD_TTL,
    DOMINANT_RATIO,
    DOMINANT_SHARE,
    HOT_PARTITION_SHARE,
    TOP_RUNS,
    BigtableEvidence,
    Evidence,
    Step,
    amount,
    clock,
)
from wbctl.core.series import Series
from wbctl.core.service_view import UPDATER, ServiceView, service_named
from wbctl.core.services import HEALTH_WINDOW, health_problems

# --- step 2: Bigtable -----------------------------------------------------------------


@dataclass(frozen=True)
class _ClusterResult:
    """One cluster's part of step 2."""

    status: Status
    summary: str
    lines: list[str]
    proposal: Proposal | None
    next: str
    wait_until: datetime | None = None


def wait_text(until: datetime) -> str:
    """A step's `next` while it waits: an instruction, not a command."""
    return f"wait until {clock(until)}, then run this again"


def _cluster_lines(
    cluster: ClusterState, target: int, change: tuple[datetime, int, int] | None, hottest: Series | None
) -> list[str]:
    """The cluster's nodes and autoscaling, its last node change and its hottest node, as evidence."""
    config = cluster.autoscaling
    autoscaling = f"autoscaling {config.min_nodes}-{config.max_nodes} at {target}% CPU" if config else "autoscaling off"
    lines = [f"{cluster.cluster_id}: {cluster.serve_nodes} nodes, {autoscaling}"]
    if change is not None:
        lines.append(f"nodes {change[1]} -> {change[2]} at {clock(change[0])}")
    if hottest is not None and hottest.latest is not None:
        lines.append(f"hottest node CPU {hottest.latest:.0%}")
    return lines


def _cluster_step(
    evidence: BigtableEvidence,
    observation: BigtableObservation,
    cluster: ClusterState,
    now: datetime,
    changes: Sequence[AuditRecord],
    wanted: bool,
    drains_by: datetime | None,
) -> _ClusterResult:
    """One cluster: its CPU judged as `check` judges it (bigtable.judge_cpu), with autoscaling
    off a failure of its own (check's bigtable.autoscaling), and the evidence around both. The
    status is the judgement's; the raise is proposed only when the queue wants capacity."""
    target = bigtable.cpu_goal(cluster)
    read = bigtable.cpu_evidence(
        observation, cluster, evidence.cpu, evidence.nodes, changes, now=now, drains_by=drains_by
    )
    hottest = evidence.hottest.for_label("cluster", cluster.cluster_id)
    lines = _cluster_lines(cluster, target, bigtable.last_node_change(read.nodes), hottest)
    judged = bigtable.judge_cpu(cluster, read)
    if read.cpu is not None and read.cpu.latest is not None:
        lines.append(f"CPU {read.cpu.latest:.0%} (target {target}%), peak {read.cpu.peak or 0:.0%} in the window")
    if judged.status is Status.OK and hottest is not None and (hottest.latest or 0) * 100 > target:
        lines.append("one node runs hot while the cluster does not: a hotspot (one key range, maybe one run: step 4)")
    if cluster.autoscaling is None and judged.status is not Status.FAIL:
        return _ClusterResult(
            Status.FAIL,
            f"{cluster.cluster_id}: autoscaling is off ({cluster.serve_nodes} fixed nodes): turn it on",
            lines,
            bigtable.raised_limits(cluster) if wanted else None,
            "",
        )
    wait = judged.wait_until
    proposal = judged.proposal if wanted else None
    return _ClusterResult(
        judged.status, judged.summary, lines, proposal, wait_text(wait) if wait else judged.next, wait
    )


def bigtable_step(
    evidence: BigtableEvidence,
    now: datetime,
    wanted: bool,
    invocation: str,
    drains_by: datetime | None = None,
    changes: Sequence[AuditRecord] = (),
) -> Step:
    """Step 2. `wanted`: the queue wants capacity (else nothing is proposed); `drains_by`: when
    a backlog that drains in time will be empty (then wait); `changes`: wbctl's changes in the
    window (a raise it just made is waited for)."""
    admin = evidence.admin
    if not admin.known or admin.value is None:
        return Step(2, "bigtable", Status.UNKNOWN, f"Bigtable unknown: {admin.reason}")
    results = [
        _cluster_step(evidence, admin.value, cluster, now, changes, wanted, drains_by)
        for cluster in admin.value.clusters
    ]
    if not results:
        return Step(2, "bigtable", Status.UNKNOWN, f"{admin.value.target()} has no clusters")
    order = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.OK)
    status = min((r.status for r in results), key=order.index)
    proposals = tuple(r.proposal for r in results if r.proposal is not None)
    lines = tuple(line for r in results for line in r.lines)
    summary = "; ".join(r.summary for r in results)
    next_step = "; ".join(command(p, invocation) for p in proposals) or next((r.next for r in results if r.next), "")
    # every cluster waited for: the step waits until the last of them (none while one proposes a change)
    wait_until = None if proposals else max((r.wait_until for r in results if r.wait_until), default=None)
    if wait_until is not None:
        next_step = wait_text(wait_until)
    return Step(2, "bigtable", status, summary, lines, next_step, proposals, fixable=True, wait_until=wait_until)


def _cpu_under_target(evidence: BigtableEvidence) -> bool:
    admin = evidence.admin.value
    if admin is None:
        return False
    for cluster in admin.clusters:
        target = cluster.autoscaling.cpu_target if cluster.autoscaling else 70
        series = evidence.cpu.for_label("cluster", cluster.cluster_id)
        if series is None or series.latest is None or series.latest * 100 > target:
            return False
    return True


# --- step 3: the flat-run-fields-updater ----------------------------------------------


def _pod_problems(ev: Evidence, view: ServiceView, observation: KubeObservation) -> list[PodProblem]:
    """The updater's failing pods, as `services.<service>.health` finds them (one piece serves
    both): a restart or a pod near its memory limit warns there, and does not stop the scaling here."""
    found = health_problems(view, observation, kubectl=ev.kubectl, now=ev.now, window=HEALTH_WINDOW)
    return [problem for problem in found if problem.status is Status.FAIL]


def _raised(minimum: int, maximum: int, cap: int | None) -> tuple[int, int]:
    if cap is not None:
        maximum = min(maximum, cap)
        minimum = min(minimum, cap)
    return minimum, max(minimum, maximum)


_UPDATER_STEP = "flat-run-fields-updater"  # step 3's name


def _hpas(view: ServiceView) -> list[Autoscaler]:
    return [a for a in view.autoscalers if a.kind == "HorizontalPodAutoscaler"]


def _hpa_cpu(hpas: list[Autoscaler]) -> int | None:
    """The CPU an HPA reads now (percent of request), if one reports it."""
    return next((a.cpu_current for a in hpas if a.cpu_current is not None), None)


def _at_max(view: ServiceView) -> bool:
    autoscaler = view.autoscaler
    return any(a.at_max for a in _hpas(view)) or (autoscaler is not None and autoscaler.at_max)


def _cpu_low(hpas: list[Autoscaler], target: int | None) -> bool:
    current = _hpa_cpu(hpas)
    return current is not None and current < (target or 80)


def _updater_lines(view: ServiceView, workload: Workload) -> list[str]:
    """The Deployment's readiness and the autoscaler in charge, as evidence."""
    lines = [f"deployment/{workload.name}: {len(view.ready_pods)}/{workload.desired or 0} ready"]
    autoscaler = view.autoscaler
    if autoscaler is None:
        return [*lines, "no autoscaler: a fixed replica count"]
    cpu = _hpa_cpu(_hpas(view))
    described = (
        f"{autoscaler.kind} {autoscaler.name}: {autoscaler.min_replicas}-{autoscaler.max_replicas} replicas"
        + (", at its maximum" if _at_max(view) else "")
        + (f", CPU {cpu}% of request (target {autoscaler.cpu_target or 80}%)" if cpu is not None else "")
    )
    return [*lines, described]


def _stalled_updater(ev: Evidence, workload: Workload, lines: list[str]) -> Step:
    """A stalled queue: the logs, not capacity (one failing message holds its run's key)."""
    expired = ev.judgement.readings.expired
    if expired.known:
        lines = [
            *lines,
            f"expired ack deadlines: {amount(expired.latest, '/s')} (messages redelivered, up to 600 s apart)",
        ]
    return Step(
        3,
        _UPDATER_STEP,
        Status.FAIL,
        "the consumers take nothing off the queue: a message they cannot process, not a lack of capacity; "
        "read the updater's logs (with ordering on, one failing message holds its run's key), then step 4",
        tuple(lines),
        f"{ev.kubectl} logs deploy/{workload.name} --since=15m --all-containers --prefix | tail -200",
    )


def _unhealthy_updater(ev: Evidence, view: ServiceView, lines: list[str], problems: list[PodProblem]) -> Step:
    return Step(
        3,
        _UPDATER_STEP,
        Status.FAIL,
        f"{len(problems)} of {len(view.pods)} updater pods are unhealthy: fix them before any scaling",
        tuple(lines + [problem.line for problem in problems]),
        problems[0].look,
    )


def _kafka_partitions(ev: Evidence) -> int | None:
    return ev.address.partitions if ev.address.source == "kafka" else None


def _consumers_will_not_help(ev: Evidence, bigtable_step: Step, ready: int, lines: list[str]) -> Step | None:
    """Why more consumers would not clear the queue, as a step (None: they would)."""
    partitions = _kafka_partitions(ev)
    readings = ev.judgement.readings
    if readings.partitions:
        total = sum(readings.partitions.values())
        part, lag = max(readings.partitions.items(), key=lambda item: item[1])
        if total > 0 and lag / total > HOT_PARTITION_SHARE:
            return Step(
                3,
                _UPDATER_STEP,
                Status.WARN,
                f"one hot partition ({part}: {lag / total:.0%} of the lag) - likely one run; more consumers "
                "will not help: see step 4",
                (*lines, f"partition {part} holds {lag / total:.0%} of the lag"),
            )
    if partitions is not None and ready >= partitions:
        return Step(
            3,
            _UPDATER_STEP,
            Status.WARN,
            f"{ready} consumers for {partitions} partitions: consumers beyond the partition count add nothing",
            tuple(lines),
        )
    no_bigtable = ev.kube.value is not None and ev.kube.value.generation is Generation.V2  # nothing to overload
    if not (no_bigtable or _cpu_under_target(ev.bigtable) or bigtable_step.proposals):
        summary = "more consumers would only load Bigtable further (its CPU is over target or unknown): Bigtable first"
        until = bigtable_step.wait_until
        if until is None:
            return Step(3, _UPDATER_STEP, Status.WARN, summary, tuple(lines))
        return Step(
            3,
            _UPDATER_STEP,
            Status.WARN,
            f"{summary}; wait until {clock(until)} (step 2)",
            tuple(lines),
            wait_text(until),
            wait_until=until,
        )
    return None


def _wanted_bounds(
    view: ServiceView, workload: Workload, partitions: int | None, generation: Generation = Generation.V1
) -> tuple[int, int, str, str] | None:
    """(min, max, summary, advice) of the autoscaling the updater needs; None: its autoscaler has room."""
    ready, autoscaler = len(view.ready_pods), view.autoscaler
    if autoscaler is None:
        floor = max(3, ready, workload.desired or 0)
        low, high = _raised(floor, max(10, 2 * floor), partitions)
        return low, high, f"no autoscaling while the backlog is not clearing: autoscale it ({low}-{high})", ""
    if _at_max(view):
        low, high = _raised(max(autoscaler.min_replicas or 1, 3, ready), 2 * (autoscaler.max_replicas or 1), partitions)
        summary = f"at its maximum of {autoscaler.max_replicas} while the backlog is not clearing: raise it to {high}"
        return low, high, summary, ""
    if autoscaler.cpu_only and _cpu_low(_hpas(view), autoscaler.cpu_target):
        ceiling = autoscaler.max_replicas or 1
        low, high = _raised(max(autoscaler.min_replicas or 1, 3, min(2 * ready, ceiling)), ceiling, partitions)
        summary = (
            "its autoscaler scales on CPU, which is under target, so it cannot see the queue: "
            f"hold at least {low} replicas (its minimum to {low})"
        )
        advice = (
            ""  # the v2 CR sets an app's bounds alone (spec.wandb.applications): no queue trigger to name
            if generation is Generation.V2
            else "or scale on the queue: a KEDA trigger on the lag (values.flat-run-fields-updater.autoscaling.keda)"
        )
        return low, high, summary, advice
    return None


def _capacity_step(ev: Evidence, view: ServiceView, workload: Workload, lines: list[str]) -> Step:
    """Step 3 when the queue wants capacity the updater can give: the autoscaling to propose."""
    autoscaler = view.autoscaler
    partitions = _kafka_partitions(ev)
    generation = ev.kube.value.generation if ev.kube.value is not None else Generation.V1
    wanted = _wanted_bounds(view, workload, partitions, generation)
    if wanted is None:
        assert autoscaler is not None  # a missing autoscaler always wants one
        room = f"the autoscaler has room ({len(view.ready_pods)} of at most {autoscaler.max_replicas})"
        return Step(3, _UPDATER_STEP, Status.OK, room, tuple(lines))
    low, high, summary, advice = wanted
    evidence = (*lines, advice) if advice else tuple(lines)
    if autoscaler is not None and low <= (autoscaler.min_replicas or 0) and high <= (autoscaler.max_replicas or 0):
        return Step(
            3,
            _UPDATER_STEP,
            Status.WARN,
            summary + f" - but it is at the partition count ({partitions}) already: more consumers add nothing",
            evidence,
        )
    proposal = scaling.AutoscaleRequest(UPDATER, low, high)
    return Step(
        3, _UPDATER_STEP, Status.FAIL, summary, evidence, command(proposal, ev.invocation), (proposal,), fixable=True
    )


def updater_step(ev: Evidence, bigtable_step: Step, wanted: bool, drains_by: datetime | None = None) -> Step:
    """Step 3: the updater's pods and autoscaling, and the autoscaling it needs when capacity is wanted.
    `drains_by`: when a backlog that drains in time will be empty (then wait, and raise nothing)."""
    kube = ev.kube
    if not kube.known or kube.value is None:
        return Step(3, _UPDATER_STEP, Status.UNKNOWN, f"the updater is unknown: {kube.reason}")
    view = service_named(kube.value, UPDATER)
    if view is None or view.workload is None:
        return Step(
            3,
            _UPDATER_STEP,
            Status.FAIL,
            f"{UPDATER} is not deployed in namespace {kube.value.namespace}: nothing consumes the queue",
        )
    workload = view.workload
    lines = _updater_lines(view, workload)
    if ev.judgement.verdict is Verdict.STALLED:
        return _stalled_updater(ev, workload, lines)
    problems = _pod_problems(ev, view, kube.value)
    if problems:
        return _unhealthy_updater(ev, view, lines, problems)
    ready = len(view.ready_pods)
    if not wanted and drains_by is not None:
        return Step(
            3,
            _UPDATER_STEP,
            Status.OK,
            f"{ready} ready consumers; the backlog drains in time (empty by {clock(drains_by)}): "
            f"wait until {clock(drains_by)}, no more replicas while it drains",
            tuple(lines),
            wait_text(drains_by),
            wait_until=drains_by,
        )
    if not wanted:
        return Step(3, _UPDATER_STEP, Status.OK, f"{ready} ready consumers", tuple(lines))
    blocked = _consumers_will_not_help(ev, bigtable_step, ready, lines)
    return blocked if blocked is not None else _capacity_step(ev, view, workload, lines)


# --- step 4: one noisy run ------------------------------------------------------------


def _discarded(ev: Evidence) -> tuple[str | None, list[str]]:
    """The run discarded now (if any), and what the evidence says of it."""
    state = ev.discard.value
    if ev.discard.known and state is not None and state.run_id:
        expiry = f"expires in {format_duration(state.ttl_seconds)}" if state.ttl_seconds else "no expiry"
        return state.run_id, [
            f"run {state.run_id} is discarded now ({expiry}); restore: {ev.invocation} run restore {state.run_id}"
        ]
    if not ev.discard.known:
        return None, [f"discarded run unknown: {ev.discard.reason}"]
    return None, []


def noisy_run_step(ev: Evidence, wanted: bool) -> Step:
    """Step 4, and where it warns or acts, the durable fix beside the discard: the chart's
    per-run filestream rate limit (wbctl.core.rate_limits)."""
    step = _noisy_run_step(ev, wanted)
    if step.status not in (Status.WARN, Status.FAIL):
        return step
    durable = rate_limits.advice(ev.kube.value if ev.kube.known else None, ev.kubectl)
    return replace(step, evidence=step.evidence + tuple(durable))


def _noisy_run_step(ev: Evidence, wanted: bool) -> Step:
    discarded, lines = _discarded(ev)
    if ev.loads is None:  # unmeasured: an open question while the queue does not clear
        return Step(
            4,
            "noisy run",
            Status.WARN if discarded or wanted else Status.OK,
            "no noisy-run-query is configured: wbctl will not guess a run id; find the run as the runbook says",
            tuple(lines),
            f"{ev.invocation} runbook show noisy-run",
        )
    if not ev.loads.known or ev.loads.value is None:
        return Step(4, "noisy run", Status.UNKNOWN, f"the load per run is unknown: {ev.loads.reason}", tuple(lines))
    loads = ev.loads.value
    total = sum(load.rate for load in loads)
    if not loads or total <= 0:
        return Step(4, "noisy run", Status.OK, "no run load in the last 10 minutes", tuple(lines))
    for load in loads[:TOP_RUNS]:
        lines.append(f"run {load.run}: {load.rate / total:.0%} of the load ({amount(load.rate, '/s')})")
    top = loads[0]
    runner_up = loads[1].rate if len(loads) > 1 else 0.0
    dominant = top.rate / total >= DOMINANT_SHARE and (runner_up <= 0 or top.rate / runner_up >= DOMINANT_RATIO)
    if not dominant:
        return Step(
            4,
            "noisy run",
            Status.WARN if discarded else Status.OK,
            f"no single run dominates (the top one sends {top.rate / total:.0%})",
            tuple(lines),
        )
    ratio = "" if runner_up <= 0 else f", {top.rate / runner_up:.1f}x the next"
    if discarded == top.run:
        return Step(
            4, "noisy run", Status.WARN, f"run {top.run} dominates the load and is already discarded", tuple(lines)
        )
    summary = f"run {top.run} sends {top.rate / total:.0%} of the load{ratio}"
    if not wanted:
        return Step(4, "noisy run", Status.OK, summary, tuple(lines))
    replace = discarded is not None
    proposal = DiscardRequest(top.run, DISCARD_TTL, replace=replace)
    note = " (replacing the run discarded now)" if replace else ""
    return Step(
        4,
        "noisy run",
        Status.FAIL,
        summary + ": discard its updates for 2h" + note,
        tuple(lines),
        command(proposal, ev.invocation),
        (proposal,),
    )
