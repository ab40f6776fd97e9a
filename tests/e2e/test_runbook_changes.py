"""The runbook's "changes made with wbctl in the window": this context's entries, inside the
window on the signals' clock, and in the sandbox only those since the last `sandbox reset`."""

from __future__ import annotations

STILL = {"WBCTL_SANDBOX": "1", "WBCTL_SANDBOX_SPEED": "0"}  # the clock moves only by `sandbox advance`


def changes(wbctl, scenario: str) -> list[dict]:
    result = wbctl("runbook", "queue-backlog", "-o", "json", env={**STILL, "WBCTL_SCENARIO": scenario})
    assert result.returncode in (0, 1), result.stderr  # 1: the queue is backing up
    return result.json()["changes_in_window"]


def discard(wbctl, scenario: str) -> None:
    result = wbctl("run", "discard", "noisy-run", "--ttl", "2h", "--yes", env={**STILL, "WBCTL_SCENARIO": scenario})
    assert result.returncode == 0, result.stderr


def test_another_scenarios_changes_are_not_this_ones(wbctl) -> None:
    discard(wbctl, "queue-backlog")
    assert [c["command"] for c in changes(wbctl, "queue-backlog")] == ["wbctl run discard noisy-run --ttl 2h --yes"]
    assert changes(wbctl, "healthy") == []


def test_a_reset_forgets_the_changes_made_before_it(wbctl) -> None:
    discard(wbctl, "queue-backlog")
    assert wbctl("sandbox", "reset").returncode == 0
    assert changes(wbctl, "queue-backlog") == []
    discard(wbctl, "queue-backlog")  # made after the reset: listed again
    assert len(changes(wbctl, "queue-backlog")) == 1


def test_a_reset_after_an_advance_leaves_no_change_in_the_future(wbctl) -> None:
    """Entries made after `advance 6h` are stamped six simulated hours ahead of the wall; the
    reset story starts at wall time again, so without the reset's mark they sat in the future."""
    assert wbctl("sandbox", "advance", "6h", env=STILL).returncode == 0
    discard(wbctl, "queue-backlog")
    assert wbctl("sandbox", "reset").returncode == 0
    assert wbctl("sandbox", "advance", "5h59m", env=STILL).returncode == 0
    assert changes(wbctl, "queue-backlog") == []


def test_changes_are_on_the_signals_clock_across_invocations(wbctl) -> None:
    """`sandbox advance` in another invocation moves the simulated clock: a change made after
    it is stamped on that clock (and listed); one made before it is six hours back (and not)."""
    discard(wbctl, "queue-backlog")
    assert wbctl("sandbox", "advance", "6h", env=STILL).returncode == 0
    assert changes(wbctl, "queue-backlog") == []
    discard(wbctl, "queue-backlog")  # the first one's 2h ran out in those six hours
    (listed,) = changes(wbctl, "queue-backlog")
    simulated = wbctl("sandbox", "status", "-o", "json", env=STILL).json()["simulated_time"]
    assert listed["time"][:16] == simulated[:16]
