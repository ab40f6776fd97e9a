"""The in-process runner (the `wbctl` fixture) is a faithful stand-in for `python -m wbctl`:
the same exit status, the same stdout and stderr kept apart, and nothing left behind in the
test process (variables, working directory, threads, sockets, state outside the test's HOME)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.support.cli import InProcess, Subprocess
from tests.support.net import free_port
from tests.support.redis import RedisServer


def commands(redis: RedisServer, tmp: Path) -> dict[str, tuple[list[str], dict[str, str]]]:
    refused = f"redis://127.0.0.1:{free_port()}/0"
    bad_config = tmp / "bad.toml"
    bad_config.write_text("[contexts\n")
    return {
        "version": (["--version"], {}),
        "root help": (["--help"], {}),
        "no arguments": ([], {}),
        "group help": (["redis", "--help"], {}),
        "group alone": (["redis"], {}),
        "unknown command": (["nope"], {}),
        "bad option": (["redis", "show", "--nope"], {}),
        "config show": (["config", "show", "-o", "json"], {"WBCTL_REDIS_URL": redis.url}),
        "redis show": (["redis", "show", "-o", "json"], {"WBCTL_REDIS_URL": redis.url}),
        "redis refused": (["redis", "show"], {"WBCTL_REDIS_URL": refused}),
        "broken config": (["--config", str(bad_config), "config", "show"], {}),
        "scenario without sandbox": (["--scenario", "healthy", "check"], {}),
        "misspelt switch": (["check"], {"WBCTL_SANDBOX": "ture"}),
        "alerts rules": (["alerts", "rules"], {}),
        "runbook list": (["runbook", "list", "-o", "json"], {}),
    }


@pytest.mark.slow
def test_in_process_prints_and_exits_as_a_process_does(
    wbctl: InProcess, wbctl_process: Subprocess, redis_server: RedisServer, tmp_path: Path
) -> None:
    for name, (argv, env) in commands(redis_server, tmp_path).items():
        inside, outside = wbctl(*argv, env=env), wbctl_process(*argv, env=env)
        assert (inside.returncode, inside.stdout, inside.stderr) == (
            outside.returncode,
            outside.stdout,
            outside.stderr,
        ), name


def _open_sockets() -> set[str]:
    fds = Path("/proc/self/fd")
    links = set()
    for fd in fds.iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:"):
            links.add(target)
    return links


def test_in_process_runs_leave_the_process_as_they_found_it(
    wbctl: InProcess, redis_server: RedisServer, isolated_env: Path, tmp_path: Path
) -> None:
    """The runner itself asserts os.environ and the working directory after each call; here
    the same holds over many commands, and wbctl closes every connection it opened."""
    env = {"WBCTL_REDIS_URL": redis_server.url}
    wbctl("redis", "show", env=env)  # first use: imports and library caches settle
    sockets = _open_sockets()
    for _ in range(3):
        assert wbctl("redis", "show", "-o", "json", env=env).returncode in (0, 1)
        assert wbctl("run", "discarded", env=env).returncode == 0
        assert wbctl("--sandbox", "redis", "show", env=env).returncode in (0, 1)
    assert _open_sockets() <= sockets
    # the sandbox's state went to this test's XDG dirs, nowhere else
    assert (isolated_env / ".local" / "state" / "wbctl" / "sandbox").is_dir()


def test_variables_given_to_one_call_do_not_reach_the_next(wbctl: InProcess, redis_server: RedisServer) -> None:
    shown = wbctl("config", "show", "-o", "json", env={"WBCTL_REDIS_URL": redis_server.url})
    assert redis_server.url in shown.stdout
    again = wbctl("config", "show", "-o", "json")
    assert redis_server.url not in again.stdout
    assert "WBCTL_REDIS_URL" not in os.environ


def test_stdout_and_stderr_stay_apart(wbctl: InProcess) -> None:
    result = wbctl("redis", "show", "-o", "json", env={"WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode == 3
    assert result.stdout == ""
    assert result.stderr.startswith("wbctl: error: ")


def test_main_writes_to_the_environments_streams_not_the_processes(capsys: pytest.CaptureFixture[str]) -> None:
    """Called without the runner's redirection of sys.stdout: what wbctl prints goes to the
    Environment it was given (`--version` once went to sys.stdout)."""
    import io

    from wbctl import __version__
    from wbctl.cli import main
    from wbctl.environment import Environment

    for argv, expected in ((["--version"], f"wbctl {__version__}\n"), (["-V"], f"wbctl {__version__}\n")):
        out, err = io.StringIO(), io.StringIO()
        env = Environment(environ=dict(os.environ), stdin=io.StringIO(), stdout=out, stderr=err)
        assert main(argv, env) == 0
        assert (out.getvalue(), err.getvalue()) == (expected, "")
    assert capsys.readouterr() == ("", "")
