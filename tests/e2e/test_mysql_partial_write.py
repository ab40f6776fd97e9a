"""`wbctl mysql tune` when MySQL refuses a SET midway: the statements before it stay made, and
the output and the audit log say which changes were applied and which were not.

Against the real MariaDB: a user holding BINLOG ADMIN only may SET GLOBAL binlog_row_image but
not innodb_lru_scan_depth (that needs SUPER), so of the plan's six changes the first is made and
the second is refused.
"""

from __future__ import annotations

import pymysql
import pytest

from tests.support.audit import read_audit
from tests.support.mariadb import PASSWORD, WRONG_FLAGS, MariaDBServer
from wbctl.adapters.mysql import MysqlAdapter
from wbctl.core.model import Change, Plan
from wbctl.errors import PartialWriteError

# the plan's order (the flag table's): binlog_row_image first, then WRONG_FLAGS
REFUSED_FROM = [
    "innodb_lru_scan_depth",
    "innodb_online_alter_log_max_size",
    "long_query_time",
    "max_prepared_stmt_count",
    "sort_buffer_size",
]


def error_line(stderr: str) -> str:
    (line,) = [line for line in stderr.splitlines() if line.startswith("wbctl: error:")]
    return line


def test_a_set_refused_midway_is_told_and_audited_as_partial(wbctl, mariadb: MariaDBServer, audit_log) -> None:
    mariadb.set_global("binlog_row_image", "FULL")  # wrong too: the first change of the plan
    with mariadb.user_with("wbctl_binlog_only", ("BINLOG ADMIN",)) as url:
        result = wbctl(
            "mysql", "tune", "--yes", "-o", "json", env={"WBCTL_MYSQL_URL": url, "WBCTL_MYSQL_PASSWORD": PASSWORD}
        )
    assert result.returncode == 3, result.stderr
    assert result.stdout == ""  # a failure prints no plan JSON (docs/output.md)
    line = error_line(result.stderr)
    assert "refused SET GLOBAL innodb_lru_scan_depth = 100: wbctl_binlog_only lacks the privilege" in line
    assert line.endswith(f"; partial write: applied binlog_row_image; not applied {', '.join(REFUSED_FROM)}")
    # what the server holds is what the line says
    now = mariadb.global_variables(["binlog_row_image", *REFUSED_FROM])
    assert now["binlog_row_image"] == "MINIMAL"
    assert now["innodb_lru_scan_depth"] == WRONG_FLAGS["innodb_lru_scan_depth"]
    assert now["sort_buffer_size"] == WRONG_FLAGS["sort_buffer_size"]
    (entry,) = read_audit(audit_log)
    assert entry["result"] == "partial"
    assert [c["key"] for c in entry["changes"]] == ["binlog_row_image", *REFUSED_FROM]
    assert entry["applied"] == [
        {"target": entry["target"], "key": "binlog_row_image", "before": "FULL", "after": "MINIMAL"}
    ]
    assert [c["key"] for c in entry["not_applied"]] == REFUSED_FROM
    assert entry["not_applied"][0] == {
        "target": entry["target"],
        "key": "innodb_lru_scan_depth",
        "before": "1024",
        "after": "100",
    }
    assert "unknown" not in entry
    assert entry["error"] == line.removeprefix("wbctl: error: ")


def test_the_first_set_refused_is_failed_with_nothing_applied(wbctl, mariadb: MariaDBServer, audit_log) -> None:
    with mariadb.user_with("wbctl_no_privilege") as url:
        result = wbctl("mysql", "tune", "--yes", env={"WBCTL_MYSQL_URL": url, "WBCTL_MYSQL_PASSWORD": PASSWORD})
    assert result.returncode == 3, result.stderr
    line = error_line(result.stderr)
    assert line.endswith(f"; nothing changed; not applied {', '.join(REFUSED_FROM)}")
    (entry,) = read_audit(audit_log)
    assert entry["result"] == "failed" and entry["applied"] == []
    assert [c["key"] for c in entry["not_applied"]] == REFUSED_FROM
    assert mariadb.global_variables(["sort_buffer_size"])["sort_buffer_size"] == WRONG_FLAGS["sort_buffer_size"]


def test_a_statement_whose_answer_was_lost_is_unknown_not_unapplied() -> None:
    """The connection drops during the second SET (no server to make it happen on cue: a
    cursor that raises what PyMySQL raises then, 2013): that change may or may not be made."""

    class Cursor:
        def __init__(self) -> None:
            self.statements: list[str] = []

        def __enter__(self):
            return self

        def __exit__(self, *exc) -> None:
            pass

        def execute(self, statement: str, args=None) -> None:
            self.statements.append(statement)
            if len(self.statements) == 2:
                raise pymysql.err.OperationalError(2013, "Lost connection to MySQL server during query")

    class Connection:
        def __init__(self) -> None:
            self.cursor_ = Cursor()

        def cursor(self) -> Cursor:
            return self.cursor_

    adapter = MysqlAdapter("mysql://wandb@db:3306/wandb", password=None, ca_file=None, timeout=5)
    adapter._connection = Connection()
    target = adapter.target
    plan = Plan(
        "t",
        target,
        tuple(
            Change(target, key, "0", value)
            for key, value in (("sync_binlog", "1"), ("sort_buffer_size", "67108864"), ("slow_query_log", "ON"))
        ),
        "tune",
    )
    with pytest.raises(PartialWriteError) as raised:
        adapter.apply(plan)
    error = raised.value
    assert adapter._connection.cursor_.statements == [
        "SET PERSIST sync_binlog = 1",
        "SET PERSIST sort_buffer_size = 67108864",
    ]
    assert [c.key for c in error.applied] == ["sync_binlog"]
    assert [c.key for c in error.unknown] == ["sort_buffer_size"]
    assert [c.key for c in error.not_applied] == ["slow_query_log"]
    assert error.message.endswith(
        "; partial write: applied sync_binlog; not applied slow_query_log; unknown whether applied sort_buffer_size"
    )
