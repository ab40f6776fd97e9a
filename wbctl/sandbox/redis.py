"""The sandbox's Redis: fakeredis over TCP, its keys expiring on the simulated clock, answering
`INFO` and `CONFIG GET` as a Redis 7.2 server does.

fakeredis stamps each database with the wall time before every command (`db.time = now`) and
judges expiry against that stamp. Here the stamp is the simulated time instead, so a discard
set with `--ttl 1h` lasts one simulated hour for wbctl, for `redis-cli TTL` and across
`wbctl sandbox advance` alike, and the saved state can hold each key's absolute expiry
(PEXPIRETIME) as it is, without converting between clocks.

fakeredis (2.x) answers neither INFO nor CONFIG GET. The sandbox's connections add both
(`_SandboxSocket`), so `redis-cli -p PORT info server` and wbctl's `redis.version` read the
sandbox as they read a real server: INFO's server, clients, memory, replication and keyspace
sections in Redis's own `field:value` lines, `redis_version` 7.2.x (Memorystore's REDIS_7_2;
W&B's docs require Redis 7.x), and CONFIG GET of the parameters commonly read, with Redis 7.2's
defaults under what CONFIG SET changed.
"""

from __future__ import annotations

import fnmatch
import os
import platform
import secrets
import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any, cast

from fakeredis import FakeServer, TcpFakeServer
from fakeredis import _msgs as msgs

# fakeredis's own classes (private; pyproject pins fakeredis below 3, and the sandbox's tests
# read a TTL and INFO with redis-cli, so an upgrade that moves them fails loudly)
from fakeredis._clients._sync import FakeRedisConnection
from fakeredis._clients._tcp_server import TCPFakeRequestHandler
from fakeredis._commands import Signature
from fakeredis._core._database import Database
from fakeredis._socket import FakeSocket

REDIS_VERSION = "7.2.4"
SERVER_VERSION = (7, 2)  # what fakeredis emulates (it gates commands by version)

# Redis 7.2's defaults (redis.conf) of the parameters an operator or a tool commonly reads
CONFIG_DEFAULTS: dict[str, str] = {
    "appendonly": "no",
    "bind": "127.0.0.1",
    "databases": "16",
    "hz": "10",
    "lazyfree-lazy-eviction": "no",
    "maxclients": "10000",
    "maxmemory": "0",
    "maxmemory-policy": "noeviction",
    "maxmemory-samples": "5",
    "notify-keyspace-events": "",
    "protected-mode": "yes",
    "save": "3600 1 300 100 60 10000",
    "tcp-keepalive": "300",
    "timeout": "0",
}
INFO_SECTIONS = ("server", "clients", "memory", "replication", "keyspace")
_BASE_MEMORY = 1_000_000  # what an empty Redis 7 reports as used_memory, about


class _SimulatedTimeDatabase(Database):
    """A database whose `time` is the simulated time; fakeredis's wall-clock stamps are ignored."""

    def __init__(self, lock: threading.Lock, epoch_seconds: Callable[[], float]) -> None:
        self._epoch_seconds = epoch_seconds
        super().__init__(lock)

    @property
    def time(self) -> float:
        return self._epoch_seconds()

    @time.setter
    def time(self, _wall: float) -> None:
        pass


class _SandboxServer(FakeServer):
    """fakeredis's server state, on the simulated clock, knowing what INFO reports of itself."""

    def __init__(self, epoch_seconds: Callable[[], float]) -> None:
        super().__init__(version=SERVER_VERSION, server_type="redis")
        self.epoch_seconds = epoch_seconds
        self.dbs = defaultdict(lambda: _SimulatedTimeDatabase(self.lock, epoch_seconds))
        self.started = epoch_seconds()
        self.run_id = secrets.token_hex(20)
        self.port = 0
        self.connections = 0


class _SandboxSocket(FakeSocket):
    """A fakeredis connection that also answers INFO and CONFIG GET (looked up here, not in
    fakeredis's global command table, so no other fakeredis user sees them)."""

    _server: _SandboxServer
    _EXTRA = {
        "info": Signature("info", "info", cast(Any, ()), (bytes,)),
        "config get": Signature("config get", "config_get", (bytes,), (bytes,)),
    }

    def _name_to_func(self, cmd_name: str) -> tuple[Callable[[Any], Any] | None, Signature]:
        extra = self._EXTRA.get(cmd_name)
        if extra is not None:
            return getattr(self, extra.func_name), extra
        return super()._name_to_func(cmd_name)

    def info(self, *sections: bytes) -> bytes:
        """INFO [section ...]: no section, `default`, `all` or `everything` is every section here;
        an unknown section adds nothing (Redis answers it with an empty string too)."""
        asked = {section.decode(errors="replace").lower() for section in sections}
        wanted = (
            INFO_SECTIONS
            if not asked or asked & {"default", "all", "everything"}
            else [s for s in INFO_SECTIONS if s in asked]
        )
        return "\r\n".join(self._info_section(name) for name in wanted).encode()

    def config_get(self, *patterns: bytes) -> dict[bytes, bytes]:
        """CONFIG GET pattern [pattern ...]: glob-style, as Redis matches parameter names."""
        current = {**CONFIG_DEFAULTS, "port": str(self._server.port)}
        current.update(
            {k.decode(errors="replace").lower(): v.decode(errors="replace") for k, v in self._server.config.items()}
        )
        current.pop("requirepass", None)  # a secret: the sandbox serves no password, so there is none to show
        found: dict[bytes, bytes] = {}
        for pattern in patterns:
            text = pattern.decode(errors="replace").lower()
            for name in sorted(current):
                if fnmatch.fnmatchcase(name, text):
                    found[name.encode()] = current[name].encode()
        return found

    def _info_section(self, name: str) -> str:
        server = self._server
        now = server.epoch_seconds()
        if name == "server":
            uptime = max(0, int(now - server.started))
            fields = {
                "redis_version": REDIS_VERSION,
                "redis_git_sha1": "00000000",
                "redis_git_dirty": "0",
                "redis_mode": "standalone",
                "os": f"{platform.system()} {platform.release()} {platform.machine()}",
                "arch_bits": "64",
                "multiplexing_api": "epoll",
                "process_id": str(os.getpid()),
                "run_id": server.run_id,
                "tcp_port": str(server.port),
                "server_time_usec": str(int(now * 1_000_000)),
                "uptime_in_seconds": str(uptime),
                "uptime_in_days": str(uptime // 86400),
                "hz": CONFIG_DEFAULTS["hz"],
                "executable": "",
                "config_file": "",
            }
        elif name == "clients":
            fields = {
                "connected_clients": str(max(1, server.connections)),
                "maxclients": self._config("maxclients"),
                "blocked_clients": "0",
            }
        elif name == "memory":
            used = _BASE_MEMORY + sum(
                _size(key) + _size(item.value) for db in server.dbs.values() for key, item in db.items()
            )
            maxmemory = int(self._config("maxmemory") or 0)
            fields = {
                "used_memory": str(used),
                "used_memory_human": _human(used),
                "maxmemory": str(maxmemory),
                "maxmemory_human": _human(maxmemory),
                "maxmemory_policy": self._config("maxmemory-policy"),
            }
        elif name == "replication":
            fields = {"role": "master", "connected_slaves": "0"}
        else:  # keyspace: the databases holding keys
            fields = {}
            for index, db in sorted(server.dbs.items()):
                items = list(db.values())
                if items:
                    expires = sum(1 for item in items if item.expireat is not None)
                    fields[f"db{index}"] = f"keys={len(items)},expires={expires},avg_ttl=0"
        lines = [f"# {name.capitalize()}", *(f"{key}:{value}" for key, value in fields.items())]
        return "\r\n".join(lines) + "\r\n"

    def _config(self, name: str) -> str:
        value = self._server.config.get(name.encode())
        return value.decode(errors="replace") if value is not None else CONFIG_DEFAULTS[name]


class _SandboxConnection(FakeRedisConnection):
    """fakeredis's connection, with the sandbox's socket."""

    def _connect(self) -> FakeSocket:
        server = self._server
        if server is None or not server.connected:
            raise self._connection_error_class(msgs.CONNECTION_ERROR_MSG)
        return _SandboxSocket(
            server,
            client_class=self._client_class,
            db=self.db,
            lua_modules=self._lua_modules,
            client_info=self._client_info,
        )


class _PromptHandler(TCPFakeRequestHandler):
    """A sandbox connection. Replies go out as soon as they are written: a pipeline's replies
    are written one by one, and with Nagle's algorithm each after the first waits for the
    client's delayed ACK (40 ms)."""

    disable_nagle_algorithm = True
    server: Any

    def setup(self) -> None:
        super().setup()
        # fakeredis builds its own connection class here; the sandbox's adds INFO and CONFIG GET
        # and holds nothing more, so the connection (not yet connected) takes the subclass
        if type(self.current_client) is FakeRedisConnection:
            self.current_client.__class__ = _SandboxConnection
        with self.server.fake_server.lock:
            self.server.fake_server.connections += 1

    def finish(self) -> None:
        with self.server.fake_server.lock:
            self.server.fake_server.connections -= 1
        super().finish()


def start_redis(epoch_seconds: Callable[[], float]) -> TcpFakeServer:
    """A Redis on a free loopback port whose clock is `epoch_seconds` (simulated Unix time)."""
    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis", server_version=SERVER_VERSION)
    server.RequestHandlerClass = _PromptHandler
    server.daemon_threads = True
    fake = _SandboxServer(epoch_seconds)
    fake.port = server.server_address[1]
    server.fake_server = fake
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True, name="sandbox-redis"
    ).start()
    return server


def url(server: Any) -> str:
    return f"redis://127.0.0.1:{server.server_address[1]}/0"


def _size(value: Any) -> int:
    """About what a value holds in bytes (strings exactly; a collection by its members)."""
    if isinstance(value, (bytes, str)):
        return len(value)
    if isinstance(value, dict):
        return sum(_size(k) + _size(v) for k, v in value.items())
    if isinstance(value, (list, set, tuple, frozenset)):
        return sum(_size(member) for member in value)
    return 8


def _human(size: int) -> str:
    """Redis's bytesToHuman: 0B, 1.00K, 1.05M, 2.00G."""
    for unit, scale in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if size >= scale:
            return f"{size / scale:.2f}{unit}"
    return f"{size}B"
