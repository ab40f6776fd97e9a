"""`redis.version` read from real redis-servers: `INFO server`'s redis_version, and a server that
refuses INFO (an ACL) leaving the version unknown with its answer while the keys are still read."""

from __future__ import annotations

from tests.support.redis import RedisServer
from wbctl.adapters.redis import RedisAdapter
from wbctl.core import redis_settings as rs
from wbctl.core.model import Status

KEYS = [r.key for r in rs.RECOMMENDED]


def test_the_version_is_info_servers_redis_version(redis_server: RedisServer, redis_auth: RedisServer) -> None:
    for server in (redis_server, redis_auth):
        adapter = RedisAdapter(server.url, password=server.password, ca_file=None, timeout=2.0)
        try:
            observation = adapter.observe(KEYS)
        finally:
            adapter.close()
        running = str(server.client().info("server")["redis_version"])
        assert observation.version.value == running
        finding = rs.version_finding(observation.target, observation.version)
        # whatever apt installed here: 7.x and later is what W&B's docs require
        assert finding.status is (Status.OK if int(running.split(".")[0]) >= 7 else Status.WARN)


def test_a_server_refusing_info_leaves_the_version_unknown_and_the_keys_read(redis_server: RedisServer) -> None:
    client = redis_server.client()
    client.set("bigtablev3.filestream.metric_points_chunk_size", "20000")
    password = "n0-Info-pw"
    client.acl_setuser("noinfo", enabled=True, passwords=[f"+{password}"], keys=["*"], commands=["+@all", "-info"])
    try:
        url = f"redis://noinfo:{password}@127.0.0.1:{redis_server.port}/0"
        adapter = RedisAdapter(url, password=None, ca_file=None, timeout=2.0)
        try:
            observation = adapter.observe(KEYS)
        finally:
            adapter.close()
    finally:
        client.acl_deluser("noinfo")
    assert observation.values["bigtablev3.filestream.metric_points_chunk_size"] == "20000"
    assert observation.version.value is None
    reason = observation.version.reason
    assert reason.startswith(f"Redis at redis://127.0.0.1:{redis_server.port}/0 refused reading INFO server")
    assert "permission" in reason.lower() and password not in reason
    finding = rs.version_finding(observation.target, observation.version)
    assert (finding.status, finding.message) == (Status.UNKNOWN, reason)
