"""Two ways to run `wbctl`, one result shape.

`InProcess` calls `wbctl.cli.main(argv, env)` with an `Environment` of string streams: no
terminal, empty stdin, the test's variables. That is what `python -m wbctl` does in a process
(`__main__` calls `main()` with the real Environment), minus the interpreter start-up and
imports, which is most of a command's time. Anything that still writes to `sys.stdout` /
`sys.stderr` (Click's plain help, `--version`) writes to the same buffers, as it would to the
same pipe in a process. After each call the runner checks that wbctl left the process as it
found it: `os.environ`, the working directory, no thread of its own still running.

`Subprocess` starts `python -m wbctl` the way an operator or a script would: for what only a
real process shows (signals, ttys, closed pipes, start-up imports, isolation between processes).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

# threads a library keeps for the life of the process by design (none so far): every other
# thread started during a call (wbctl's reads, the sandbox's servers) must have ended
LIBRARY_THREADS: tuple[str, ...] = ()


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self) -> Any:
        return json.loads(self.stdout)


class Subprocess:
    """Runs `python -m wbctl` as a subprocess: no terminal, no stdin, a clean environment."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60, input: str | None = None
    ) -> Result:
        completed = subprocess.run(
            [sys.executable, "-m", "wbctl", *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL if input is None else None,
            input=input,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)


def _threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if not thread.name.startswith(LIBRARY_THREADS)}


class InProcess:
    """Runs `wbctl.cli.main(argv, env)` in this process with string streams (see the module doc).

    `timeout` is accepted for the same call shape as `Subprocess`; a command runs on this
    thread, so a hang shows as a hung test, not as a timeout."""

    # how long a read thread wbctl gave up on (a --timeout) may take to notice its socket closed
    thread_grace = 5.0

    def __init__(self, env: Mapping[str, str]) -> None:
        self.env = dict(env)

    def __call__(
        self, *args: str, env: Mapping[str, str] | None = None, timeout: float = 60, input: str | None = None
    ) -> Result:
        from wbctl.cli import main
        from wbctl.environment import Environment

        stdin, stdout, stderr = io.StringIO(input or ""), io.StringIO(), io.StringIO()
        environment = Environment(
            environ={**self.env, **(env or {})},
            stdin=stdin,
            stdout=stdout,
            stderr=stderr,
            stdin_isatty=False,
            stdout_isatty=False,
            stderr_isatty=False,
        )
        environ_before, cwd_before, threads_before = dict(os.environ), os.getcwd(), _threads()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            saved_stdin, sys.stdin = sys.stdin, stdin
            try:
                returncode = main(list(args), environment)
            finally:
                sys.stdin = saved_stdin
        assert dict(os.environ) == environ_before, "wbctl changed os.environ"
        assert os.getcwd() == cwd_before, "wbctl changed the working directory"
        self._threads_ended(threads_before)
        return Result(int(returncode), stdout.getvalue(), stderr.getvalue())

    def _threads_ended(self, before: set[threading.Thread]) -> None:
        deadline = time.monotonic() + self.thread_grace
        left = _threads() - before
        while left and time.monotonic() < deadline:
            for thread in left:
                thread.join(max(0.0, deadline - time.monotonic()))
            left = {thread for thread in left if thread.is_alive()}
        assert not left, f"wbctl left threads running: {sorted(thread.name for thread in left)}"
