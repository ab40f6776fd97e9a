"""`wbctl redis show|tune` through W&B's own Redis URLs, against real servers: a redis-server
with TLS and AUTH reached through Terraform's Memorystore form, and a real Redis Sentinel in
front of a real redis-server (Terraform's in-cluster `?master=gorilla` form)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.audit import read_audit
from tests.support.net import free_port
from tests.support.redis import REDIS_PASSWORD, RedisServer, SentinelServer, start_redis, start_sentinel
from tests.support.text import one_line

KEYS = {
    "bigtablev3.filestream.metric_points_chunk_size": "20000",
    "bigtablev3.filestream.metric_points_parallelization": "4",
    "bigtablev3.filestream.write_cache_size": "10000000",
}


def wandb_form(server: RedisServer, ca: str | Path, *, password: str = REDIS_PASSWORD, extra: str = "") -> str:
    """terraform-google-wandb's Memorystore URL, pointed at the test server."""
    return f"redis://:{password}@127.0.0.1:{server.port}?tls=true&ttlInSeconds=604800&caCertPath={ca}{extra}"


def writes(server: RedisServer) -> int:
    stats = server.client().info("commandstats")
    return sum(stats.get(f"cmdstat_{c}", {}).get("calls", 0) for c in ("set", "del", "exec", "multi"))


@pytest.fixture
def tls_server(redis_tls: RedisServer) -> RedisServer:
    client = redis_tls.client()
    client.flushall()
    client.config_resetstat()
    return redis_tls


def assert_no_password(*texts: str) -> None:
    for text in texts:
        assert REDIS_PASSWORD not in text


# --- TLS and AUTH through W&B's form -------------------------------------------------------


def test_show_and_tune_through_terraforms_memorystore_form(wbctl, tls_server, tls_material, audit_log) -> None:
    env = {"WBCTL_REDIS_URL": wandb_form(tls_server, tls_material["ca"])}
    shown = wbctl("redis", "show", "-o", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    findings = shown.json()["findings"]
    assert {f["target"] for f in findings} == {f"redis://127.0.0.1:{tls_server.port}"}
    assert shown.json()["summary"]["fail"] == 3

    tuned = wbctl("redis", "tune", "--yes", "-o", "json", env=env)
    assert tuned.returncode == 0, tuned.stderr
    client = tls_server.client()
    assert {key: client.get(key) for key in KEYS} == KEYS
    assert read_audit(audit_log)[0]["result"] == "applied"
    assert_no_password(shown.stdout, shown.stderr, tuned.stdout, tuned.stderr, audit_log.read_text())


def test_redis_ca_file_wins_over_ca_cert_path(wbctl, tls_server, tls_material) -> None:
    wrong_in_url = {
        "WBCTL_REDIS_URL": wandb_form(tls_server, tls_material["other_ca"]),
        "WBCTL_REDIS_CA_FILE": str(tls_material["ca"]),
    }
    assert wbctl("redis", "show", env=wrong_in_url).returncode == 0
    wrong_setting = {
        "WBCTL_REDIS_URL": wandb_form(tls_server, tls_material["ca"]),
        "WBCTL_REDIS_CA_FILE": str(tls_material["other_ca"]),
    }
    refused = wbctl("redis", "show", env=wrong_setting)
    assert refused.returncode == 3
    assert "certificate verify failed" in one_line(refused.stderr)


def test_a_ca_cert_path_that_is_only_inside_the_pods_is_exit_2(wbctl, tls_server) -> None:
    env = {"WBCTL_REDIS_URL": wandb_form(tls_server, "/etc/ssl/certs/server_ca-not-here.pem")}
    result = wbctl("redis", "show", env=env)
    assert result.returncode == 2
    assert one_line(result.stderr) == (
        "wbctl: error: caCertPath /etc/ssl/certs/server_ca-not-here.pem in redis-url: no such file here "
        "(it is where W&B's pods mount the server CA): save the CA and set redis-ca-file to it"
    )


def test_a_wrong_password_in_the_url_is_exit_3_and_never_shown(wbctl, tls_server, tls_material) -> None:
    wrong = REDIS_PASSWORD + "-wrong"
    result = wbctl("redis", "show", env={"WBCTL_REDIS_URL": wandb_form(tls_server, tls_material["ca"], password=wrong)})
    assert result.returncode == 3
    assert "refused the password" in one_line(result.stderr)
    assert wrong not in result.stderr and wrong not in result.stdout


def test_an_unknown_parameter_is_exit_2_one_line_and_nothing_is_written(
    wbctl, tls_server, tls_material, audit_log
) -> None:
    env = {"WBCTL_REDIS_URL": wandb_form(tls_server, tls_material["ca"], extra=f"&authToken={REDIS_PASSWORD}")}
    result = wbctl("redis", "tune", "--yes", env=env)
    assert result.returncode == 2
    assert one_line(result.stderr).startswith("wbctl: error: WBCTL_REDIS_URL: unknown query parameter authToken (")
    assert writes(tls_server) == 0
    assert read_audit(audit_log) == []
    assert_no_password(result.stdout, result.stderr)


def test_the_v2_operators_form_authenticates_and_is_masked(wbctl, redis_auth) -> None:
    redis_auth.client().flushall()
    url = f"redis://{REDIS_PASSWORD}:@127.0.0.1:{redis_auth.port}"
    shown = wbctl("redis", "show", "-o", "json", env={"WBCTL_REDIS_URL": url})
    assert shown.returncode == 0, shown.stderr
    config = wbctl("config", "show", env={"WBCTL_REDIS_URL": url})
    assert f"redis://***:@127.0.0.1:{redis_auth.port}" in config.stdout
    assert_no_password(shown.stdout, shown.stderr, config.stdout, config.stderr)


# --- Redis Sentinel ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def sentinel(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SentinelServer]:
    """A password-protected redis-server and a Sentinel watching it as `gorilla`."""
    tmp = tmp_path_factory.mktemp("sentinel")
    master = start_redis(tmp, "master", ["--requirepass", REDIS_PASSWORD])
    master.password = REDIS_PASSWORD
    server = start_sentinel(tmp, "sentinel", master)
    yield server
    for process in (server.process, master.process):
        process.terminate()
        process.wait(10)


@pytest.fixture
def behind_sentinel(sentinel: SentinelServer) -> SentinelServer:
    client = sentinel.master.client()
    client.flushall()
    client.config_resetstat()
    return sentinel


def test_show_and_tune_through_a_sentinel(wbctl, behind_sentinel, audit_log) -> None:
    env = {"WBCTL_REDIS_URL": behind_sentinel.url(REDIS_PASSWORD)}
    shown = wbctl("redis", "show", "-o", "json", env=env)
    assert shown.returncode == 0, shown.stderr
    target = f"redis://127.0.0.1:{behind_sentinel.port}/0?master=gorilla"
    assert {f["target"] for f in shown.json()["findings"]} == {target}

    tuned = wbctl("redis", "tune", "--yes", "-o", "json", env=env)
    assert tuned.returncode == 0, tuned.stderr
    master = behind_sentinel.master.client()  # read back on the real master, not through wbctl
    assert {key: master.get(key) for key in KEYS} == KEYS
    assert master.info("commandstats")["cmdstat_exec"]["calls"] == 1
    assert read_audit(audit_log)[0]["target"] == target
    assert_no_password(shown.stdout, shown.stderr, tuned.stdout, tuned.stderr, audit_log.read_text())


def test_a_master_the_sentinel_does_not_know_is_exit_3(wbctl, behind_sentinel) -> None:
    url = behind_sentinel.url(REDIS_PASSWORD).replace("master=gorilla", "master=weave")
    result = wbctl("redis", "tune", "--yes", env={"WBCTL_REDIS_URL": url})
    assert result.returncode == 3
    assert one_line(result.stderr) == (
        f"wbctl: error: the Redis Sentinel at redis://127.0.0.1:{behind_sentinel.port} knows no master named "
        "'weave' (or none it considers up): check master= in redis-url"
    )
    assert writes(behind_sentinel.master) == 0


def test_no_sentinel_listening_is_exit_3(wbctl) -> None:
    port = free_port()
    result = wbctl(
        "redis", "show", env={"WBCTL_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{port}?master=gorilla"}
    )
    assert result.returncode == 3
    assert one_line(result.stderr) == (
        f"wbctl: error: cannot ask the Redis Sentinel at redis://127.0.0.1:{port} for master 'gorilla': "
        "cannot connect (is redis-url right and the Sentinel up?)"
    )
    assert_no_password(result.stdout, result.stderr)


def test_the_masters_password_is_needed_behind_the_sentinel(wbctl, behind_sentinel) -> None:
    result = wbctl("redis", "show", env={"WBCTL_REDIS_URL": behind_sentinel.url()})
    assert result.returncode == 3
    assert "requires a password" in one_line(result.stderr)


@pytest.fixture(scope="module")
def tls_sentinel(
    tmp_path_factory: pytest.TempPathFactory, redis_tls: RedisServer, tls_material: dict[str, Path]
) -> Iterator[SentinelServer]:
    """A TLS-only Sentinel watching the TLS and AUTH redis-server, itself over TLS."""
    server = start_sentinel(tmp_path_factory.mktemp("tls-sentinel"), "tls-sentinel", redis_tls, tls=tls_material)
    yield server
    server.process.terminate()
    server.process.wait(10)


def test_tune_through_a_tls_sentinel_in_front_of_a_tls_master(wbctl, tls_server, tls_sentinel, tls_material) -> None:
    url = tls_sentinel.url(REDIS_PASSWORD, query=f"&tls=true&caCertPath={tls_material['ca']}&ttlInSeconds=604800")
    tuned = wbctl("redis", "tune", "--yes", env={"WBCTL_REDIS_URL": url})
    assert tuned.returncode == 0, tuned.stderr
    assert f"redis://127.0.0.1:{tls_sentinel.port}/0?master=gorilla" in tuned.stdout
    client = tls_server.client()
    assert {key: client.get(key) for key in KEYS} == KEYS
    assert_no_password(tuned.stdout, tuned.stderr)
