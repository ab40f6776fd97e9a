"""The CLI's one error boundary, seen from outside: a bug's own exit code, a closed pipe,
Ctrl-C at a prompt on a real terminal, and shell completion through the environment."""

from __future__ import annotations

import fcntl
import os
import pty
import select
import signal
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest

from wbctl.errors import ExitStatus

# --- a bug: exit 70, one line -------------------------------------------------------------

# a real process running the real entry point (`wbctl.cli:run`, the console script), with
# one function replaced by a bug: what happens when wbctl meets an exception nobody anticipated
BUGGY = """\
import sys
import wbctl.config

def load(*args, **kwargs):
    raise KeyError("settings-bug")

wbctl.config.load = load
sys.argv = ["wbctl", *sys.argv[1:]]
from wbctl.cli import run
run()
"""


def run_buggy(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", BUGGY, *args],
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_an_internal_error_exits_70_with_one_line() -> None:
    result = run_buggy("config", "show")
    assert result.returncode == ExitStatus.INTERNAL == 70
    assert result.stdout == ""
    assert result.stderr == (
        "wbctl: error: internal error: KeyError: 'settings-bug' (re-run with --debug and report it)\n"
    )


def test_an_internal_error_with_debug_shows_the_traceback_then_the_line() -> None:
    result = run_buggy("--debug", "config", "show")
    assert result.returncode == 70
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert ", in load\n" in result.stderr and "\nKeyError: 'settings-bug'\n" in result.stderr
    assert result.stderr.strip().splitlines()[-1] == (
        "wbctl: error: internal error: KeyError: 'settings-bug' (re-run with --debug and report it)"
    )


def test_a_finding_is_still_1_and_not_a_bug(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "redis", "show")
    drift = wbctl("--sandbox", "--scenario", "misconfigured", "redis", "tune", "--check")
    assert result.returncode == 0, result.stderr
    assert drift.returncode == ExitStatus.PROBLEMS == 1, drift.stderr


# --- a closed pipe: quiet, 141 ------------------------------------------------------------


def shell(command: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    """`command` in bash; PIPESTATUS of its first stage on the last line of stdout."""
    script = f'{command}\necho "status=${{PIPESTATUS[0]}}"'
    return subprocess.run(
        ["bash", "-c", script],
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def wbctl_words() -> str:
    return f"{sys.executable} -m wbctl"


def test_a_watch_piped_to_head_ends_quietly_with_141() -> None:
    """`--watch | head -1`: head takes the first document and leaves; the next round's write
    finds the pipe closed and the watch ends there, without a word on stderr."""
    started = time.monotonic()
    result = shell(
        f"{wbctl_words()} --sandbox --scenario queue-backlog runbook queue-backlog --watch "
        "--interval 1s -o json | head -1"
    )
    lines = result.stdout.splitlines()
    assert lines[-1] == f"status={ExitStatus.CLOSED_PIPE}"
    assert len(lines) == 2 and lines[0].startswith('{"runbook": "queue-backlog"')
    assert result.stderr == ""  # no message, no traceback, no "Exception ignored ... BrokenPipeError"
    assert time.monotonic() - started < 30


def test_a_pipe_closed_before_the_output_ends_quietly() -> None:
    """The reader is gone before wbctl writes (`| true`): nothing on stderr, 141."""
    result = shell(f"{wbctl_words()} --sandbox services status | true")
    assert result.stdout.splitlines() == [f"status={ExitStatus.CLOSED_PIPE}"]
    assert result.stderr == ""


def test_stdout_and_stderr_on_the_same_closed_pipe() -> None:
    result = shell(f"{wbctl_words()} --sandbox services status 2>&1 | true")
    assert result.stdout.splitlines() == [f"status={ExitStatus.CLOSED_PIPE}"]
    assert result.stderr == ""


def test_a_pipe_that_takes_everything_changes_nothing() -> None:
    result = shell(f"{wbctl_words()} --sandbox services status | head -1000 >/dev/null")
    assert result.stdout.splitlines() == ["status=0"]
    assert result.stderr == ""


# --- Ctrl-C at the prompt, on a terminal ----------------------------------------------------


def interrupt_at_prompt(how: str) -> tuple[int, str]:
    """Run `wbctl --sandbox run discard r1` on a pty; at `[y/N]: ` type Ctrl-C (the pty is the
    process's controlling terminal, so the line discipline echoes ^C and sends SIGINT) or
    send SIGINT from outside (no echo)."""
    primary, secondary = pty.openpty()

    def controlling_terminal() -> None:
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)

    process = subprocess.Popen(
        [sys.executable, "-m", "wbctl", "--sandbox", "run", "discard", "r1"],
        stdin=secondary,
        stdout=secondary,
        stderr=secondary,
        env=dict(os.environ),
        preexec_fn=controlling_terminal,
        close_fds=True,
    )
    os.close(secondary)
    output = b""
    interrupted = False
    deadline = time.monotonic() + 60
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([primary], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(primary, 4096)
                except OSError:  # EIO: the process has closed the terminal
                    break
                if not chunk:
                    break
                output += chunk
                if not interrupted and output.rstrip().endswith(b"[y/N]:"):
                    time.sleep(0.2)  # waiting in readline
                    if how == "keyboard":
                        os.write(primary, b"\x03")
                    else:
                        process.send_signal(signal.SIGINT)
                    interrupted = True
            elif process.poll() is not None:
                break
        process.wait(10)
    finally:
        if process.poll() is None:
            process.kill()
        os.close(primary)
    assert interrupted, output
    return process.returncode, output.decode(errors="replace").replace("\r\n", "\n")


@pytest.mark.parametrize("how", ["keyboard", "signal"])
def test_ctrl_c_at_the_prompt_prints_interrupted_on_its_own_line(how: str) -> None:
    status, output = interrupt_at_prompt(how)
    assert status == 130, output
    assert "\nwbctl: interrupted\n" in output, output
    question = next(line for line in output.splitlines() if "[y/N]:" in line)
    assert "interrupted" not in question
    assert output.endswith("wbctl: interrupted\n")


# --- shell completion ----------------------------------------------------------------------


def complete(
    words: str, cword: int, env: dict[str, str] | None = None, instruction: str = "complete_bash"
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "wbctl"],
        capture_output=True,
        text=True,
        timeout=60,
        env={
            **os.environ,
            "_WBCTL_COMPLETE": instruction,
            "COMP_WORDS": words,
            "COMP_CWORD": str(cword),
            **(env or {}),
        },
    )


@pytest.mark.parametrize("instruction", ["complete_bash", "bash_complete"])
def test_bash_completes_services_and_contexts(isolated_env: Path, instruction: str) -> None:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text("[contexts.prod]\n[contexts.staging]\n[contexts.local]\n")
    cases = {
        ("wbctl services scale wandb-a", 3): ["wandb-api", "wandb-app"],
        ("wbctl services autoscale f", 3): ["filestream", "flat-run-fields-updater"],
        ("wbctl services status wandb-p", 3): ["wandb-parquet", "wandb-parquet-backfill", "wandb-prometheus-server"],
        ("wbctl --context ", 2): ["local", "prod", "staging"],
        ("wbctl --context st", 2): ["staging"],
        ("wbctl ser", 1): ["services"],
        ("wbctl config use-context ", 3): ["local", "prod", "staging"],
        ("wbctl config use-context p", 3): ["prod"],
        ("wbctl --sandbox --scenario mis", 3): ["misconfigured"],
    }
    for (words, cword), expected in cases.items():
        result = complete(words, cword, instruction=instruction)
        assert (result.returncode, result.stderr) == (0, ""), words
        assert result.stdout.split() == expected, words


def test_completion_of_contexts_from_a_broken_file_offers_nothing_and_prints_no_error(isolated_env: Path) -> None:
    broken = isolated_env / "broken.toml"
    broken.write_text("[contexts.prod\n")
    for env, words in (
        ({"WBCTL_CONFIG": str(broken)}, "wbctl --context "),
        ({}, f"wbctl --config {broken} --context "),
        ({"WBCTL_CONFIG": str(isolated_env / "missing.toml")}, "wbctl --context "),
    ):
        result = complete(words, len(words.split()), env)
        assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "", ""), words


def test_show_and_install_completion(isolated_env: Path) -> None:
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    shown = subprocess.run(
        [sys.executable, "-m", "wbctl", "--show-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert shown.returncode == 0, shown.stderr
    assert "_WBCTL_COMPLETE=complete_bash" in shown.stdout
    assert "complete -o default -F _wbctl_completion wbctl" in shown.stdout
    installed = subprocess.run(
        [sys.executable, "-m", "wbctl", "--install-completion", "bash"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert installed.returncode == 0, installed.stderr
    assert "bash completion installed in" in installed.stdout
    assert "_WBCTL_COMPLETE=complete_bash" in (isolated_env / ".bash_completions" / "wbctl.sh").read_text()
    assert ".bash_completions/wbctl.sh" in (isolated_env / ".bashrc").read_text()
