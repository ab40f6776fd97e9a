"""The sandbox's simulated clock: compressed, saved, and never running backwards."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wbctl.sandbox.sim.clock import SimClock

START = datetime(2026, 11, 30, 20, 0, tzinfo=UTC)


class Wall:
    def __init__(self) -> None:
        self.t = 1_000_000.0

    def __call__(self) -> float:
        return self.t


def clock_at(wall: Wall, speed: float) -> SimClock:
    return SimClock(START, wall.t, speed, wall=wall)


def test_a_wall_second_is_a_simulated_minute_by_default() -> None:
    wall = Wall()
    clock = clock_at(wall, 60)
    wall.t += 20
    assert clock.now() == START + timedelta(minutes=20)


def test_advance_moves_on_at_once_and_nothing_caps_it() -> None:
    """The world runs on for as long as it is asked: weeks on, the clock still moves."""
    wall = Wall()
    clock = clock_at(wall, 60)
    assert clock.advance(1800) == START + timedelta(minutes=30)
    assert clock.advance(30 * 86400) == START + timedelta(days=30, minutes=30)
    wall.t += 1440  # a wall day's minutes: a simulated day at 60x
    assert clock.now() == START + timedelta(days=31, minutes=30)


def test_a_saved_clock_read_at_another_speed_does_not_go_back() -> None:
    wall = Wall()
    saved = clock_at(wall, 60).to_json()
    wall.t += 100  # 100 simulated minutes at 60x since the save
    stopped = SimClock.from_json(saved, 0.0, wall)
    assert stopped.now() == START + timedelta(minutes=100)  # not START: the time already run is kept
    wall.t += 100
    assert stopped.now() == START + timedelta(minutes=100)  # and from there it stands still
    again = SimClock.from_json(stopped.to_json(), 60.0, wall)
    wall.t += 1
    assert again.now() == START + timedelta(minutes=101)


@given(st.lists(st.tuples(st.floats(0, 10_000), st.sampled_from([0.0, 1.0, 60.0, 600.0, 3600.0])), max_size=12))
def test_time_never_runs_backwards_whatever_the_speeds(steps: list[tuple[float, float]]) -> None:
    wall = Wall()
    state = clock_at(wall, 60).to_json()
    last = START
    for elapsed, speed in steps:
        wall.t += elapsed
        clock = SimClock.from_json(state, speed, wall)
        now = clock.now()
        assert now >= last
        last = now
        state = clock.to_json()
