"""The sandbox's MySQL (wbctl/sandbox/mysql/server.py) through real clients only: the PyMySQL adapter
unchanged, PyMySQL itself, and Debian's `mysql` client binary. Nothing is mocked: each test starts a
server on a free loopback port (about a millisecond) and stops it.
"""

from __future__ import annotations

import json
import shutil
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pymysql
import pytest

from tests.support.sandbox_mysql import MISCONFIGURED_CHECK_FAILS, MISCONFIGURED_FAILS, READ_ONLY, serving
from wbctl.adapters.mysql import MysqlAdapter
from wbctl.core import mysql as core
from wbctl.core.model import Status
from wbctl.errors import BackendError
from wbctl.sandbox.mysql.server import (
    SERVER_VARIABLES,
    STORIES,
    STORY_VERSIONS,
    THREAD_NAME,
    SandboxMysql,
    start_mysql,
    story_variables,
)


@pytest.fixture
def healthy() -> Iterator[SandboxMysql]:
    with serving("healthy") as server:
        yield server


@pytest.fixture
def misconfigured() -> Iterator[SandboxMysql]:
    with serving("misconfigured") as server:
        yield server


def adapter(server: SandboxMysql, url: str | None = None, ca_file: str | None = None) -> MysqlAdapter:
    return MysqlAdapter(url or server.url, password=None, ca_file=ca_file, timeout=5)


def connect(server: SandboxMysql, user: str = "wandb", password: str = "") -> pymysql.connections.Connection:
    return pymysql.connect(
        host="127.0.0.1",
        port=server.port,
        user=user,
        password=password,
        database="wandb_local",
        autocommit=True,
        connect_timeout=5,
        read_timeout=5,
    )


def run_sql(server: SandboxMysql, sql: str, *args: object) -> tuple[tuple[object, ...], ...]:
    with connect(server) as conn, conn.cursor() as cursor:
        cursor.execute(sql, args or None)
        return cursor.fetchall()


def refused(server: SandboxMysql, sql: str, *args: object) -> tuple[int, str]:
    with pytest.raises(pymysql.err.MySQLError) as caught:
        run_sql(server, sql, *args)
    return caught.value.args[0], caught.value.args[1]


def listening(port: int) -> bool:
    """True when /proc/net/tcp lists a socket listening on 127.0.0.1:`port` (state 0A)."""
    wanted = f"0100007F:{port:04X}"
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if fields[1] == wanted and fields[3] == "0A":
            return True
    return False


def server_threads() -> list[str]:
    return [thread.name for thread in threading.enumerate() if thread.name.startswith(THREAD_NAME)]


# --- the adapter, unchanged ------------------------------------------------------------------


def test_healthy_story_passes_every_flag(healthy: SandboxMysql) -> None:
    reader = adapter(healthy)
    try:
        observation = reader.observe()
    finally:
        reader.close()
    # MySQL 8.4, where W&B's docs move to: its version is ok, and it has no default_authentication_plugin
    assert observation.flavor == "mysql" and observation.version == "8.4.7"
    assert "default_authentication_plugin" not in observation.variables
    report = core.check(observation)
    assert {finding.check: finding.status for finding in report.findings} == {
        check: Status.OK for check in core.check_ids()
    }


def test_misconfigured_story_fails_the_flags_a_fresh_install_fails(misconfigured: SandboxMysql) -> None:
    reader = adapter(misconfigured)
    observation = reader.observe()
    reader.close()
    statuses = {finding.check.removeprefix("mysql."): finding.status for finding in core.check(observation).findings}
    # W&B's Terraform module's MySQL 8.0.31, below W&B's 8.0.32, and MySQL 8.0's flag defaults
    assert {name for name, status in statuses.items() if status is Status.FAIL} == MISCONFIGURED_CHECK_FAILS
    assert {name for name, status in statuses.items() if status is Status.OK} == (
        {flag.name for flag in core.FLAGS} - MISCONFIGURED_FAILS
    )


def test_values_come_in_mysql_own_formats(misconfigured: SandboxMysql) -> None:
    reader = adapter(misconfigured)
    variables = reader.observe().variables
    reader.close()
    assert {
        name: variables[name]
        for name in (
            "binlog_format",
            "binlog_row_image",
            "binlog_row_value_options",
            "long_query_time",
            "slow_query_log",
            "local_infile",
            "sort_buffer_size",
            "innodb_online_alter_log_max_size",
            "max_prepared_stmt_count",
            "version",
            "version_comment",
            "innodb_version",
            "have_ssl",
        )
    } == {
        "binlog_format": "ROW",
        "binlog_row_image": "FULL",
        "binlog_row_value_options": "",
        "long_query_time": "10.000000",
        "slow_query_log": "OFF",
        "local_infile": "OFF",
        "sort_buffer_size": "262144",
        "innodb_online_alter_log_max_size": "134217728",
        "max_prepared_stmt_count": "16382",
        "version": "8.0.31",
        "version_comment": "MySQL Community Server - GPL",
        "innodb_version": "8.0.31",
        "have_ssl": "DISABLED",
    }
    assert variables["port"] == str(misconfigured.port)
    assert set(SERVER_VARIABLES) <= set(variables) and not any(name.startswith("cloudsql") for name in variables)
    # every flag of the healthy story is the recommended value, as MySQL prints it
    assert STORIES["healthy"] == {flag.name: flag.value for flag in core.FLAGS}
    assert story_variables("misconfigured") == core.MYSQL_80_DEFAULTS


def test_the_adapter_tunes_the_misconfigured_story(misconfigured: SandboxMysql) -> None:
    tuner = adapter(misconfigured)
    try:
        plan = core.plan_tune(tuner.observe(), "sandbox/misconfigured")
        assert {change.key for change in plan.changes} == MISCONFIGURED_FAILS - READ_ONLY
        assert [note for note in plan.notes if "cannot be set at run time" in note] == [
            "skip_show_database=ON cannot be set at run time: put it in the server's config file and restart"
        ]
        tuner.apply(plan)
        assert tuner.read_back(plan)
        after = core.check(tuner.observe())
    finally:
        tuner.close()
    # left: what no SET changes (the version, a read-only flag)
    assert [f.check for f in after.findings if f.status is not Status.OK] == [
        "mysql.version",
        "mysql.skip_show_database",
    ]
    saved = misconfigured.variables()
    assert saved["sort_buffer_size"] == "67108864" and saved["long_query_time"] == "1.000000"
    assert saved["binlog_row_value_options"] == "PARTIAL_JSON" and saved["local_infile"] == "ON"
    assert saved["skip_show_database"] == "OFF" and saved["innodb_autoinc_lock_mode"] == "2"


def test_one_adapter_read_from_many_threads_at_once_reads_whole_answers(healthy: SandboxMysql) -> None:
    """A gather reads side by side (support bundle runs check beside its own MySQL read): one
    adapter's one connection, eight threads, twenty-five reads each. Without the adapter's lock
    the packets interleave and a read fails with "Packet sequence number wrong"."""
    shared = adapter(healthy)
    expected = shared.observe().variables
    start = threading.Barrier(8)
    failures: list[BaseException] = []
    seen: list[dict[str, str]] = []

    def read() -> None:
        start.wait()
        for _ in range(25):
            try:
                seen.append(shared.observe().variables)
            except BaseException as exc:  # noqa: BLE001 - collected and asserted below
                failures.append(exc)

    threads = [threading.Thread(target=read) for _ in range(8)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)
    finally:
        shared.close()
    assert failures == []
    assert len(seen) == 200 and all(variables == expected for variables in seen)


def test_adapter_connects_without_tls_and_a_ca_file_is_refused_clearly(healthy: SandboxMysql) -> None:
    plain = adapter(healthy)
    try:
        plain.observe()
        assert not isinstance(plain.connection()._sock, ssl.SSLSocket)  # PyMySQL's PREFERRED mode found no TLS offered
    finally:
        plain.close()
    with_ca = adapter(healthy, ca_file=ssl.get_default_verify_paths().cafile or __file__)
    with pytest.raises(BackendError, match="TLS with MySQL at .* failed while connecting: .*check mysql-ca-file"):
        with_ca.observe()
    with_ca.close()


def test_any_user_and_any_password_get_in(healthy: SandboxMysql) -> None:
    for user, password in (("wandb", ""), ("root", "whatever"), ("someone", "p@ss w0rd")):
        with connect(healthy, user, password) as conn, conn.cursor() as cursor:
            cursor.execute("SELECT CURRENT_USER(), DATABASE()")
            assert cursor.fetchone() == (user, "wandb_local")
    in_url = adapter(healthy, healthy.url.replace("wandb@", "wandb:S3cret%40pw@"))
    assert in_url.observe().version == STORY_VERSIONS["healthy"]
    in_url.close()


# --- SET as MySQL 8.0 takes it -----------------------------------------------------------------


def test_unknown_variable_is_refused_with_mysql_error(healthy: SandboxMysql) -> None:
    for verb in ("SET PERSIST", "SET GLOBAL", "SET"):
        assert refused(healthy, f"{verb} innodb_no_such_thing = 1") == (
            1193,
            "Unknown system variable 'innodb_no_such_thing'",
        )
    # the adapter's own translation of it: one line naming the server and the code
    reader = adapter(healthy)
    expected = (
        r"MySQL at mysql://127\.0\.0\.1:\d+/wandb_local failed while probing: \(1193\) Unknown system variable 'nope'"
    )
    with (
        pytest.raises(BackendError, match=expected),
        reader._translated("probing"),
        reader.connection().cursor() as cursor,
    ):
        cursor.execute("SET PERSIST nope = 1")
    reader.close()


def test_read_only_variables_are_refused_as_mysql_does(misconfigured: SandboxMysql) -> None:
    for name, value in (("innodb_autoinc_lock_mode", "1"), ("skip_show_database", "ON")):
        for verb in ("SET PERSIST", "SET GLOBAL"):
            assert refused(misconfigured, f"{verb} {name} = {value}") == (
                1238,
                f"Variable '{name}' is a read only variable",
            )
    assert refused(misconfigured, "SET @@global.version = '9.0.0'") == (
        1238,
        "Variable 'version' is a read only variable",
    )
    run_sql(misconfigured, "SET PERSIST_ONLY skip_show_database = ON")  # for the next restart: the running value stays
    assert misconfigured.variables()["skip_show_database"] == "OFF"
    assert misconfigured.variables()["innodb_autoinc_lock_mode"] == "2"


def test_every_form_of_assignment(misconfigured: SandboxMysql) -> None:
    with connect(misconfigured) as conn, conn.cursor() as cursor:
        cursor.execute("SET PERSIST sort_buffer_size = 67108864")
        cursor.execute("SET GLOBAL slow_query_log = 1, local_infile = 'on'")  # GLOBAL applies to both
        cursor.execute("SET @@global.binlog_row_image = %s, @@persist.long_query_time = 0.5", ("minimal",))
        cursor.execute("SET PERSIST innodb_online_alter_log_max_size = 256 * 1024 * 1024")
        cursor.execute("SET PERSIST binlog_row_value_options = %s", ("PARTIAL_JSON",))
        cursor.execute("SET PERSIST max_prepared_stmt_count = 1048576, GLOBAL innodb_lru_scan_depth = 100")
        cursor.execute("SET GLOBAL innodb_print_all_deadlocks = TRUE, max_execution_time = 60000")
        cursor.execute("SHOW GLOBAL VARIABLES")
        shown = dict(cursor.fetchall())
    assert {name: shown[name] for name in MISCONFIGURED_FAILS - READ_ONLY | {"innodb_print_all_deadlocks"}} == {
        "sort_buffer_size": "67108864",
        "slow_query_log": "ON",
        "local_infile": "ON",
        "binlog_row_image": "MINIMAL",
        "long_query_time": "0.500000",
        "innodb_online_alter_log_max_size": "268435456",
        "binlog_row_value_options": "PARTIAL_JSON",
        "max_prepared_stmt_count": "1048576",
        "innodb_lru_scan_depth": "100",
        "max_execution_time": "60000",
        "innodb_print_all_deadlocks": "ON",
    }
    run_sql(misconfigured, "SET GLOBAL sort_buffer_size = DEFAULT, innodb_print_all_deadlocks = OFF")
    assert misconfigured.variables()["sort_buffer_size"] == "262144"
    run_sql(misconfigured, "SET GLOBAL sort_buffer_size = 1")  # below the minimum: raised to it, as MySQL does
    assert misconfigured.variables()["sort_buffer_size"] == "32768"


def test_wrong_values_are_refused_and_change_nothing(misconfigured: SandboxMysql) -> None:
    before = misconfigured.variables()
    assert refused(misconfigured, "SET GLOBAL binlog_row_image = 'HALF'") == (
        1231,
        "Variable 'binlog_row_image' can't be set to the value of 'HALF'",
    )
    assert refused(misconfigured, "SET GLOBAL slow_query_log = 2") == (
        1231,
        "Variable 'slow_query_log' can't be set to the value of '2'",
    )
    assert refused(misconfigured, "SET GLOBAL sort_buffer_size = '64M'") == (
        1232,
        "Incorrect argument type to variable 'sort_buffer_size'",
    )
    assert refused(misconfigured, "SET sync_binlog = 0") == (
        1229,
        "Variable 'sync_binlog' is a GLOBAL variable and should be set with SET GLOBAL",
    )
    # one bad assignment and the statement changes nothing, the good ones before it included
    assert refused(misconfigured, "SET PERSIST sort_buffer_size = 67108864, nope = 1")[0] == 1193
    assert misconfigured.variables() == before


def test_session_values_stay_in_their_session(misconfigured: SandboxMysql) -> None:
    with connect(misconfigured) as conn, conn.cursor() as cursor:
        cursor.execute("SET SESSION sort_buffer_size = 1048576")
        cursor.execute("SET NAMES utf8mb4")
        cursor.execute("SHOW VARIABLES LIKE 'sort_buffer_size'")
        assert cursor.fetchall() == (("sort_buffer_size", "1048576"),)
        cursor.execute("SHOW GLOBAL VARIABLES LIKE 'sort_buffer_size'")
        assert cursor.fetchall() == (("sort_buffer_size", "262144"),)
        cursor.execute("SELECT @@sort_buffer_size, @@version")
        assert cursor.fetchone() == ("1048576", "8.0.31")
    assert misconfigured.variables()["sort_buffer_size"] == "262144"
    run_sql(misconfigured, "SET GLOBAL binlog_format = 'mixed'")  # a new session starts from the globals
    assert run_sql(misconfigured, "SELECT @@binlog_format") == (("MIXED",),)


def test_show_variables_like_and_where(healthy: SandboxMysql) -> None:
    assert [name for name, _ in run_sql(healthy, "SHOW GLOBAL VARIABLES LIKE 'BINLOG_ROW%'")] == [
        "binlog_row_image",
        "binlog_row_value_options",
    ]
    assert run_sql(healthy, "SHOW GLOBAL VARIABLES LIKE 'sort\\_buffer\\_size'") == (("sort_buffer_size", "67108864"),)
    assert run_sql(healthy, "SHOW GLOBAL VARIABLES WHERE Variable_name IN ('sync_binlog', 'local_infile')") == (
        ("local_infile", "ON"),
        ("sync_binlog", "1"),
    )
    assert run_sql(healthy, "SHOW GLOBAL VARIABLES LIKE 'no_such%'") == ()


def test_anything_but_variables_is_refused_clearly(healthy: SandboxMysql) -> None:
    code, message = refused(healthy, "SELECT * FROM runs")
    assert code == 1235 and "variables only" in message
    assert run_sql(healthy, "SELECT 1") == ((1,),)


def test_refusals_print_nothing_in_the_hosting_process(
    healthy: SandboxMysql, capfd: pytest.CaptureFixture[str]
) -> None:
    refused(healthy, "SET PERSIST nope = 1")
    refused(healthy, "SET PERSIST skip_show_database = ON")
    healthy.stop()
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


# --- the mysql client binary -------------------------------------------------------------------


def test_the_mysql_client_binary_connects(misconfigured: SandboxMysql) -> None:
    binary = shutil.which("mysql") or ("/usr/bin/mysql" if Path("/usr/bin/mysql").exists() else None)
    if binary is None:
        pytest.skip("no `mysql` client binary (Debian: apt-get install -y mariadb-client)")
    base = [binary, "-h", "127.0.0.1", "-P", str(misconfigured.port), "-u", "wandb", "-panything", "wandb_local"]
    result = subprocess.run(
        [*base, "-B", "-e", "SHOW GLOBAL VARIABLES LIKE 'binlog%'"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "Variable_name\tValue",
        "binlog_expire_logs_seconds\t2592000",
        "binlog_format\tROW",
        "binlog_row_image\tFULL",
        "binlog_row_value_options\t",
    ]
    # what it makes of the file `mysql check --from-file` reads: the same findings as over the wire
    dump = subprocess.run(
        [*base, "-B", "-e", "SHOW GLOBAL VARIABLES"], capture_output=True, text=True, timeout=30, check=False
    )
    from_file = core.check(core.parse_file("dump.tsv", dump.stdout))
    statuses = {f.check.removeprefix("mysql."): f.status for f in from_file.findings}
    assert {name for name, status in statuses.items() if status is Status.FAIL} == MISCONFIGURED_CHECK_FAILS
    refusal = subprocess.run(
        [*base, "-e", "SET PERSIST innodb_autoinc_lock_mode = 1"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert refusal.returncode == 1
    assert "ERROR 1238 (HY000) at line 1: Variable 'innodb_autoinc_lock_mode' is a read only variable" in refusal.stderr
    status = subprocess.run(
        base, input="status\n", capture_output=True, text=True, timeout=30, check=False
    )  # interactive-ish
    assert "Server version:\t\t8.0.31 MySQL Community Server - GPL" in status.stdout, status.stdout + status.stderr


# --- the server's life -------------------------------------------------------------------------


def test_stop_closes_the_listener_every_connection_and_the_thread() -> None:
    server = start_mysql("healthy")
    port = server.port
    assert listening(port) and server_threads() == [f"{THREAD_NAME}:{port}"]
    idle = connect(server)  # logged in, waiting for its next statement
    half = socket.create_connection(("127.0.0.1", port), timeout=5)  # mid-handshake
    half.recv(1024)  # the server's greeting
    began = time.monotonic()
    server.stop()
    assert time.monotonic() - began < 1
    assert server_threads() == []
    assert not listening(port)
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    with pytest.raises(pymysql.err.OperationalError) as lost:
        idle.cursor().execute("SELECT 1")
    assert lost.value.args[0] in (2006, 2013)
    assert half.recv(1024) == b""  # closed by the server
    half.close()
    idle._sock = None  # PyMySQL's close() would write COM_QUIT to the closed socket
    assert server.errors == []
    server.stop()  # twice is harmless


def test_start_and_stop_twenty_times_quickly() -> None:
    durations = []
    for round_ in range(20):
        story = "misconfigured" if round_ % 2 else "healthy"
        server = start_mysql(story)
        durations.append(server.start_seconds)
        if round_ % 5 == 0:  # every few rounds, a client too
            assert run_sql(server, "SELECT @@version") == ((STORY_VERSIONS[story],),)
        server.stop()
        assert server.errors == []
    assert server_threads() == []
    assert max(durations) < 0.1, durations


def test_saved_variables_come_back_and_the_rest_from_the_story(misconfigured: SandboxMysql) -> None:
    run_sql(misconfigured, "SET PERSIST sort_buffer_size = 67108864, long_query_time = 2")
    saved = json.loads(json.dumps(misconfigured.variables()))  # what the sandbox writes to its state file
    misconfigured.stop()
    assert "port" not in saved  # this run's: saving it would change the state file on every run
    unchanged = start_mysql("misconfigured", saved)
    unchanged.stop()
    assert unchanged.variables() == saved
    saved.update(port="1", version="5.7.1", skip_show_database="ON", slow_query_log="sideways", nonsense="1")
    again = start_mysql("misconfigured", saved)
    try:
        variables = again.variables()
        shown = dict(run_sql(again, "SHOW GLOBAL VARIABLES"))
    finally:
        again.stop()
    assert variables["sort_buffer_size"] == "67108864" and variables["long_query_time"] == "2.000000"
    assert shown["port"] == str(again.port) and variables["version"] == "8.0.31"
    assert variables["skip_show_database"] == "OFF"  # read only: the story's value
    assert variables["slow_query_log"] == "OFF"  # a saved value MySQL would not take is ignored
    assert "nonsense" not in variables


def test_constructor_takes_any_variables_and_refuses_bad_values() -> None:
    with SandboxMysql({"cloudsql_iam_authentication": "on", **STORIES["healthy"]}, version="8.0.31-google") as server:
        reader = adapter(server)
        observation = reader.observe()
        reader.close()
    assert observation.flavor == "cloudsql" and observation.version == "8.0.31-google"
    with pytest.raises(ValueError, match="sort_buffer_size='64M'"):
        SandboxMysql({"sort_buffer_size": "64M"})
    with pytest.raises(ValueError, match="unknown sandbox MySQL story 'nope'"):
        start_mysql("nope")
