"""The Redis adapter against real redis-servers: plain, with requirepass, and with TLS."""

from __future__ import annotations

import threading
import time

import pytest

from tests.support.net import free_port, silent_listener
from tests.support.redis import REDIS_PASSWORD, RedisServer
from wbctl.adapters.redis import RedisAdapter
from wbctl.core import redis_settings as rs
from wbctl.core.discard import plan_discard
from wbctl.errors import BackendError, UsageError


def adapter_for(server: RedisServer, **overrides) -> RedisAdapter:
    options = {"password": server.password, "ca_file": server.ca_file, "timeout": 2.0, **overrides}
    return RedisAdapter(server.url, **options)


def test_observe_reads_every_key_in_one_round_trip(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.set("bigtablev3.filestream.metric_points_chunk_size", "20000")
    client.set(rs.DISCARD_KEY, "noisy", ex=100)
    client.config_resetstat()
    observation = adapter_for(redis_server).observe([r.key for r in rs.RECOMMENDED])
    assert observation.values["bigtablev3.filestream.metric_points_chunk_size"] == "20000"
    assert observation.values["bigtablev3.filestream.write_cache_size"] is None
    assert observation.discard.run_id == "noisy" and 90 <= observation.discard.ttl_seconds <= 100
    stats = client.info("commandstats")
    assert stats["cmdstat_mget"]["calls"] == 1 and stats["cmdstat_pttl"]["calls"] == 1
    assert "cmdstat_get" not in stats


def test_discard_is_one_watch_guarded_multi_exec(redis_server: RedisServer) -> None:
    adapter = adapter_for(redis_server)
    plan = plan_discard(
        adapter.discard_state(), "r1", ttl_seconds=60, replace=False, context="t", target=adapter.target
    )
    client = redis_server.client()
    client.config_resetstat()
    adapter.apply(plan)
    stats = client.info("commandstats")
    for command in ("watch", "multi", "exec", "set"):
        assert stats[f"cmdstat_{command}"]["calls"] == 1, command
    assert client.get(rs.DISCARD_KEY) == "r1" and client.ttl(rs.DISCARD_KEY) > 0


def test_password_from_url_and_from_argument(redis_auth: RedisServer) -> None:
    url_with_password = redis_auth.url.replace("redis://", f"redis://:{REDIS_PASSWORD}@")
    assert RedisAdapter(url_with_password, password=None, ca_file=None, timeout=2).discard_state().run_id is None
    assert adapter_for(redis_auth).discard_state().run_id is None
    assert adapter_for(redis_auth).target == redis_auth.url


def test_missing_password(redis_auth: RedisServer) -> None:
    with pytest.raises(BackendError, match="requires a password: set WBCTL_REDIS_PASSWORD"):
        adapter_for(redis_auth, password=None).discard_state()


def test_wrong_password(redis_auth: RedisServer) -> None:
    with pytest.raises(BackendError, match="refused the password") as error:
        adapter_for(redis_auth, password="wrong-one").discard_state()
    assert "wrong-one" not in error.value.message


def test_connection_refused() -> None:
    adapter = RedisAdapter(f"redis://127.0.0.1:{free_port()}/0", password=None, ca_file=None, timeout=2)
    with pytest.raises(BackendError, match="connection refused"):
        adapter.discard_state()


def test_timeout_of_a_server_that_never_answers() -> None:
    with silent_listener() as port:
        adapter = RedisAdapter(f"redis://127.0.0.1:{port}/0", password=None, ca_file=None, timeout=0.5)
        started = time.monotonic()
        with pytest.raises(BackendError, match="did not answer within 0.5s"):
            adapter.discard_state()
        assert time.monotonic() - started < 3


def test_tls_with_the_ca(redis_tls: RedisServer) -> None:
    adapter = adapter_for(redis_tls)
    assert adapter.target.startswith("rediss://")
    assert adapter.observe([r.key for r in rs.RECOMMENDED]).discard.run_id is None


def test_tls_without_the_ca(redis_tls: RedisServer) -> None:
    with pytest.raises(BackendError, match="certificate verify failed; set redis-ca-file"):
        adapter_for(redis_tls, ca_file=None).discard_state()


def test_tls_with_another_ca(redis_tls: RedisServer, tls_material) -> None:
    with pytest.raises(BackendError, match="not signed by the CA in"):
        adapter_for(redis_tls, ca_file=str(tls_material["other_ca"])).discard_state()


def test_tls_port_reached_without_tls(redis_tls: RedisServer) -> None:
    plain_url = redis_tls.url.replace("rediss://", "redis://")
    adapter = RedisAdapter(plain_url, password=REDIS_PASSWORD, ca_file=None, timeout=1)
    with pytest.raises(BackendError, match="rediss://"):
        adapter.discard_state()


def test_ca_file_that_does_not_exist(redis_tls: RedisServer) -> None:
    with pytest.raises(UsageError, match="no such file"):
        adapter_for(redis_tls, ca_file="/nonexistent/ca.pem").discard_state()


def test_concurrent_discards_cannot_both_win(redis_server: RedisServer) -> None:
    """Two engineers plan against the same empty key; exactly one write lands."""
    first, second = adapter_for(redis_server), adapter_for(redis_server)
    plan_a = plan_discard(
        first.discard_state(), "run-a", ttl_seconds=None, replace=False, context="t", target=first.target
    )
    plan_b = plan_discard(
        second.discard_state(), "run-b", ttl_seconds=None, replace=False, context="t", target=second.target
    )
    outcomes: list[str] = []

    def attempt(adapter: RedisAdapter, plan) -> None:
        try:
            adapter.apply(plan)
            outcomes.append("applied")
        except Exception as exc:  # noqa: BLE001 - the refusal is what we count
            outcomes.append(type(exc).__name__)

    threads = [threading.Thread(target=attempt, args=pair) for pair in ((first, plan_a), (second, plan_b))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ConflictError", "applied"]
    assert redis_server.client().get(rs.DISCARD_KEY) in {"run-a", "run-b"}


def test_a_discard_with_less_than_a_second_left_still_expires(redis_server: RedisServer) -> None:
    """TTL rounds 400 ms down to 0, which used to read as "no expiry"; PTTL rounds it up to 1 s."""
    client = redis_server.client()
    client.set(rs.DISCARD_KEY, "r1", px=400)
    assert adapter_for(redis_server).discard_state().ttl_seconds == 1
    client.set(rs.DISCARD_KEY, "r1")
    assert adapter_for(redis_server).discard_state().ttl_seconds is None
