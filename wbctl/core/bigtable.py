"""Bigtable as the guide wants it: autoscaling on, "an absolute minimum of 3 nodes", 10 as a
steady state under heavy load, and CPU kept under the autoscaling target.

Google's own limits (docs/sources.md, "Bigtable") are checked here, before any call:
CPU target 10-80 %, max nodes <= 10 x min nodes, storage target per node 2560-5120 GiB (SSD)
or 8192-16384 GiB (HDD).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

from wbctl.core.model import (
    AuditRecord,
    AutoscalingWrite,
    Change,
    Finding,
    Plan,
    Report,
    Status,
    Write,
)
from wbctl.core.series import Series, SignalData
from wbctl.errors import UsageError

GUIDE_MIN_NODES = 3
GUIDE_STEADY_NODES = 10
CPU_TARGET_RANGE = (10, 80)
DEFAULT_CPU_TARGET = 70  # the guide's autoscaling target, and what a cluster without autoscaling is judged by
STORAGE_TARGET_RANGE = {"SSD": (2560, 5120), "HDD": (8192, 16384)}
MAX_NODES_FACTOR = 10
NODES_RANGE = (1, 1000)  # what wbctl sends; beyond a project's quota Google refuses anyway
DEFAULT_NODE_QUOTA = 30  # nodes per zone per project, by default (Bigtable quotas page)


def default_instance(namespace: str) -> str:
    """The instance id W&B's Terraform module gives: the namespace, or `<ns>-bigtable` when
    the namespace is shorter than 6 characters, truncated to 27 characters."""
    name = namespace if len(namespace) >= 6 else f"{namespace}-bigtable"
    return name[:27]


@dataclass(frozen=True)
class Autoscaling:
    min_nodes: int
    max_nodes: int
    cpu_target: int
    storage_target_gib: int | None = None


@dataclass(frozen=True)
class ClusterState:
    cluster_id: str
    location: str
    storage_type: str  # SSD | HDD
    state: str
    serve_nodes: int
    autoscaling: Autoscaling | None


@dataclass(frozen=True)
class BigtableObservation:
    project: str
    instance_id: str
    display_name: str
    state: str
    clusters: tuple[ClusterState, ...]

    def target(self, cluster_id: str | None = None) -> str:
        base = f"projects/{self.project}/instances/{self.instance_id}"
        return f"{base}/clusters/{cluster_id}" if cluster_id else base


# --- checks ---------------------------------------------------------------------------


def _describe(autoscaling: Autoscaling | None, serve_nodes: int) -> str:
    if autoscaling is None:
        return f"manual, {serve_nodes} nodes"
    return f"{autoscaling.min_nodes}-{autoscaling.max_nodes} nodes, CPU target {autoscaling.cpu_target}%"


AUTOSCALING_CHECK, MIN_NODES_CHECK, CPU_CHECK = "bigtable.autoscaling", "bigtable.min-nodes", "bigtable.cpu"
CHECK_IDS = (AUTOSCALING_CHECK, MIN_NODES_CHECK, CPU_CHECK)


def absent_report(target: str, reason: str) -> Report:
    """Every Bigtable check, ok and saying why it does not apply (an install of the v2
    operator has no Bigtable): not unknown, not failed."""
    return Report(tuple(Finding(check, Status.OK, target, None, "absent from v2", reason) for check in CHECK_IDS))


def check(
    observation: BigtableObservation,
    cpu: SignalData,
    window: str,
    *,
    nodes: SignalData | None = None,
    changes: Sequence[AuditRecord] = (),
    now: datetime | None = None,
    drains_by: datetime | None = None,
) -> Report:
    """The guide's settings per cluster, and its CPU judged as the runbook's step 2 judges it
    (`judge_cpu`): the same state gives the same status and the same proposed raise."""
    findings: list[Finding] = []
    for cluster in observation.clusters:
        target = observation.target(cluster.cluster_id)
        scaling = cluster.autoscaling
        guide = AutoscaleRequest(GUIDE_MIN_NODES, GUIDE_STEADY_NODES, DEFAULT_CPU_TARGET, cluster_id=cluster.cluster_id)
        if scaling is not None:
            findings.append(
                Finding(
                    AUTOSCALING_CHECK,
                    Status.OK,
                    target,
                    _describe(scaling, cluster.serve_nodes),
                    "enabled",
                    "autoscaling is on",
                )
            )
        else:
            findings.append(
                Finding(
                    AUTOSCALING_CHECK,
                    Status.FAIL,
                    target,
                    _describe(None, cluster.serve_nodes),
                    "enabled",
                    "autoscaling is off; the guide recommends it",
                    proposal=guide,
                )
            )
        floor = scaling.min_nodes if scaling else cluster.serve_nodes
        if floor >= GUIDE_MIN_NODES:
            findings.append(
                Finding(MIN_NODES_CHECK, Status.OK, target, floor, f">= {GUIDE_MIN_NODES}", f"at least {floor} nodes")
            )
        else:
            terraform = " (the W&B Terraform module's default is 1)" if scaling and scaling.min_nodes == 1 else ""
            findings.append(
                Finding(
                    MIN_NODES_CHECK,
                    Status.FAIL,
                    target,
                    floor,
                    f">= {GUIDE_MIN_NODES}",
                    f"as few as {floor} node(s); the guide's absolute minimum is {GUIDE_MIN_NODES}{terraform}",
                    proposal=guide,
                )
            )
        evidence = cpu_evidence(observation, cluster, cpu, nodes, changes, now=now, drains_by=drains_by)
        findings.append(_cpu_finding(cluster, target, evidence, window))
    return Report(tuple(findings))


def raised_limits(cluster: ClusterState) -> AutoscaleRequest:
    """Autoscaling limits that only go up: min = max(min, 3, nodes), max = min(10 x min,
    max(2 x max, 10)), the CPU target kept; autoscaling off counts as min = max = its fixed
    node count. The one raise `check` and the runbook (and its `--fix`) propose."""
    scaling = cluster.autoscaling
    low = scaling.min_nodes if scaling else cluster.serve_nodes
    high = scaling.max_nodes if scaling else cluster.serve_nodes
    new_min = max(low, GUIDE_MIN_NODES, cluster.serve_nodes)
    new_max = max(new_min, min(MAX_NODES_FACTOR * new_min, max(2 * high, GUIDE_STEADY_NODES)))
    return AutoscaleRequest(new_min, new_max, scaling.cpu_target if scaling else None, cluster_id=cluster.cluster_id)


def cpu_goal(cluster: ClusterState) -> int:
    """The CPU % a cluster is judged against: its autoscaling target, else Bigtable's default."""
    return cluster.autoscaling.cpu_target if cluster.autoscaling else DEFAULT_CPU_TARGET


# --- the CPU judgement: one for `check` and the runbook ----------------------------------

WARM_UP = timedelta(minutes=20)  # new nodes help only after up to 20 minutes under load (Bigtable docs)
NOT_ACTING_AFTER = timedelta(minutes=10)  # over target this long below the maximum, no node added: stuck
MAX_NODES_KEY = "autoscaling max nodes"  # the change key plan_autoscale writes (and the audit log keeps)


@dataclass(frozen=True)
class CpuEvidence:
    """What the CPU judgement of one cluster reads: its CPU and node count over the window,
    when wbctl last raised its maximum (the audit log), and when a backlog that drains in
    time will be empty (None: none does, or the queue was not read)."""

    cpu: Series | None
    nodes: Series | None = None
    now: datetime | None = None
    raised_at: datetime | None = None
    drains_by: datetime | None = None
    reason: str = ""  # why `cpu` is None


@dataclass(frozen=True)
class CpuJudgement:
    """One cluster's CPU against its target, judged on the newest point. `wait_until`: the
    judgement is to wait (a change takes effect, the backlog drains) and proposes nothing."""

    status: Status
    summary: str
    latest: float | None = None
    peak: float | None = None
    proposal: AutoscaleRequest | None = None
    wait_until: datetime | None = None
    next: str = ""  # an instruction when there is nothing to propose and nothing to wait for


def last_node_change(nodes: Series | None) -> tuple[datetime, int, int] | None:
    """(when, from, to) of the last node count change in the window."""
    last = None
    for (_, before), (moment, after) in zip(nodes.points, nodes.points[1:]) if nodes else ():
        if after != before:
            last = (moment, int(before), int(after))
    return last


def raised_max_at(records: Sequence[AuditRecord], target: str) -> datetime | None:
    """When wbctl last raised this cluster's autoscaling maximum (an applied entry), if it did."""
    raised = [
        record.time
        for record in records
        if record.result in ("applied", "accepted")
        for change in record.changes
        if change.target == target and change.key == MAX_NODES_KEY and _above(change.after, change.before)
    ]
    return max(raised, default=None)


def _above(after: object, before: object) -> bool:
    return isinstance(after, int) and (not isinstance(before, int) or after > before)


def _clock(moment: datetime) -> str:
    return f"{moment:%H:%M} UTC"


def _over_since(cpu: Series, goal: int) -> datetime | None:
    """The first point of the trailing run of points over the target."""
    start = None
    for moment, value in reversed(cpu.points):
        if value * 100 <= goal:
            break
        start = moment
    return start


def judge_cpu(cluster: ClusterState, evidence: CpuEvidence) -> CpuJudgement:
    """Over the target at the maximum (or with autoscaling off): raise it. Over the target
    while nodes added in the last 20 minutes warm up, while a raise wbctl made settles, or
    while the backlog drains in time: wait, with the time, and propose nothing (a raise then
    would chase a fix that has not taken effect). Over the target for 10 minutes below the
    maximum with no node added: the autoscaler is not acting."""
    goal, cpu, name = cpu_goal(cluster), evidence.cpu, cluster.cluster_id
    if cpu is None or cpu.latest is None:
        return CpuJudgement(Status.UNKNOWN, f"{name}: CPU unknown ({evidence.reason or 'no CPU data'})")
    latest, peak = round(cpu.latest * 100, 1), round((cpu.peak or 0) * 100, 1)

    def judged(status: Status, summary: str, **rest: Any) -> CpuJudgement:
        return CpuJudgement(status, f"{name}: {summary}", latest, peak, **rest)

    if latest <= goal:
        return judged(Status.OK, f"CPU {latest:g}% under the {goal}% target")
    config, now = cluster.autoscaling, evidence.now
    over = f"CPU {latest:g}% over the {goal}% target"
    if config is None:
        return judged(
            Status.FAIL,
            f"{over} with autoscaling off ({cluster.serve_nodes} fixed nodes): turn autoscaling on",
            proposal=raised_limits(cluster),
        )
    at_max = cluster.serve_nodes >= config.max_nodes
    change = last_node_change(evidence.nodes)
    if now is not None and change is not None and change[2] > change[1] and now - change[0] < WARM_UP:
        warm = change[0] + WARM_UP
        maximum = f", at its maximum of {config.max_nodes}" if at_max else ""
        return judged(
            Status.WARN,
            f"scaling under way (nodes {change[1]} -> {change[2]} at {_clock(change[0])}{maximum}); new nodes warm "
            f"up and help only after up to 20 minutes: wait until {_clock(warm)} and watch",
            wait_until=warm,
        )
    raised = evidence.raised_at
    if now is not None and raised is not None and not at_max and now - raised < WARM_UP:
        settled = raised + WARM_UP
        return judged(
            Status.WARN,
            f"{over}; wbctl raised the maximum to {config.max_nodes} at {_clock(raised)}: the autoscaler adds nodes "
            f"within minutes and they help after up to 20 minutes: wait until {_clock(settled)}",
            wait_until=settled,
        )
    if evidence.drains_by is not None:
        drained = evidence.drains_by
        return judged(
            Status.WARN,
            f"{over}, but the backlog drains in time (empty by {_clock(drained)}): wait until {_clock(drained)}; "
            "raise nothing while it drains",
            wait_until=drained,
        )
    if at_max:
        return judged(
            Status.FAIL,
            f"at its autoscaling maximum of {config.max_nodes} nodes with {over}: raise the maximum",
            proposal=raised_limits(cluster),
        )
    start = _over_since(cpu, goal)
    acting = now is not None and change is not None and now - change[0] < NOT_ACTING_AFTER
    if now is not None and start is not None and now - start >= NOT_ACTING_AFTER and not acting:
        return judged(
            Status.FAIL,
            f"{over} for {int((now - start).total_seconds() // 60)} minutes below its maximum of {config.max_nodes} "
            "and no node added: the autoscaler is not acting (quota?)",
            next="check the project's Bigtable node quota (Cloud console: IAM & Admin > Quotas) and the instance's "
            "autoscaling events",
        )
    due = (start or cpu.points[-1][0]) + NOT_ACTING_AFTER
    return judged(
        Status.WARN,
        f"{over} below its maximum of {config.max_nodes}: the autoscaler adds nodes; wait until {_clock(due)} and "
        "watch",
        wait_until=due,
    )


def cpu_evidence(
    observation: BigtableObservation,
    cluster: ClusterState,
    cpu: SignalData,
    nodes: SignalData | None,
    changes: Sequence[AuditRecord],
    *,
    now: datetime | None,
    drains_by: datetime | None,
) -> CpuEvidence:
    """One cluster's part of what was read, for `judge_cpu`."""
    series = cpu.for_label("cluster", cluster.cluster_id)
    reason = cpu.reason or f"no CPU data for cluster {cluster.cluster_id}"
    return CpuEvidence(
        series,
        nodes.for_label("cluster", cluster.cluster_id) if nodes is not None else None,
        now,
        raised_max_at(changes, observation.target(cluster.cluster_id)),
        drains_by,
        "" if series is not None else reason,
    )


def _cpu_finding(cluster: ClusterState, target: str, evidence: CpuEvidence, window: str) -> Finding:
    judgement = judge_cpu(cluster, evidence)
    goal = cpu_goal(cluster)
    observed = None if judgement.latest is None else f"{judgement.latest:g}%"
    peak = "" if judgement.peak is None else f" (peak {judgement.peak:g}% over the last {window})"
    message = judgement.summary + peak
    return Finding(
        CPU_CHECK, judgement.status, target, observed, f"<= {goal}%", message, judgement.next, judgement.proposal
    )


# --- plans ----------------------------------------------------------------------------


def _nodes_in_range(option: str, value: int) -> None:
    low, high = NODES_RANGE
    if not low <= value <= high:
        raise UsageError(
            f"{option} {value}: Bigtable takes {low}-{high} nodes per cluster "
            f"(and a project's default quota is {DEFAULT_NODE_QUOTA} nodes per zone)"
        )


def _below_guide(option: str, value: int, force: bool) -> None:
    """One rule for every floor: below the guide's minimum needs --force and says what the guide asks."""
    if value < GUIDE_MIN_NODES and not force:
        raise UsageError(
            f"{option} {value} is below the guide's absolute minimum of {GUIDE_MIN_NODES} Bigtable nodes: "
            "add --force if you mean it"
        )


def validate_autoscale(
    min_nodes: int | None, max_nodes: int | None, cpu_target: int | None, storage_gib: int | None, force: bool
) -> None:
    """What can be judged before any call. A missing --min or --max keeps the cluster's (checked
    again once the cluster is read)."""
    if min_nodes is None and max_nodes is None and cpu_target is None and storage_gib is None:
        raise UsageError(
            "nothing to change: give --min and --max (or change one of --min, --max, --cpu-target, "
            "--storage-target of an autoscaled cluster)"
        )
    for option, value in (("--min", min_nodes), ("--max", max_nodes)):
        if value is not None:
            _nodes_in_range(option, value)
    if min_nodes is not None and max_nodes is not None:
        _limits(min_nodes, max_nodes)
    if cpu_target is not None and not CPU_TARGET_RANGE[0] <= cpu_target <= CPU_TARGET_RANGE[1]:
        raise UsageError(
            f"--cpu-target {cpu_target}: Bigtable takes {CPU_TARGET_RANGE[0]}-{CPU_TARGET_RANGE[1]} (percent)"
        )
    if storage_gib is not None:
        low = min(r[0] for r in STORAGE_TARGET_RANGE.values())
        high = max(r[1] for r in STORAGE_TARGET_RANGE.values())
        if not low <= storage_gib <= high:
            raise UsageError(
                f"--storage-target {storage_gib}: Bigtable takes {low}-{high} GiB per node (SSD 2560-5120, HDD 8192-16384)"
            )
    if min_nodes is not None:
        _below_guide("--min", min_nodes, force)


def _limits(min_nodes: int, max_nodes: int) -> None:
    if max_nodes < min_nodes:
        raise UsageError(f"--max {max_nodes} is below --min {min_nodes}")
    if max_nodes > MAX_NODES_FACTOR * min_nodes:
        raise UsageError(f"--max {max_nodes} is more than {MAX_NODES_FACTOR} x --min {min_nodes} (a Bigtable limit)")


def validate_nodes(nodes: int, force: bool = False) -> None:
    _nodes_in_range("--nodes", nodes)
    _below_guide("--nodes", nodes, force)


def validate_cluster(cluster_id: str | None) -> None:
    if cluster_id is not None and not cluster_id.strip():
        raise UsageError("--cluster is empty: name a cluster, or leave --cluster out to act on every cluster")


@dataclass(frozen=True)
class AutoscaleRequest:
    """`wbctl bigtable autoscale`, typed or proposed: the same request plans the same change."""

    min_nodes: int | None
    max_nodes: int | None
    cpu_target: int | None = None
    storage_gib: int | None = None
    cluster_id: str | None = None
    force: bool = False
    backend: ClassVar[str] = "bigtable"

    def validate(self) -> None:
        validate_cluster(self.cluster_id)
        validate_autoscale(self.min_nodes, self.max_nodes, self.cpu_target, self.storage_gib, self.force)

    def argv(self) -> tuple[str, ...]:
        args = ["bigtable", "autoscale"]
        if self.min_nodes is not None:
            args += ["--min", str(self.min_nodes)]
        if self.max_nodes is not None:
            args += ["--max", str(self.max_nodes)]
        if self.cpu_target is not None:
            args += ["--cpu-target", str(self.cpu_target)]
        if self.storage_gib is not None:
            args += ["--storage-target", str(self.storage_gib)]
        if self.cluster_id:
            args += ["--cluster", self.cluster_id]
        if self.force:
            args.append("--force")
        return tuple(args)

    def plan(self, observation: BigtableObservation, context: str) -> Plan:
        return plan_autoscale(
            observation,
            min_nodes=self.min_nodes,
            max_nodes=self.max_nodes,
            cpu_target=self.cpu_target,
            storage_gib=self.storage_gib,
            cluster_id=self.cluster_id,
            context=context,
        )


@dataclass(frozen=True)
class ScaleRequest:
    """`wbctl bigtable scale`: a fixed node count (autoscaling off)."""

    nodes: int
    cluster_id: str | None = None
    force: bool = False
    backend: ClassVar[str] = "bigtable"

    def validate(self) -> None:
        validate_cluster(self.cluster_id)
        validate_nodes(self.nodes, self.force)

    def argv(self) -> tuple[str, ...]:
        return (
            "bigtable",
            "scale",
            "--nodes",
            str(self.nodes),
            *(("--cluster", self.cluster_id) if self.cluster_id else ()),
            *(("--force",) if self.force else ()),
        )

    def plan(self, observation: BigtableObservation, context: str) -> Plan:
        return plan_scale(observation, nodes=self.nodes, cluster_id=self.cluster_id, context=context)


def _clusters(observation: BigtableObservation, cluster_id: str | None) -> tuple[ClusterState, ...]:
    if cluster_id is None:
        return observation.clusters
    chosen = tuple(c for c in observation.clusters if c.cluster_id == cluster_id)
    if not chosen:
        known = ", ".join(c.cluster_id for c in observation.clusters) or "none"
        raise UsageError(f"no cluster {cluster_id!r} in {observation.target()} (clusters: {known})")
    return chosen


PATH_MIN = ("cluster_config", "cluster_autoscaling_config", "autoscaling_limits", "min_serve_nodes")
PATH_MAX = ("cluster_config", "cluster_autoscaling_config", "autoscaling_limits", "max_serve_nodes")
PATH_CPU = ("cluster_config", "cluster_autoscaling_config", "autoscaling_targets", "cpu_utilization_percent")
PATH_STORAGE = (
    "cluster_config",
    "cluster_autoscaling_config",
    "autoscaling_targets",
    "storage_utilization_gib_per_node",
)
PATH_AUTOSCALING = ("cluster_config", "cluster_autoscaling_config")
PATH_NODES = ("serve_nodes",)


def _storage_in_range(cluster: ClusterState, storage_gib: int) -> None:
    low, high = STORAGE_TARGET_RANGE.get(cluster.storage_type, (0, 1 << 30))
    if not low <= storage_gib <= high:
        raise UsageError(
            f"--storage-target {storage_gib}: a {cluster.storage_type} cluster ({cluster.cluster_id}) "
            f"takes {low}-{high} GiB per node"
        )


def _cluster_autoscale(
    observation: BigtableObservation,
    cluster: ClusterState,
    min_nodes: int | None,
    max_nodes: int | None,
    cpu_target: int | None,
    storage_gib: int | None,
) -> tuple[list[Change], AutoscalingWrite | None]:
    """One cluster's changes, and the whole config it should end with when there are any."""
    if storage_gib is not None:
        _storage_in_range(cluster, storage_gib)
    current = cluster.autoscaling
    target = observation.target(cluster.cluster_id)
    if current is None:
        if min_nodes is None or max_nodes is None:
            raise UsageError(f"autoscaling is off on {cluster.cluster_id}: give both --min and --max to turn it on")
        low, high = min_nodes, max_nodes
    else:
        low = min_nodes if min_nodes is not None else current.min_nodes
        high = max_nodes if max_nodes is not None else current.max_nodes
    _limits(low, high)  # a kept bound must still fit the new one
    cpu = cpu_target if cpu_target is not None else (current.cpu_target if current else DEFAULT_CPU_TARGET)
    wanted: list[tuple[str, tuple[str, ...], int | None, int]] = [
        ("autoscaling min nodes", PATH_MIN, current.min_nodes if current else None, low),
        ("autoscaling max nodes", PATH_MAX, current.max_nodes if current else None, high),
        ("autoscaling CPU target %", PATH_CPU, current.cpu_target if current else None, cpu),
    ]
    if storage_gib is not None:
        before = current.storage_target_gib if current else None
        wanted.append(("autoscaling storage target GiB/node", PATH_STORAGE, before, storage_gib))
    changes = [Change(target, key, before, after, path=path) for key, path, before, after in wanted if before != after]
    if not changes:
        return changes, None
    # the whole config the cluster should end with (the API writes it as a unit)
    storage = storage_gib if storage_gib is not None else (current.storage_target_gib if current else None)
    return changes, AutoscalingWrite(low, high, cpu, storage)


def plan_autoscale(
    observation: BigtableObservation,
    *,
    min_nodes: int | None,
    max_nodes: int | None,
    cpu_target: int | None,
    storage_gib: int | None,
    cluster_id: str | None,
    context: str,
) -> Plan:
    changes: list[Change] = []
    notes: list[str] = []
    desired: dict[str, Write] = {}
    for cluster in _clusters(observation, cluster_id):
        cluster_changes, write = _cluster_autoscale(observation, cluster, min_nodes, max_nodes, cpu_target, storage_gib)
        changes += cluster_changes
        if write is not None:
            desired[observation.target(cluster.cluster_id)] = write
        if cluster.autoscaling is None:
            notes.append(f"{cluster.cluster_id}: autoscaling replaces its fixed {cluster.serve_nodes} nodes")
    return Plan(
        context=context,
        target=observation.target(),
        changes=tuple(changes),
        summary="Bigtable will autoscale between "
        + (
            f"{min_nodes} and {max_nodes} nodes per cluster"
            if min_nodes is not None and max_nodes is not None
            else "the limits shown per cluster"
        ),
        notes=tuple(notes),
        nothing_to_do="no changes: autoscaling already has these settings",
        writes=desired,
    )


def plan_scale(observation: BigtableObservation, *, nodes: int, cluster_id: str | None, context: str) -> Plan:
    changes: list[Change] = []
    notes: list[str] = []
    for cluster in _clusters(observation, cluster_id):
        target = observation.target(cluster.cluster_id)
        if cluster.autoscaling is not None:
            changes.append(
                Change(
                    target,
                    "autoscaling",
                    _describe(cluster.autoscaling, cluster.serve_nodes),
                    None,
                    path=PATH_AUTOSCALING,
                )
            )
            notes.append(
                f"{cluster.cluster_id}: this turns autoscaling OFF (it was {_describe(cluster.autoscaling, cluster.serve_nodes)})"
            )
        if cluster.serve_nodes != nodes or cluster.autoscaling is not None:
            changes.append(Change(target, "serve nodes", cluster.serve_nodes, nodes, path=PATH_NODES))
        if nodes < GUIDE_MIN_NODES:
            notes.append(
                f"{cluster.cluster_id}: {nodes} node(s) is below the guide's absolute minimum of {GUIDE_MIN_NODES}"
            )
        if nodes < cluster.serve_nodes * 0.9:
            notes.append(
                f"{cluster.cluster_id}: removing more than 10% of nodes at once raises latency (Bigtable docs)"
            )
    return Plan(
        context=context,
        target=observation.target(),
        changes=tuple(changes),
        summary=f"Bigtable will run a fixed {nodes} node(s) per cluster",
        notes=tuple(notes),
        nothing_to_do=f"no changes: already {nodes} node(s) with autoscaling off",
    )
