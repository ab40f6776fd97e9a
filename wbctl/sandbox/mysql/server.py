"""The sandbox's MySQL: a MySQL 8.0 server's global variables, served over the MySQL wire protocol.

`wbctl --sandbox mysql ...` runs the real PyMySQL adapter (wbctl.adapters.mysql) against this server:
mysql-mimic (PyPI `mysql-mimic`, 3.x) speaks the protocol from asyncio, in an event loop of its own in
a daemon thread, on a free loopback port. What it simulates is the part of MySQL that `mysql check`
and `mysql tune` touch, the way MySQL 8.0.31 (and 8.4, for the story `healthy`) does it:

- the handshake (server version `version`), any user and any password (mysql_native_password; a
  client that starts with caching_sha2_password is asked to switch to it), no TLS (the server does
  not offer it, so PyMySQL without a CA file stays in plain text and with one fails clearly);
- `SHOW [GLOBAL | SESSION] VARIABLES [LIKE 'pattern' | WHERE ...]`, with MySQL's own value
  formats: `ON`/`OFF`, upper-case enums (`ROW`), numbers as text, `long_query_time` as `10.000000`;
- `SET PERSIST | GLOBAL | PERSIST_ONLY | SESSION name = value [, ...]` and `SET @@global.name = ...`:
  several assignments in one statement, a modifier applying to the assignments after it, all or
  nothing; values checked and converted as MySQL does (`slow_query_log = 1` is `ON`, a size below
  its minimum is raised to it, `DEFAULT` is the compiled-in default). Refused with MySQL's code and
  message: an unknown variable (1193), a read-only one (1238: `innodb_autoinc_lock_mode`,
  `skip_show_database`), a global-only one set for the session (1229), a value of the wrong type
  (1232) or out of its set (1231). `SET PERSIST_ONLY` of a read-only variable is accepted and, as in
  MySQL, changes nothing until a restart (the sandbox never restarts);
- `SELECT @@name`, `SELECT VERSION()`, `SET NAMES`, `SET autocommit`, `USE`, and the like, as
  mysql-mimic serves them.

Anything else (tables, data) is answered with error 1235: the sandbox MySQL holds variables only.

The variables: `STORIES` (`healthy`: every flag of wbctl.core.mysql.FLAGS at its recommended value;
`misconfigured`: MySQL 8.0's defaults, as a fresh install has them) over `SERVER_VARIABLES`, the
other variables a MySQL 8.0.31 reports; each story's server version is `STORY_VERSIONS`'s (`healthy`
8.4.x, `misconfigured` 8.0.31, the version W&B's Terraform module creates). The handshake stays
mysql_native_password for every version (8.4 disables it by default): any password is let in anyway.

Three modules in sandbox/mysql/: server.py, this one (the listener, its thread and event loop, the
connections), session.py (each connection's statements, given the shared `Globals`) and
variables.py (each variable's definition, the stories' values, and MySQL's conversions).

The sandbox's entry point is `start_mysql(story, saved)`: a started `SandboxMysql` whose `url` is
the `mysql-url` setting (`mysql-ca-file` None); `variables()` is what to save for the next invocation
(the current global values but `port`), given back as `saved`; `stop()` ends it within a second.

mysql-mimic logs refused statements at ERROR level: its logger is silenced here, or Python's
last-resort handler would print them on wbctl's stderr.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Mapping
from typing import Any, Self

from mysql_mimic import MysqlServer
from mysql_mimic.errors import MysqlError
from mysql_mimic.stream import ConnectionClosed

from wbctl.sandbox.mysql.session import AnyUser, Globals, VariablesSession
from wbctl.sandbox.mysql.variables import (
    DATABASE,
    SERVER_VARIABLES,
    SPECS,
    STORIES,
    STORY_VERSIONS,
    VERSION,
    Spec,
    from_text,
    specs_of,
    story_variables,
)

__all__ = ["SERVER_VARIABLES", "STORIES", "THREAD_NAME", "SandboxMysql", "start_mysql", "story_variables"]

THREAD_NAME = "wbctl-sandbox-mysql"  # the server thread's name starts with this

_log = logging.getLogger("mysql_mimic")
_log.addHandler(logging.NullHandler())
_log.propagate = False


def start_mysql(story: str, saved: Mapping[str, str] | None = None) -> SandboxMysql:
    """The sandbox's entry point: a started server with the story's variables, then what an earlier
    invocation saved (`SandboxMysql.variables()`) on top. Only run-time settable variables are taken
    from `saved` (version, port and the read-only flags come from the story); saved values this
    server would not accept are ignored, so an old state file never stops the sandbox."""
    variables = story_variables(story)
    for name, value in (saved or {}).items():
        spec = SPECS.get(str(name).lower())
        if spec is None or not spec.dynamic:
            continue
        try:
            variables[str(name).lower()] = from_text(str(name).lower(), spec, str(value))
        except MysqlError:
            continue
    return SandboxMysql(variables, version=STORY_VERSIONS[story]).start()


# --- the server ----------------------------------------------------------------------------


class _Server(MysqlServer):
    """mysql-mimic's server, knowing its connections so that stop() can close every one."""

    def __init__(self, connections: dict[asyncio.Task[Any], asyncio.StreamWriter], **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.connections = connections

    async def _client_connected_cb(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.connections[task] = writer
        try:
            await super()._client_connected_cb(reader, writer)
        except (ConnectionClosed, ConnectionError, asyncio.IncompleteReadError):
            pass  # the client went away mid-handshake or mid-packet
        finally:
            self.connections.pop(task, None)
            writer.close()  # mysql-mimic leaves it open when it refuses a connection


class SandboxMysql:
    """A MySQL 8.0 server's variables on 127.0.0.1:`port`, served from a daemon thread.

    `variables` are global variables by name (values as SHOW VARIABLES prints them) on top of
    SERVER_VARIABLES; a name MySQL does not define here is served read-only, as text.
    """

    def __init__(self, variables: Mapping[str, str], *, version: str = VERSION) -> None:
        specs = specs_of(version)
        values = {
            name: spec.default if spec.kind == "str" else from_text(name, spec, spec.default)
            for name, spec in specs.items()
        }
        values.update(version=version, innodb_version=version.split("-")[0])
        for raw, value in variables.items():
            name = str(raw).lower()
            if name not in specs:
                specs[name] = Spec("str", str(value), dynamic=False)
            try:
                values[name] = from_text(name, specs[name], str(value))
            except MysqlError as exc:
                raise ValueError(f"sandbox MySQL variable {name}={value!r}: {exc.msg}") from None
        self._specs = specs
        self._values = values
        self._globals: Globals | None = None
        self._connections: dict[asyncio.Task[Any], asyncio.StreamWriter] = {}
        self.errors: list[dict[str, Any]] = []  # what the event loop would have logged (nothing, normally)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event | None = None
        self._failure: BaseException | None = None
        self.port = 0
        self.start_seconds = 0.0  # how long start() took

    @property
    def url(self) -> str:
        return f"mysql://wandb@127.0.0.1:{self.port}/{DATABASE}"

    def variables(self) -> dict[str, str]:
        """The current global values (what `SHOW GLOBAL VARIABLES` lists), for saving between runs:
        all but `port`, which is this run's, so that the dict changes only when a SET changed it."""
        values = self._globals.snapshot() if self._globals is not None else dict(self._values)
        values.pop("port", None)
        return values

    def start(self) -> Self:
        """Listen on a free loopback port and serve from a daemon thread; returns once connections
        are being accepted."""
        if self._thread is not None:
            raise RuntimeError("the sandbox MySQL is already started")
        began = time.perf_counter()
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            listener.bind(("127.0.0.1", 0))
            listener.listen(64)
            listener.setblocking(False)
        except OSError:
            listener.close()
            raise
        self.port = listener.getsockname()[1]
        self._values["port"] = str(self.port)
        self._globals = Globals(self._specs, self._values)
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(listener, ready), name=f"{THREAD_NAME}:{self.port}", daemon=True
        )
        self._thread.start()
        if not ready.wait(10) or self._failure is not None:
            self.stop()
            raise RuntimeError(f"the sandbox MySQL did not start: {self._failure or 'timed out'}")
        self.start_seconds = time.perf_counter() - began
        return self

    def _run(self, listener: socket.socket, ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop
        try:
            loop.run_until_complete(self._serve(listener, ready))
        except BaseException as exc:  # noqa: BLE001 - reported to start() or lost with the daemon thread
            self._failure = exc
        finally:
            listener.close()  # no-op once asyncio closed it
            with contextlib.suppress(Exception):
                loop.run_until_complete(loop.shutdown_asyncgens())
            loop.close()
            ready.set()

    async def _serve(self, listener: socket.socket, ready: threading.Event) -> None:
        self._stopping = asyncio.Event()
        # the loop's complaints go to `errors`, never to the stderr of the wbctl process hosting it
        asyncio.get_running_loop().set_exception_handler(self._loop_error)
        globals_ = self._globals
        assert globals_ is not None  # start() made them
        server = _Server(
            self._connections, session_factory=lambda: VariablesSession(globals_), identity_provider=AnyUser()
        )
        await server.start_server(sock=listener, port=None, host=None)
        ready.set()
        try:
            await self._stopping.wait()
        finally:
            server.close()  # the listener
            for writer in list(self._connections.values()):  # every connection, whatever it was doing:
                writer.transport.abort()  # its read ends, so its handler returns
            handlers = list(self._connections)
            if handlers:
                _done, pending = await asyncio.wait(handlers, timeout=0.5)
                for task in pending:
                    task.cancel()
            me = asyncio.current_task()
            rest = [task for task in asyncio.all_tasks() if task is not me]
            for task in rest:
                task.cancel()
            await asyncio.gather(*rest, return_exceptions=True)
            await asyncio.sleep(0)  # the transports' connection_lost callbacks

    def _loop_error(self, _loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
        self.errors.append(context)

    def stop(self) -> None:
        """Close the listener and every connection and end the thread (within a second)."""
        thread, loop, stopping = self._thread, self._loop, self._stopping
        if thread is None:
            return
        if loop is not None and stopping is not None:
            with contextlib.suppress(RuntimeError):  # the loop already closed
                loop.call_soon_threadsafe(stopping.set)
        thread.join(1.0)
        self._thread = None

    def __enter__(self) -> Self:
        return self.start() if self._thread is None else self

    def __exit__(self, *exc: object) -> None:
        self.stop()
