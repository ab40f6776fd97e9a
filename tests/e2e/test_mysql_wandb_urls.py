"""`wbctl mysql check|tune` through W&B's MySQL URLs (the chart's `?tls=preferred`, the v2
operator's `?tls=custom&ssl-ca=...`) against a real MariaDB with TLS."""

from __future__ import annotations

import pytest

from tests.support.audit import read_audit
from tests.support.mariadb import PASSWORD, WRONG_FLAGS, MariaDBServer
from tests.support.text import one_line
from wbctl.adapters.mysql import MysqlAdapter


def url(server: MariaDBServer, query: str, *, password: str = PASSWORD) -> str:
    return f"mysql://{server.user}:{password}@127.0.0.1:{server.port}/{server.database}?{query}"


def cipher(adapter: MysqlAdapter) -> str:
    """The session's TLS cipher as the server sees it: empty without TLS."""
    with adapter.connection().cursor() as cursor:
        cursor.execute("SHOW SESSION STATUS LIKE 'Ssl_cipher'")
        return str(cursor.fetchone()[1])


def test_the_charts_preferred_form_connects_and_never_shows_the_password(wbctl, mariadb, audit_log) -> None:
    result = wbctl("mysql", "check", "-o", "json", env={"WBCTL_MYSQL_URL": url(mariadb, "tls=preferred")})
    assert result.returncode == 1, result.stderr  # connected; the flags fail on purpose
    failing = {f["check"] for f in result.json()["findings"] if f["status"] == "fail"}
    assert failing == {f"mysql.{flag}" for flag in WRONG_FLAGS}
    assert PASSWORD not in result.stdout + result.stderr


@pytest.mark.parametrize(
    ("query", "tls"),
    [("tls=false", False), ("tls=preferred", True), ("tls=skip-verify", True), ("tls=true&ssl-ca={ca}", True)],
)
def test_each_tls_mode_reaches_the_server_as_it_says(mariadb, query: str, tls: bool) -> None:
    adapter = MysqlAdapter(url(mariadb, query.format(ca=mariadb.ca_file)), password=None, ca_file=None, timeout=5)
    try:
        assert bool(cipher(adapter)) is tls
    finally:
        adapter.close()


def test_the_v2_operators_custom_form_verifies_against_ssl_ca(wbctl, mariadb) -> None:
    right = wbctl("mysql", "check", env={"WBCTL_MYSQL_URL": url(mariadb, f"tls=custom&ssl-ca={mariadb.ca_file}")})
    assert right.returncode == 1, right.stderr
    wrong = wbctl("mysql", "check", env={"WBCTL_MYSQL_URL": url(mariadb, f"tls=custom&ssl-ca={mariadb.other_ca_file}")})
    assert wrong.returncode == 3
    assert "TLS with MySQL" in one_line(wrong.stderr, ignore_warnings=True)


def test_mysql_ca_file_wins_over_ssl_ca(wbctl, mariadb) -> None:
    env = {
        "WBCTL_MYSQL_URL": url(mariadb, f"tls=custom&ssl-ca={mariadb.other_ca_file}"),
        "WBCTL_MYSQL_CA_FILE": mariadb.ca_file,
    }
    assert wbctl("mysql", "check", env=env).returncode == 1


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("tls=custom", "says tls=custom but gives no CA: set mysql-ca-file or ssl-ca"),
        (
            "tls=custom&ssl-ca=/etc/ssl/certs/mysql_ca.pem",
            "ssl-ca /etc/ssl/certs/mysql_ca.pem in mysql-url: no such file (W&B's paths are inside its pods",
        ),
    ],
)
def test_what_cannot_be_used_here_is_exit_2(wbctl, mariadb, query: str, message: str) -> None:
    result = wbctl("mysql", "check", env={"WBCTL_MYSQL_URL": url(mariadb, query)})
    assert result.returncode == 2
    assert message in one_line(result.stderr)


def test_an_unknown_parameter_is_exit_2_one_line_and_nothing_is_written(wbctl, mariadb, audit_log) -> None:
    before = mariadb.global_variables(list(WRONG_FLAGS))
    result = wbctl("mysql", "tune", "--yes", env={"WBCTL_MYSQL_URL": url(mariadb, "tls=preferred&parseTime=true")})
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "wbctl: error: WBCTL_MYSQL_URL: unknown query parameter parseTime "
        "(known: tls, ssl-ca, ssl-cert, ssl-key, rds-iam-auth, aws-region)"
    )
    assert mariadb.global_variables(list(WRONG_FLAGS)) == before
    assert read_audit(audit_log) == []
    assert PASSWORD not in result.stderr
