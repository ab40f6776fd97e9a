"""The sandbox MySQL's system variables: each one's definition as MySQL 8.0.31 has it
(`Spec`: type, default, dynamic, scope, bounds; MySQL 8.4 defines the W&B flags alike), the
stories' values and versions, and how MySQL takes a value (`SET x = 1` of a boolean is `ON`; a
size under its minimum is raised to it) and prints it.

Apart from the server (sandbox/mysql/server.py) because it is MySQL's semantics, not the protocol:
what `mysql tune` may set and what `SHOW VARIABLES` answers both come from here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mysql_mimic.errors import SQLSTATES, MysqlError

from wbctl.core.mysql import FLAGS, MYSQL_80_DEFAULTS, MYSQL_84_DEFAULTS

DATABASE = "wandb_local"
VERSION = "8.0.31"


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
assert MYSQL_84_DEFAULTS == MYSQL_80_DEFAULTS, "8.4's flag defaults differ from 8.0's: give each series its specs"
assert all(FLAG_SPECS[flag.name].dynamic == flag.dynamic for flag in FLAGS)

_SQL_MODE = (
    "ONLY_FULL_GROUP_BY,STRICT_TRANS_TABLES,NO_ZERO_IN_DATE,NO_ZERO_DATE,ERROR_FOR_DIVISION_BY_ZERO,"
    "NO_ENGINE_SUBSTITUTION"
)

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
    "transaction_isolation": Spec(
        "enum",
        "REPEATABLE-READ",
        scope="both",
        choices=("READ-UNCOMMITTED", "READ-COMMITTED", "REPEATABLE-READ", "SERIALIZABLE"),
    ),
    "transaction_read_only": Spec("bool", "OFF", scope="both"),
    "version": Spec("str", VERSION, dynamic=False),
    "version_comment": Spec("str", "MySQL Community Server - GPL", dynamic=False),
    "version_compile_machine": Spec("str", "x86_64", dynamic=False),
    "version_compile_os": Spec("str", "Linux", dynamic=False),
    "wait_timeout": Spec("int", "28800", scope="both", minimum=1, maximum=31536000),
}
SPECS: dict[str, Spec] = {**SERVER_SPECS, **FLAG_SPECS}
SERVER_VARIABLES: dict[str, str] = {name: spec.default for name, spec in SERVER_SPECS.items()}

# What MySQL 8.4 no longer has of SERVER_SPECS (MySQL 8.4 Reference Manual, "What Is New in
# MySQL 8.4 since MySQL 8.0", features removed; docs/sources.md, "Current version policy")
REMOVED_IN_84 = frozenset({"default_authentication_plugin"})

STORIES: dict[str, dict[str, str]] = {
    # every W&B flag at its recommended value
    "healthy": {flag.name: flag.value for flag in FLAGS},
    # a fresh install: MySQL 8.0's default of every flag (what an unset Cloud SQL flag holds too)
    "misconfigured": dict(MYSQL_80_DEFAULTS),
}
# The server version of each story: a healthy deployment runs 8.4, where W&B's docs move to (8.0
# reached its end of life in April 2026); a fresh install runs what W&B's Terraform module
# creates, MYSQL_8_0_31, below W&B's minimum of 8.0.32
STORY_VERSIONS: dict[str, str] = {"healthy": "8.4.7", "misconfigured": VERSION}
assert set(STORY_VERSIONS) == set(STORIES)


def specs_of(version: str) -> dict[str, Spec]:
    """Every variable the server of `version` defines: 8.4 lacks what it removed."""
    if version.startswith("8.4"):
        return {name: spec for name, spec in SPECS.items() if name not in REMOVED_IN_84}
    return dict(SPECS)


def story_variables(story: str) -> dict[str, str]:
    """The W&B flags of the story `healthy` or `misconfigured` (the server adds SERVER_VARIABLES)."""
    if story not in STORIES:
        raise ValueError(f"unknown sandbox MySQL story {story!r} (known: {', '.join(STORIES)})")
    return dict(STORIES[story])


# --- values as MySQL takes and prints them ---------------------------------------------------


def mysql_error(code: int, message: str) -> MysqlError:
    return MysqlError(message, code=code)  # any MySQL code: the packet takes an int


def number_text(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else repr(value)


def canonical(name: str, spec: Spec, kind: str, text: str) -> str:
    """The value as SHOW VARIABLES prints it, of a value given as `kind` (num: a number literal,
    str: a quoted string, word: a bare word such as ON or MINIMAL), or MySQL's error."""
    wrong_value = mysql_error(ER_WRONG_VALUE_FOR_VAR, f"Variable '{name}' can't be set to the value of '{text}'")
    wrong_type = mysql_error(ER_WRONG_TYPE_FOR_VAR, f"Incorrect argument type to variable '{name}'")
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


def from_text(name: str, spec: Spec, text: str) -> str:
    """A value written as SHOW VARIABLES prints it (a story's, a saved one) in its canonical form."""
    stripped = text.strip()
    kind = "num" if re.fullmatch(r"-?\d+(\.\d+)?([eE][-+]?\d+)?", stripped) and spec.kind != "str" else "str"
    if kind == "num" and spec.kind == "int" and not re.fullmatch(r"-?\d+", stripped):
        stripped = number_text(float(stripped))
    return canonical(name, spec, kind, stripped)
