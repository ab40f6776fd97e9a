"""The filestream service's Pub/Sub subscription in the sandbox: quiet unless the story says
filestream stops keeping up (queue_model.FilestreamStory), then a backlog that grows at the
difference between what is streamed and what filestream consumes, until more replicas
(`services autoscale wandb-filestream`, read back by the world) consume enough to drain it.

In 60-s steps from the story's start, with publish P and, from `slow_from`, consumption
c = slow_consume x replicas / story replicas (at most what is there to take): the backlog
B += (P - c) x dt; first in first out, with C the messages consumed since the start, the
oldest waiting message was published at C / P, so its age is t - C / P while B > 0.
Deterministic: a function of the story, the replica changes and the time.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from wbctl.sandbox.sim.queue_model import STEP, FilestreamStory

QUIET_AGE = 2.0  # seconds: a message waits about this long when filestream keeps up


@dataclass(frozen=True)
class FilestreamPoint:
    published: float  # per second
    consumed: float  # per second
    backlog: float
    oldest_age: float  # seconds


def _replicas(story: FilestreamStory, changes: Sequence[tuple[float, int]], t: float) -> int:
    """Filestream's replicas during the step starting at `t`: the story's, then each change's."""
    count = story.replicas
    for at, replicas in sorted(changes):
        if at > t:
            break
        count = replicas
    return count


def filestream_points(
    story: FilestreamStory, times: Sequence[float], changes: Sequence[tuple[float, int]] = ()
) -> list[FilestreamPoint]:
    """The subscription at each of `times` (seconds into the story); `changes`: (at, replicas)."""
    quiet = FilestreamPoint(story.publish, story.publish, 0.0, QUIET_AGE)
    if story.slow_from is None or not times:
        return [quiet for _ in times]
    wanted = {round(t / STEP) for t in times}
    found: dict[int, FilestreamPoint] = {0: quiet}
    backlog, consumed_total, publish = 0.0, 0.0, story.publish
    for step in range(max(wanted)):
        start = step * STEP
        if start < story.slow_from:
            consumed = publish
        else:
            capacity = story.slow_consume * _replicas(story, changes, start) / max(1, story.replicas)
            consumed = min(capacity, publish + backlog / STEP)
        backlog = max(0.0, backlog + (publish - consumed) * STEP)
        consumed_total += consumed * STEP
        end = start + STEP
        age = end - consumed_total / publish + QUIET_AGE if backlog > 0 else QUIET_AGE
        if step + 1 in wanted:
            found[step + 1] = FilestreamPoint(publish, consumed, backlog, age)
    return [found[round(t / STEP)] for t in times]
