"""The sandbox's clock: simulated time that moves with wall time, compressed, and persists.

By default one simulated minute passes per wall second, so the guide's 20-minute Bigtable
horizon plays out in 20 s and a `--ttl 2h` discard lasts two wall minutes. Between commands
the clock keeps running (it is anchored to the wall clock, and the anchor is saved);
`wbctl sandbox advance DURATION` moves it on at once, and `WBCTL_SANDBOX_SPEED=0` stops it
(tests: only `advance` moves it then, deterministically).

The clock never stops: a story's scripted part ends (sim/script.py), the model runs on for as
long as it is asked. A command replays the model from the story's start, so its cost grows
with the time since `wbctl sandbox reset` (a week of it: ~10,000 steps, a tenth of a second).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

DEFAULT_SPEED = 60.0


@dataclass
class SimClock:
    """sim(now) = sim_anchor + (wall(now) - wall_anchor) x speed."""

    sim_anchor: datetime
    wall_anchor: float
    speed: float = DEFAULT_SPEED
    wall: Callable[[], float] = time.time

    def now(self) -> datetime:
        return self.sim_anchor + timedelta(seconds=(self.wall() - self.wall_anchor) * self.speed)

    def advance(self, seconds: float) -> datetime:
        """Move simulated time on by `seconds`, at once; the new anchor is what gets saved."""
        self.sim_anchor, self.wall_anchor = self.now() + timedelta(seconds=seconds), self.wall()
        return self.sim_anchor

    def sleep(self, seconds: float) -> None:
        """Wait `seconds` of simulated time (a `--watch` interval): a wall second is a minute."""
        if self.speed > 0:
            time.sleep(seconds / self.speed)
        else:  # a stopped clock: time passes only by `advance`; wait a little, as a real wait would
            time.sleep(min(seconds, 1.0))

    def to_json(self) -> dict[str, object]:
        return {"sim": self.sim_anchor.isoformat(), "wall": self.wall_anchor, "speed": self.speed}

    @classmethod
    def starting_now(cls, speed: float) -> SimClock:
        now = datetime.now(UTC).replace(microsecond=0)
        return cls(now, time.time(), speed)

    @classmethod
    def from_json(cls, data: Mapping[str, Any], speed: float, wall: Callable[[], float] = time.time) -> SimClock:
        """The saved clock, running at `speed` from now on. Time ran at the saved speed until
        now: a command with another WBCTL_SANDBOX_SPEED re-anchors here instead of re-reading
        all the time since the anchor at its own speed, which could send the clock backwards."""
        saved = cls(
            datetime.fromisoformat(str(data["sim"])),
            float(data["wall"]),
            float(data.get("speed", speed)),
            wall=wall,
        )
        if saved.speed == speed:
            return saved
        return cls(saved.now(), wall(), speed, wall=wall)
