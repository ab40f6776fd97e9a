"""The sandbox's Redis: fakeredis over TCP, its keys expiring on the simulated clock.

fakeredis stamps each database with the wall time before every command (`db.time = now`) and
judges expiry against that stamp. Here the stamp is the simulated time instead, so a discard
set with `--ttl 1h` lasts one simulated hour for wbctl, for `redis-cli TTL` and across
`wbctl sandbox advance` alike, and the saved state can hold each key's absolute expiry
(PEXPIRETIME) as it is, without converting between clocks.
"""

from __future__ import annotations

import threading
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from fakeredis import TcpFakeServer

# fakeredis's own database and request handler classes (private; pyproject pins fakeredis below
# 3, and the sandbox's tests read a TTL with redis-cli so an upgrade that moves them fails loudly)
from fakeredis._clients._tcp_server import TCPFakeRequestHandler
from fakeredis._core._database import Database


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


class _PromptHandler(TCPFakeRequestHandler):
    """Replies go out as soon as they are written: a pipeline's replies are written one by one,
    and with Nagle's algorithm each after the first waits for the client's delayed ACK (40 ms)."""

    disable_nagle_algorithm = True


def start_redis(epoch_seconds: Callable[[], float]) -> TcpFakeServer:
    """A Redis on a free loopback port whose clock is `epoch_seconds` (simulated Unix time)."""
    server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
    server.RequestHandlerClass = _PromptHandler
    server.daemon_threads = True
    fake = server.fake_server
    fake.dbs = defaultdict(lambda: _SimulatedTimeDatabase(fake.lock, epoch_seconds))
    threading.Thread(
        target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True, name="sandbox-redis"
    ).start()
    return server


def url(server: Any) -> str:
    return f"redis://127.0.0.1:{server.server_address[1]}/0"
