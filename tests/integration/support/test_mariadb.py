"""The session MariaDB fixture itself: reachable as `wandb` over TCP, flags wrong as documented."""

from __future__ import annotations

import ssl

import pymysql
import pytest

from tests.support.mariadb import (
    MISSING_FLAGS,
    RECOMMENDED_FLAGS,
    RIGHT_FLAGS,
    STARTUP_FLAGS,
    WRONG_FLAGS,
    MariaDBServer,
    mariadb,  # noqa: F401 - function fixture
    mariadb_server,  # noqa: F401 - session fixture
)


def _show_globals(server: MariaDBServer) -> dict[str, str]:
    with server.connect() as conn, conn.cursor() as cur:
        cur.execute("SHOW GLOBAL VARIABLES")
        return dict(cur.fetchall())


def _same(actual: str, expected: str) -> bool:
    try:
        return float(actual) == float(expected)
    except ValueError:
        return actual.upper() == expected.upper()


def test_wandb_user_over_tcp_sees_mariadb(mariadb_server: MariaDBServer) -> None:  # noqa: F811
    assert mariadb_server.url == f"mysql://wandb@127.0.0.1:{mariadb_server.port}/wandb_local"
    with mariadb_server.connect() as conn, conn.cursor() as cur:
        cur.execute("SELECT VERSION(), DATABASE(), CURRENT_USER()")
        version, database, user = cur.fetchone()
    assert "MariaDB" in version
    assert database == "wandb_local"
    assert user == "wandb@127.0.0.1"


def test_flags_wrong_exactly_as_documented(mariadb_server: MariaDBServer) -> None:  # noqa: F811
    variables = _show_globals(mariadb_server)
    failing = {
        name for name, want in RECOMMENDED_FLAGS.items() if name in variables and not _same(variables[name], want)
    }
    assert failing == set(WRONG_FLAGS)
    for name, value in WRONG_FLAGS.items():
        assert _same(variables[name], value), (name, variables[name])
    assert variables["long_query_time"] == "10.000000"
    for name, value in {**RIGHT_FLAGS, **STARTUP_FLAGS}.items():
        assert _same(variables[name], value), (name, variables[name])
    assert not set(MISSING_FLAGS) & set(variables)


def test_wrong_password_is_1045(mariadb_server: MariaDBServer) -> None:  # noqa: F811
    with pytest.raises(pymysql.err.OperationalError) as excinfo:
        mariadb_server.connect(password="not-the-password")
    assert excinfo.value.args[0] == 1045


def test_wandb_can_set_global_and_reset_flags_restores(mariadb: MariaDBServer) -> None:  # noqa: F811
    with mariadb.connect() as conn, conn.cursor() as cur:
        cur.execute("SET GLOBAL sort_buffer_size = 67108864")
        cur.execute("SET GLOBAL binlog_format = 'MIXED'")
        with pytest.raises(pymysql.err.OperationalError) as excinfo:
            cur.execute("SET GLOBAL innodb_autoinc_lock_mode = 2")
        assert excinfo.value.args[0] == 1238  # read only
        with pytest.raises(pymysql.err.OperationalError) as excinfo:
            cur.execute("SET GLOBAL max_execution_time = 60000")
        assert excinfo.value.args[0] == 1193  # unknown variable
    assert _show_globals(mariadb)["sort_buffer_size"] == "67108864"
    mariadb.reset_flags()
    variables = _show_globals(mariadb)
    assert variables["sort_buffer_size"] == "262144"
    assert variables["binlog_format"] == "ROW"


def test_tls_verified_against_ca(mariadb_server: MariaDBServer) -> None:  # noqa: F811
    assert mariadb_server.ca_file
    with mariadb_server.connect(ssl={"ca": mariadb_server.ca_file}) as conn, conn.cursor() as cur:
        cur.execute("SHOW SESSION STATUS LIKE 'Ssl_version'")
        assert cur.fetchone()[1].startswith("TLS")
    with pytest.raises(pymysql.err.OperationalError) as excinfo:
        mariadb_server.connect(ssl={"ca": mariadb_server.other_ca_file})
    assert isinstance(excinfo.value.args[1], str)
    assert excinfo.value.args[0] == 2003
    assert "CERTIFICATE_VERIFY_FAILED" in excinfo.value.args[1] or isinstance(excinfo.value.__cause__, ssl.SSLError)
