"""`wbctl mysql ...` as a subprocess against a real MariaDB with flags set wrong on purpose."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest

from tests.support.audit import read_audit
from tests.support.mariadb import PASSWORD, WRONG_FLAGS, MariaDBServer
from tests.support.net import silent_listener
from tests.support.text import one_line


@pytest.fixture
def env(mariadb: MariaDBServer) -> dict[str, str]:
    return {"WBCTL_MYSQL_URL": mariadb.url, "WBCTL_MYSQL_PASSWORD": PASSWORD}


def test_check_finds_exactly_the_wrong_flags(wbctl, env) -> None:
    result = wbctl("mysql", "check", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    findings = {f["check"]: f for f in result.json()["findings"]}
    failing = {check.removeprefix("mysql.") for check, f in findings.items() if f["status"] == "fail"}
    assert failing == set(WRONG_FLAGS)
    assert findings["mysql.version"]["status"] == "warn" and "MariaDB" in findings["mysql.version"]["message"]
    assert findings["mysql.binlog_row_value_options"]["status"] == "unknown"


def test_tune_fixes_them_and_a_second_check_passes_the_flags(wbctl, mariadb, env, audit_log) -> None:
    result = wbctl("mysql", "tune", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert {c["key"] for c in result.json()["changes"]} == set(WRONG_FLAGS)
    assert "SET GLOBAL does not survive a restart" in result.stderr
    assert read_audit(audit_log)[0]["result"] == "applied"
    after = {f["check"]: f["status"] for f in wbctl("mysql", "check", "-o", "json", env=env).json()["findings"]}
    assert not [c for c, s in after.items() if s == "fail"]
    assert mariadb.global_variables(["sort_buffer_size"])["sort_buffer_size"] == "67108864"
    again = wbctl("mysql", "tune", "--yes", env=env)
    assert again.returncode == 0 and "no changes" in again.stderr


def test_tune_dry_run_and_no_terminal(wbctl, mariadb, env) -> None:
    assert wbctl("mysql", "tune", "--dry-run", env=env).returncode == 0
    assert wbctl("mysql", "tune", env=env).returncode == 4
    assert mariadb.global_variables(["sort_buffer_size"])["sort_buffer_size"] == WRONG_FLAGS["sort_buffer_size"]


def test_wrong_password_exits_3_and_is_never_printed(wbctl, mariadb) -> None:
    result = wbctl(
        "--debug", "mysql", "check", env={"WBCTL_MYSQL_URL": mariadb.url, "WBCTL_MYSQL_PASSWORD": "nope-" + PASSWORD}
    )
    assert result.returncode == 3
    assert "refused the login of wandb" in result.stderr.strip().splitlines()[-1]
    assert PASSWORD not in result.stdout + result.stderr
    in_url = wbctl("mysql", "check", env={"WBCTL_MYSQL_URL": mariadb.url.replace("wandb@", f"wandb:{PASSWORD}@")})
    assert in_url.returncode == 1 and PASSWORD not in in_url.stdout + in_url.stderr


def test_unreachable_and_tls(wbctl, mariadb, env) -> None:
    refused = wbctl("mysql", "check", env={**env, "WBCTL_MYSQL_URL": "mysql://wandb@127.0.0.1:1/wandb_local"})
    assert refused.returncode == 3 and "connection refused" in one_line(refused.stderr, ignore_warnings=True)
    with_ca = wbctl("mysql", "check", env={**env, "WBCTL_MYSQL_CA_FILE": mariadb.ca_file})
    assert with_ca.returncode == 1, with_ca.stderr  # connected over TLS; the flags still fail
    other_ca = wbctl("mysql", "check", env={**env, "WBCTL_MYSQL_CA_FILE": mariadb.other_ca_file})
    assert other_ca.returncode == 3


def test_check_makes_one_round_trip(mariadb) -> None:
    from wbctl.adapters.mysql import MysqlAdapter

    adapter = MysqlAdapter(mariadb.url, password=PASSWORD, ca_file=None, timeout=5)
    with mariadb.root_connection() as root, root.cursor() as cursor:
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Com_show_variables'")
        before = int(cursor.fetchone()[1])
        started = time.perf_counter()
        adapter.observe()
        elapsed = time.perf_counter() - started
        cursor.execute("SHOW GLOBAL STATUS LIKE 'Com_show_variables'")
        assert int(cursor.fetchone()[1]) - before == 1
    adapter.close()
    assert elapsed < 5


def test_from_file_both_formats_and_malformed(wbctl, isolated_env: Path) -> None:
    tsv = isolated_env / "vars.tsv"
    tsv.write_text("Variable_name\tValue\nversion\t8.0.36\nsort_buffer_size\t67108864\nsync_binlog\t0\n")
    result = wbctl("mysql", "check", "--from-file", str(tsv), "-o", "json")
    findings = {f["check"]: f["status"] for f in result.json()["findings"]}
    assert result.returncode == 1 and findings["mysql.sync_binlog"] == "fail" and findings["mysql.version"] == "warn"
    gcloud = isolated_env / "instance.json"
    gcloud.write_text(
        json.dumps(
            {
                "databaseVersion": "MYSQL_8_0_31",
                "settings": {
                    "databaseFlags": [
                        {"name": "sort_buffer_size", "value": "67108864"},
                        {"name": "cloudsql_iam_authentication", "value": "on"},
                    ]
                },
            }
        )
    )
    assert (
        wbctl("mysql", "check", "--from-file", str(gcloud), "-o", "json").json()["findings"][0]["observed"] == "8.0.31"
    )
    merged = wbctl("mysql", "flags", "--format", "gcloud", "--from-file", str(gcloud))
    assert "cloudsql_iam_authentication=on" in merged.stdout and "merged" in merged.stderr
    bad = isolated_env / "bad.tsv"
    bad.write_text("Variable_name\tValue\nno tab here\n")
    broken = wbctl("mysql", "check", "--from-file", str(bad))
    assert broken.returncode == 2 and "bad.tsv, line 2" in one_line(broken.stderr, ignore_warnings=True)


@pytest.mark.parametrize("fmt", ["table", "gcloud", "terraform", "sql"])
def test_flags_formats(wbctl, fmt: str) -> None:
    result = wbctl("mysql", "flags", "--format", fmt)
    assert result.returncode == 0 and "sort_buffer_size" in result.stdout
    assert wbctl("mysql", "flags", "--format", "yaml").returncode == 2


@pytest.mark.parametrize("fmt", ["table", "gcloud", "terraform", "sql"])
def test_flags_with_json_output_is_one_json_document(wbctl, fmt: str) -> None:
    result = wbctl("mysql", "flags", "--format", fmt, "-o", "json")
    assert result.returncode == 0, result.stderr
    document = result.json()  # the whole of stdout
    assert document["format"] == fmt and len(document["flags"]) == 16
    assert {
        "flag": "sort_buffer_size",
        "value": "67108864",
        "comparison": "at least",
        "source": "W&B self-managed docs; W&B Terraform module",
    } in document["flags"]
    if fmt != "table":
        plain = wbctl("mysql", "flags", "--format", fmt)
        assert document["text"] == plain.stdout.rstrip("\n")  # the text table mode prints
        assert [f"note: {n}" for n in document["notes"]] == plain.stderr.splitlines() == result.stderr.splitlines()


def test_flags_gcloud_json_merges_the_instance_flags(wbctl, isolated_env: Path) -> None:
    instance = isolated_env / "instance.json"
    instance.write_text(json.dumps(FRESH_INSTANCE, indent=2))
    document = wbctl("mysql", "flags", "--format", "gcloud", "--from-file", str(instance), "-o", "json").json()
    flags = {f["name"]: f["value"] for f in document["database_flags"]}
    assert flags["cloudsql_iam_authentication"] == "on" and flags["binlog_row_image"] == "MINIMAL" and len(flags) == 17
    assert "cloudsql_iam_authentication=on" in document["text"] and "merged" in document["notes"][0]
    # a server's SHOW GLOBAL VARIABLES is not the instance's flags: nothing of it goes into --database-flags
    tsv = isolated_env / "vars.tsv"
    tsv.write_text("Variable_name\tValue\nversion\t8.0.31-google\ncloudsql_iam_authentication\tON\nport\t3306\n")
    plain = wbctl("mysql", "flags", "--format", "gcloud", "--from-file", str(tsv))
    assert plain.returncode == 0 and "port=" not in plain.stdout and "version=" not in plain.stdout
    assert "REPLACES" in plain.stderr


# `gcloud sql instances describe wandb-mysql --format=json` of a new instance: two flags set
FRESH_INSTANCE = {
    "backendType": "SECOND_GEN",
    "connectionName": "my-proj:us-central1:wandb-mysql",
    "createTime": "2025-03-04T09:14:03.117Z",
    "databaseInstalledVersion": "MYSQL_8_0_31",
    "databaseVersion": "MYSQL_8_0_31",
    "gceZone": "us-central1-a",
    "instanceType": "CLOUD_SQL_INSTANCE",
    "ipAddresses": [{"ipAddress": "10.20.0.3", "type": "PRIVATE"}],
    "kind": "sql#instance",
    "maintenanceVersion": "MYSQL_8_0_31.R20250112.01_04",
    "name": "wandb-mysql",
    "project": "my-proj",
    "region": "us-central1",
    "selfLink": "https://sqladmin.googleapis.com/sql/v1beta4/projects/my-proj/instances/wandb-mysql",
    "serviceAccountEmailAddress": "p123456789-abcdef@gcp-sa-cloud-sql.iam.gserviceaccount.com",
    "settings": {
        "activationPolicy": "ALWAYS",
        "availabilityType": "REGIONAL",
        "backupConfiguration": {
            "binaryLogEnabled": True,
            "enabled": True,
            "kind": "sql#backupConfiguration",
            "startTime": "03:00",
            "transactionLogRetentionDays": 7,
        },
        "dataDiskSizeGb": "100",
        "dataDiskType": "PD_SSD",
        "databaseFlags": [
            {"name": "cloudsql_iam_authentication", "value": "on"},
            {"name": "slow_query_log", "value": "on"},
        ],
        "deletionProtectionEnabled": True,
        "edition": "ENTERPRISE",
        "ipConfiguration": {
            "ipv4Enabled": False,
            "privateNetwork": "projects/my-proj/global/networks/wandb",
            "sslMode": "ENCRYPTED_ONLY",
        },
        "kind": "sql#settings",
        "locationPreference": {"kind": "sql#locationPreference", "zone": "us-central1-a"},
        "pricingPlan": "PER_USE",
        "settingsVersion": "3",
        "storageAutoResize": True,
        "tier": "db-custom-4-15360",
        "userLabels": {"app": "wandb"},
    },
    "state": "RUNNABLE",
}


def test_fresh_cloud_sql_instance_fails_on_the_defaults_of_its_unset_flags(wbctl, isolated_env: Path) -> None:
    instance = isolated_env / "instance.json"
    instance.write_text(json.dumps(FRESH_INSTANCE, indent=2))
    result = wbctl("mysql", "check", "--from-file", str(instance), "-o", "json")
    assert result.returncode == 1, result.stderr
    findings = {f["check"].removeprefix("mysql."): f for f in result.json()["findings"]}
    statuses = {name: f["status"] for name, f in findings.items()}
    assert statuses == {
        "version": "fail",  # Terraform's MYSQL_8_0_31, below W&B's 8.0.32
        "binlog_format": "ok",
        "binlog_row_image": "fail",
        "binlog_row_value_options": "fail",
        "innodb_autoinc_lock_mode": "ok",
        "innodb_flush_log_at_trx_commit": "ok",
        "innodb_lru_scan_depth": "fail",
        "innodb_online_alter_log_max_size": "fail",
        "innodb_print_all_deadlocks": "ok",
        "local_infile": "fail",
        "long_query_time": "fail",
        "max_execution_time": "fail",
        "max_prepared_stmt_count": "fail",
        "skip_show_database": "fail",
        "slow_query_log": "ok",
        "sort_buffer_size": "fail",
        "sync_binlog": "ok",
    }
    image = findings["binlog_row_image"]
    assert image["observed"] == "FULL" and image["expected"] == "MINIMAL"
    assert (
        image["message"]
        == "not set: MySQL 8.0 default binlog_row_image=FULL; W&B self-managed docs; W&B Terraform module asks for MINIMAL"
    )
    assert image["remedy"] == "wbctl mysql flags --format gcloud"
    assert (
        findings["sync_binlog"]["message"] == "not set: MySQL 8.0 default sync_binlog=1, as W&B self-managed docs asks"
    )
    assert findings["slow_query_log"]["observed"] == "on" and findings["slow_query_log"]["message"].startswith("as ")
    table = wbctl("mysql", "check", "--from-file", str(instance))
    assert table.returncode == 1 and "not set: MySQL 8.0 default sort_buffer_size=262144" in table.stdout


def test_cloud_sql_flag_whose_default_is_not_known_stays_unknown(wbctl, isolated_env: Path) -> None:
    instance = isolated_env / "instance.json"
    instance.write_text(
        json.dumps({**FRESH_INSTANCE, "databaseVersion": "MYSQL_5_7", "databaseInstalledVersion": "MYSQL_5_7_44"})
    )
    result = wbctl("mysql", "check", "--from-file", str(instance), "-o", "json")
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["mysql.sort_buffer_size"]["status"] == "unknown"
    assert findings["mysql.sort_buffer_size"]["message"].startswith(
        "not set: wbctl does not know the defaults of MySQL 5.7 (it knows MySQL 8.0's and 8.4's)"
    )
    assert findings["mysql.slow_query_log"]["status"] == "ok"


def test_cloud_sql_mysql_84_is_ok_and_judged_with_84s_defaults(wbctl, isolated_env: Path) -> None:
    instance = isolated_env / "instance.json"
    instance.write_text(
        json.dumps({**FRESH_INSTANCE, "databaseVersion": "MYSQL_8_4", "databaseInstalledVersion": "MYSQL_8_4_3"})
    )
    result = wbctl("mysql", "check", "--from-file", str(instance), "-o", "json")
    findings = {f["check"]: f for f in result.json()["findings"]}
    assert findings["mysql.version"]["status"] == "ok" and findings["mysql.version"]["observed"] == "8.4.3"
    assert findings["mysql.sort_buffer_size"]["status"] == "fail"
    assert findings["mysql.sort_buffer_size"]["message"].startswith(
        "not set: MySQL 8.4 default sort_buffer_size=262144"
    )
    assert not [f for f in findings.values() if f["status"] == "unknown"]


def test_the_sandbox_serves_mysql(wbctl) -> None:
    healthy = wbctl("--sandbox", "--scenario", "healthy", "mysql", "check", "-o", "json")
    assert healthy.returncode == 0 and healthy.json()["summary"]["fail"] == 0
    assert wbctl("--sandbox", "--scenario", "misconfigured", "mysql", "check").returncode == 1


def test_server_that_never_answers_times_out(wbctl, env) -> None:
    with silent_listener() as port:
        started = time.monotonic()
        result = wbctl(
            "--timeout",
            "1",
            "mysql",
            "check",
            env={**env, "WBCTL_MYSQL_URL": f"mysql://wandb@127.0.0.1:{port}/wandb_local"},
        )
        elapsed = time.monotonic() - started
    assert result.returncode == 3
    assert elapsed < 1 + 2 + 1.5
    assert "MySQL at" in one_line(result.stderr, ignore_warnings=True)
