"""`wbctl redis show|tune` as a subprocess against a real redis-server."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.audit import read_audit
from tests.support.redis import RedisServer

KEYS = {
    "bigtablev3.filestream.metric_points_chunk_size": "20000",
    "bigtablev3.filestream.metric_points_parallelization": "4",
    "bigtablev3.filestream.write_cache_size": "10000000",
}


@pytest.fixture
def env(redis_server: RedisServer) -> dict[str, str]:
    return {"WBCTL_REDIS_URL": redis_server.url}


def writes(server: RedisServer) -> int:
    stats = server.client().info("commandstats")
    return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("set", "del", "exec", "multi"))


def test_show_json_reports_each_setting_and_the_discard_key(wbctl, redis_server, env) -> None:
    redis_server.client().set("bigtablev3.filestream.metric_points_parallelization", "4")
    result = wbctl("redis", "show", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = result.json()
    by_id = {f["check"]: f for f in document["findings"]}
    assert set(by_id) == {f"redis.{k}" for k in KEYS} | {"redis.version", "redis.gorilla.DiscardV2UpdatesForRun"}
    assert by_id["redis.bigtablev3.filestream.metric_points_parallelization"]["status"] == "ok"
    chunk = by_id["redis.bigtablev3.filestream.metric_points_chunk_size"]
    assert (chunk["status"], chunk["observed"], chunk["expected"]) == ("fail", None, "20000")
    assert chunk["target"] == redis_server.url
    # the version of the redis-server apt installed here, judged by W&B's 7.x
    running = str(redis_server.client().info("server")["redis_version"])
    version_ok = int(running.split(".")[0]) >= 7
    assert (by_id["redis.version"]["observed"], by_id["redis.version"]["status"]) == (
        running,
        "ok" if version_ok else "warn",
    )
    assert document["summary"] == {"ok": 2 + version_ok, "warn": 1 - version_ok, "fail": 2, "unknown": 0}
    assert result.stderr == ""


def test_show_table(wbctl, env) -> None:
    result = wbctl("redis", "show", env=env)
    assert result.returncode == 0
    assert "redis.bigtablev3.filestream.write_cache_size" in result.stdout
    assert "no run is discarded" in result.stdout
    assert "\x1b[" not in result.stdout


def test_output_from_environment(wbctl, env) -> None:
    result = wbctl("redis", "show", env={**env, "WBCTL_OUTPUT": "json"})
    assert result.json()["summary"]["fail"] == 3


def test_tune_check_reports_drift_with_exit_1_and_writes_nothing(wbctl, redis_server, env) -> None:
    result = wbctl("redis", "tune", "--check", "-o", "json", env=env)
    assert result.returncode == 1
    assert result.json()["summary"]["fail"] == 3
    assert writes(redis_server) == 0


def test_tune_dry_run_writes_nothing(wbctl, redis_server, env, audit_log) -> None:
    result = wbctl("redis", "tune", "--dry-run", env=env)
    assert result.returncode == 0, result.stderr
    assert "(unset)" in result.stdout and "10000000" in result.stdout
    assert redis_server.client().keys("*") == []
    assert read_audit(audit_log) == []


def test_tune_without_yes_off_a_terminal_refuses(wbctl, redis_server, env) -> None:
    result = wbctl("redis", "tune", env=env)
    assert result.returncode == 4
    assert result.stderr.strip().splitlines()[-1] == (
        "wbctl: error: confirmation needed but there is no terminal to ask on: re-run with --yes"
    )
    assert redis_server.client().keys("*") == []


def test_tune_applies_in_one_transaction_then_reports_no_changes(wbctl, redis_server, env, audit_log) -> None:
    result = wbctl("redis", "tune", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["applied"] is True
    assert {(c["key"], c["before"], c["after"]) for c in document["changes"]} == {(k, None, v) for k, v in KEYS.items()}
    client = redis_server.client()
    assert {k: client.get(k) for k in KEYS} == KEYS
    stats = client.info("commandstats")
    assert stats["cmdstat_multi"]["calls"] == 1 and stats["cmdstat_exec"]["calls"] == 1
    (entry,) = read_audit(audit_log)
    assert entry["result"] == "applied" and entry["command"][:3] == ["wbctl", "redis", "tune"]

    again = wbctl("redis", "tune", "--yes", env=env)
    assert again.returncode == 0
    assert "no changes" in again.stderr
    assert len(read_audit(audit_log)) == 1
    assert wbctl("redis", "tune", "--check", env=env).returncode == 0


def test_tune_changes_only_drifted_keys(wbctl, redis_server, env) -> None:
    client = redis_server.client()
    client.mset(
        {"bigtablev3.filestream.metric_points_chunk_size": "20000", "bigtablev3.filestream.write_cache_size": "1"}
    )
    result = wbctl("redis", "tune", "--yes", "-o", "json", env=env)
    changes = {c["key"]: (c["before"], c["after"]) for c in result.json()["changes"]}
    assert changes == {
        "bigtablev3.filestream.metric_points_parallelization": (None, "4"),
        "bigtablev3.filestream.write_cache_size": ("1", "10000000"),
    }


def test_set_overrides_and_extends(wbctl, redis_server, env) -> None:
    result = wbctl(
        "redis",
        "tune",
        "--yes",
        "--force",  # a key beyond the guide's three needs --force
        "--set",
        "bigtablev3.filestream.metric_points_parallelization=8",
        "--set",
        "bigtablev3.filestream.extra=on",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    client = redis_server.client()
    assert client.get("bigtablev3.filestream.metric_points_parallelization") == "8"
    assert client.get("bigtablev3.filestream.extra") == "on"


def test_set_outside_bigtablev3_needs_force(wbctl, redis_server, env) -> None:
    refused = wbctl("redis", "tune", "--yes", "--set", "other.key=1", env=env)
    assert refused.returncode == 2
    assert "add --force" in refused.stderr and len(refused.stderr.strip().splitlines()) == 1
    assert redis_server.client().keys("*") == []
    forced = wbctl("redis", "tune", "--yes", "--force", "--set", "other.key=1", env=env)
    assert forced.returncode == 0
    assert redis_server.client().get("other.key") == "1"


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bigtablev3.filestream.write_cache_size", "expected KEY=VALUE"),
        ("bigtablev3.filestream.write_cache_size=lots", "positive whole number"),
        ("gorilla.DiscardV2UpdatesForRun=x", "wbctl run discard"),
        ("=5", "invalid key"),
        ("bigtablev3.filestream.metric_points_chunk_size=" + "9" * 26, "positive whole number up to 2,147,483,647"),
    ],
)
def test_bad_set_values_write_nothing(wbctl, redis_server, env, value, message) -> None:
    result = wbctl("redis", "tune", "--yes", "--force", "--set", value, env=env)
    assert result.returncode == 2
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert writes(redis_server) == 0


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("bigtablev3.foo=1", "did you mean bigtablev3.filestream."),
        (
            "bigtablev3.filestream.metric_points_chunk_sze=20000",
            "did you mean bigtablev3.filestream.metric_points_chunk_size?",
        ),
    ],
)
def test_a_key_beyond_the_guides_three_gets_did_you_mean(wbctl, redis_server, env, value, message) -> None:
    result = wbctl("redis", "tune", "--yes", "--set", value, env=env)
    assert result.returncode == 2
    assert message in result.stderr and "add --force" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert writes(redis_server) == 0


def test_config_file_redis_settings_override_the_recommendation(wbctl, redis_server, isolated_env: Path) -> None:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text(
        f'[contexts.lab]\nredis-url = "{redis_server.url}"\n'
        '[redis.settings]\n"bigtablev3.filestream.write_cache_size" = 5000000\n'
    )
    result = wbctl("redis", "tune", "--yes")
    assert result.returncode == 0, result.stderr
    assert redis_server.client().get("bigtablev3.filestream.write_cache_size") == "5000000"
    show = wbctl("redis", "show", "-o", "json").json()
    assert show["summary"]["fail"] == 0


def test_read_only_context_refuses(wbctl, redis_server, isolated_env: Path, audit_log) -> None:
    config = isolated_env / "ro.toml"
    config.write_text(
        f'current-context = "prod"\n[contexts.prod]\nredis-url = "{redis_server.url}"\nread-only = true\n'
    )
    result = wbctl("--config", str(config), "redis", "tune", "--yes")
    assert result.returncode == 4
    assert "context prod is read-only" in result.stderr
    assert redis_server.client().keys("*") == []
    assert read_audit(audit_log) == []
    # reading still works in a read-only context
    assert wbctl("--config", str(config), "redis", "show").returncode == 0
