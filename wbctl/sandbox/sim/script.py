"""Where a story stands: which part of its script is playing and what comes next.

A story's scripted part is its noisy run (queue_model.Story.noisy_from, noisy_until); past
it, nothing more is scripted and the model runs on at the base load for as long as it is
asked. `sandbox status` says so, so an on-call never wonders whether the sandbox stopped:
what comes next is the script's next event, or, once the script has ended, what the queue
will do on its own (clear, or reach the retention and lose messages).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from wbctl.core.durations import format_duration
from wbctl.sandbox.sim.queue_model import Sample, Story
from wbctl.sandbox.sim.stories import NOISY_RUN


@dataclass(frozen=True)
class Act:
    now: str  # what is playing
    next: str | None  # what comes next (None: nothing, the model runs on as it is)
    next_at: datetime | None
    script_ends: datetime | None  # when the scripted part ends (None: it never does)
    script_ended: bool

    def to_json(self) -> dict[str, object]:
        return {
            "now": self.now,
            "next": self.next,
            "next_at": self.next_at.isoformat() if self.next_at else None,
            "script_ends": self.script_ends.isoformat() if self.script_ends else None,
            "script_ended": self.script_ended,
        }


def act(story: Story, start: datetime, now: datetime, last: Sample | None, discarded: bool) -> Act:
    """The act playing at `now` of a story that began at `start`, from its last sample."""
    at = (now - start).total_seconds()
    base = f"{story.publish_base:,.0f}/s"
    if story.noisy_from is None:
        return _unscripted(story, f"steady load of {base}, nothing scripted: the model runs on", now, last)
    ends = None if story.noisy_until is None else start + timedelta(seconds=story.noisy_until)
    begins = start + timedelta(seconds=story.noisy_from)
    if at < story.noisy_from:
        return Act(
            f"steady load of {base} before the incident",
            f"run {NOISY_RUN} starts sending {story.publish_noisy:,.0f}/s {_when(begins, now)}",
            begins,
            ends,
            False,
        )
    if ends is None or now < ends:
        playing = f"run {NOISY_RUN} sends {story.publish_noisy:,.0f}/s on top of the base {base}" + (
            " (its updates discarded)" if discarded else ""
        )
        if ends is None:
            return Act(playing, None, None, None, False)
        return Act(
            playing,
            f"run {NOISY_RUN} finishes {_when(ends, now)}; the script ends there and the model runs on",
            ends,
            ends,
            False,
        )
    played = f"the script ended {ends:%Y-%m-%d %H:%M} UTC (run {NOISY_RUN} finished): the model runs on at {base}"
    return _unscripted(story, played, now, last, ends)


def _unscripted(story: Story, playing: str, now: datetime, last: Sample | None, ends: datetime | None = None) -> Act:
    """Past the script, what comes next is the queue's own doing."""
    upcoming: tuple[str, datetime] | None = None
    if last is not None and last.backlog >= 1:
        draining = last.consumed - last.published
        if draining > 0:
            clears = now + timedelta(seconds=last.backlog / draining)
            upcoming = (f"the backlog clears at this rate {_when(clears, now)}", clears)
        elif last.lost > 0:
            upcoming = (
                f"messages past the {format_duration(story.retention)} retention are being dropped "
                f"({last.lost:,.0f} lost so far)",
                now,
            )
        else:
            dropped = now + timedelta(seconds=max(0.0, story.retention - last.oldest_age))
            upcoming = (
                f"the oldest message reaches the {format_duration(story.retention)} retention and is dropped "
                f"{_when(dropped, now)}",
                dropped,
            )
    text, moment = upcoming if upcoming else (None, None)
    return Act(playing, text, moment, ends, True)


def _when(moment: datetime, now: datetime) -> str:
    return f"at {moment:%Y-%m-%d %H:%M} UTC (in {format_duration((moment - now).total_seconds())})"
