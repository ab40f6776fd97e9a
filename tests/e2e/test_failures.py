"""Failures end in one line and the documented exit status: backends, config, usage, Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.support.net import free_port, silent_listener
from tests.support.redis import REDIS_PASSWORD
from tests.support.text import one_line


@pytest.mark.parametrize(
    "command",
    [
        ["redis", "show"],
        ["redis", "tune", "--yes"],
        ["run", "discard", "r1", "--yes"],
        ["run", "discarded"],
        ["run", "restore", "--yes"],
    ],
)
def test_unreachable_redis_exits_3(wbctl, command) -> None:
    result = wbctl(*command, env={"WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode == 3
    assert "connection refused" in one_line(result.stderr)
    assert result.stdout == ""


def test_wrong_password_exits_3(wbctl, redis_auth) -> None:
    result = wbctl("redis", "show", env={"WBCTL_REDIS_URL": redis_auth.url, "WBCTL_REDIS_PASSWORD": "nope-nope"})
    assert result.returncode == 3
    assert "refused the password" in one_line(result.stderr)


def test_missing_password_exits_3(wbctl, redis_auth) -> None:
    result = wbctl("redis", "show", env={"WBCTL_REDIS_URL": redis_auth.url})
    assert result.returncode == 3
    assert "requires a password" in one_line(result.stderr)


def test_tls_with_ca_works_and_without_ca_exits_3(wbctl, redis_tls) -> None:
    env = {"WBCTL_REDIS_URL": redis_tls.url, "WBCTL_REDIS_PASSWORD": REDIS_PASSWORD}
    assert wbctl("redis", "show", env={**env, "WBCTL_REDIS_CA_FILE": redis_tls.ca_file}).returncode == 0
    tuned = wbctl("redis", "tune", "--yes", env={**env, "WBCTL_REDIS_CA_FILE": redis_tls.ca_file})
    assert tuned.returncode == 0, tuned.stderr
    result = wbctl("redis", "show", env=env)
    assert result.returncode == 3
    assert "certificate verify failed" in one_line(result.stderr)


def test_hung_server_ends_within_the_timeout(wbctl) -> None:
    with silent_listener() as port:
        started = time.monotonic()
        result = wbctl("--timeout", "1", "redis", "show", env={"WBCTL_REDIS_URL": f"redis://127.0.0.1:{port}/0"})
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert "did not answer within 1s" in one_line(result.stderr)
    assert elapsed < 1 + 2


@pytest.mark.parametrize(
    ("sent", "status", "line"),
    [(signal.SIGINT, 130, "wbctl: interrupted"), (signal.SIGTERM, 143, "wbctl: terminated")],
    ids=["ctrl-c", "sigterm"],
)
def test_ctrl_c_exits_130_and_sigterm_143(isolated_env: Path, sent: signal.Signals, status: int, line: str) -> None:
    with silent_listener() as port:
        env = {**os.environ, "WBCTL_REDIS_URL": f"redis://127.0.0.1:{port}/0"}
        process = subprocess.Popen(
            [sys.executable, "-m", "wbctl", "--timeout", "30", "redis", "show"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        time.sleep(1.5)  # past start-up, waiting on the server
        process.send_signal(sent)
        stdout, stderr = process.communicate(timeout=10)
    assert process.returncode == status
    assert one_line(stderr) == line


def test_debug_shows_the_traceback(wbctl) -> None:
    result = wbctl("--debug", "redis", "show", env={"WBCTL_REDIS_URL": f"redis://127.0.0.1:{free_port()}/0"})
    assert result.returncode == 3
    assert "Traceback" in result.stderr
    assert result.stderr.strip().splitlines()[-1].startswith("wbctl: error: cannot connect to Redis")


def test_malformed_config_file_names_file_and_line(wbctl, isolated_env: Path) -> None:
    path = isolated_env / "bad.toml"
    path.write_text('[contexts.prod]\nnamespace = "x\n')
    result = wbctl("--config", str(path), "redis", "show")
    assert result.returncode == 2
    assert one_line(result.stderr).startswith(f"wbctl: error: config {path}, line 2: invalid TOML")


def test_missing_config_file_given_explicitly(wbctl, isolated_env: Path) -> None:
    result = wbctl("redis", "show", env={"WBCTL_CONFIG": str(isolated_env / "none.toml")})
    assert result.returncode == 2
    assert "no such file" in one_line(result.stderr)


def test_unknown_context(wbctl, isolated_env: Path) -> None:
    path = isolated_env / "c.toml"
    path.write_text("[contexts.prod]\n[contexts.staging]\n")
    result = wbctl("--config", str(path), "--context", "dev", "config", "show")
    assert result.returncode == 2
    assert "unknown context 'dev' (from --context; known: prod, staging)" in one_line(result.stderr)


def test_password_in_a_url_in_the_config_file_is_refused(wbctl, isolated_env: Path) -> None:
    path = isolated_env / "c.toml"
    path.write_text(f'[contexts.prod]\nredis-url = "redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"\n')
    for args in (["config", "show"], ["--debug", "redis", "show"], ["run", "discarded", "-o", "json"]):
        result = wbctl("--config", str(path), *args)
        assert result.returncode == 2, args
        assert REDIS_PASSWORD not in result.stdout + result.stderr
        assert result.stdout == ""
        assert result.stderr.strip().splitlines()[-1] == (
            f"wbctl: error: config {path}, line 2: redis-url holds a password, and passwords are never read from "
            "the file: remove it from the URL and set WBCTL_REDIS_PASSWORD (or give the whole URL in WBCTL_REDIS_URL)"
        )


def test_password_in_a_url_from_the_environment_still_works(wbctl, redis_auth) -> None:
    in_url = redis_auth.url.replace("redis://", f"redis://:{REDIS_PASSWORD}@")
    result = wbctl("redis", "show", env={"WBCTL_REDIS_URL": in_url})
    assert result.returncode == 0, result.stderr
    assert REDIS_PASSWORD not in result.stdout + result.stderr


def test_unknown_key(wbctl, isolated_env: Path) -> None:
    path = isolated_env / "c.toml"
    path.write_text("[contexts.prod]\nredis-uri = 'redis://x'\n")
    result = wbctl("--config", str(path), "config", "show")
    assert result.returncode == 2
    assert f"config {path}, line 2: unknown key 'redis-uri'" in one_line(result.stderr)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--timeout", "soon", "redis", "show"],
            "--timeout: expected a number of seconds, more than 0 and at most 3600",
        ),
        (["--timeout", "0", "config", "show"], "--timeout: expected a number of seconds, more than 0 and at most 3600"),
        (
            ["--timeout", "3601", "config", "show"],
            "--timeout: expected a number of seconds, more than 0 and at most 3600",
        ),
        (["run", "discard", "r1", "--ttl", "2h2h", "--dry-run"], "invalid duration '2h2h': the unit h is given twice"),
        (["run", "discard", "r1", "--ttl", "30m1h", "--dry-run"], "invalid duration '30m1h': h is given after m"),
        (["redis", "show", "-o", "yaml"], "--output: expected one of table, json"),
        (["redis", "frobnicate"], "No such command"),
        (["nope"], "No such command"),
        (["redis", "show", "--bogus"], "No such option"),
    ],
)
def test_usage_errors(wbctl, args, message) -> None:
    result = wbctl(*args)
    assert result.returncode == 2
    assert message in one_line(result.stderr)


def test_bare_command_shows_help_and_exits_2(wbctl) -> None:
    result = wbctl()
    assert result.returncode == 2
    assert "Usage: wbctl" in result.stdout


def test_version_and_help(wbctl) -> None:
    from wbctl import __version__

    for flag in ("--version", "-V"):
        version = wbctl(flag)
        assert (version.returncode, version.stdout.strip(), version.stderr) == (0, f"wbctl {__version__}", ""), flag
    help_text = wbctl("--help")
    assert help_text.returncode == 0
    for group in ("config", "redis", "run"):
        assert group in help_text.stdout
    assert wbctl("run", "discard", "--help").returncode == 0
