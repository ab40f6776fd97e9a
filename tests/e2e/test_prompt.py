"""On a real terminal (a pty), the mutation path asks, and only 'y' applies."""

from __future__ import annotations

import os
import pty
import select
import subprocess
import sys
import time

import pytest

from tests.support.redis import RedisServer


def run_on_pty(args: list[str], answer: str, env: dict[str, str]) -> tuple[int, str]:
    primary, secondary = pty.openpty()
    process = subprocess.Popen(
        [sys.executable, "-m", "wbctl", *args],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env={**os.environ, **env},
        close_fds=True,
    )
    os.close(secondary)
    output = b""
    deadline = time.monotonic() + 30
    answered = False
    while time.monotonic() < deadline:
        ready, _, _ = select.select([primary], [], [], 0.2)
        if ready:
            try:
                chunk = os.read(primary, 4096)
            except OSError:
                break
            if not chunk:
                break
            output += chunk
            if not answered and b"[y/N]" in output:
                os.write(primary, answer.encode() + b"\n")
                answered = True
        elif process.poll() is not None:
            break
    process.wait(10)
    os.close(primary)
    return process.returncode, output.decode(errors="replace")


@pytest.mark.parametrize(("answer", "code", "value"), [("y", 0, "r1"), ("n", 4, None), ("", 4, None)])
def test_prompt_on_a_terminal(redis_server: RedisServer, answer: str, code: int, value) -> None:
    status, output = run_on_pty(["run", "discard", "r1"], answer, {"WBCTL_REDIS_URL": redis_server.url})
    assert "[y/N]" in output
    assert "will be DROPPED" in output
    assert status == code, output
    assert redis_server.client().get("gorilla.DiscardV2UpdatesForRun") == value
