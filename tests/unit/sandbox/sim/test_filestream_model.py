"""The sandbox's filestream subscription: quiet, then behind at the gap between what is
streamed and what filestream consumes, and drained once it runs more replicas."""

from __future__ import annotations

import pytest

from wbctl.sandbox.sim.filestream import QUIET_AGE, filestream_points
from wbctl.sandbox.sim.queue_model import Change, FilestreamStory

BEHIND = FilestreamStory(publish=120, slow_from=1800, slow_consume=80, replicas=3)
MINUTES = [60.0 * m for m in range(0, 121)]


def test_a_quiet_story_holds_nothing() -> None:
    points = filestream_points(FilestreamStory(), MINUTES)
    assert {(p.backlog, p.oldest_age, p.consumed) for p in points} == {(0.0, QUIET_AGE, 120.0)}


def test_behind_the_backlog_and_the_age_grow_as_the_closed_form_says() -> None:
    [at_30m, at_60m] = filestream_points(BEHIND, [1800.0, 3600.0])
    assert at_30m.backlog == 0 and at_30m.oldest_age == QUIET_AGE
    assert at_60m.backlog == pytest.approx((120 - 80) * 1800)  # (P - C) x dt
    assert at_60m.oldest_age == pytest.approx(1800 * (1 - 80 / 120) + QUIET_AGE)  # dt x (1 - C / P)
    assert at_60m.consumed == 80


def test_twice_the_replicas_drain_it() -> None:
    raised = [(3600.0, 6)]  # 160/s against 120/s: 72,000 messages drain in 30 minutes
    [before, draining, drained] = filestream_points(BEHIND, [3600.0, 4500.0, 5460.0], raised)
    assert before.backlog == pytest.approx(72_000)
    assert draining.backlog == pytest.approx(72_000 - 40 * 900) and draining.consumed == 160
    assert drained.backlog == 0 and drained.oldest_age == QUIET_AGE and drained.consumed == pytest.approx(120)


def test_a_replica_change_is_saved_and_restored() -> None:
    change = Change(at=60.0, filestream_replicas=6)
    assert Change.from_json(change.to_json()) == change
