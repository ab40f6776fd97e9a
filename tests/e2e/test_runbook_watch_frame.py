"""`runbook queue-backlog --watch` on a real terminal: what is on the screen, as a terminal
emulator (pyte) draws the bytes wbctl writes to a pseudo-terminal (pexpect) of a given size."""

from __future__ import annotations

import os
import sys
import time

import pexpect
import pyte
import pytest

STEPS = ("1. backlog", "2. bigtable", "3. flat-run-fields-updater", "4. noisy run")


def _screen(rows: int, columns: int) -> tuple[list[str], pexpect.spawn]:
    """Start the watch in a rows x columns pty and return the screen once a whole frame is on it."""
    env = {name: value for name, value in os.environ.items() if name not in ("COLUMNS", "LINES")}
    env.update({"WBCTL_SANDBOX_SPEED": "60", "TERM": "xterm-256color"})
    child = pexpect.spawn(
        sys.executable,
        ["-m", "wbctl", "--sandbox", "runbook", "queue-backlog", "--watch", "--interval", "10s"],
        env=env,
        dimensions=(rows, columns),
        timeout=60,
    )
    screen = pyte.Screen(columns, rows)
    stream = pyte.ByteStream(screen)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            stream.feed(child.read_nonblocking(65536, timeout=0.5))
        except pexpect.TIMEOUT:
            pass
        lines = [line.rstrip() for line in screen.display]
        if "newest backlog sample" in "\n".join(lines) and all(
            any(line.startswith(s) for line in lines) for s in STEPS
        ):
            return lines, child
    child.terminate(force=True)
    pytest.fail("no whole frame within 60 s:\n" + "\n".join(screen.display))


def _stop(child: pexpect.spawn) -> int:
    child.sendintr()
    child.expect(pexpect.EOF, timeout=30)
    child.close()
    return child.exitstatus if child.exitstatus is not None else 128 + (child.signalstatus or 0)


@pytest.mark.slow
def test_at_80x24_the_frame_shows_the_headline_every_step_and_the_next_command() -> None:
    lines, child = _screen(24, 80)
    try:
        text = "\n".join(lines)
        assert lines[0].startswith("queue GROWING"), text
        for step in STEPS:
            assert sum(line.startswith(step) for line in lines) == 1, text  # one line per step
        assert all(len(line) <= 80 for line in lines)
        assert "next: " in text and "bigtable autoscale --min 3 --max 10" in " ".join(text.split())
        assert "SIGNAL" not in text and "bigtable CPU" not in text  # no room for the signals
        assert "..." not in text  # nothing cropped: the frame fits
    finally:
        assert _stop(child) == 130


@pytest.mark.slow
def test_at_200x50_the_signals_are_shown_too() -> None:
    lines, child = _screen(50, 200)
    try:
        text = "\n".join(lines)
        assert lines[0].startswith("queue GROWING"), text
        for step in STEPS:
            assert any(line.startswith(step) for line in lines), text
        assert "SIGNAL" in text and "bigtable CPU" in text
        assert "next: wbctl --sandbox bigtable autoscale --min 3 --max 10" in text
    finally:
        assert _stop(child) == 130
