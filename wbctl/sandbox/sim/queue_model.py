"""The sandbox's queue: a deterministic model of publish, consumption, Bigtable and the
updater's autoscaler, in 60-second steps, so the metrics the sandbox serves move the way a
real incident's do.

Per step (dt = 60 s), for n ready updater replicas of throughput r and N Bigtable nodes of
capacity w (a new node phases in over 20 minutes, as Bigtable's docs warn):

    publish      P = P_base + P_noisy x [the noisy run is sending and not discarded]
    consumption  c = min(n x r, 0.9 x N_eff x w, B / dt + P)
    backlog      B = B + (P - c) x dt
    Bigtable CPU = c / (N_eff x w)
    oldest age   = t - A^-1(C(t) + L(t)), from the cumulative published A, consumed C and lost L
    lost         L = what is older than the retention and still unconsumed: Pub/Sub drops it

The noisy run sends from `noisy_from` until `noisy_until` (the story's scripted part ends
there); the model goes on for as long as it is asked, at the base load.

The updater's HPA (on CPU, target 80 %) wants ceil(c / (0.8 r)) replicas within its bounds,
ready 60 s later; Bigtable's autoscaler, every 5 minutes while CPU is over its target, sets
N = clamp(ceil(N x CPU / target)). Pure: no clock, no I/O; the sandbox decides what `now` is.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

STEP = 60
PHASE_IN = 20 * 60
AUTOSCALE_EVERY = 5 * 60
HPA_TARGET = 0.8
POD_READY_AFTER = 60
BIGTABLE_HEADROOM = 0.9
RETENTION = 7 * 86400  # Pub/Sub's default message retention, what W&B's Terraform module leaves


@dataclass(frozen=True)
class FilestreamStory:
    """The filestream service's subscription (sim/filestream.py): what the SDKs stream, and
    from when (None: never) filestream consumes less than that: its backlog then grows."""

    publish: float = 120.0  # messages/s
    slow_from: float | None = None
    slow_consume: float = 80.0  # messages/s its `replicas` get through together once slow
    replicas: int = 3  # filestream's replicas in the story (more consume in proportion)


@dataclass(frozen=True)
class Story:
    """One incident's numbers. Times are seconds relative to the story's start."""

    publish_base: float = 400.0
    publish_noisy: float = 600.0
    noisy_from: float | None = None  # when the noisy run starts sending (None: never)
    noisy_until: float | None = None  # when it finishes (None: it never does)
    per_replica: float = 150.0  # r: messages/s one updater replica writes
    per_node: float = 300.0  # w: messages/s one Bigtable node takes
    hpa: tuple[int, int] | None = (1, 5)  # the updater HPA's bounds (None: fixed replicas)
    replicas: int = 3  # the updater's replicas at the start (fixed, or the HPA's current)
    nodes: tuple[int, int] = (1, 3)  # Bigtable autoscaling bounds
    start_nodes: int = 2
    cpu_target: float = 0.70
    backlog: float = 0.0  # B at the start
    retention: float = RETENTION  # how long Pub/Sub keeps an unacked message
    filestream: FilestreamStory = field(default_factory=FilestreamStory)  # its own subscription

    def noisy_at(self, t: float) -> bool:
        """Whether the noisy run sends during the step starting at `t` (discards aside)."""
        return (
            self.noisy_from is not None and t >= self.noisy_from and (self.noisy_until is None or t < self.noisy_until)
        )


@dataclass(frozen=True)
class Change:
    """Something an engineer did, at `at` seconds: a new HPA range, a fixed replica count (the
    HPA off), a new Bigtable range, a discard, filestream's replicas."""

    at: float
    hpa: tuple[int, int] | None = None
    replicas: int | None = None  # a fixed count: the updater's HPA is off
    nodes: tuple[int, int] | None = None
    discard: bool | None = None  # True: the noisy run's updates are discarded; False: restored
    filestream_replicas: int | None = None  # filestream's replicas (its own subscription: sim/filestream.py)

    def to_json(self) -> dict[str, object]:
        return {key: value for key, value in self.__dict__.items() if value is not None}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Change:
        """The change `to_json` saved (JSON's values: numbers, lists, booleans)."""

        def pair(value: Sequence[Any] | None) -> tuple[int, int] | None:
            return None if value is None else (int(value[0]), int(value[1]))

        return cls(
            at=float(data["at"]),
            hpa=pair(data.get("hpa")),
            replicas=data.get("replicas"),
            nodes=pair(data.get("nodes")),
            discard=data.get("discard"),
            filestream_replicas=data.get("filestream_replicas"),
        )


@dataclass
class Sample:
    time: float
    published: float  # per second
    consumed: float  # per second
    backlog: float
    oldest_age: float
    cpu: float
    lost: float  # messages dropped past the retention, since the start
    nodes: int  # serve nodes, phasing ones included (what node_count reports)
    replicas: int  # ready updater replicas
    desired_replicas: int
    wanted_replicas: int  # what the HPA controller would ask for without its bounds
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
    lost_total: float = 0.0
    times: list[float] = field(default_factory=lambda: [0.0])


def _effective_nodes(added: list[float], t: float) -> float:
    return sum(min(1.0, max(0.0, (t - when) / PHASE_IN)) for when in added)


def _age(state: _State, t: float) -> float:
    """t - A^-1(C(t)): when the oldest unconsumed message was published."""
    totals, times = state.published_total, state.times
    consumed = state.consumed_total + state.lost_total
    if consumed >= totals[-1] - 1e-6:
        return 0.0
    index = bisect_left(totals, consumed)
    if index == 0:
        return t - times[0]
    low, high = totals[index - 1], totals[index]
    share = 0.0 if high == low else (consumed - low) / (high - low)
    published_at = times[index - 1] + share * (times[index] - times[index - 1])
    return max(0.0, t - published_at)


class Simulation:
    """The model run step by step: `advance(until)` adds the samples up to `until` seconds;
    `apply(change)` takes effect at the next step. The sandbox keeps one per process and
    advances it as its clock moves; `simulate` runs one from the start."""

    def __init__(self, story: Story) -> None:
        self.story = story
        self.hpa, self.fixed, self.node_bounds = story.hpa, story.replicas, story.nodes
        self.discarded = False
        self.state = _State(backlog=story.backlog, replicas=story.replicas, nodes=[-PHASE_IN] * story.start_nodes)
        if story.backlog:  # a backlog at the start was published before it, evenly over the last hour
            self.state.times, self.state.published_total = [-3600.0, 0.0], [0.0, story.backlog]
        self.samples: list[Sample] = []
        self.next_step = 0

    def apply(self, change: Change) -> None:
        state, t = self.state, self.next_step * STEP
        if change.hpa is not None:
            self.hpa = change.hpa
        if change.replicas is not None:
            self.hpa, self.fixed = None, change.replicas
            if change.replicas > state.replicas:
                state.pending = [(t + POD_READY_AFTER, change.replicas)]
            else:
                state.pending.clear()
                state.replicas = change.replicas
        if change.nodes is not None:
            self.node_bounds = change.nodes
            low, high = change.nodes
            while len(state.nodes) < low:
                state.nodes.append(t)
            if len(state.nodes) > high:
                state.nodes = sorted(state.nodes)[:high]
        if change.discard is not None:
            self.discarded = change.discard

    def advance(self, until: float) -> list[Sample]:
        """The new samples, up to the step that ends at or before `until`."""
        new: list[Sample] = []
        while (self.next_step + 1) * STEP <= until:
            new.append(self._step())
        self.samples += new
        return new

    def _step(self) -> Sample:
        story, state = self.story, self.state
        step, t = self.next_step, self.next_step * STEP
        self.next_step += 1
        self._pods_ready(t)
        noisy = story.noisy_at(t) and not self.discarded
        published = story.publish_base + (story.publish_noisy if noisy else 0.0)
        effective = _effective_nodes(state.nodes, t)
        capacity = min(state.replicas * story.per_replica, BIGTABLE_HEADROOM * effective * story.per_node)
        consumed = max(0.0, min(capacity, state.backlog / STEP + published))
        state.backlog = max(0.0, state.backlog + (published - consumed) * STEP)
        cpu = consumed / (effective * story.per_node) if effective > 0 else 1.0
        state.times.append(t + STEP)
        state.published_total.append(state.published_total[-1] + published * STEP)
        state.consumed_total += consumed * STEP
        self._expire(t + STEP)
        desired, wanted = self._updater_hpa(t, consumed)
        if step and t % AUTOSCALE_EVERY == 0 and cpu > story.cpu_target:
            self._bigtable_autoscale(t, cpu)
        return Sample(
            time=t + STEP,
            published=published,
            consumed=consumed,
            backlog=state.backlog,
            oldest_age=_age(state, t + STEP),
            cpu=min(1.0, cpu),
            lost=state.lost_total,
            nodes=len(state.nodes),
            replicas=state.replicas,
            desired_replicas=desired,
            wanted_replicas=wanted,
            hpa_limited=self.hpa is not None and wanted > self.hpa[1],
            hpa=self.hpa,
            node_bounds=self.node_bounds,
        )

    def _expire(self, t: float) -> None:
        """Drop what was published before `t - retention` and is still unconsumed (lost)."""
        state, cutoff = self.state, t - self.story.retention
        if cutoff <= state.times[0]:
            return
        index = bisect_left(state.times, cutoff)
        if index >= len(state.times):
            expired = state.published_total[-1]
        else:
            low, high = state.times[index - 1], state.times[index]
            share = (cutoff - low) / (high - low)
            before, after = state.published_total[index - 1], state.published_total[index]
            expired = before + share * (after - before)
        dropped = expired - state.consumed_total - state.lost_total
        if dropped > 1e-6:
            state.lost_total += dropped
            state.backlog = max(0.0, state.backlog - dropped)

    def _pods_ready(self, t: float) -> None:
        """Pods whose time has come are ready: the replicas they were added for are running."""
        state = self.state
        for ready_at, count in list(state.pending):
            if ready_at <= t:
                state.replicas = count
                state.pending.remove((ready_at, count))

    def _updater_hpa(self, t: float, consumed: float) -> tuple[int, int]:
        """The updater's HPA, on CPU, which follows what each replica writes: (desired, wanted)
        replicas (wanted before its bounds); new pods are ready only after POD_READY_AFTER."""
        state = self.state
        if self.hpa is None:
            return state.replicas, state.replicas
        wanted = math.ceil(consumed / (HPA_TARGET * self.story.per_replica))
        desired = min(max(wanted, self.hpa[0]), self.hpa[1])
        target = state.pending[-1][1] if state.pending else state.replicas
        if desired != target:
            if desired > state.replicas:
                state.pending.append((t + POD_READY_AFTER, desired))
            else:
                state.pending.clear()
                state.replicas = desired
        return desired, wanted

    def _bigtable_autoscale(self, t: float, cpu: float) -> None:
        """Bigtable's autoscaler adds the nodes the CPU asks for, within the bounds."""
        nodes, bounds = self.state.nodes, self.node_bounds
        wanted_nodes = min(max(math.ceil(len(nodes) * cpu / self.story.cpu_target), bounds[0]), bounds[1])
        while len(nodes) < wanted_nodes:
            nodes.append(t)


def simulate(story: Story, until: float, changes: Sequence[Change] = ()) -> list[Sample]:
    """Every 60-s sample (the state at the end of each step) from the start up to `until`
    seconds, each change applied at the start of its step."""
    simulation = Simulation(story)
    for change in sorted(changes, key=lambda change: change.at):
        simulation.advance(change.at)
        simulation.apply(change)
    simulation.advance(until + STEP)
    return simulation.samples
