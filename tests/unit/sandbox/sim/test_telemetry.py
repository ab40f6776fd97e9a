"""What the sandbox's pods print and use (wbctl/sandbox/sim/telemetry.py), from the queue model:
the updater's lines follow its rate and the noisy run, a discard shows in them, its CPU is the
HPA's utilisation of its request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wbctl.sandbox.sim.clock import SimClock
from wbctl.sandbox.sim.queue_model import Change
from wbctl.sandbox.sim.scenarios import NAMES, SCENARIOS
from wbctl.sandbox.sim.telemetry import WorldTelemetry, cores, size
from wbctl.sandbox.sim.world import UPDATER, World

START = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STORY = SCENARIOS["queue-backlog"].story  # the noisy run sends from minute 55 for a day


def telemetry(minutes: int, changes: list[Change] = ()) -> WorldTelemetry:
    clock = SimClock(START + timedelta(minutes=minutes), 0.0, speed=0.0)
    world = World(STORY, NAMES, clock, START, changes=list(changes))
    world.simulation.advance(minutes * 60)
    return WorldTelemetry(world, UPDATER)


def pod(name: str, app: str, container: str, cpu: str = "100m") -> dict:
    return {
        "metadata": {
            "name": name,
            "labels": {"app.kubernetes.io/name": app},
            "creationTimestamp": "2026-12-01T12:30:00Z",
        },
        "spec": {
            "nodeName": "n1",
            "containers": [{"name": container, "resources": {"requests": {"cpu": cpu, "memory": "128Mi"}}}],
        },
        "status": {"phase": "Running"},
    }


UPDATER_POD = pod("updater-1", UPDATER, UPDATER)


def test_the_updaters_lines_start_with_the_pod_and_name_the_noisy_run_while_it_sends() -> None:
    lines = telemetry(80).log(UPDATER_POD, UPDATER)
    assert lines[0][0] == START + timedelta(minutes=31)  # its first minute's line after it was created
    assert len(lines) == 50 and "top_run=a1b2c3d4" in lines[0][1] and "level=INFO" in lines[0][1]
    last = lines[-1][1]
    assert "top_run=k7w3x9qp" in last and "level=WARN" in last and "per_second=150.0" in last


def test_a_discard_shows_in_the_lines_and_the_noisy_run_leaves_them() -> None:
    lines = telemetry(90, [Change(at=80 * 60, discard=True)]).log(UPDATER_POD, UPDATER)
    assert "discarded_run=k7w3x9qp" in lines[-1][1] and "top_run=a1b2c3d4" in lines[-1][1]
    assert "discarded_run" not in lines[-12][1]


def test_cpu_follows_the_hpas_utilisation_and_other_pods_idle() -> None:
    usage = telemetry(80).usage(UPDATER_POD)[UPDATER]
    assert usage[0] == pytest.approx(0.1, rel=0.06)  # 750/s over 5 replicas of 150/s: 100 % of 100m
    api = telemetry(80).usage(pod("api-1", "api", "api"))["api"]
    assert api[0] == pytest.approx(0.01, rel=0.11) and api[1] == pytest.approx(0.6 * 128 * 2**20, rel=0.11)
    assert telemetry(80).usage({**UPDATER_POD, "status": {"phase": "Pending"}}) == {}


def test_quantities() -> None:
    assert cores("100m", 0) == pytest.approx(0.1) and cores("2", 0) == 2 and cores("", 0.5) == 0.5
    assert size("128Mi", 0) == 128 * 2**20 and size("1Gi", 0) == 2**30 and size("29094932Ki", 0) == 29094932 * 1024
