from __future__ import annotations

import json

import pytest

from wbctl.core import mysql
from wbctl.core.model import Status
from wbctl.errors import UsageError

GOOD = {f.name: f.value for f in mysql.FLAGS}


@pytest.mark.parametrize(("a", "b"), [("ROW", "row"), ("ON", "1"), ("off", "0"), ("64M", "67108864"), ("1G", "1073741824"),
                                      ("1.000000", "1")])
def test_values_compare_the_way_mysql_means_them(a: str, b: str) -> None:
    assert mysql.normalise(a) == mysql.normalise(b)


def test_comparisons() -> None:
    sort = mysql.BY_NAME["sort_buffer_size"]
    assert mysql.satisfies(sort, "134217728") and mysql.satisfies(sort, "64M") and not mysql.satisfies(sort, "262144")
    assert mysql.satisfies(mysql.BY_NAME["long_query_time"], "0.500000")
    assert not mysql.satisfies(mysql.BY_NAME["long_query_time"], "10.000000")
    assert mysql.satisfies(mysql.BY_NAME["binlog_format"], "row")


def test_check_mysql_8() -> None:
    observation = mysql.MysqlObservation("t", "8.0.36", "mysql", {**GOOD, "sort_buffer_size": "262144", "version": "8.0.36"})
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
    document = {"databaseVersion": "MYSQL_8_0_31", "settings": {"databaseFlags": [{"name": "sort_buffer_size", "value": "67108864"}]}}
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
    observation = mysql.MysqlObservation("t", "10.11.6-MariaDB", "mariadb",
                                         {**GOOD, "sort_buffer_size": "262144", "innodb_autoinc_lock_mode": "1"})
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

    observation = mysql.parse_file("vars.tsv", "version\t8.0.31-google\ncloudsql_iam_authentication\tOFF\nsort_buffer_size\t1\n")
    with pytest.raises(RefusedError, match="is Cloud SQL: .*gcloud sql instances patch INSTANCE --database-flags="):
        mysql.refuse_cloud_sql(observation)
    mysql.refuse_cloud_sql(mysql.MysqlObservation("t", "8.0.36", "mysql", {}))  # self-managed: no refusal
