"""W&B's current version policy (docs/sources.md, "Current version policy"): MySQL below 8.0.32
fails, the rest of 8.0 warns (end of life: move to 8.4), 8.4 is ok; Redis below 7 warns."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from wbctl.core import mysql
from wbctl.core import redis_settings as rs
from wbctl.core.model import Observed, Status

patches = st.integers(min_value=0, max_value=200)


def mysql_version(version: str, flavor: str = "mysql") -> mysql.Finding:
    observation = mysql.MysqlObservation("t", version, flavor, {})
    return {f.check: f for f in mysql.check(observation).findings}["mysql.version"]


@given(patches)
def test_mysql_80_below_8032_fails_and_names_the_move_to_84(patch: int) -> None:
    finding = mysql_version(f"8.0.{patch}")
    if patch < 32:
        assert finding.status is Status.FAIL
        assert finding.message.startswith("W&B requires MySQL 8.0.32 or newer (8.0.44 recommended)")
    else:
        assert finding.status is Status.WARN
        assert finding.message.startswith("MySQL 8.0 reached its end of life in April 2026: W&B's docs say move to 8.4")
        assert ("8.0.44 or newer is recommended" in finding.message) is (patch < 44)
    assert "MYSQL_8_4" in finding.remedy


@given(patches, st.sampled_from(["", "-google", "-log", "-0ubuntu0.22.04.1"]))
def test_mysql_84_is_ok_whatever_the_release_and_suffix(patch: int, suffix: str) -> None:
    finding = mysql_version(f"8.4.{patch}{suffix}")
    assert (finding.status, finding.remedy) == (Status.OK, "")


@given(st.integers(min_value=1, max_value=3), patches)
def test_mysql_innovation_releases_warn(minor: int, patch: int) -> None:
    finding = mysql_version(f"8.{minor}.{patch}")
    assert finding.status is Status.WARN and "innovation release" in finding.message


@given(st.integers(min_value=0, max_value=7), st.integers(min_value=0, max_value=9), patches)
def test_mysql_before_8_fails(major: int, minor: int, patch: int) -> None:
    assert mysql_version(f"{major}.{minor}.{patch}").status is Status.FAIL


@given(st.integers(min_value=9, max_value=12), st.integers(min_value=0, max_value=9), patches)
def test_mysql_beyond_84_warns_without_a_downgrade(major: int, minor: int, patch: int) -> None:
    finding = mysql_version(f"{major}.{minor}.{patch}")
    assert finding.status is Status.WARN and finding.remedy == "" and "newer than" in finding.message


def test_the_remedy_names_the_cloud_sql_version() -> None:
    finding = mysql_version("8.0.31-google", "cloudsql")
    assert finding.status is Status.FAIL
    assert finding.remedy == (
        "upgrade the Cloud SQL instance to MYSQL_8_4: gcloud sql instances patch INSTANCE "
        '--database-version=MYSQL_8_4 (Terraform: database_version = "MYSQL_8_4")'
    )
    assert mysql_version("8.0.36").remedy.startswith("upgrade MySQL to 8.4 (Cloud SQL: MYSQL_8_4;")


def test_mariadb_keeps_its_own_warning() -> None:
    finding = mysql_version("10.11.19-MariaDB-0+deb12u1", "mariadb")
    assert finding.status is Status.WARN and finding.message.startswith("MariaDB:")


def test_a_cloud_sql_series_without_its_release() -> None:
    eighty = mysql_version("8.0", "cloudsql")  # MYSQL_8_0: below 8.0.32 or not, it does not say
    assert eighty.status is Status.UNKNOWN and "which 8.0 release is not known" in eighty.message
    assert mysql_version("8.4", "cloudsql").status is Status.OK  # every 8.4 release is


def test_cloud_sql_mysql_84_is_judged_with_84s_defaults() -> None:
    document = {
        "databaseVersion": "MYSQL_8_4",
        "settings": {"databaseFlags": [{"name": "slow_query_log", "value": "on"}]},
    }
    findings = {f.check: f for f in mysql.check(mysql.parse_file("i.json", json.dumps(document))).findings}
    assert findings["mysql.version"].status is Status.OK
    image = findings["mysql.binlog_row_image"]
    assert image.status is Status.FAIL and image.message.startswith("not set: MySQL 8.4 default binlog_row_image=FULL;")
    assert findings["mysql.sync_binlog"].message.startswith("not set: MySQL 8.4 default sync_binlog=1, as ")
    assert not [f for f in findings.values() if f.status is Status.UNKNOWN]


def test_the_84_table_holds_every_flag_and_none_whose_default_84_changed() -> None:
    assert set(mysql.MYSQL_84_DEFAULTS) == set(mysql.BY_NAME)
    assert not set(mysql.BY_NAME) & mysql.MYSQL_84_CHANGED_DEFAULTS
    assert {"innodb_adaptive_hash_index", "innodb_change_buffering", "innodb_io_capacity"} <= (
        mysql.MYSQL_84_CHANGED_DEFAULTS
    )
    assert mysql.engine_default("local_infile", "8.4.7", "mysql").value == ("OFF", "MySQL 8.4")


# --- Redis -------------------------------------------------------------------------------------


@given(st.integers(min_value=2, max_value=9), st.integers(min_value=0, max_value=9), patches)
def test_redis_below_7_warns_and_7_on_is_ok(major: int, minor: int, patch: int) -> None:
    version = f"{major}.{minor}.{patch}"
    finding = rs.version_finding("redis://h:6379/0", Observed(version))
    assert finding.check == "redis.version" and finding.observed == version
    if major < 7:
        assert finding.status is Status.WARN
        assert "W&B's docs require Redis 7.x" in finding.message and "REDIS_6_X" in finding.message
        assert "gcloud redis instances upgrade INSTANCE --region REGION --redis-version redis_7_2" in finding.remedy
    else:
        assert (finding.status, finding.remedy) == (Status.OK, "")


def test_redis_version_not_read_is_unknown_with_the_reason() -> None:
    refused = rs.version_finding("t", Observed.unknown("Redis at t refused reading INFO server: permission denied"))
    assert refused.status is Status.UNKNOWN and refused.message.endswith("permission denied")
    garbled = rs.version_finding("t", Observed("unstable"))
    assert garbled.status is Status.UNKNOWN and "'unstable', which is not a version" in garbled.message


def test_redis_report_and_check_ids_name_the_version() -> None:
    desired = rs.desired_settings({}, [], force=True)
    observation = rs.RedisObservation("t", {}, rs.DiscardState(None, None), Observed("6.2.14"))
    report = rs.report(observation, desired)
    assert [f.check for f in report.findings] == rs.check_ids(desired)
    assert {f.check: f.status for f in report.findings}["redis.version"] is Status.WARN
