"""`wbctl mysql ...` as a subprocess against the sandbox's MySQL (wbctl/sandbox/mysql/server.py).

The server runs in the test process and the CLI reaches it through WBCTL_MYSQL_URL, the way it
reaches any MySQL: the real PyMySQL adapter, over TCP. (`wbctl --sandbox mysql ...` starts the same
server inside wbctl; the last test covers that path.)
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.audit import read_audit
from tests.support.sandbox_mysql import MISCONFIGURED_CHECK_FAILS, MISCONFIGURED_FAILS, READ_ONLY, serving
from wbctl.sandbox.mysql.server import SandboxMysql


@pytest.fixture
def misconfigured() -> Iterator[SandboxMysql]:
    with serving("misconfigured") as server:
        yield server


@pytest.fixture
def env(misconfigured: SandboxMysql) -> dict[str, str]:
    return {"WBCTL_MYSQL_URL": misconfigured.url}


def failing(result) -> set[str]:
    return {f["check"].removeprefix("mysql.") for f in result.json()["findings"] if f["status"] == "fail"}


def test_check_fails_what_a_fresh_install_fails(wbctl, env) -> None:
    result = wbctl("mysql", "check", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    assert failing(result) == MISCONFIGURED_CHECK_FAILS
    findings = {f["check"]: f for f in result.json()["findings"]}
    version = findings["mysql.version"]
    assert version["status"] == "fail" and version["observed"] == "8.0.31"  # W&B's Terraform module's default
    assert version["message"].startswith("W&B requires MySQL 8.0.32 or newer") and "MYSQL_8_4" in version["remedy"]
    assert findings["mysql.long_query_time"]["observed"] == "10.000000"
    table = wbctl("mysql", "check", env=env)
    assert table.returncode == 1 and "fail    mysql.sort_buffer_size" in table.stdout


def test_tune_sets_the_dynamic_flags_and_check_then_passes_them(wbctl, misconfigured, env, audit_log) -> None:
    result = wbctl("mysql", "tune", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert {c["key"] for c in result.json()["changes"]} == MISCONFIGURED_FAILS - READ_ONLY
    assert (
        "skip_show_database=ON cannot be set at run time: put it in the server's config file and restart"
        in result.stderr
    )
    assert read_audit(audit_log)[0]["result"] == "applied"
    variables = misconfigured.variables()
    assert variables["sort_buffer_size"] == "67108864" and variables["binlog_row_image"] == "MINIMAL"
    assert variables["long_query_time"] == "1.000000" and variables["binlog_row_value_options"] == "PARTIAL_JSON"
    assert variables["skip_show_database"] == "OFF" and variables["innodb_autoinc_lock_mode"] == "2"  # read only: stay
    after = wbctl("mysql", "check", "-o", "json", env=env)
    assert after.returncode == 1 and failing(after) == {"skip_show_database", "version"}  # no SET changes them
    again = wbctl("mysql", "tune", "--yes", env=env)
    assert again.returncode == 0 and "no changes" in again.stderr


def test_tune_dry_run_changes_nothing(wbctl, misconfigured, env) -> None:
    before = misconfigured.variables()
    dry = wbctl("mysql", "tune", "--dry-run", env=env)
    assert dry.returncode == 0 and "sort_buffer_size" in dry.stdout + dry.stderr
    assert wbctl("mysql", "tune", env=env).returncode == 4  # no terminal to confirm on
    assert misconfigured.variables() == before


def test_healthy_story_passes_and_any_password_is_accepted(wbctl) -> None:
    with serving("healthy") as server:
        result = wbctl(
            "mysql", "check", "-o", "json", env={"WBCTL_MYSQL_URL": server.url, "WBCTL_MYSQL_PASSWORD": "anything"}
        )
        tune = wbctl("mysql", "tune", "--yes", env={"WBCTL_MYSQL_URL": server.url})
    assert result.returncode == 0, result.stderr
    assert {f["status"] for f in result.json()["findings"]} == {"ok"}
    assert tune.returncode == 0 and "no changes" in tune.stderr


def test_a_stopped_server_is_refused_and_a_ca_file_fails_as_tls(wbctl, misconfigured, env, tls_material) -> None:
    # the sandbox serves no TLS: a CA file makes PyMySQL require it, and the adapter says so
    with_ca = wbctl("mysql", "check", env={**env, "WBCTL_MYSQL_CA_FILE": str(tls_material["ca"])})
    assert with_ca.returncode == 3
    assert "TLS with MySQL at" in with_ca.stderr and "check mysql-ca-file" in with_ca.stderr
    misconfigured.stop()
    gone = wbctl("mysql", "check", env=env)
    assert gone.returncode == 3 and "connection refused" in gone.stderr


def test_sandbox_mysql_check_and_tune(wbctl) -> None:
    """`wbctl --sandbox` with its own MySQL: the misconfigured story fails, tune fixes what it can,
    and the fix lasts to the next invocation (the sandbox saves the variables)."""
    first = wbctl("--sandbox", "--scenario", "misconfigured", "mysql", "check", "-o", "json")
    assert first.returncode == 1, first.stderr
    assert failing(first) == MISCONFIGURED_CHECK_FAILS
    tune = wbctl("--sandbox", "--scenario", "misconfigured", "mysql", "tune", "--yes")
    assert tune.returncode == 0, tune.stderr
    after = wbctl("--sandbox", "--scenario", "misconfigured", "mysql", "check", "-o", "json")
    assert failing(after) == {"skip_show_database", "version"}
    healthy = wbctl("--sandbox", "mysql", "check")
    assert healthy.returncode == 0, healthy.stdout + healthy.stderr
