"""One connection's SQL in the sandbox MySQL: `SHOW VARIABLES`, `SET [GLOBAL|PERSIST|...]`,
`SELECT @@name`, parsed with sqlglot (through mysql-mimic) and answered as MySQL 8.0.31 would,
with MySQL's error codes. The server (sandbox/mysql/server.py) makes one `VariablesSession` per connection;
the global values they share live in `Globals`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Mapping
from typing import Any

from mysql_mimic import IdentityProvider, Session
from mysql_mimic.auth import NativePasswordAuthPlugin, User
from mysql_mimic.intercept import expression_to_value, setitem_kind
from mysql_mimic.variables import SYSTEM_VARIABLES, Variables
from sqlglot import expressions as exp
from sqlglot.executor import execute

from wbctl.sandbox.mysql.variables import (
    DATABASE,
    ER_GLOBAL_VARIABLE,
    ER_INCORRECT_GLOBAL_LOCAL_VAR,
    ER_NOT_SUPPORTED_YET,
    ER_PARSE_ERROR,
    ER_UNKNOWN_SYSTEM_VARIABLE,
    ER_WRONG_VALUE_FOR_VAR,
    Spec,
    canonical,
    from_text,
    mysql_error,
    number_text,
)

# mysql-mimic's own session values that its code parses (time_zone must be UTC or +HH:MM there):
# a session reads these from mysql-mimic's defaults, never from the global `time_zone` = SYSTEM
_MIMIC_OWNED = frozenset({"time_zone"})


# --- statements as MySQL parses them ---------------------------------------------------------


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
        raise mysql_error(
            ER_NOT_SUPPORTED_YET,
            f"This version of MySQL doesn't yet support '{expression.sql('mysql')}' "
            "as a variable's value (the wbctl sandbox)",
        ) from None
    if isinstance(value, bool):
        return "num", "1" if value else "0"
    if isinstance(value, (int, float)):
        return "num", number_text(value)
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


class Globals:
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

    def __init__(self, globals_: Globals) -> None:
        self._globals = globals_
        self._schema = {
            **{name: (str, spec.default, spec.dynamic) for name, spec in globals_.specs.items()},
            **SYSTEM_VARIABLES,
        }  # mysql-mimic's types for the names its code sets and reads
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


class AnyUser(IdentityProvider):
    def get_plugins(self) -> list[Any]:
        return [_AnyPassword()]

    async def get_user(self, username: str) -> User | None:
        return User(name=username, auth_plugin=_AnyPassword.name)


class VariablesSession(Session):
    """mysql-mimic's session, with SET and SHOW VARIABLES answered from the sandbox's variables."""

    def __init__(self, globals_: Globals) -> None:
        self._globals = globals_
        super().__init__(_SessionVariables(globals_))
        self.middlewares[self.middlewares.index(self._set_middleware)] = self._sandbox_set
        self.middlewares.insert(self.middlewares.index(self._show_middleware), self._sandbox_show)

    async def query(self, expression: exp.Expression, sql: str, attrs: dict[str, str]) -> Any:
        raise mysql_error(
            ER_NOT_SUPPORTED_YET,
            f"This version of MySQL doesn't yet support '{sql.strip()[:200]}' "
            "(the wbctl sandbox's MySQL serves its variables only)",
        )

    async def schema(self) -> dict[str, Any]:
        return {DATABASE: {"wbctl_sandbox": {"note": "TEXT"}}}

    # SHOW VARIABLES

    async def _sandbox_show(self, q: Any) -> Any:
        show = q.expression
        if not (isinstance(show, exp.Show) and show.name.upper() == "VARIABLES"):
            return await q.next()
        values = self._globals.snapshot()
        if not (show.args.get("global_") or show.args.get("global")):
            values.update(self.variables.session_values())
        rows = sorted(values.items())
        like = show.args.get("like")
        if like is not None:
            pattern = _like(like.name)
            rows = [(name, value) for name, value in rows if pattern.fullmatch(name)]
        where = show.args.get("where")
        if where is not None:
            condition = where.this.transform(
                lambda node: exp.column(node.name.lower()) if isinstance(node, exp.Column) else node
            )
            table = [{"variable_name": name, "value": value} for name, value in rows]
            try:
                rows = [
                    tuple(row)
                    for row in execute(
                        exp.select("variable_name", "value").from_("v").where(condition), tables={"v": table}
                    ).rows
                ]
            except Exception as exc:  # noqa: BLE001 - sqlglot's executor: an unsupported condition
                raise mysql_error(
                    ER_PARSE_ERROR, f"the wbctl sandbox cannot evaluate WHERE {condition.sql('mysql')}: {exc}"
                ) from None
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
                raise mysql_error(
                    ER_NOT_SUPPORTED_YET, "This version of MySQL doesn't yet support user variables (the wbctl sandbox)"
                )
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
                raise mysql_error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support SET {kind}")
        return [], []

    def _assign(
        self,
        scope: str,
        name: str,
        right: exp.Expression,
        global_changes: dict[str, str],
        session_changes: list[tuple[str, Any]],
    ) -> None:
        scope = "SESSION" if scope == "LOCAL" else scope
        spec = self._globals.specs.get(name)
        if spec is None:
            if scope == "SESSION" and name in SYSTEM_VARIABLES and SYSTEM_VARIABLES[name][2]:
                session_changes.append((name, _mimic_value(right)))  # mysql-mimic's own session variable
                return
            raise mysql_error(ER_UNKNOWN_SYSTEM_VARIABLE, f"Unknown system variable '{name}'")
        if scope not in ("GLOBAL", "PERSIST", "PERSIST_ONLY", "SESSION"):
            raise mysql_error(ER_NOT_SUPPORTED_YET, f"This version of MySQL doesn't yet support SET {scope}")
        if not spec.dynamic and scope != "PERSIST_ONLY":
            raise mysql_error(ER_INCORRECT_GLOBAL_LOCAL_VAR, f"Variable '{name}' is a read only variable")
        if scope == "SESSION" and spec.scope == "global":
            raise mysql_error(
                ER_GLOBAL_VARIABLE, f"Variable '{name}' is a GLOBAL variable and should be set with SET GLOBAL"
            )
        kind, text = _literal(right)
        if kind == "default":
            value = (
                from_text(name, spec, spec.default) if scope != "SESSION" else self._globals.get(name) or spec.default
            )
        elif kind == "null":
            raise mysql_error(ER_WRONG_VALUE_FOR_VAR, f"Variable '{name}' can't be set to the value of 'NULL'")
        else:
            value = canonical(name, spec, kind, text)
        if scope == "PERSIST_ONLY":
            return  # written for the next start, which the sandbox never has: the running value stays
        if scope == "SESSION":
            session_changes.append((name, _mimic_value(right) if name in SYSTEM_VARIABLES else value))
        else:
            global_changes[name] = value


def _mimic_value(right: exp.Expression) -> Any:
    return expression_to_value(right)
