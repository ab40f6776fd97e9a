"""The scenario lock: one wbctl at a time per scenario, released however the holder ends."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from wbctl.errors import RefusedError
from wbctl.sandbox.sim.lock import ScenarioLock

HOLD = """
import sys, time
from pathlib import Path
from wbctl.sandbox.sim.lock import ScenarioLock
ScenarioLock(Path(sys.argv[1]), "queue-backlog").acquire()
print("held", flush=True)
time.sleep(60)
"""


def _holder(directory: Path) -> subprocess.Popen[str]:
    process = subprocess.Popen([sys.executable, "-c", HOLD, str(directory)], stdout=subprocess.PIPE, text=True)
    assert process.stdout.readline().strip() == "held"
    return process


def test_a_second_holder_is_refused_with_the_first_ones_pid(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    try:
        start = time.monotonic()
        with pytest.raises(RefusedError) as refused:
            ScenarioLock(tmp_path, "queue-backlog").acquire(wait=0.3)
        assert time.monotonic() - start >= 0.3
        assert f"pid {holder.pid}" in str(refused.value) and "wbctl sandbox serve --scenario queue-backlog" in str(
            refused.value
        )
        assert ScenarioLock(tmp_path, "queue-backlog").held_elsewhere()
        ScenarioLock(tmp_path, "healthy").acquire(wait=0).release()  # another scenario is free
    finally:
        holder.kill()
        holder.wait()
    # killed, not stopped: the kernel dropped the lock with the process
    assert not ScenarioLock(tmp_path, "queue-backlog").held_elsewhere()
    ScenarioLock(tmp_path, "queue-backlog").acquire(wait=0).release()


def test_a_waiting_command_gets_the_lock_when_the_holder_finishes(tmp_path: Path) -> None:
    holder = _holder(tmp_path)
    subprocess.Popen(["sh", "-c", f"sleep 0.5; kill {holder.pid}"])
    lock = ScenarioLock(tmp_path, "queue-backlog").acquire(wait=10)
    try:
        assert lock.path.read_text() == str(__import__("os").getpid())
    finally:
        lock.release()
        holder.wait()
