"""Two ways to run `wbctl`, one result shape.

`InProcess` calls `wbctl.cli.main(argv, env)` with an `Environment` of string streams: no
terminal, empty stdin, the test's variables. That is what `python -m wbctl` does in a process
(`__main__` calls `main()` with the real Environment), minus the interpreter start-up and
imports, which is most of a command's time. Anything that still writes to `sys.stdout` /
`sys.stderr` (Click's own help and usage output) writes to the same buffers, as it would to
the same pipe in a process. After each call the runner checks that wbctl left `os.environ` and
the working directory as it found them; `wbctl_threads` names the threads wbctl starts (its
reads, the sandbox's servers), which a fixture checks have all ended by the test's teardown
(a read wbctl gave up on runs on until its own socket timeout, by design: not at return).

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

# wbctl's own threads: its reads (app/gather.py), the sandbox's MySQL, Redis and Kubernetes
# servers. The worker threads of the fakes a test starts (gRPC's pool, one HTTP handler per
# connection) belong to the test's fake, which it closes.
WBCTL_THREADS = ("wbctl-", "sandbox-", "fake-kube-api")


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


def wbctl_threads() -> set[threading.Thread]:
    return {thread for thread in threading.enumerate() if thread.name.startswith(WBCTL_THREADS)}


def threads_ended(before: set[threading.Thread], grace: float) -> list[str]:
    """The names of wbctl's threads started since `before` still alive after `grace` seconds."""
    deadline = time.monotonic() + grace
    left = wbctl_threads() - before
    for thread in left:
        thread.join(max(0.0, deadline - time.monotonic()))
    return sorted(thread.name for thread in left if thread.is_alive())


class InProcess:
    """Runs `wbctl.cli.main(argv, env)` in this process with string streams (see the module doc).

    `timeout` is accepted for the same call shape as `Subprocess`; a command runs on this
    thread, so a hang shows as a hung test, not as a timeout."""

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
        environ_before, cwd_before = dict(os.environ), os.getcwd()
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            saved_stdin, sys.stdin = sys.stdin, stdin
            try:
                returncode = main(list(args), environment)
            finally:
                sys.stdin = saved_stdin
        assert dict(os.environ) == environ_before, "wbctl changed os.environ"
        assert os.getcwd() == cwd_before, "wbctl changed the working directory"
        return Result(int(returncode), stdout.getvalue(), stderr.getvalue())


def terminate_after_fix(argv: list[str], env: Mapping[str, str]) -> tuple[int, str]:
    """Run `argv` (a `--fix --yes --watch` that waits after its fix), send SIGTERM once it says
    the fix is applied, and return its exit status and the rest of its stderr."""
    import signal

    process = subprocess.Popen(
        [sys.executable, "-m", "wbctl", *argv],
        env=dict(env),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        for line in process.stderr:  # the fix is written; the watch waits for its next look
            if line.startswith("--fix: applied"):
                break
        process.send_signal(signal.SIGTERM)
        _, rest = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    return process.returncode, rest
