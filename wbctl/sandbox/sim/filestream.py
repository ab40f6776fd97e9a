"""The filestream service's Pub/Sub subscription in the sandbox: quiet unless the story says
filestream stops keeping up (queue_model.FilestreamStory), then a backlog that grows at the
difference between what is streamed and what filestream consumes.

Closed form, a function of the story and the time alone (nothing an engineer changes moves
it): from `slow_from`, with publish P and consumption C < P, the backlog is (P - C) x dt and,
first in first out, the oldest message was published when C x dt had been consumed of what P
sent since, so its age is dt x (1 - C / P).
"""

from __future__ import annotations

from dataclasses import dataclass

from wbctl.sandbox.sim.queue_model import FilestreamStory

QUIET_AGE = 2.0  # seconds: a message waits about this long when filestream keeps up


@dataclass(frozen=True)
class FilestreamPoint:
    published: float  # per second
    consumed: float  # per second
    backlog: float
    oldest_age: float  # seconds


def filestream_at(story: FilestreamStory, t: float) -> FilestreamPoint:
    """The subscription `t` seconds into the story."""
    if story.slow_from is None or t <= story.slow_from or story.slow_consume >= story.publish:
        return FilestreamPoint(story.publish, story.publish, 0.0, QUIET_AGE)
    elapsed = t - story.slow_from
    backlog = (story.publish - story.slow_consume) * elapsed
    age = elapsed * (1 - story.slow_consume / story.publish) + QUIET_AGE
    return FilestreamPoint(story.publish, story.slow_consume, backlog, age)
