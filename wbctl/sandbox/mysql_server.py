"""The sandbox's MySQL: a MySQL 8.0 server's global variables, served over the MySQL wire protocol.

`wbctl --sandbox mysql ...` runs the real PyMySQL adapter (wbctl.adapters.mysql) against this server:
mysql-mimic (PyPI `mysql-mimic`, 3.x) speaks the protocol from asyncio, in an event loop of its own in
a daemon thread, on a free loopback port. What it simulates is the part of MySQL that `mysql check`
and `mysql tune` touch, the way MySQL 8.0.31 does it:

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
other variables a MySQL 8.0.31 reports.

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
import re
import socket
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Self

from mysql_mimic import IdentityProvider, MysqlServer, Session
from mysql_mimic.auth import NativePasswordAuthPlugin, User
from mysql_mimic.errors import SQLSTATES, MysqlError
from mysql_mimic.intercept import expression_to_value, setitem_kind
from mysql_mimic.stream import ConnectionClosed
from mysql_mimic.variables import SYSTEM_VARIABLES, Variables
from sqlglot import expressions as exp
from sqlglot.executor import execute

from wbctl.core.mysql import FLAGS, MYSQL_80_DEFAULTS

__all__ = ["SERVER_VARIABLES", "STORIES", "THREAD_NAME", "SandboxMysql", "start_mysql", "story_variables"]

THREAD_NAME = "wbctl-sandbox-mysql"  # the server thread's name starts with this
DATABASE = "wandb_local"
VERSION = "8.0.31"

_log = logging.getLogger("mysql_mimic")
_log.addHandler(logging.NullHandler())
_log.propagate = False

# MySQL's error codes (MySQL 8.0 server error reference); SQLSTATE HY000 unless mysql-mimic's table says otherwise
ER_GLOBAL_VARIABLE = 1229
ER_WRONG_VALUE_FOR_VAR = 1231
ER_WRONG_TYPE_FOR_VAR = 1232
ER_NOT_SUPPORTED_YET = 1235
ER_INCORRECT_GLOBAL_LOCAL_VAR = 1238
ER_UNKNOWN_SYSTEM_VARIABLE = 1193
ER_PARSE_ERROR = 1064
SQLSTATES.setdefault(ER_WRONG_TYPE_FOR_VAR, b"42000")  # mysql-mimic's table lacks it (others default to HY000)


@dataclass(frozen=True)
class Spec:
    """One system variable: its type, compiled-in default, whether SET may change it (`dynamic`),
    and whether it has a session value too (`scope` "both") or only a global one ("global")."""

    kind: str  # bool | int | float | enum | set | str
    default: str
    dynamic: bool = True
    scope: str = "global"
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None


_U32, _U64 = 4294967295, 18446744073709551615

# The W&B flags as MySQL 8.0.31 defines them (MySQL 8.0 Reference Manual, "Server System
# Variables", "Binary Logging Options and Variables", "InnoDB Startup Options and System Variables").
FLAG_SPECS: dict[str, Spec] = {
    "binlog_format": Spec("enum", "ROW", scope="both", choices=("MIXED", "STATEMENT", "ROW")),
    "binlog_row_image": Spec("enum", "FULL", scope="both", choices=("MINIMAL", "NOBLOB", "FULL")),
    "binlog_row_value_options": Spec("set", "", scope="both", choices=("PARTIAL_JSON",)),
    "innodb_autoinc_lock_mode": Spec("int", "2", dynamic=False, minimum=0, maximum=2),
    "innodb_flush_log_at_trx_commit": Spec("int", "1", minimum=0, maximum=2),
    "innodb_lru_scan_depth": Spec("int", "1024", minimum=100, maximum=_U64),
    "innodb_online_alter_log_max_size": Spec("int", "134217728", minimum=65536, maximum=_U64),
    "innodb_print_all_deadlocks": Spec("bool", "OFF"),
    "local_infile": Spec("bool", "OFF"),
    "long_query_time": Spec("float", "10", scope="both", minimum=0, maximum=31536000),
    "max_execution_time": Spec("int", "0", scope="both", minimum=0, maximum=_U32),
    "max_prepared_stmt_count": Spec("int", "16382", minimum=0, maximum=4194304),
    "skip_show_database": Spec("bool", "OFF", dynamic=False),
    "slow_query_log": Spec("bool", "OFF"),
    "sort_buffer_size": Spec("int", "262144", scope="both", minimum=32768, maximum=_U64),
    "sync_binlog": Spec("int", "1", minimum=0, maximum=_U32),
}
assert set(FLAG_SPECS) == {flag.name for flag in FLAGS}, "every W&B flag needs its MySQL definition"
assert all(FLAG_SPECS[name].default == value for name, value in MYSQL_80_DEFAULTS.items())
assert all(FLAG_SPECS[flag.name].dynamic == flag.dynamic for flag in FLAGS)

_SQL_MODE = ("ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
             "NO_ENGINE_SUBSTITUTION")

# The other variables of a MySQL 8.0.31 server (its defaults; a few of its ~600), as SHOW GLOBAL
# VARIABLES prints them. `version`, `innodb_version` and `port` are filled in by the server.
SERVER_SPECS: dict[str, Spec] = {
    "auto_increment_increment": Spec("int", "1", scope="both", minimum=1, maximum=65535),
    "autocommit": Spec("bool", "ON", scope="both"),
    "binlog_expire_logs_seconds": Spec("int", "2592000", minimum=0, maximum=_U32),
    "character_set_client": Spec("str", "utf8mb4", scope="both"),
    "character_set_connection": Spec("str", "utf8mb4", scope="both"),
    "character_set_database": Spec("str", "utf8mb4", scope="both"),
    "character_set_results": Spec("str", "utf8mb4", scope="both"),
    "character_set_server": Spec("str", "utf8mb4", scope="both"),
    "collation_connection": Spec("str", "utf8mb4_0900_ai_ci", scope="both"),
    "collation_database": Spec("str", "utf8mb4_0900_ai_ci", scope="both"),
    "collation_server": Spec("str", "utf8mb4_0900_ai_ci", scope="both"),
    "datadir": Spec("str", "/var/lib/mysql/", dynamic=False),
    "default_authentication_plugin": Spec("str", "caching_sha2_password", dynamic=False),
    "default_storage_engine": Spec("str", "InnoDB", scope="both"),
    "event_scheduler": Spec("enum", "ON", choices=("ON", "OFF", "DISABLED")),
    "gtid_mode": Spec("enum", "OFF", choices=("OFF", "OFF_PERMISSIVE", "ON_PERMISSIVE", "ON")),
    "have_ssl": Spec("str", "DISABLED", dynamic=False),  # the sandbox serves no TLS
    "hostname": Spec("str", "wbctl-sandbox", dynamic=False),
    "innodb_buffer_pool_size": Spec("int", "134217728", minimum=5242880, maximum=_U64),
    "innodb_file_per_table": Spec("bool", "ON"),
    "innodb_version": Spec("str", VERSION, dynamic=False),
    "interactive_timeout": Spec("int", "28800", scope="both", minimum=1, maximum=31536000),
    "license": Spec("str", "GPL", dynamic=False),
    "log_bin": Spec("bool", "ON", dynamic=False),
    "lower_case_table_names": Spec("int", "0", dynamic=False, minimum=0, maximum=2),
    "max_allowed_packet": Spec("int", "67108864", scope="both", minimum=1024, maximum=1073741824),
    "max_connections": Spec("int", "151", minimum=1, maximum=100000),
    "net_buffer_length": Spec("int", "16384", scope="both", minimum=1024, maximum=1048576),
    "net_write_timeout": Spec("int", "60", scope="both", minimum=1, maximum=31536000),
    "performance_schema": Spec("bool", "ON", dynamic=False),
    "port": Spec("int", "3306", dynamic=False, minimum=0, maximum=65535),
    "protocol_version": Spec("int", "10", dynamic=False),
    "read_only": Spec("bool", "OFF"),
    "require_secure_transport": Spec("bool", "OFF"),
    "server_id": Spec("int", "1", minimum=0, maximum=_U32),
    "skip_name_resolve": Spec("bool", "OFF", dynamic=False),
    "sql_mode": Spec("str", _SQL_MODE, scope="both"),
    "super_read_only": Spec("bool", "OFF"),
    "system_time_zone": Spec("str", "UTC", dynamic=False),
    "time_zone": Spec("str", "SYSTEM", scope="both"),
    "transaction_isolation": Spec("enum", "REPEATABLE-READ", scope="both",
                                  choices=("READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE")),
    "transaction_read_only": Spec("bool", "OFF", scope="both"),
    "version": Spec("str", VERSION, dynamic=False),
    "version_comment": Spec("str", "MySQL Community Server - GPL", dynamic=False),
    "version_compile_machine": Spec("str", "x86_64", dynamic=False),
    "version_compile_os": Spec("str", "Linux", dynamic=False),
    "wait_timeout": Spec("int", "28800", scope="both", minimum=1, maximum=31536000),
}
SPECS: dict[str, Spec] = {**SERVER_SPECS, **FLAG_SPECS}
SERVER_VARIABLES: dict[str, str] = {name: spec.default for name, spec in SERVER_SPECS.items()}

# mysql-mimic's own session values that its code parses (time_zone must be UTC or +HH:MM there):
# a session reads these from mysql-mimic's defaults, never from the global `time_zone` = SYSTEM
_MIMIC_OWNED = frozenset({"time_zone"})

STORIES: dict[str, dict[str, str]] = {
    # every W&B flag at its recommended value
    "healthy": {flag.name: flag.value for flag in FLAGS},
    # a fresh install: MySQL 8.0's default of every flag (what an unset Cloud SQL flag holds too)
    "misconfigured": dict(MYSQL_80_DEFAULTS),
}


def story_variables(story: str) -> dict[str, str]:
    """The W&B flags of the story `healthy` or `misconfigured` (the server adds SERVER_VARIABLES)."""
    if story not in STORIES:
        raise ValueError(f"unknown sandbox MySQL story {story!r} (known: {', '.join(STORIES)})")
    return dict(STORIES[story])


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
            variables[str(name).lower()] = _from_text(str(name).lower(), spec, str(value))
        except MysqlError:
            continue
    return SandboxMysql(variables).start()


# --- values as MySQL takes and prints them ---------------------------------------------------


def _error(code: int, message: str) -> MysqlError:
    return MysqlError(message, code=code)  # type: ignore[arg-type]  # any MySQL code: the packet takes an int


def _number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def _canonical(name: str, spec: Spec, kind: str, text: str) -> str:
    """The value as SHOW VARIABLES prints it, of a value given as `kind` (num: a number literal,
    str: a quoted string, word: a bare word such as ON or MINIMAL), or MySQL's error."""
    wrong_value = _error(ER_WRONG_VALUE_FOR_VAR, f"Variable '{name}' can't be set to the value of '{text}'")
    wrong_type = _error(ER_WRONG_TYPE_FOR_VAR, f"Incorrect argument type to variable '{name}'")
    if spec.kind == "bool":
        if kind == "num":
            if text in ("0", "1"):
                return "ON" if text == "1" else "OFF"
            raise wrong_type if not re.fullmatch(r"-?\d+", text) else wrong_value
        upper = text.upper()
        if upper in ("ON", "TRUE"):
            return "ON"
        if upper in ("OFF", "FALSE"):
            return "OFF"
        raise wrong_value
    if spec.kind == "enum":
        if kind == "num":
            if re.fullmatch(r"\d+", text) and int(text) < len(spec.choices):
                return spec.choices[int(text)]
            raise wrong_type if not re.fullmatch(r"-?\d+", text) else wrong_value
        for choice in spec.choices:
            if choice.upper() == text.upper():
                return choice
        raise wrong_value
    if spec.kind == "set":
        if kind == "num":
            if not re.fullmatch(r"\d+", text):
                raise wrong_type
            mask = int(text)
            if mask >= 1 << len(spec.choices):
                raise wrong_value
            return ",".join(choice for bit, choice in enumerate(spec.choices) if mask >> bit & 1)
        chosen = [item.strip().upper() for item in text.split(",") if item.strip()]
        known = {choice.upper(): choice for choice in spec.choices}
        if any(item not in known for item in chosen):
            raise wrong_value
        return ",".join(choice for choice in spec.choices if choice.upper() in chosen)
    if spec.kind in ("int", "float"):
        if kind != "num":
            raise wrong_type
        if spec.kind == "int" and not re.fullmatch(r"-?\d+", text):
            raise wrong_type
        number: float = int(text) if spec.kind == "int" else float(text)
        if spec.minimum is not None and number < spec.minimum:  # MySQL: truncated, with a warning
            number = spec.minimum
        if spec.maximum is not None and number > spec.maximum:
            number = spec.maximum
        return str(int(number)) if spec.kind == "int" else f"{float(number):.6f}"
    return text  # str


def _from_text(name: str, spec: Spec, text: str) -> str:
    """A value written as SHOW VARIABLES prints it (a story's, a saved one) in its canonical form."""
    stripped = text.strip()
    kind = "num" if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", stripped) and spec.kind != "str" else "str"
    if kind == "num" and spec.kind == "int" and not re.fullmatch(r"-?\d+", stripped):
        stripped = _number_text(float(stripped))
    return _canonical(name, spec, kind, stripped)


def _literal(expression: exp.Expression) -> tuple[str, str]:
    """(kind, text) of the right-hand side of an assignment: num, str, word, default or null."""
    if isinstance(expression, exp.Literal):
        return ("str" if expression.is_string else "num"), expression.name
    if isinstance(expression, exp.Neg) and isinstance(expression.this, exp.Literal) and not expression.this.is_string:
        return "num", "-" + expression.this.name
    if isinstance(expression, exp.Boolean):
        return "num", "1" if expression.this else "0"
    if isinstance(expression, exp.Null):
        return "null", "NULL"
    if isinstance(expression, (exp.Var, exp.Column, exp.Identifier)) and expression.name:
        word = expression.name
        return ("default", word) if word.upper() == "DEFAULT" else ("word", word)
    try:  # an expression such as 64 * 1024 * 1024
        value = execute(exp.select(expression.copy())).rows[0][0]
    except Exception:  # noqa: BLE001 - sqlglot's executor raises many kinds; the client gets MySQL's error
        raise _error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support '{expression.sql('mysql')}' "
                                           "as a variable's value (the wbctl sandbox)") from None
    if isinstance(value, bool):
        return "num", "1" if value else "0"
    if isinstance(value, (int, float)):
        return "num", _number_text(value)
    return ("null", "NULL") if value is None else ("str", str(value))


def _like(pattern: str) -> re.Pattern[str]:
    """MySQL's LIKE (%, _, backslash escapes), case-insensitive as SHOW VARIABLES matches names."""
    parts = []
    chars = iter(pattern)
    for char in chars:
        if char == "\\":
            parts.append(re.escape(next(chars, "\\")))
        elif char == "%":
            parts.append(".*")
        elif char == "_":
            parts.append(".")
        else:
            parts.append(re.escape(char))
    return re.compile("".join(parts), re.IGNORECASE | re.DOTALL)


def _shown(value: Any) -> str:
    if isinstance(value, bool):
        return "ON" if value else "OFF"
    return "" if value is None else str(value)


# --- the server's state, shared by every connection -------------------------------------------


class _Globals:
    """The global values, read by the server's thread and by `SandboxMysql.variables()`."""

    def __init__(self, specs: dict[str, Spec], values: dict[str, str]) -> None:
        self.specs = specs
        self._values = values
        self._lock = threading.Lock()

    def get(self, name: str) -> str | None:
        with self._lock:
            return self._values.get(name)

    def update(self, values: Mapping[str, str]) -> None:
        with self._lock:
            self._values.update(values)

    def snapshot(self) -> dict[str, str]:
        with self._lock:
            return dict(self._values)


class _SessionVariables(Variables):
    """A session's variables: its own SET SESSION values over the current global values (a new
    session starts from the globals, as in MySQL), and mysql-mimic's own for the rest."""

    def __init__(self, globals_: _Globals) -> None:
        self._globals = globals_
        self._schema = {**{name: (str, spec.default, spec.dynamic) for name, spec in globals_.specs.items()},
                        **SYSTEM_VARIABLES}  # mysql-mimic's types for the names its code sets and reads
        super().__init__()

    @property
    def schema(self) -> dict[str, Any]:
        return self._schema

    def get_variable(self, name: str) -> Any | None:
        name = name.lower()
        if name in self._values:
            return self._values[name]
        if name not in _MIMIC_OWNED:
            value = self._globals.get(name)
            if value is not None:
                return value
        return super().get_variable(name)

    def session_values(self) -> dict[str, str]:
        return {name: _shown(value) for name, value in self._values.items() if name in self._globals.specs}


class _AnyPassword(NativePasswordAuthPlugin):
    """mysql_native_password that lets every password in: the sandbox is local and holds no data."""

    def password_matches(self, user: User, scramble: bytes, nonce: bytes) -> bool:
        return True


class _AnyUser(IdentityProvider):
    def get_plugins(self) -> list[Any]:
        return [_AnyPassword()]

    async def get_user(self, username: str) -> User | None:
        return User(name=username, auth_plugin=_AnyPassword.name)


class _Session(Session):
    """mysql-mimic's session, with SET and SHOW VARIABLES answered from the sandbox's variables."""

    def __init__(self, server: SandboxMysql) -> None:
        assert server._globals is not None
        self._globals = server._globals
        super().__init__(_SessionVariables(server._globals))
        self.middlewares[self.middlewares.index(self._set_middleware)] = self._sandbox_set
        self.middlewares.insert(self.middlewares.index(self._show_middleware), self._sandbox_show)

    async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
        raise _error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support '{sql.strip()[:200]}' "
                                           "(the wbctl sandbox's MySQL serves its variables only)")

    async def schema(self) -> dict[str, Any]:
        return {DATABASE: {"wbctl_sandbox": {"note": "TEXT"}}}

    # SHOW VARIABLES

    async def _sandbox_show(self, q: Any) -> Any:
        show = q.expression
        if not (isinstance(show, exp.Show) and show.name.upper() == "VARIABLES"):
            return await q.next()
        values = self._globals.snapshot()
        if not (show.args.get("global_") or show.args.get("global")):
            values.update(self.variables.session_values())  # type: ignore[attr-defined]
        rows = sorted(values.items())
        like = show.args.get("like")
        if like is not None:
            pattern = _like(like.name)
            rows = [(name, value) for name, value in rows if pattern.fullmatch(name)]
        where = show.args.get("where")
        if where is not None:
            condition = where.this.transform(
                lambda node: exp.column(node.name.lower()) if isinstance(node, exp.Column) else node)
            table = [{"variable_name": name, "value": value} for name, value in rows]
            try:
                rows = [tuple(row) for row in execute(
                    exp.select("variable_name", "value").from_("v").where(condition), tables={"v": table}).rows]
            except Exception as exc:  # noqa: BLE001 - sqlglot's executor: an unsupported condition
                raise _error(ER_PARSE_ERROR, f"the wbctl sandbox cannot evaluate WHERE {condition.sql('mysql')}: {exc}") from None
        return rows, ["Variable_name", "Value"]

    # SET

    async def _sandbox_set(self, q: Any) -> Any:
        if not isinstance(q.expression, exp.Set):
            return await q.next()
        modifier = "SESSION"
        global_changes: dict[str, str] = {}
        session_changes: list[tuple[str, Any]] = []
        others: list[exp.SetItem] = []
        for item in q.expression.expressions:
            if setitem_kind(item) != "VARIABLE":  # SET NAMES, CHARACTER SET, TRANSACTION: mysql-mimic's
                others.append(item)
                continue
            if item.text("kind"):
                modifier = item.text("kind").upper()  # applies to this and the following assignments
            left = item.this.left
            if isinstance(left, exp.SessionParameter):  # @@global.name, @@session.name, @@name
                scope = (left.text("kind") or "SESSION").upper()
            elif isinstance(left, exp.Parameter):
                raise _error(ER_NOT_SUPPORTED_YET, "This version of MySQL doesn't yet support user variables "
                                                   "(the wbctl sandbox)")
            else:
                scope = modifier
            name = left.name.lower()
            self._assign(scope, name, item.this.right, global_changes, session_changes)
        # every assignment was checked: make them all (MySQL: one failing assignment changes nothing)
        self._globals.update(global_changes)
        for name, value in session_changes:
            self.variables.set(name, value)
        for item in others:  # mysql-mimic's own handling of these
            kind = setitem_kind(item)
            if kind == "NAMES":
                self._set_names(item)
            elif kind == "CHARACTER SET":
                self._set_charset(item)
            elif kind == "TRANSACTION":
                self._set_transaction(item)
            else:
                raise _error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support SET {kind}")
        return [], []

    def _assign(self, scope: str, name: str, right: exp.Expression,
                global_changes: dict[str, str], session_changes: list[tuple[str, Any]]) -> None:
        scope = "SESSION" if scope == "LOCAL" else scope
        spec = self._globals.specs.get(name)
        if spec is None:
            if scope == "SESSION" and name in SYSTEM_VARIABLES and SYSTEM_VARIABLES[name][2]:
                session_changes.append((name, _mimic_value(right)))  # mysql-mimic's own session variable
                return
            raise _error(ER_UNKNOWN_SYSTEM_VARIABLE, f"Unknown system variable '{name}'")
        if scope not in ("GLOBAL", "PERSIST", "PERSIST_ONLY", "SESSION"):
            raise _error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support SET {scope}")
        if not spec.dynamic and scope != "PERSIST_ONLY":
            raise _error(ER_INCORRECT_GLOBAL_LOCAL_VAR, f"Variable '{name}' is a read only variable")
        if scope == "SESSION" and spec.scope == "global":
            raise _error(ER_GLOBAL_VARIABLE, f"Variable '{name}' is a GLOBAL variable and should be set with SET GLOBAL")
        kind, text = _literal(right)
        if kind == "default":
            value = _from_text(name, spec, spec.default) if scope != "SESSION" else self._globals.get(name) or spec.default
        elif kind == "null":
            raise _error(ER_WRONG_VALUE_FOR_VAR, f"Variable '{name}' can't be set to the value of 'NULL'")
        else:
            value = _canonical(name, spec, kind, text)
        if scope == "PERSIST_ONLY":
            return  # written for the next start, which the sandbox never has: the running value stays
        if scope == "SESSION":
            session_changes.append((name, _mimic_value(right) if name in SYSTEM_VARIABLES else value))
        else:
            global_changes[name] = value


def _mimic_value(right: exp.Expression) -> Any:
    return expression_to_value(right)


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
        specs = dict(SPECS)
        values = {name: spec.default if spec.kind == "str" else _from_text(name, spec, spec.default)
                  for name, spec in specs.items()}
        values.update(version=version, innodb_version=version.split("-")[0])
        for raw, value in variables.items():
            name = str(raw).lower()
            if name not in specs:
                specs[name] = Spec("str", str(value), dynamic=False)
            try:
                values[name] = _from_text(name, specs[name], str(value))
            except MysqlError as exc:
                raise ValueError(f"sandbox MySQL variable {name}={value!r}: {exc.msg}") from None
        self._specs = specs
        self._values = values
        self._globals: _Globals | None = None
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
        self._globals = _Globals(self._specs, self._values)
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(listener, ready), name=f"{THREAD_NAME}:{self.port}",
                                        daemon=True)
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
        asyncio.get_running_loop().set_exception_handler(lambda _loop, context: self.errors.append(context))
        server = _Server(self._connections, session_factory=lambda: _Session(self), identity_provider=_AnyUser())
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
