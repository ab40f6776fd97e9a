"""The guide's runbook as a diagnosis: the queue's verdict, then its three remedies in order.

The guide (docs/sources.md, "The runbook"): a sharp rise in metrics backs up the queue,
verify it in monitoring; wait for Bigtable autoscaling (or scale Bigtable); if the backlog is
big, scale or autoscale the flat-run-fields-updater; if one run slows everyone, discard its
updates. Each step here has a status, its evidence and the next action as a command that
works when pasted; the changes it proposes are data (`Proposal`s) that `--fix` applies
through the same planning code as the typed command. Pure: no I/O.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from wbctl.core import bigtable, scaling
from wbctl.core.bigtable import BigtableObservation, ClusterState
from wbctl.core.discard import DiscardRequest
from wbctl.core.durations import format_duration
from wbctl.core.kube import KubeObservation, Pod
from wbctl.core.model import AuditRecord, Observed, Proposal, Status, command
from wbctl.core.queue import Judgement, Verdict
from wbctl.core.queue_source import QueueAddress
from wbctl.core.redis_settings import DiscardState
from wbctl.core.series import SignalData, since
from wbctl.core.service_view import ServiceView, map_services

UPDATER = "wandb-flat-run-fields-updater"
_READ_PREFIX = re.compile(r"^read \S+ of ")  # "read <metric type> of projects/p: why": the same why for every metric
BIGTABLE_HORIZON = timedelta(minutes=20)  # nodes help only after up to 20 minutes under load (Bigtable docs)
NOT_ACTING_AFTER = timedelta(minutes=10)
DOMINANT_SHARE = 0.5
DOMINANT_RATIO = 3.0
TOP_RUNS = 5
DISCARD_TTL = 2 * 3600
HOT_PARTITION_SHARE = 0.5


@dataclass(frozen=True)
class RunLoad:
    """One run's load as the noisy-run query measures it (per second, over 10 minutes)."""

    run: str
    rate: float


@dataclass(frozen=True)
class BigtableEvidence:
    admin: Observed[BigtableObservation]
    cpu: SignalData
    hottest: SignalData
    nodes: SignalData


@dataclass(frozen=True)
class Evidence:
    """Everything the diagnosis reads, each piece known or unknown with its reason."""

    now: datetime
    address: QueueAddress
    judgement: Judgement
    bigtable: BigtableEvidence
    kube: Observed[KubeObservation]
    discard: Observed[DiscardState]
    loads: Observed[list[RunLoad]] | None  # None: no noisy-run-query configured
    changes: Observed[list[AuditRecord]]
    invocation: str = "wbctl"  # how a printed wbctl command starts (`wbctl --context prod`)
    kubectl: str = "kubectl"  # how a printed kubectl command starts (`kubectl --context c -n ns`)


@dataclass(frozen=True)
class Step:
    number: int
    name: str
    status: Status
    summary: str
    evidence: tuple[str, ...] = ()
    next: str = ""  # the command (or instruction) to act on this step
    proposals: tuple[Proposal, ...] = ()  # the changes `next` makes, as data
    fixable: bool = False  # --fix applies these proposals (never a discard)


@dataclass(frozen=True)
class Diagnosis:
    judgement: Judgement
    address: QueueAddress
    steps: tuple[Step, ...]
    changes: tuple[AuditRecord, ...] = ()
    changes_reason: str = ""
    headline: str = ""
    next: str = ""

    @property
    def loss_projected(self) -> bool:
        return self.judgement.loss is not None and self.judgement.loss.projected

    @property
    def fixes(self) -> tuple[Proposal, ...]:
        """What `--fix` applies: on growing, steady, or draining with projected loss; never on a
        stall; only raised limits, never a discard."""
        if not self.judgement.needs_capacity:
            return ()
        return tuple(p for step in self.steps if step.fixable for p in step.proposals)

    @property
    def exit_status(self) -> int:
        if self.judgement.verdict is Verdict.UNKNOWN:
            return 3
        if self.judgement.verdict is not Verdict.NONE or self.loss_projected:
            return 1
        return 0


# --- step 1: the backlog --------------------------------------------------------------


def _number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "unknown"
    if abs(value) >= 10_000:
        return f"{value / 1000:,.0f}k{unit}" if abs(value) < 10_000_000 else f"{value / 1e6:,.1f}M{unit}"
    return f"{value:,.0f}{unit}" if abs(value) >= 10 or value == int(value) else f"{value:,.1f}{unit}"


def _clock(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%H:%M} UTC"


def _backlog_step(judgement: Judgement, address: QueueAddress) -> Step:
    verdict = judgement.verdict
    loss = judgement.loss
    status = {Verdict.NONE: Status.OK, Verdict.STEADY: Status.WARN, Verdict.DRAINING: Status.WARN,
              Verdict.UNKNOWN: Status.UNKNOWN}.get(verdict, Status.FAIL)
    if loss is not None and loss.projected:
        status = Status.FAIL
    evidence = [f"queue: {address.describe()} (from {address.origin})"]
    readings = judgement.readings
    unknown: dict[str, list[str]] = {}  # one line per reason, however many signals it hides
    for label, reading, unit in (("backlog", readings.backlog, " messages"), ("oldest unacked", readings.oldest_age, ""),
                                 ("published", readings.published, "/s"), ("consumed", readings.consumed, "/s"),
                                 ("expired ack deadlines", readings.expired, "/s")):
        if label == "expired ack deadlines" and address.source != "pubsub":
            continue
        if reading.known:
            value = format_duration(reading.latest or 0) if label == "oldest unacked" else _number(reading.latest, unit)
            evidence.append(f"{label}: {value} (newest point {_clock(reading.newest)})")
        else:
            unknown.setdefault(_READ_PREFIX.sub("", reading.reason), []).append(label)
    evidence += [f"{', '.join(labels)}: unknown ({reason})" for reason, labels in unknown.items()]
    if judgement.rise_began is not None and verdict is Verdict.GROWING:
        evidence.append(f"the rise began at {_clock(judgement.rise_began)}")
    if judgement.drain_seconds is not None:
        evidence.append(f"empty in about {format_duration(judgement.drain_seconds)} at the current rate")
    if loss is not None:
        evidence.append(("DATA LOSS: " if loss.projected else "retention: ") + loss.reason)
    if readings.partitions:
        total = sum(readings.partitions.values()) or 1.0
        top = sorted(readings.partitions.items(), key=lambda item: -item[1])[:3]
        evidence.append("lag by partition: " + ", ".join(f"{p} {v / total:.0%}" for p, v in top))
    return Step(1, "backlog", status, f"{verdict.value}: {judgement.reason}", tuple(evidence))


# --- step 2: Bigtable -----------------------------------------------------------------


def _last_node_change(evidence: BigtableEvidence, cluster: ClusterState) -> tuple[datetime, int, int] | None:
    """(when, from, to) of the last node count change in the window."""
    series = evidence.nodes.for_label("cluster", cluster.cluster_id)
    last = None
    for (_, before), (moment, after) in zip(series.points, series.points[1:]) if series else ():
        if after != before:
            last = (moment, int(before), int(after))
    return last


def _cluster_step(evidence: BigtableEvidence, cluster: ClusterState, now: datetime, wanted: bool
                  ) -> tuple[Status, str, list[str], Proposal | None, str]:
    """(status, summary, evidence, proposal, next) for one cluster."""
    scaling_config = cluster.autoscaling
    target = scaling_config.cpu_target if scaling_config else 70
    lines = [f"{cluster.cluster_id}: {cluster.serve_nodes} nodes, "
             + (f"autoscaling {scaling_config.min_nodes}-{scaling_config.max_nodes} at {target}% CPU"
                if scaling_config else "autoscaling off")]
    cpu = evidence.cpu.for_label("cluster", cluster.cluster_id)
    hottest = evidence.hottest.for_label("cluster", cluster.cluster_id)
    change = _last_node_change(evidence, cluster)
    if change is not None:
        lines.append(f"nodes {change[1]} -> {change[2]} at {_clock(change[0])}")
    if hottest is not None and hottest.latest is not None:
        lines.append(f"hottest node CPU {hottest.latest:.0%}")
    if scaling_config is None:
        proposal = bigtable.raised_limits(cluster) if wanted else None
        return (Status.FAIL, f"{cluster.cluster_id}: autoscaling is off ({cluster.serve_nodes} fixed nodes): turn it on",
                lines, proposal, "")
    if cpu is None or cpu.latest is None:
        reason = evidence.cpu.reason or f"no CPU data for {cluster.cluster_id}"
        return Status.UNKNOWN, f"{cluster.cluster_id}: CPU unknown ({reason})", lines, None, ""
    lines.append(f"CPU {cpu.latest:.0%} (target {target}%), peak {cpu.peak or 0:.0%} in the window")
    over = cpu.latest * 100 > target
    if not over:
        if hottest is not None and (hottest.latest or 0) * 100 > target:
            lines.append("one node runs hot while the cluster does not: a hotspot (one key range, maybe one run: step 4)")
        return Status.OK, f"{cluster.cluster_id}: CPU {cpu.latest:.0%} under the {target}% target", lines, None, ""
    if cluster.serve_nodes >= scaling_config.max_nodes:
        proposal = bigtable.raised_limits(cluster) if wanted else None
        return (Status.FAIL if wanted else Status.WARN, f"{cluster.cluster_id}: at its autoscaling maximum of {scaling_config.max_nodes} nodes "
                f"with CPU {cpu.latest:.0%} over the {target}% target: raise the maximum", lines, proposal, "")
    if change is not None and change[2] > change[1] and now - change[0] < BIGTABLE_HORIZON:
        until = change[0] + BIGTABLE_HORIZON
        return (Status.WARN, f"{cluster.cluster_id}: scaling under way (nodes added at {_clock(change[0])}); new nodes "
                f"help only after up to 20 minutes: wait until {_clock(until)} and watch", lines, None,
                f"wait until {_clock(until)}, then run this again")
    recent_over = since(cpu.points, now - NOT_ACTING_AFTER)
    acting = change is not None and now - change[0] < NOT_ACTING_AFTER
    if len(recent_over) >= 5 and all(v * 100 > target for _, v in recent_over) and not acting:
        return (Status.FAIL, f"{cluster.cluster_id}: CPU over target for 10 minutes below its maximum and no node added: "
                "the autoscaler is not acting (quota?)", lines, None,
                "check the project's Bigtable node quota (Cloud console: IAM & Admin > Quotas) and the instance's "
                "autoscaling events")
    until = now + BIGTABLE_HORIZON
    return (Status.WARN, f"{cluster.cluster_id}: CPU over target below its maximum: scaling is due; wait until "
            f"{_clock(until)} and watch", lines, None, f"wait until {_clock(until)}, then run this again")


def _bigtable_step(evidence: BigtableEvidence, now: datetime, wanted: bool, invocation: str) -> Step:
    admin = evidence.admin
    if not admin.known or admin.value is None:
        return Step(2, "bigtable", Status.UNKNOWN, f"Bigtable unknown: {admin.reason}")
    results = [_cluster_step(evidence, cluster, now, wanted) for cluster in admin.value.clusters]
    if not results:
        return Step(2, "bigtable", Status.UNKNOWN, f"{admin.value.target()} has no clusters")
    order = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.OK)
    status = min((r[0] for r in results), key=order.index)
    proposals = tuple(r[3] for r in results if r[3] is not None)
    lines = tuple(line for r in results for line in r[2])
    summary = "; ".join(r[1] for r in results)
    next_step = "; ".join(command(p, invocation) for p in proposals) or next((r[4] for r in results if r[4]), "")
    return Step(2, "bigtable", status, summary, lines, next_step, proposals, fixable=True)


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


def _pod_problems(pods: list[Pod]) -> list[str]:
    problems = []
    for pod in pods:
        if "CrashLoopBackOff" in pod.waiting:
            problems.append(f"{pod.name}: CrashLoopBackOff ({pod.restarts} restarts)")
        elif "OOMKilled" in pod.last_terminated:
            problems.append(f"{pod.name}: OOMKilled ({pod.restarts} restarts): raise its memory limit "
                            "(values.flat-run-fields-updater.resources in the WeightsAndBiases resource)")
        elif pod.phase == "Pending":
            problems.append(f"{pod.name}: Pending" + (f" ({pod.unschedulable})" if pod.unschedulable else ""))
        elif pod.waiting:
            problems.append(f"{pod.name}: waiting ({', '.join(pod.waiting)})")
    return problems


def _updater_view(observation: KubeObservation) -> ServiceView | None:
    return next((view for view in map_services(observation) if view.name == UPDATER), None)


def _raised(minimum: int, maximum: int, cap: int | None) -> tuple[int, int]:
    if cap is not None:
        maximum = min(maximum, cap)
        minimum = min(minimum, cap)
    return minimum, max(minimum, maximum)


def _updater_step(ev: Evidence, bigtable_step: Step, wanted: bool) -> Step:
    kube = ev.kube
    if not kube.known or kube.value is None:
        return Step(3, "flat-run-fields-updater", Status.UNKNOWN, f"the updater is unknown: {kube.reason}")
    view = _updater_view(kube.value)
    if view is None or view.workload is None:
        return Step(3, "flat-run-fields-updater", Status.FAIL, f"{UPDATER} is not deployed in namespace "
                    f"{kube.value.namespace}: nothing consumes the queue")
    workload = view.workload
    ready, desired = len(view.ready_pods), workload.desired or 0
    autoscaler = view.autoscaler
    hpas = [a for a in view.autoscalers if a.kind == "HorizontalPodAutoscaler"]
    at_max = any(a.at_max for a in hpas) or (autoscaler is not None and autoscaler.at_max)
    lines = [f"deployment/{workload.name}: {ready}/{desired} ready"]
    if autoscaler is not None:
        cpu = next((a.cpu_current for a in hpas if a.cpu_current is not None), None)
        lines.append(f"{autoscaler.kind} {autoscaler.name}: {autoscaler.min_replicas}-{autoscaler.max_replicas} replicas"
                     + (", at its maximum" if at_max else "")
                     + (f", CPU {cpu}% of request (target {autoscaler.cpu_target or 80}%)" if cpu is not None else ""))
    else:
        lines.append("no autoscaler: a fixed replica count")
    logs = f"{ev.kubectl} logs deploy/{workload.name} --since=15m --all-containers --prefix | tail -200"
    if ev.judgement.verdict is Verdict.STALLED:
        expired = ev.judgement.readings.expired
        if expired.known:
            lines.append(f"expired ack deadlines: {_number(expired.latest, '/s')} (messages redelivered, up to 600 s apart)")
        return Step(3, "flat-run-fields-updater", Status.FAIL,
                    "the consumers take nothing off the queue: a message they cannot process, not a lack of capacity; "
                    "read the updater's logs (with ordering on, one failing message holds its run's key), then step 4",
                    tuple(lines), logs)
    problems = _pod_problems(view.pods)
    if problems:
        lines += problems
        first = next(p for p in view.pods if p.waiting or p.last_terminated or p.phase == "Pending")
        return Step(3, "flat-run-fields-updater", Status.FAIL,
                    f"{len(problems)} of {len(view.pods)} updater pods are unhealthy: fix them before any scaling",
                    tuple(lines), f"{ev.kubectl} describe pod {first.name}; {ev.kubectl} logs {first.name} --previous")
    if not wanted:
        return Step(3, "flat-run-fields-updater", Status.OK, f"{ready} ready consumers", tuple(lines))
    partitions = ev.address.partitions if ev.address.source == "kafka" else None
    readings = ev.judgement.readings
    if readings.partitions:
        total = sum(readings.partitions.values())
        part, lag = max(readings.partitions.items(), key=lambda item: item[1])
        if total > 0 and lag / total > HOT_PARTITION_SHARE:
            lines.append(f"partition {part} holds {lag / total:.0%} of the lag")
            return Step(3, "flat-run-fields-updater", Status.WARN,
                        f"one hot partition ({part}: {lag / total:.0%} of the lag) - likely one run; more consumers "
                        "will not help: see step 4", tuple(lines))
    if partitions is not None and ready >= partitions:
        return Step(3, "flat-run-fields-updater", Status.WARN,
                    f"{ready} consumers for {partitions} partitions: consumers beyond the partition count add nothing",
                    tuple(lines))
    if not (_cpu_under_target(ev.bigtable) or bigtable_step.proposals):
        return Step(3, "flat-run-fields-updater", Status.WARN,
                    "more consumers would only load Bigtable further (its CPU is over target or unknown): Bigtable first",
                    tuple(lines))
    floor = max(3, ready, desired)
    if autoscaler is None:
        low, high = _raised(floor, max(10, 2 * floor), partitions)
        summary = f"no autoscaling while the backlog is not clearing: autoscale it ({low}-{high})"
    elif at_max:
        low, high = _raised(max(autoscaler.min_replicas or 1, 3, ready), 2 * (autoscaler.max_replicas or 1), partitions)
        summary = f"at its maximum of {autoscaler.max_replicas} while the backlog is not clearing: raise it to {high}"
    elif autoscaler.cpu_only and _cpu_low(hpas, autoscaler.cpu_target):
        ceiling = autoscaler.max_replicas or 1
        low, high = _raised(max(autoscaler.min_replicas or 1, 3, min(2 * ready, ceiling)), ceiling, partitions)
        lines.append("or scale on the queue: a KEDA trigger on the lag (values.flat-run-fields-updater.autoscaling.keda)")
        summary = ("its autoscaler scales on CPU, which is under target, so it cannot see the queue: "
                   f"hold at least {low} replicas (its minimum to {low})")
    else:
        return Step(3, "flat-run-fields-updater", Status.OK,
                    f"the autoscaler has room ({ready} of at most {autoscaler.max_replicas})", tuple(lines))
    if autoscaler is not None and low <= (autoscaler.min_replicas or 0) and high <= (autoscaler.max_replicas or 0):
        return Step(3, "flat-run-fields-updater", Status.WARN, summary + f" - but it is at the partition count "
                    f"({partitions}) already: more consumers add nothing", tuple(lines))
    proposal = scaling.AutoscaleRequest(UPDATER, low, high)
    return Step(3, "flat-run-fields-updater", Status.FAIL, summary, tuple(lines), command(proposal, ev.invocation),
                (proposal,), fixable=True)


def _cpu_low(hpas: list, target: int | None) -> bool:
    current = next((a.cpu_current for a in hpas if a.cpu_current is not None), None)
    return current is not None and current < (target or 80)


# --- step 4: one noisy run ------------------------------------------------------------


def _noisy_run_step(ev: Evidence, wanted: bool) -> Step:
    lines: list[str] = []
    discarded: str | None = None
    if ev.discard.known and ev.discard.value is not None and ev.discard.value.run_id:
        state = ev.discard.value
        discarded = state.run_id
        expiry = f"expires in {format_duration(state.ttl_seconds)}" if state.ttl_seconds else "no expiry"
        lines.append(f"run {state.run_id} is discarded now ({expiry}); restore: "
                     f"{ev.invocation} run restore {state.run_id}")
    elif not ev.discard.known:
        lines.append(f"discarded run unknown: {ev.discard.reason}")
    if ev.loads is None:  # unmeasured: an open question while the queue does not clear
        return Step(4, "noisy run", Status.WARN if discarded or wanted else Status.OK,
                    "no noisy-run-query is configured: wbctl will not guess a run id; find the run as the runbook says",
                    tuple(lines), f"{ev.invocation} runbook show noisy-run")
    if not ev.loads.known or ev.loads.value is None:
        return Step(4, "noisy run", Status.UNKNOWN, f"the load per run is unknown: {ev.loads.reason}", tuple(lines))
    loads = ev.loads.value
    total = sum(load.rate for load in loads)
    if not loads or total <= 0:
        return Step(4, "noisy run", Status.OK, "no run load in the last 10 minutes", tuple(lines))
    for load in loads[:TOP_RUNS]:
        lines.append(f"run {load.run}: {load.rate / total:.0%} of the load ({_number(load.rate, '/s')})")
    top = loads[0]
    runner_up = loads[1].rate if len(loads) > 1 else 0.0
    dominant = top.rate / total >= DOMINANT_SHARE and (runner_up <= 0 or top.rate / runner_up >= DOMINANT_RATIO)
    if not dominant:
        return Step(4, "noisy run", Status.WARN if discarded else Status.OK,
                    f"no single run dominates (the top one sends {top.rate / total:.0%})", tuple(lines))
    ratio = "" if runner_up <= 0 else f", {top.rate / runner_up:.1f}x the next"
    if discarded == top.run:
        return Step(4, "noisy run", Status.WARN, f"run {top.run} dominates the load and is already discarded", tuple(lines))
    summary = f"run {top.run} sends {top.rate / total:.0%} of the load{ratio}"
    if not wanted:
        return Step(4, "noisy run", Status.OK, summary, tuple(lines))
    replace = discarded is not None
    proposal = DiscardRequest(top.run, DISCARD_TTL, replace=replace)
    note = " (replacing the run discarded now)" if replace else ""
    return Step(4, "noisy run", Status.FAIL, summary + ": discard its updates for 2h" + note, tuple(lines),
                command(proposal, ev.invocation), (proposal,))


# --- the whole ------------------------------------------------------------------------


def diagnose(ev: Evidence) -> Diagnosis:
    judgement = ev.judgement
    verdict = judgement.verdict
    # what the steps may propose: capacity while the queue does not clear (or cannot be judged:
    # the evidence of a step alone may still ask for it); nothing on none or a stall
    wanted = judgement.needs_capacity or verdict is Verdict.UNKNOWN
    first = _backlog_step(judgement, ev.address)
    second = _bigtable_step(ev.bigtable, ev.now, wanted and verdict is not Verdict.STALLED, ev.invocation)
    third = _updater_step(ev, second, wanted and verdict is not Verdict.STALLED)
    fourth = _noisy_run_step(ev, verdict not in (Verdict.NONE,))
    steps = (first, second, third, fourth)
    if verdict is Verdict.NONE:
        next_action = ""
    elif verdict is Verdict.STALLED:  # the logs first: a discard drops data, and capacity will not help
        next_action = third.next
    elif verdict is Verdict.UNKNOWN:  # only what the evidence that was read asks for
        next_action = next((step.next for step in steps[1:] if step.proposals), "")
    else:
        next_action = next((step.next for step in steps[1:] if step.proposals), "") or next(
            (step.next for step in steps[1:] if step.next and step.status is not Status.OK), "")
    changes = tuple(ev.changes.value or ()) if ev.changes.known else ()
    diagnosis = Diagnosis(judgement, ev.address, steps, changes, "" if ev.changes.known else ev.changes.reason,
                          next=next_action)
    return Diagnosis(**{**diagnosis.__dict__, "headline": headline(diagnosis)})


def headline(diagnosis: Diagnosis) -> str:
    """The first line of the output: verdict, rate, oldest age, projected loss, next command."""
    judgement = diagnosis.judgement
    parts = [f"queue {judgement.verdict.value.upper()}"]
    if judgement.rate_per_second is not None and judgement.verdict is not Verdict.NONE:
        parts[0] += f" {judgement.rate_per_second * 60:+,.0f} msg/min"
    if judgement.backlog is not None:
        parts.append(f"backlog {_number(judgement.backlog)}")
    if judgement.publish_rate is not None or judgement.consume_rate is not None:
        parts.append(f"publish {_number(judgement.publish_rate, '/s')} vs consume {_number(judgement.consume_rate, '/s')}")
    if judgement.oldest_age is not None:
        parts.append(f"oldest {format_duration(judgement.oldest_age)}")
    if judgement.drain_seconds is not None:
        parts.append(f"empty in ~{format_duration(judgement.drain_seconds)}")
    if judgement.verdict is Verdict.UNKNOWN:
        parts.append(judgement.reason)
    text = ", ".join(parts)
    loss = judgement.loss
    if loss is not None and loss.projected and loss.seconds_left is not None and math.isfinite(loss.seconds_left):
        text = f"DATA LOSS in ~{format_duration(loss.seconds_left)}: {text}"
    if diagnosis.next:
        text += f"; next: {diagnosis.next}"
    elif judgement.verdict is Verdict.NONE:
        text += "; nothing to do"
    return text
