"""`check` judges the versions as W&B's docs now ask (docs/sources.md, "Current version policy"):
the sandbox's stories (a healthy deployment on MySQL 8.4 and Redis 7.2, a fresh Terraform
install on MySQL 8.0.31), and the real servers installed here (MariaDB, redis-server)."""

from __future__ import annotations

from tests.support.mariadb import PASSWORD, MariaDBServer
from tests.support.redis import RedisServer


def findings(result) -> dict[str, dict]:
    return {f["check"]: f for f in result.json()["findings"]}


def test_a_healthy_deployment_runs_mysql_84_and_redis_7(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "healthy", "check", "--only", "mysql,redis", "-o", "json")
    assert result.returncode == 0, result.stdout + result.stderr
    found = findings(result)
    assert (found["mysql.version"]["status"], found["mysql.version"]["observed"]) == ("ok", "8.4.7")
    assert (found["redis.version"]["status"], found["redis.version"]["observed"]) == ("ok", "7.2.4")


def test_a_fresh_terraform_install_fails_on_its_mysql_8031(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "mysql", "-o", "json")
    assert result.returncode == 1
    version = findings(result)["mysql.version"]
    assert (version["status"], version["observed"], version["expected"]) == ("fail", "8.0.31", ">= 8.0.32, 8.4 (MySQL)")
    assert version["message"] == (
        "W&B requires MySQL 8.0.32 or newer (8.0.44 recommended); MySQL 8.0 reached its end of life in April 2026: "
        "move to 8.4"
    )
    assert version["remedy"].startswith("upgrade MySQL to 8.4")
    table = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "mysql")
    assert "fail    mysql.version" in table.stdout


def test_the_real_servers_here(wbctl, mariadb: MariaDBServer, redis_server: RedisServer) -> None:
    env = {"WBCTL_MYSQL_URL": mariadb.url, "WBCTL_MYSQL_PASSWORD": PASSWORD, "WBCTL_REDIS_URL": redis_server.url}
    result = wbctl("check", "--only", "mysql,redis", "-o", "json", env=env)
    found = findings(result)
    # MariaDB reports its own version (10.x): not judged by MySQL's policy, warned as MariaDB
    mysql_version = found["mysql.version"]
    assert mysql_version["status"] == "warn" and mysql_version["message"].startswith("MariaDB:")
    assert "MariaDB" in mysql_version["observed"] and mysql_version["remedy"] == ""
    # the redis-server apt installed: its status follows its version
    running = str(redis_server.client().info("server")["redis_version"])
    redis_version = found["redis.version"]
    assert redis_version["observed"] == running
    assert redis_version["status"] == ("ok" if int(running.split(".")[0]) >= 7 else "warn")
    assert PASSWORD not in result.stdout + result.stderr
