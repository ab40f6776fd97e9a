"""The sandbox's queue model (wbctl/sandbox/sim/queue_model.py): the issue's story, at fixed
simulated times. P = 1000/s (the noisy run 600), r = 150, HPA 1-5, w = 300, Bigtable 1-3 nodes,
target 70 %: the backlog grows until the fix, clears about 25 simulated minutes after it (here
29: the phase-in of each new node is modelled minute by minute), about 14 after a discard
(here 20: the backlog is larger at the discard than the issue's 300k)."""

from __future__ import annotations

import pytest

from wbctl.sandbox.sim.queue_model import Change, Simulation, Story, simulate

STORY = Story(publish_base=400, publish_noisy=600, noisy_from=3600, hpa=(1, 5), replicas=4, nodes=(1, 3), start_nodes=2)
INCIDENT = 80 * 60  # the noisy run began 20 minutes ago
FIX = Change(at=INCIDENT, hpa=(5, 10), nodes=(3, 10))  # what runbook queue-backlog --fix sets


def at(samples, minutes_after: float):
    """The sample `minutes_after` the incident's "now" (INCIDENT)."""
    return next(s for s in samples if s.time == INCIDENT + minutes_after * 60)


def test_steady_before_the_noisy_run() -> None:
    samples = simulate(STORY, 3500)
    last = samples[-1]
    assert last.backlog == 0 and last.published == 400 and last.consumed == 400
    assert last.replicas == 4 and last.nodes == 2 and last.cpu == pytest.approx(400 / 600)


def test_the_backlog_grows_until_the_fix_with_both_at_their_maximum() -> None:
    samples = simulate(STORY, INCIDENT + 3600)
    now, later = at(samples, 0), at(samples, 30)
    assert now.backlog > 300_000 and later.backlog > now.backlog + 400_000  # 250/s for 30 minutes
    assert now.replicas == 5 and now.hpa_limited and now.nodes == 3 and now.cpu > 0.7  # both at their max
    assert now.consumed == 750 and now.published == 1000
    assert now.oldest_age == pytest.approx(
        now.backlog / 1000, rel=0.05
    )  # FIFO: the backlog is that many seconds of publishes


def test_it_clears_about_half_an_hour_after_the_fix() -> None:
    samples = simulate(STORY, INCIDENT + 3600, [FIX])
    assert at(samples, 10).backlog > at(samples, 0).backlog  # new nodes help only as they phase in
    assert at(samples, 20).backlog < at(samples, 10).backlog
    cleared = next(s for s in samples if s.time > INCIDENT and s.backlog == 0)
    assert 20 <= (cleared.time - INCIDENT) / 60 <= 35
    assert at(samples, 45).backlog == 0 and at(samples, 45).oldest_age == 0


def test_it_clears_sooner_after_a_discard() -> None:
    samples = simulate(STORY, INCIDENT + 3600, [Change(at=INCIDENT, discard=True)])
    assert at(samples, 1).published == 400
    cleared = next(s for s in samples if s.time > INCIDENT and s.backlog == 0)
    assert 10 <= (cleared.time - INCIDENT) / 60 <= 25


def test_stepwise_equals_a_whole_run() -> None:
    """The sandbox advances one simulation as its clock moves; the result is the same as a run from the start."""
    stepwise = Simulation(STORY)
    for until in (600, 1234, INCIDENT):
        stepwise.advance(until)
    stepwise.apply(FIX)
    stepwise.advance(INCIDENT + 1800)
    whole = simulate(STORY, INCIDENT + 1800 - 60, [FIX])
    assert [(s.time, s.backlog, s.nodes, s.replicas) for s in stepwise.samples] == [
        (s.time, s.backlog, s.nodes, s.replicas) for s in whole
    ]


def test_a_fixed_replica_count_turns_the_hpa_off() -> None:
    samples = simulate(STORY, INCIDENT + 600, [Change(at=INCIDENT, replicas=8)])
    assert at(samples, 2).replicas == 8 and at(samples, 2).hpa is None
    assert Change.from_json(Change(at=60, hpa=(1, 2), discard=True).to_json()) == Change(
        at=60, hpa=(1, 2), discard=True
    )


def test_the_noisy_run_finishes_and_the_backlog_drains_on_its_own() -> None:
    """The script ends when the run does; the model goes on: publish back at the base load,
    the backlog drained by what the updater and Bigtable can take (750/s against 400/s)."""
    story = Story(**{**STORY.__dict__, "noisy_until": 3600 + 6 * 3600})
    samples = simulate(story, 3 * 86400)
    finished = next(s for s in samples if s.time == 3600 + 6 * 3600 + 60)
    assert finished.published == 400 and finished.backlog > 5_000_000
    assert samples[-1].backlog == 0 and samples[-1].oldest_age == 0 and samples[-1].lost == 0


def test_messages_past_the_retention_are_dropped_and_counted_lost() -> None:
    """Pub/Sub keeps an unacked message for the subscription's retention (7 days by default):
    with nothing consuming, the oldest message never gets older than that, and what is
    dropped is counted lost."""
    stalled = Story(publish_base=100, hpa=None, replicas=0, nodes=(1, 3), start_nodes=1, retention=86400)
    samples = simulate(stalled, 3 * 86400)
    day = next(s for s in samples if s.time == 86400)
    last = samples[-1]
    assert day.lost == 0 and day.backlog == pytest.approx(100 * 86400)
    assert last.oldest_age <= 86400 + 60 and last.backlog == pytest.approx(100 * 86400, rel=0.01)
    assert last.lost == pytest.approx(2 * 100 * 86400, rel=0.01)
