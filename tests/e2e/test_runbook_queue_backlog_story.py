"""The queue's verdict over the sandbox's whole queue-backlog story, hour by hour.

The story's backlog grows for as long as nobody acts (publish 1,000/s against a consumption
capped by Bigtable), so at every simulated hour of its first day the verdict must say
`growing` whatever the backlog's size, and `check`'s `queue.backlog` must agree with it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

SANDBOX = {"WBCTL_SANDBOX": "1", "WBCTL_SCENARIO": "queue-backlog", "WBCTL_SANDBOX_SPEED": "0"}
HOURS = 22  # the story starts 80 minutes in: its first day ends before 23 more hours


def _trend(signal: dict, minutes: int = 10) -> tuple[float, float]:
    """(first, last) value of a signal's points over its last `minutes`."""
    points = signal["points"]
    newest = datetime.fromisoformat(points[-1][0])
    recent = [
        value for moment, value in points if datetime.fromisoformat(moment) >= newest - timedelta(minutes=minutes)
    ]
    return recent[0], recent[-1]


@pytest.mark.slow
def test_the_verdict_says_growing_at_every_hour_the_backlog_grows(wbctl) -> None:
    assert wbctl("sandbox", "reset", env=SANDBOX).returncode == 0
    seen = []
    for hour in range(HOURS + 1):
        if hour:
            assert wbctl("sandbox", "advance", "1h", env=SANDBOX).returncode == 0
        document = wbctl("runbook", "queue-backlog", "-o", "json", env=SANDBOX).json()
        first, last = _trend(document["signals"]["backlog"])
        publish, consume = document["publish_per_second"], document["consume_per_second"]
        assert last > first and consume < publish, (hour, first, last, publish, consume)  # the numbers: growth
        backlog_step = next(step for step in document["steps"] if step["name"] == "backlog")
        assert document["verdict"] == "growing", (hour, document["headline"], backlog_step["summary"])
        assert document["headline"].startswith("queue GROWING"), (hour, document["headline"])
        assert backlog_step["status"] == "fail", (hour, backlog_step)
        check = wbctl("check", "-o", "json", env=SANDBOX).json()
        finding = next(f for f in check["findings"] if f["check"] == "queue.backlog")
        assert finding["status"] == backlog_step["status"], (hour, finding)
        seen.append(last)
    assert seen == sorted(seen) and seen[-1] > 40 * seen[0]  # it grew all day, by far


@pytest.mark.slow
def test_after_the_fix_the_readings_wait_and_never_chase_it(wbctl) -> None:
    """Minute by minute after `--fix`: Bigtable's new nodes warm up, then the backlog drains in
    time; no reading proposes another raise, and once the next thing is to wait it stays so."""
    assert wbctl("sandbox", "reset", env=SANDBOX).returncode == 0
    assert wbctl("sandbox", "advance", "2h", env=SANDBOX).returncode == 0
    fixed = wbctl("runbook", "queue-backlog", "--fix", "--yes", env=SANDBOX)
    assert fixed.returncode in (0, 1), fixed.stderr
    nexts = []
    for minute in range(1, 41):
        assert wbctl("sandbox", "advance", "1m", env=SANDBOX).returncode == 0
        document = wbctl("runbook", "queue-backlog", "-o", "json", env=SANDBOX).json()
        steps = {step["name"]: step for step in document["steps"]}
        raises = [p for name in ("bigtable", "flat-run-fields-updater") for p in steps[name]["proposals"]]
        assert raises == [], (minute, document["headline"])
        assert "autoscale" not in document["next"], (minute, document["headline"])
        # the raise just made is waited for: never "the autoscaler is not acting" while it settles
        assert "not acting" not in steps["bigtable"]["summary"], (minute, steps["bigtable"]["summary"])
        if minute % 10 == 2:  # and check judges Bigtable as step 2 does, from the same state
            cpu = next(
                f for f in wbctl("check", "-o", "json", env=SANDBOX).json()["findings"] if f["check"] == "bigtable.cpu"
            )
            assert cpu["status"] == steps["bigtable"]["status"], (minute, cpu, steps["bigtable"]["summary"])
        nexts.append(document["next"])
    waiting = [n.startswith("wait until ") for n in nexts]
    assert any(waiting), nexts
    first = waiting.index(True)
    assert all(waiting[first:]), nexts[first:]  # no flip back to a remedy a minute later
