"""One wbctl at a time per scenario: the sandbox's state is read at start and written at stop,
so two commands side by side would each save their own view and one's change would be lost.

The lock is an advisory `flock` on `<scenario>.lock` beside the state, held from the start
to the stop; the kernel drops it when the process ends, however it ends, so a crashed command
never leaves the scenario locked. A second command waits a little (commands take a second or
two), then is refused with who holds it. Shells that want one sandbox at once use `sandbox
serve`, which holds the lock for its lifetime while the commands that join it take none.
"""

from __future__ import annotations

import fcntl
import os
import time
from pathlib import Path

from wbctl.errors import RefusedError

WAIT = 10.0  # seconds a command waits for another on the same scenario


class ScenarioLock:
    def __init__(self, directory: Path, scenario: str) -> None:
        self.path = directory / f"{scenario}.lock"
        self.scenario = scenario
        self._fd: int | None = None

    def acquire(self, wait: float = WAIT) -> ScenarioLock:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "?"
                    os.close(fd)
                    raise RefusedError(
                        f"the sandbox {self.scenario} is in use by another wbctl (pid {holder}) and stayed so for "
                        f"{wait:g} s: wait for it to finish, or share one sandbox between shells with "
                        f"`wbctl sandbox serve --scenario {self.scenario}`"
                    ) from None
                time.sleep(0.05)
        os.ftruncate(fd, 0)
        os.pwrite(fd, str(os.getpid()).encode(), 0)
        self._fd = fd
        return self

    def held_elsewhere(self) -> bool:
        """True when another process holds it now (for `sandbox reset`, which must not wait)."""
        try:
            fd = os.open(self.path, os.O_RDWR)
        except FileNotFoundError:
            return False
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return True
        finally:
            os.close(fd)  # closing drops a lock taken just now
        return False

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
