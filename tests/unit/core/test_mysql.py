from __future__ import annotations

import json

import pytest

from wbctl.core import mysql
from wbctl.core.model import Status
from wbctl.errors import UsageError

GOOD = {f.name: f.value for f in mysql.FLAGS}


@pytest.mark.parametrize(
    ("a", "b"),
    [("ROW", "row"), ("ON", "1"), ("off", "0"), ("64M", "67108864"), ("1G", "1073741824"), ("1.000000", "1")],
)
def test_values_compare_the_way_mysql_means_them(a: str, b: str) -> None:
    assert mysql.normalise(a) == mysql.normalise(b)


def test_comparisons() -> None:
    sort = mysql.BY_NAME["sort_buffer_size"]
    assert mysql.satisfies(sort, "134217728") and mysql.satisfies(sort, "64M") and not mysql.satisfies(sort, "262144")
    assert mysql.satisfies(mysql.BY_NAME["long_query_time"], "0.500000")
    assert not mysql.satisfies(mysql.BY_NAME["long_query_time"], "10.000000")
    assert mysql.satisfies(mysql.BY_NAME["binlog_format"], "row")


def test_check_mysql_8() -> None:
    observation = mysql.MysqlObservation(
        "t", "8.4.3", "mysql", {**GOOD, "sort_buffer_size": "262144", "version": "8.4.3"}
    )
    findings = {f.check: f for f in mysql.check(observation).findings}
    assert findings["mysql.version"].status is Status.OK
    assert findings["mysql.sort_buffer_size"].status is Status.FAIL
    assert findings["mysql.sort_buffer_size"].remedy == "wbctl mysql tune"
    assert findings["mysql.binlog_format"].status is Status.OK


def test_old_mysql_and_mariadb() -> None:
    old = mysql.MysqlObservation("t", "8.0.26", "mysql", GOOD)
    assert {f.check: f for f in mysql.check(old).findings}["mysql.version"].status is Status.FAIL
    maria = mysql.MysqlObservation("t", "10.11.6-MariaDB-0+deb12u1", "mariadb", {"sort_buffer_size": "67108864"})
    findings = {f.check: f for f in mysql.check(maria).findings}
    assert findings["mysql.version"].status is Status.WARN
    assert findings["mysql.binlog_row_value_options"].status is Status.UNKNOWN


def test_from_file_mysql_b_output() -> None:
    text = "Variable_name\tValue\nsort_buffer_size\t262144\nversion\t8.0.31-google\ncloudsql_iam_authentication\tOFF\n"
    observation = mysql.parse_file("vars.tsv", text)
    assert observation.flavor == "cloudsql" and observation.variables["sort_buffer_size"] == "262144"
    with pytest.raises(UsageError, match="vars.tsv, line 3"):
        mysql.parse_file("vars.tsv", "Variable_name\tValue\nok\t1\nbroken line without tab\n")


def test_from_file_gcloud_json() -> None:
    document = {
        "databaseVersion": "MYSQL_8_0_31",
        "settings": {"databaseFlags": [{"name": "sort_buffer_size", "value": "67108864"}]},
    }
    observation = mysql.parse_file("i.json", json.dumps(document))
    assert (observation.version, observation.flavor) == ("8.0.31", "cloudsql")
    with pytest.raises(UsageError, match="i.json, line 1: invalid JSON"):
        mysql.parse_file("i.json", "{not json")
    with pytest.raises(UsageError, match="no settings"):
        mysql.parse_file("i.json", "{}")


def test_gcloud_command_merges_current_flags() -> None:
    command, note = mysql.gcloud_command({"cloudsql_iam_authentication": "on", "sort_buffer_size": "1"})
    assert "cloudsql_iam_authentication=on" in command and "sort_buffer_size=67108864" in command
    assert "merged" in note
    assert "REPLACES" in mysql.gcloud_command(None)[1]


def test_plan_tune_skips_static_flags_and_notes_mariadb() -> None:
    observation = mysql.MysqlObservation(
        "t", "10.11.6-MariaDB", "mariadb", {**GOOD, "sort_buffer_size": "262144", "innodb_autoinc_lock_mode": "1"}
    )
    plan = mysql.plan_tune(observation, "p")
    assert [(c.key, c.before, c.after) for c in plan.changes] == [("sort_buffer_size", "262144", "67108864")]
    assert any("innodb_autoinc_lock_mode=2 cannot be set at run time" in n for n in plan.notes)
    assert any("SET GLOBAL" in n for n in plan.notes)


def test_output_formats() -> None:
    assert 'name  = "sort_buffer_size"' in mysql.terraform_block()
    sql = mysql.sql_statements()
    assert "SET PERSIST sort_buffer_size = 67108864;" in sql and "SET PERSIST binlog_format = 'ROW';" in sql
    assert "innodb_autoinc_lock_mode" not in sql


def test_cloud_sql_is_refused_with_the_gcloud_command() -> None:
    from wbctl.errors import RefusedError

    observation = mysql.parse_file(
        "vars.tsv", "version\t8.0.31-google\ncloudsql_iam_authentication\tOFF\nsort_buffer_size\t1\n"
    )
    with pytest.raises(RefusedError, match="is Cloud SQL: .*gcloud sql instances patch INSTANCE --database-flags="):
        mysql.refuse_cloud_sql(observation)
    mysql.refuse_cloud_sql(mysql.MysqlObservation("t", "8.0.36", "mysql", {}))  # self-managed: no refusal


# --- an unset Cloud SQL flag has the engine's default --------------------------------------

FRESH = {  # `gcloud sql instances describe` of a new instance: two flags set, the rest left alone
    "databaseVersion": "MYSQL_8_0_31",
    "databaseInstalledVersion": "MYSQL_8_0_31",
    "settings": {
        "tier": "db-custom-4-15360",
        "databaseFlags": [
            {"name": "cloudsql_iam_authentication", "value": "on"},
            {"name": "slow_query_log", "value": "on"},
        ],
    },
}


def findings_of(document: dict) -> dict:
    return {f.check: f for f in mysql.check(mysql.parse_file("i.json", json.dumps(document))).findings}


def test_every_recommended_flag_has_a_mysql_80_default() -> None:
    assert set(mysql.MYSQL_80_DEFAULTS) == set(mysql.BY_NAME)
    # the defaults W&B's values differ from, as the MySQL 8.0 manual gives them
    assert {n: v for n, v in mysql.MYSQL_80_DEFAULTS.items() if not mysql.satisfies(mysql.BY_NAME[n], v)} == {
        "binlog_row_image": "FULL",
        "binlog_row_value_options": "",
        "innodb_lru_scan_depth": "1024",
        "innodb_online_alter_log_max_size": "134217728",
        "local_infile": "OFF",
        "long_query_time": "10",
        "max_execution_time": "0",
        "max_prepared_stmt_count": "16382",
        "skip_show_database": "OFF",
        "slow_query_log": "OFF",
        "sort_buffer_size": "262144",
    }


def test_unset_cloud_sql_flags_are_judged_by_their_default() -> None:
    findings = findings_of(FRESH)
    image = findings["mysql.binlog_row_image"]
    assert image.status is Status.FAIL and image.observed == "FULL"
    assert (
        image.message.startswith("not set: MySQL 8.0 default binlog_row_image=FULL;")
        and "asks for MINIMAL" in image.message
    )
    assert image.remedy == "wbctl mysql flags --format gcloud"
    sync = findings["mysql.sync_binlog"]
    assert sync.status is Status.OK and sync.message.startswith("not set: MySQL 8.0 default sync_binlog=1, as ")
    assert "binlog_row_value_options=''" in findings["mysql.binlog_row_value_options"].message
    assert findings["mysql.slow_query_log"].status is Status.OK and findings["mysql.slow_query_log"].message.startswith(
        "as "
    )
    failing = {c.removeprefix("mysql.") for c, f in findings.items() if f.status is Status.FAIL}
    assert failing == {
        "version",  # Terraform's MYSQL_8_0_31 is below W&B's 8.0.32
        "binlog_row_image",
        "binlog_row_value_options",
        "innodb_lru_scan_depth",
        "innodb_online_alter_log_max_size",
        "local_infile",
        "long_query_time",
        "max_execution_time",
        "max_prepared_stmt_count",
        "skip_show_database",
        "sort_buffer_size",
    }
    assert not [f for f in findings.values() if f.status is Status.UNKNOWN]


def test_a_cloud_sql_default_wins_over_mysqls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mysql.CLOUD_SQL_DEFAULTS, (8, 0), {"local_infile": "ON"})
    local = findings_of(FRESH)["mysql.local_infile"]
    assert local.status is Status.OK and local.message.startswith(
        "not set: Cloud SQL MySQL 8.0 default local_infile=ON"
    )
    observation = mysql.MysqlObservation("t", "8.0.36", "mysql", {}, unset_is_default=True)  # not Cloud SQL: MySQL's
    assert {f.check: f for f in mysql.check(observation).findings}["mysql.local_infile"].status is Status.FAIL


def test_an_unknown_default_stays_unknown_with_the_reason() -> None:
    newer = findings_of({**FRESH, "databaseVersion": "MYSQL_5_7", "databaseInstalledVersion": "MYSQL_5_7_44"})
    assert newer["mysql.binlog_row_image"].status is Status.UNKNOWN
    assert newer["mysql.binlog_row_image"].message.startswith(
        "not set: wbctl does not know the defaults of MySQL 5.7 (it knows MySQL 8.0's and 8.4's)"
    )
    assert newer["mysql.slow_query_log"].status is Status.OK  # set: judged as set
    versionless = findings_of({"settings": FRESH["settings"]})
    assert (
        versionless["mysql.sync_binlog"].status is Status.UNKNOWN
        and "version is not known" in versionless["mysql.sync_binlog"].message
    )
    assert mysql.engine_default("sync_binlog", "8.0.31", "cloudsql").value == ("1", "MySQL 8.0")
    unlisted = mysql.engine_default("no_such_flag", "8.0.31", "cloudsql")
    assert not unlisted.known and unlisted.reason == "wbctl does not know the default of no_such_flag in MySQL 8.0"


def test_a_server_listing_is_not_read_as_defaults() -> None:
    observation = mysql.parse_file("vars.tsv", "version\t8.0.36\nsort_buffer_size\t67108864\n")
    assert not observation.unset_is_default
    assert {f.check: f for f in mysql.check(observation).findings}["mysql.sync_binlog"].status is Status.UNKNOWN


def test_cloud_sql_version_prefers_the_installed_release() -> None:
    major_only = {**FRESH, "databaseVersion": "MYSQL_8_0"}
    del major_only["databaseInstalledVersion"]
    assert mysql.parse_file("i.json", json.dumps(major_only)).version == "8.0"
    version = findings_of(major_only)["mysql.version"]
    assert version.status is Status.UNKNOWN and "which 8.0 release" in version.message
    assert findings_of(major_only)["mysql.binlog_row_image"].status is Status.FAIL  # an 8.0 default all the same
    installed = mysql.parse_file(
        "i.json", json.dumps({**FRESH, "databaseVersion": "MYSQL_8_0", "databaseInstalledVersion": "MYSQL_8_0_35"})
    )
    assert installed.version == "8.0.35"
    assert (
        findings_of({**FRESH, "databaseVersion": "MYSQL_5_7", "databaseInstalledVersion": "MYSQL_5_7_44"})[
            "mysql.version"
        ].status
        is Status.FAIL
    )


@pytest.mark.parametrize("fmt", ["table", "gcloud", "terraform", "sql"])
def test_flags_document_is_one_shape_per_format(fmt: str) -> None:
    document = mysql.flags_document(fmt, None)
    assert document["format"] == fmt and [f["flag"] for f in document["flags"]] == [f.name for f in mysql.FLAGS]
    if fmt == "table":
        assert set(document) == {"format", "flags"}
        return
    assert "sort_buffer_size" in document["text"] and isinstance(document["notes"], list)
    json.dumps(document)


def test_flags_document_gcloud_carries_the_database_flags() -> None:
    document = mysql.flags_document("gcloud", {"cloudsql_iam_authentication": "on", "sort_buffer_size": "1"})
    flags = {f["name"]: f["value"] for f in document["database_flags"]}
    assert (
        flags["cloudsql_iam_authentication"] == "on"
        and flags["sort_buffer_size"] == "67108864"
        and flags["local_infile"] == "on"
    )
    assert document["text"] == mysql.gcloud_command({"cloudsql_iam_authentication": "on", "sort_buffer_size": "1"})[0]
    assert "merged" in document["notes"][0]
    assert "innodb_autoinc_lock_mode and skip_show_database" in mysql.flags_document("sql", None)["notes"][0]
