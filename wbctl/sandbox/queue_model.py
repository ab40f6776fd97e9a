"""The sandbox's queue: a deterministic model of publish, consumption, Bigtable and the
updater's autoscaler, in 60-second steps, so the metrics the sandbox serves move the way a
real incident's do.

Per step (dt = 60 s), for n ready updater replicas of throughput r and N Bigtable nodes of
capacity w (a new node phases in over 20 minutes, as Bigtable's docs warn):

    publish      P = P_base + P_noisy x [the noisy run is sending and not discarded]
    consumption  c = min(n x r, 0.9 x N_eff x w, B / dt + P)
    backlog      B = B + (P - c) x dt
    Bigtable CPU = c / (N_eff x w)
    oldest age   = t - A^-1(C(t)), from the cumulative published A and consumed C

The updater's HPA (on CPU, target 80 %) wants ceil(c / (0.8 r)) replicas within its bounds,
ready 60 s later; Bigtable's autoscaler, every 5 minutes while CPU is over its target, sets
N = clamp(ceil(N x CPU / target)). Pure: no clock, no I/O; the sandbox decides what `now` is.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from dataclasses import dataclass, field

STEP = 60
PHASE_IN = 20 * 60
AUTOSCALE_EVERY = 5 * 60
HPA_TARGET = 0.8
POD_READY_AFTER = 60
BIGTABLE_HEADROOM = 0.9


@dataclass(frozen=True)
class Story:
    """One incident's numbers. Times are seconds relative to the story's start."""

    publish_base: float = 400.0
    publish_noisy: float = 600.0
    noisy_from: float | None = None  # when the noisy run starts sending (None: never)
    per_replica: float = 150.0  # r: messages/s one updater replica writes
    per_node: float = 300.0  # w: messages/s one Bigtable node takes
    hpa: tuple[int, int] | None = (1, 5)  # the updater HPA's bounds (None: fixed replicas)
    replicas: int = 3  # the updater's replicas at the start (fixed, or the HPA's current)
    nodes: tuple[int, int] = (1, 3)  # Bigtable autoscaling bounds
    start_nodes: int = 2
    cpu_target: float = 0.70
    backlog: float = 0.0  # B at the start


@dataclass(frozen=True)
class Change:
    """Something an engineer did, at `at` seconds: a new HPA or Bigtable range, a discard."""

    at: float
    hpa: tuple[int, int] | None = None
    nodes: tuple[int, int] | None = None
    discard: bool | None = None  # True: the noisy run's updates are discarded; False: restored


@dataclass
class Sample:
    time: float
    published: float  # per second
    consumed: float  # per second
    backlog: float
    oldest_age: float
    cpu: float
    nodes: int  # serve nodes, phasing ones included (what node_count reports)
    replicas: int  # ready updater replicas
    desired_replicas: int
    hpa_limited: bool  # the HPA wants more than its maximum (ScalingLimited / TooManyReplicas)
    hpa: tuple[int, int] | None
    node_bounds: tuple[int, int]


@dataclass
class _State:
    backlog: float
    replicas: int
    pending: list[tuple[float, int]] = field(default_factory=list)  # (ready at, replicas then)
    nodes: list[float] = field(default_factory=list)  # when each node was added (<= 0: fully in)
    published_total: list[float] = field(default_factory=lambda: [0.0])
    consumed_total: float = 0.0
    times: list[float] = field(default_factory=lambda: [0.0])


def _effective_nodes(added: list[float], t: float) -> float:
    return sum(min(1.0, max(0.0, (t - when) / PHASE_IN)) for when in added)


def _age(state: _State, t: float) -> float:
    """t - A^-1(C(t)): when the oldest unconsumed message was published."""
    totals, times = state.published_total, state.times
    consumed = state.consumed_total
    if consumed >= totals[-1] - 1e-6:
        return 0.0
    index = bisect_left(totals, consumed)
    if index == 0:
        return t - times[0]
    low, high = totals[index - 1], totals[index]
    share = 0.0 if high == low else (consumed - low) / (high - low)
    published_at = times[index - 1] + share * (times[index] - times[index - 1])
    return max(0.0, t - published_at)


def simulate(story: Story, until: float, changes: list[Change] | tuple[Change, ...] = ()) -> list[Sample]:
    """Every 60-s sample (the state at the end of each step) from the start up to `until`
    seconds, each change applied at the start of its step."""
    pending_changes = sorted(changes, key=lambda change: change.at)
    hpa, node_bounds = story.hpa, story.nodes
    discarded = False
    state = _State(backlog=story.backlog, replicas=story.replicas,
                   nodes=[-PHASE_IN] * story.start_nodes)
    if story.backlog:  # a backlog at the start was published before it, evenly over the last hour
        state.times, state.published_total = [-3600.0, 0.0], [0.0, story.backlog]
    samples: list[Sample] = []
    steps = int(until // STEP)
    for step in range(steps + 1):
        t = step * STEP
        while pending_changes and pending_changes[0].at <= t:
            change = pending_changes.pop(0)
            hpa = change.hpa if change.hpa is not None else hpa
            node_bounds = change.nodes if change.nodes is not None else node_bounds
            discarded = change.discard if change.discard is not None else discarded
            low, high = node_bounds
            while len(state.nodes) < low:
                state.nodes.append(t)
            if len(state.nodes) > high:
                state.nodes = sorted(state.nodes)[:high]
        # pods that became ready
        for ready_at, count in list(state.pending):
            if ready_at <= t:
                state.replicas = count
                state.pending.remove((ready_at, count))
        noisy = story.noisy_from is not None and t >= story.noisy_from and not discarded
        published = story.publish_base + (story.publish_noisy if noisy else 0.0)
        effective = _effective_nodes(state.nodes, t)
        capacity = min(state.replicas * story.per_replica, BIGTABLE_HEADROOM * effective * story.per_node)
        consumed = max(0.0, min(capacity, state.backlog / STEP + published))
        state.backlog = max(0.0, state.backlog + (published - consumed) * STEP)
        cpu = consumed / (effective * story.per_node) if effective > 0 else 1.0
        state.times.append(t + STEP)
        state.published_total.append(state.published_total[-1] + published * STEP)
        state.consumed_total += consumed * STEP
        # the updater's HPA: on CPU, which follows what each replica writes
        desired, wanted = state.replicas, state.replicas
        if hpa is not None:
            wanted = math.ceil(consumed / (HPA_TARGET * story.per_replica))
            desired = min(max(wanted, hpa[0]), hpa[1])
            target = state.pending[-1][1] if state.pending else state.replicas
            if desired != target:
                if desired > state.replicas:
                    state.pending.append((t + POD_READY_AFTER, desired))
                else:
                    state.pending.clear()
                    state.replicas = desired
        # Bigtable's autoscaler
        if step and t % AUTOSCALE_EVERY == 0 and cpu > story.cpu_target:
            wanted_nodes = min(max(math.ceil(len(state.nodes) * cpu / story.cpu_target), node_bounds[0]), node_bounds[1])
            while len(state.nodes) < wanted_nodes:
                state.nodes.append(t)
        samples.append(Sample(
            time=t + STEP, published=published, consumed=consumed, backlog=state.backlog,
            oldest_age=_age(state, t + STEP), cpu=min(1.0, cpu), nodes=len(state.nodes), replicas=state.replicas,
            desired_replicas=desired, hpa_limited=hpa is not None and wanted > hpa[1], hpa=hpa, node_bounds=node_bounds,
        ))
    return samples
