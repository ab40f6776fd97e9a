"""The whole rehearsal, told truly from start to finish (issue 20's "Done when"): a reset, the
incident growing for hours, `--fix`, more than a simulated day, the drain, and the all-clear.

The clock is stopped (WBCTL_SANDBOX_SPEED=0) and moved by `sandbox advance`, so every look
happens at a known simulated time; at each one the verdict must agree with the numbers it
prints, and once cleared the runbook exits 0 and `--watch --until-clear` ends at once.
"""

from __future__ import annotations

import pytest

STILL = {"WBCTL_SANDBOX": "1", "WBCTL_SANDBOX_SPEED": "0", "COLUMNS": "200"}


def _look(wbctl) -> tuple[int, dict]:
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=STILL)
    assert result.returncode in (0, 1), result.stderr
    return result.returncode, result.json()


def _agrees(doc: dict) -> None:
    """A verdict that says the opposite of its own numbers is the defect this test is for."""
    publish, consume, verdict = doc["publish_per_second"], doc["consume_per_second"], doc["verdict"]
    if publish is not None and consume is not None and consume < publish * 0.95:
        assert verdict == "growing", (verdict, publish, consume, doc["headline"])
    if verdict == "none":
        assert (doc["backlog"] or 0) <= 1000, doc["headline"]


@pytest.mark.slow
def test_reset_grow_fix_a_day_and_more_drain_and_clear(wbctl) -> None:
    assert wbctl("sandbox", "reset", env=STILL).returncode == 0
    status, doc = _look(wbctl)
    assert (status, doc["verdict"]) == (1, "growing")
    _agrees(doc)

    assert wbctl("sandbox", "advance", "6h", env=STILL).returncode == 0
    status, doc = _look(wbctl)
    assert (status, doc["verdict"]) == (1, "growing"), doc["headline"]  # at 5.8M messages too
    _agrees(doc)

    fixed = wbctl("runbook", "queue-backlog", "--fix", "--yes", env=STILL)
    assert fixed.returncode in (0, 1), fixed.stderr
    assert "--fix: applied" in fixed.stdout + fixed.stderr

    verdicts = []
    for _ in range(20):  # up to 20 x 3h: well past the story's day, until the backlog clears
        assert wbctl("sandbox", "advance", "3h", env=STILL).returncode == 0
        status, doc = _look(wbctl)
        _agrees(doc)
        verdicts.append(doc["verdict"])
        if doc["verdict"] == "none":
            break
    assert verdicts[-1] == "none" and status == 0, verdicts
    assert "draining" in verdicts, verdicts  # it drained before it cleared
    watched = wbctl("runbook", "queue-backlog", "--watch", "--until-clear", "-o", "json", env=STILL)
    assert watched.returncode == 0, watched.stderr
    assert wbctl("sandbox", "status", env=STILL).returncode == 0
