"""What the sandbox's MySQL stories are expected to fail, and a server of one story for a test."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from wbctl.core.mysql import FLAGS
from wbctl.sandbox.mysql.server import SandboxMysql, start_mysql

# MySQL 8.0's defaults that W&B's flags reject: what a fresh install fails on
MISCONFIGURED_FAILS = {
    "binlog_row_image",
    "binlog_row_value_options",
    "innodb_lru_scan_depth",
    "innodb_online_alter_log_max_size",
    "local_infile",
    "long_query_time",
    "max_execution_time",
    "max_prepared_stmt_count",
    "skip_show_database",
    "slow_query_log",
    "sort_buffer_size",
}
# what `mysql check` fails on it: those flags, and the version (W&B's Terraform module creates
# MYSQL_8_0_31, below W&B's 8.0.32)
MISCONFIGURED_CHECK_FAILS = MISCONFIGURED_FAILS | {"version"}
READ_ONLY = {flag.name for flag in FLAGS if not flag.dynamic}


@contextmanager
def serving(story: str) -> Iterator[SandboxMysql]:
    """A server of `story` on a free port; stopped after, and it must have logged no error."""
    server = start_mysql(story)
    try:
        yield server
    finally:
        server.stop()
    assert server.errors == []
