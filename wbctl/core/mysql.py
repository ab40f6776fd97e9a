"""The MySQL flags W&B asks for, compared the way MySQL means them.

The guide's flag table was an image; docs/sources.md ("MySQL") fills it from W&B's self-managed docs and W&B's
Terraform module, and each flag here names its source. `ROW` = `row`, `ON` = `1`, and sizes
are integers (`64M` = 67108864).

A Cloud SQL instance's flags (`gcloud sql instances describe`) list only the flags set on it:
an unset flag has the engine's default, which is judged like a set value (`DEFAULTS`).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from wbctl.core.model import Change, Finding, Observed, Plan, Report, Status
from wbctl.core.versions import parse_version
from wbctl.errors import RefusedError, UsageError

DOCS = "W&B self-managed docs"
TERRAFORM = "W&B Terraform module"
# W&B's version requirements (docs/sources.md, "Current version policy"): 8.0.32 or newer is
# required, 8.0.44 or newer recommended; MySQL 8.0 reached its end of life in April 2026 and
# 8.4 (the LTS series) is where to move.
MIN_VERSION = (8, 0, 32)
RECOMMENDED_80 = (8, 0, 44)
CURRENT_SERIES = (8, 4)
EOL_80 = "MySQL 8.0 reached its end of life in April 2026"

EXACT, AT_LEAST, AT_MOST = "exact", "at least", "at most"


@dataclass(frozen=True)
class Flag:
    name: str
    value: str
    comparison: str
    source: str
    dynamic: bool = True  # settable at run time (SET PERSIST / SET GLOBAL); else config file + restart


FLAGS: tuple[Flag, ...] = (
    Flag("binlog_format", "ROW", EXACT, DOCS),
    Flag("binlog_row_image", "MINIMAL", EXACT, f"{DOCS}; {TERRAFORM}"),
    Flag("binlog_row_value_options", "PARTIAL_JSON", EXACT, TERRAFORM),
    Flag("innodb_autoinc_lock_mode", "2", EXACT, TERRAFORM, dynamic=False),
    Flag("innodb_flush_log_at_trx_commit", "1", EXACT, DOCS),
    Flag("innodb_lru_scan_depth", "100", EXACT, TERRAFORM),
    Flag("innodb_online_alter_log_max_size", "268435456", AT_LEAST, DOCS),
    Flag("innodb_print_all_deadlocks", "OFF", EXACT, TERRAFORM),
    Flag("local_infile", "ON", EXACT, TERRAFORM),
    Flag("long_query_time", "1", AT_MOST, TERRAFORM),
    Flag("max_execution_time", "60000", EXACT, TERRAFORM),
    Flag("max_prepared_stmt_count", "1048576", AT_LEAST, TERRAFORM),
    Flag("skip_show_database", "ON", EXACT, TERRAFORM, dynamic=False),
    Flag("slow_query_log", "ON", EXACT, TERRAFORM),
    Flag("sort_buffer_size", "67108864", AT_LEAST, f"{DOCS}; {TERRAFORM}"),
    Flag("sync_binlog", "1", EXACT, DOCS),
)
BY_NAME = {flag.name: flag for flag in FLAGS}

# The default of each flag in MySQL 8.0 (8.0.3 and later; Cloud SQL offers 8.0.18 and later), as
# the MySQL 8.0 Reference Manual gives it ("Server System Variables", "Binary Logging Options and
# Variables", "InnoDB Startup Options and System Variables"; docs/sources.md, "MySQL"). What an
# unset Cloud SQL flag holds.
MYSQL_80_DEFAULTS: dict[str, str] = {
    "binlog_format": "ROW",
    "binlog_row_image": "FULL",
    "binlog_row_value_options": "",
    "innodb_autoinc_lock_mode": "2",
    "innodb_flush_log_at_trx_commit": "1",
    "innodb_lru_scan_depth": "1024",
    "innodb_online_alter_log_max_size": "134217728",
    "innodb_print_all_deadlocks": "OFF",
    "local_infile": "OFF",
    "long_query_time": "10",
    "max_execution_time": "0",
    "max_prepared_stmt_count": "16382",
    "skip_show_database": "OFF",
    "slow_query_log": "OFF",
    "sort_buffer_size": "262144",
    "sync_binlog": "1",
}
# The default of each flag in MySQL 8.4, as the MySQL 8.4 Reference Manual gives it (the same
# three chapters for 8.4; docs/sources.md, "Current version policy"): 8.4 changed the defaults
# of the variables in `MYSQL_84_CHANGED_DEFAULTS` ("What Is New in MySQL 8.4 since MySQL 8.0",
# "Changed Server Defaults"), none of them a flag W&B asks for, so each is 8.0's (binlog_format,
# deprecated since 8.0.34, is still ROW). A test holds the two tables to that.
MYSQL_84_DEFAULTS: dict[str, str] = dict(MYSQL_80_DEFAULTS)
# The server defaults MySQL 8.4 changed from 8.0 (MySQL 8.4 Reference Manual, "Changed Server
# Defaults"): a flag of FLAGS appearing here would need its 8.4 value above, not 8.0's.
MYSQL_84_CHANGED_DEFAULTS = frozenset(
    {
        "innodb_adaptive_hash_index",  # ON -> OFF
        "innodb_buffer_pool_in_core_file",  # ON -> OFF
        "innodb_buffer_pool_instances",
        "innodb_change_buffering",  # all -> none
        "innodb_doublewrite_files",
        "innodb_doublewrite_pages",
        "innodb_flush_method",  # fsync -> O_DIRECT where supported
        "innodb_io_capacity",  # 200 -> 10000
        "innodb_io_capacity_max",
        "innodb_log_buffer_size",  # 16777216 -> 67108864
        "innodb_numa_interleave",  # OFF -> ON
        "innodb_page_cleaners",
        "innodb_parallel_read_threads",
        "innodb_purge_threads",
        "innodb_use_fdatasync",  # OFF -> ON
        "group_replication_consistency",
        "group_replication_exit_state_action",
        "temptable_max_mmap",  # 1073741824 -> 0
        "temptable_max_ram",
        "temptable_use_mmap",  # ON -> OFF
    }
)
# Cloud SQL's own default of a flag where its flag documentation (cloud.google.com/sql/docs/mysql/flags)
# gives one unlike MySQL's; it wins over MYSQL_80_DEFAULTS for a Cloud SQL instance. Empty: no
# such default has been sourced for the flags above; add one with its source in docs/sources.md.
CLOUD_SQL_DEFAULTS: dict[tuple[int, int], dict[str, str]] = {(8, 0): {}, (8, 4): {}}
DEFAULTS: dict[tuple[int, int], dict[str, str]] = {(8, 0): MYSQL_80_DEFAULTS, (8, 4): MYSQL_84_DEFAULTS}
_SIZE = re.compile(r"^(\d+(?:\.\d+)?)\s*([KMGT])B?$", re.IGNORECASE)
_UNITS = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30, "T": 1 << 40}
_BOOLEAN = {"ON": "1", "TRUE": "1", "YES": "1", "OFF": "0", "FALSE": "0", "NO": "0"}


def normalise(value: str) -> str | float:
    """The value as MySQL means it: booleans as 1/0, sizes and numbers as numbers, words upper-case."""
    text = value.strip()
    upper = text.upper()
    if upper in _BOOLEAN:
        return float(_BOOLEAN[upper])
    size = _SIZE.match(text)
    if size:
        return float(size.group(1)) * _UNITS[size.group(2).upper()]
    try:
        return float(text)
    except ValueError:
        return upper


def satisfies(flag: Flag, observed: str) -> bool:
    have, want = normalise(observed), normalise(flag.value)
    if flag.comparison == EXACT or isinstance(have, str) or isinstance(want, str):
        return have == want
    return have >= want if flag.comparison == AT_LEAST else have <= want


@dataclass(frozen=True)
class MysqlObservation:
    target: str  # mysql://host:port/db, or the file it was read from
    version: str | None
    flavor: str  # mysql | mariadb | cloudsql
    variables: dict[str, str]  # lower-case names
    # True when `variables` holds only the flags set on the instance (a Cloud SQL instance's
    # databaseFlags): an absent flag then has the engine's default. False for a server's own
    # SHOW GLOBAL VARIABLES, where an absent variable does not exist on that server.
    unset_is_default: bool = False


def flavor_of(version: str | None, variables: dict[str, str]) -> str:
    if any(name.startswith("cloudsql") for name in variables):
        return "cloudsql"
    if version and "mariadb" in version.lower():
        return "mariadb"
    return "mysql"


def check_ids() -> list[str]:
    return ["mysql.version"] + [f"mysql.{flag.name}" for flag in FLAGS]


def engine_default(name: str, version: str | None, flavor: str) -> Observed[tuple[str, str]]:
    """What an unset flag holds: (value, whose default it is), or why that is not known."""
    numbers = [int(part) for part in re.findall(r"\d+", version or "")[:2]]
    if len(numbers) < 2:
        return Observed.unknown("the MySQL version is not known, so neither is its default")
    series = (numbers[0], numbers[1])
    label = f"MySQL {series[0]}.{series[1]}"
    table = DEFAULTS.get(series)
    if table is None:
        known = " and ".join(f"{major}.{minor}'s" for major, minor in sorted(DEFAULTS))
        return Observed.unknown(f"wbctl does not know the defaults of {label} (it knows MySQL {known})")
    cloud_sql = CLOUD_SQL_DEFAULTS.get(series, {})
    if flavor == "cloudsql" and name in cloud_sql:
        return Observed((cloud_sql[name], f"Cloud SQL {label}"))
    if name not in table:
        return Observed.unknown(f"wbctl does not know the default of {name} in {label}")
    return Observed((table[name], label))


def check(observation: MysqlObservation) -> Report:
    return Report((_version_finding(observation), *(_flag_finding(observation, flag) for flag in FLAGS)))


def _remedy(observation: MysqlObservation, flag: Flag) -> str:
    if observation.flavor == "cloudsql":
        return "wbctl mysql flags --format gcloud"
    if flag.dynamic:
        return "wbctl mysql tune"
    # `mysql tune` cannot set it: a remedy that would not clear the finding is no remedy
    return (
        f"set {flag.name} = {_sql_value(flag.value)} in the server's configuration file and restart "
        "MySQL (not settable at run time)"
    )


def _flag_finding(observation: MysqlObservation, flag: Flag) -> Finding:
    check_id = f"mysql.{flag.name}"
    expected = f"{flag.comparison} {flag.value}" if flag.comparison != EXACT else flag.value
    remedy = _remedy(observation, flag)
    observed = observation.variables.get(flag.name)
    said = ""
    if observed is None and observation.unset_is_default:
        default = engine_default(flag.name, observation.version, observation.flavor)
        if default.value is None:  # not known
            message = f"not set: {default.reason}; {flag.source} asks for {expected}"
            return Finding(check_id, Status.UNKNOWN, observation.target, None, expected, message, remedy)
        observed, whose = default.value
        said = f"not set: {whose} default {flag.name}={observed or repr('')}"
    if observed is None:
        message = f"this server has no variable {flag.name} ({flag.source})"
        return Finding(check_id, Status.UNKNOWN, observation.target, None, expected, message)
    if satisfies(flag, observed):
        message = f"{said}, as {flag.source} asks" if said else f"as {flag.source} asks"
        return Finding(check_id, Status.OK, observation.target, observed, expected, message)
    message = f"{said or f'is {observed}'}; {flag.source} asks for {expected}"
    return Finding(check_id, Status.FAIL, observation.target, observed, expected, message, remedy)


def _version_finding(observation: MysqlObservation) -> Finding:
    version = observation.version
    wanted = f">= {_dotted(MIN_VERSION)}, {_dotted(CURRENT_SERIES)} (MySQL)"
    if observation.flavor == "mariadb":
        status, message, remedy = Status.WARN, "MariaDB: W&B supports MySQL 8; the flags are compared all the same", ""
    else:
        parsed = parse_version(version.split("-")[0] if version else None)
        if parsed is None or version is None:
            status, message, remedy = Status.UNKNOWN, "the server version is not known", ""
        else:
            major_only = re.fullmatch(r"\d+\.\d+", version) is not None
            status, message, remedy = version_verdict(
                parsed, major_only=major_only, cloud_sql=observation.flavor == "cloudsql"
            )
    return Finding("mysql.version", status, observation.target, version, wanted, message, remedy)


def version_verdict(
    version: tuple[int, int, int], *, major_only: bool = False, cloud_sql: bool = False
) -> tuple[Status, str, str]:
    """W&B's policy for one (major, minor, patch), as (status, message, remedy): below 8.0.32
    fails, the rest of 8.0 (and the innovation releases 8.1-8.3) warns, 8.4 is ok. `major_only`
    when only the series is known (Cloud SQL's `MYSQL_8_0` does not say which release runs)."""
    series = version[:2]
    upgrade = upgrade_remedy(cloud_sql)
    target = _dotted(CURRENT_SERIES)
    if series == CURRENT_SERIES:
        return Status.OK, f"MySQL {target}, the series W&B's docs move to", ""
    if major_only and series == MIN_VERSION[:2]:
        return (
            Status.UNKNOWN,
            f"MySQL {_dotted(series)}: which {_dotted(series)} release is not known (databaseInstalledVersion "
            f"names it); W&B requires {_dotted(MIN_VERSION)} or newer, and {EOL_80}: move to {target}",
            upgrade,
        )
    if version < MIN_VERSION:
        return (
            Status.FAIL,
            f"W&B requires MySQL {_dotted(MIN_VERSION)} or newer ({_dotted(RECOMMENDED_80)} recommended); "
            f"{EOL_80}: move to {target}",
            upgrade,
        )
    if series == MIN_VERSION[:2]:
        older = f"; {_dotted(RECOMMENDED_80)} or newer is recommended" if version < RECOMMENDED_80 else ""
        return Status.WARN, f"{EOL_80}: W&B's docs say move to {target}{older}", upgrade
    if series < CURRENT_SERIES:
        return (
            Status.WARN,
            f"MySQL {_dotted(series)} is an innovation release past its support: move to {target}",
            upgrade,
        )
    return (
        Status.WARN,
        f"MySQL {_dotted(series)} is newer than the series W&B's docs name ({_dotted(MIN_VERSION)} or newer, {target})",
        "",
    )


def upgrade_remedy(cloud_sql: bool) -> str:
    """How to reach MySQL 8.4: Cloud SQL upgrades its major version in place."""
    target = f"MYSQL_{CURRENT_SERIES[0]}_{CURRENT_SERIES[1]}"
    if cloud_sql:
        return (
            f"upgrade the Cloud SQL instance to {target}: gcloud sql instances patch INSTANCE "
            f'--database-version={target} (Terraform: database_version = "{target}")'
        )
    return (
        f"upgrade MySQL to {_dotted(CURRENT_SERIES)} (Cloud SQL: {target}; W&B's Terraform module: "
        f'database_version = "{target}")'
    )


def _dotted(version: tuple[int, ...]) -> str:
    return ".".join(str(part) for part in version)


# --- offline input: `mysql -B -e 'SHOW GLOBAL VARIABLES'` or `gcloud sql instances describe --format=json`


def parse_file(name: str, text: str) -> MysqlObservation:
    stripped = text.lstrip()
    if stripped.startswith("{"):
        return _parse_gcloud(name, text)
    variables: dict[str, str] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.strip().lower() in {"variable_name\tvalue", "variable_name value"}:
            continue
        parts = line.split("\t")
        if len(parts) != 2 or not re.fullmatch(r"[A-Za-z0-9_]+", parts[0]):
            raise UsageError(
                f"{name}, line {number}: expected 'Variable_name<TAB>Value' as `mysql -B -e 'SHOW GLOBAL VARIABLES'` prints it"
            )
        variables[parts[0].lower()] = parts[1]
    if not variables:
        raise UsageError(f"{name}: no variables found")
    version = variables.get("version")
    return MysqlObservation(name, version, flavor_of(version, variables), variables)


def _parse_gcloud(name: str, text: str) -> MysqlObservation:
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{name}, line {exc.lineno}: invalid JSON ({exc.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("settings"), dict):
        raise UsageError(f"{name}: not the JSON of 'gcloud sql instances describe --format=json' (no settings)")
    flags = document["settings"].get("databaseFlags") or []
    if not isinstance(flags, list) or not all(isinstance(f, dict) and "name" in f for f in flags):
        raise UsageError(f"{name}: settings.databaseFlags is not a list of {{name, value}}")
    variables = {str(f["name"]).lower(): str(f.get("value", "on")) for f in flags}
    # databaseVersion may name the major version only (MYSQL_8_0); databaseInstalledVersion,
    # when present, names the release running (MYSQL_8_0_35)
    version = None
    for field in ("databaseInstalledVersion", "databaseVersion"):
        match = re.fullmatch(r"MYSQL_(\d+)_(\d+)(?:_(\d+))?", str(document.get(field, "")))
        if match:
            version = ".".join(p for p in match.groups() if p)
            break
    return MysqlObservation(name, version, "cloudsql", variables, unset_is_default=True)


# --- output formats and the tune plan -------------------------------------------------


def failing(observation: MysqlObservation) -> list[Flag]:
    return [
        flag
        for flag in FLAGS
        if flag.name in observation.variables and not satisfies(flag, observation.variables[flag.name])
    ]


def _cloud_sql_value(flag: Flag) -> str:
    return flag.value.lower() if flag.value.upper() in _BOOLEAN else flag.value


def gcloud_flags(current: dict[str, str] | None) -> dict[str, str]:
    """The instance's flags after the patch: its current ones (when known) with W&B's on top."""
    merged = dict(current or {})
    merged.update({flag.name: _cloud_sql_value(flag) for flag in FLAGS})
    return dict(sorted(merged.items()))


def gcloud_command(current: dict[str, str] | None) -> tuple[str, str | None]:
    """`gcloud sql instances patch` with every flag: it REPLACES the instance's flags, so the
    current ones are kept when they are known."""
    flags = ",".join(f"{name}={value}" for name, value in gcloud_flags(current).items())
    note = (
        "merged with the instance's current flags (--database-flags replaces them all)"
        if current
        else "--database-flags REPLACES every flag the instance has: add its current ones "
        "(--from-file with the output of `gcloud sql instances describe INSTANCE --format=json` merges them)"
    )
    return f"gcloud sql instances patch INSTANCE --database-flags={flags}", note


def terraform_block() -> str:
    return "\n".join(f'database_flags {{\n  name  = "{f.name}"\n  value = "{_cloud_sql_value(f)}"\n}}' for f in FLAGS)


def sql_statements() -> str:
    return "\n".join(f"SET PERSIST {f.name} = {_sql_value(f.value)};" for f in FLAGS if f.dynamic)


def sql_note() -> str:
    static = [f.name for f in FLAGS if not f.dynamic]
    return f"{' and '.join(static)} are not settable at run time: set them in the config file"


def flag_items() -> list[dict[str, str]]:
    return [{"flag": f.name, "value": f.value, "comparison": f.comparison, "source": f.source} for f in FLAGS]


def flags_document(fmt: str, current: dict[str, str] | None) -> dict[str, Any]:
    """`mysql flags --format FMT -o json`: one document whatever the format.

    `flags` is the table (every format); `text` is what the format prints in table mode, and
    `notes` what it says on stderr; gcloud adds `database_flags`, the instance's flags after
    the patch in the shape of the API's `settings.databaseFlags`."""
    document: dict[str, Any] = {"format": fmt}
    if fmt == "gcloud":
        command, note = gcloud_command(current)
        document.update(
            text=command,
            notes=[note],
            database_flags=[{"name": name, "value": value} for name, value in gcloud_flags(current).items()],
        )
    elif fmt == "terraform":
        document.update(text=terraform_block(), notes=[])
    elif fmt == "sql":
        document.update(text=sql_statements(), notes=[sql_note()])
    document["flags"] = flag_items()
    return document


def _sql_value(value: str) -> str:
    return value if re.fullmatch(r"\d+", value) or value.upper() in _BOOLEAN else f"'{value}'"


def plan_tune(observation: MysqlObservation, context: str) -> Plan:
    changes: list[Change] = []
    notes: list[str] = []
    for flag in failing(observation):
        if not flag.dynamic:
            notes.append(
                f"{flag.name}={flag.value} cannot be set at run time: put it in the server's config file and restart"
            )
            continue
        changes.append(Change(observation.target, flag.name, observation.variables[flag.name], flag.value))
    if observation.flavor == "mariadb":
        notes.append("MariaDB has no SET PERSIST: SET GLOBAL is used, and it does not survive a restart")
    return Plan(
        context=context,
        target=observation.target,
        changes=tuple(changes),
        summary=f"set {len(changes)} MySQL global variable(s)",
        notes=tuple(notes),
        nothing_to_do="no changes: every flag that can be set at run time has its value",
    )


def refuse_cloud_sql(observation: MysqlObservation) -> None:
    """Cloud SQL takes flags through its API (gcloud, Terraform), never SET: say how instead."""
    if observation.flavor == "cloudsql":
        command, note = gcloud_command(None)
        raise RefusedError(
            f"{observation.target} is Cloud SQL: flags are set with gcloud or Terraform, not SQL: {command} ({note})"
        )
