"""The sandbox's Redis (wbctl/sandbox/redis.py) answers INFO and CONFIG GET as a Redis 7.2 does,
read with the real redis-cli binary, redis-py in both protocols, and wbctl's adapter."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator

import pytest
import redis

from wbctl.adapters.redis import RedisAdapter
from wbctl.core import redis_settings as rs
from wbctl.core.model import Status
from wbctl.sandbox.redis import REDIS_VERSION, start_redis, url

EPOCH = 1_800_000_000.0


@pytest.fixture
def sandbox_redis() -> Iterator[tuple[object, list[float]]]:
    clock = [EPOCH]
    server = start_redis(lambda: clock[0])
    yield server, clock
    server.shutdown()
    server.server_close()


def cli(server, *argv: str) -> str:
    binary = shutil.which("redis-cli")
    if binary is None:
        pytest.fail("redis-cli is not installed: apt-get install redis-tools")
    port = str(server.server_address[1])
    result = subprocess.run([binary, "-p", port, *argv], capture_output=True, text=True, timeout=10, check=True)
    return result.stdout


def fields(text: str) -> dict[str, str]:
    return dict(line.split(":", 1) for line in text.splitlines() if line and not line.startswith("#"))


def test_redis_cli_info_server_names_a_redis_7_server(sandbox_redis) -> None:
    server, clock = sandbox_redis
    clock[0] += 3600  # an hour of simulated time since it started
    text = cli(server, "info", "server")
    assert text.splitlines()[0] == "# Server"
    server_fields = fields(text)
    assert server_fields["redis_version"] == REDIS_VERSION and REDIS_VERSION.startswith("7.")
    assert server_fields["redis_mode"] == "standalone"
    assert server_fields["tcp_port"] == str(server.server_address[1])
    assert server_fields["uptime_in_seconds"] == "3600"  # on the simulated clock, as the keys' TTLs are
    assert "# Memory" not in text  # one section asked, one given


def test_info_sections_memory_clients_and_keyspace(sandbox_redis) -> None:
    server, _ = sandbox_redis
    client = redis.Redis.from_url(url(server), decode_responses=True)
    client.set("bigtablev3.filestream.write_cache_size", "10000000")
    client.set(rs.DISCARD_KEY, "noisy", ex=600)
    every = cli(server, "info")
    assert [line for line in every.splitlines() if line.startswith("# ")] == [
        "# Server",
        "# Clients",
        "# Memory",
        "# Replication",
        "# Keyspace",
    ]
    assert fields(every)["db0"] == "keys=2,expires=1,avg_ttl=0"
    memory = client.info("memory")
    assert memory["maxmemory"] == 0 and memory["maxmemory_policy"] == "noeviction" and memory["used_memory"] > 0
    assert client.info("clients")["connected_clients"] >= 1
    assert cli(server, "info", "nosuchsection").strip() == ""  # as Redis answers it
    client.close()


def test_config_get_answers_the_common_parameters_and_what_config_set_changed(sandbox_redis) -> None:
    server, _ = sandbox_redis
    assert cli(server, "config", "get", "maxmemory-policy").split() == ["maxmemory-policy", "noeviction"]
    resp3 = redis.Redis.from_url(url(server), decode_responses=True, protocol=3)
    assert resp3.config_get("maxmemory*") == {
        "maxmemory": "0",
        "maxmemory-policy": "noeviction",
        "maxmemory-samples": "5",
    }
    assert resp3.config_set("maxmemory-policy", "allkeys-lru")
    assert resp3.config_get("maxmemory-policy") == {"maxmemory-policy": "allkeys-lru"}
    assert resp3.info("memory")["maxmemory_policy"] == "allkeys-lru"
    assert cli(server, "config", "get", "nosuchparameter").strip() == ""
    resp3.close()


def test_wbctls_adapter_reads_the_version_and_judges_it_ok(sandbox_redis) -> None:
    server, _ = sandbox_redis
    adapter = RedisAdapter(url(server), password=None, ca_file=None, timeout=2.0)
    try:
        observation = adapter.observe([r.key for r in rs.RECOMMENDED])
    finally:
        adapter.close()
    assert observation.version.value == REDIS_VERSION
    assert rs.version_finding(observation.target, observation.version).status is Status.OK
