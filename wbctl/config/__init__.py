"""Effective settings: command-line flag > WBCTL_* environment > config file context > another
tool's variable for the same key (`BIGTABLE_EMULATOR_HOST`, Google's) > default.

Each resolved value keeps its origin so `wbctl config show --origin` can say where it came
from. Every malformed input (unreadable file, TOML syntax, unknown context or key, wrong type)
is a `ConfigError` naming the file and, where it has one, the line.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from difflib import get_close_matches
from pathlib import Path
from typing import Any

from wbctl.config.keys import KEYS, SECRET_ENV, URL_SECRET, Key  # noqa: F401 - the keys, re-exported
from wbctl.core.connection_url import secrets_in
from wbctl.environment import Environment
from wbctl.errors import ConfigError, UsageError
from wbctl.redact import Redactor, url_password

# --- resolved settings ----------------------------------------------------------------


@dataclass(frozen=True)
class Setting:
    value: Any
    origin: str  # "flag --x", "env WBCTL_X", "file PATH [contexts.NAME]", "default"


@dataclass
class Settings:
    context: str | None
    config_file: Path | None
    values: dict[str, Setting]
    secrets: dict[str, Setting] = field(default_factory=dict)
    redis_settings: dict[str, Setting] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name].value

    @property
    def timeout(self) -> float:
        return float(self["timeout"])

    @property
    def read_only(self) -> bool:
        return bool(self["read-only"])

    @property
    def context_label(self) -> str:
        return self.context or "(none)"

    @property
    def redis_overrides(self) -> dict[str, tuple[str, str]]:
        """[redis.settings] from the config file: key -> (value, where it was set)."""
        return {key: (setting.value, setting.origin) for key, setting in self.redis_settings.items()}

    def secret(self, name: str) -> str | None:
        setting = self.secrets.get(name)
        return setting.value if setting else None

    def redactor(self) -> Redactor:
        redactor = Redactor(setting.value for setting in self.secrets.values())
        for name, setting in self.values.items():
            if isinstance(setting.value, str):
                redactor.add(url_password(setting.value))
                if name in URL_SECRET:  # W&B's forms too (the v2 operator's `redis://<auth>:@host`)
                    for secret in secrets_in(setting.value):
                        redactor.add(secret)
        return redactor


# --- loading --------------------------------------------------------------------------


def default_config_path(env: Environment) -> Path:
    return env.xdg_dir("XDG_CONFIG_HOME", ".config") / "wbctl" / "config.toml"


def config_file_path(env: Environment, config_path: str | None = None) -> tuple[Path, bool]:
    """The file (--config, else WBCTL_CONFIG, else the default) and whether it was named."""
    explicit = config_path or env.environ.get("WBCTL_CONFIG")
    return (Path(explicit).expanduser() if explicit else default_config_path(env)), bool(explicit)


@dataclass(frozen=True)
class ConfigFile:
    """The file as it is, checked as `load` checks it, for the commands that edit it."""

    path: Path
    text: str
    exists: bool
    current: str | None  # its current-context
    contexts: dict[str, dict[str, Any]]


def read_file(env: Environment, config_path: str | None = None) -> ConfigFile:
    """The config file, validated (TOML, top-level keys, every context's keys); a default file
    that does not exist reads as empty. Its current-context need not name a context: the
    command that fixes a wrong one must be able to read the file."""
    path, explicit = config_file_path(env, config_path)
    doc = _read_document(path, explicit=explicit)
    _check_top_level(doc)
    contexts: dict[str, Any] = _check_table(doc, doc.data.get("contexts", {}), "contexts")
    if doc.exists:
        _check_every_context(doc, contexts)
    return ConfigFile(path, doc.text, doc.exists, doc.data.get("current-context"), contexts)


@dataclass(frozen=True)
class _Document:
    path: Path
    text: str
    data: dict[str, Any]
    exists: bool = True

    def line_of(self, section: str, key: str | None = None) -> int | None:
        """The 1-based line of `key` inside `[section]` (or of the section header itself)."""
        current = ""
        wanted = _normalise_section(section)
        for number, line in enumerate(self.text.splitlines(), start=1):
            stripped = line.strip()
            header = re.match(r"^\[\s*([^\[\]]+?)\s*\]", stripped)
            if header:
                current = _normalise_section(header.group(1))
                if key is None and current == wanted:
                    return number
                continue
            if key is not None and current == wanted:
                match = re.match(r"^\s*([^=]+?)\s*=", line)
                if match and _normalise_section(match.group(1)) == key:
                    return number
        return None

    def error(self, message: str, section: str = "", key: str | None = None) -> ConfigError:
        line = self.line_of(section, key) if (section or key) else None
        where = f"{self.path}, line {line}" if line else str(self.path)
        return ConfigError(f"config {where}: {message}")


def _normalise_section(name: str) -> str:
    return ".".join(part.strip().strip('"').strip("'") for part in name.split("."))


def _read_document(path: Path, explicit: bool) -> _Document:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        if explicit:
            raise ConfigError(f"config {path}: no such file") from None
        return _Document(path, "", {}, exists=False)
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"config {path}: cannot read: {reason}") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        line = re.search(r"\(at line (\d+), column \d+\)", message)
        reason = re.sub(r"\s*\(at line \d+, column \d+\)", "", message)
        if line:
            raise ConfigError(f"config {path}, line {line.group(1)}: invalid TOML: {reason}") from None
        raise ConfigError(f"config {path}: invalid TOML: {reason}") from None
    return _Document(path, text, data)


def _check_table(doc: _Document, value: Any, section: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        parent, _, key = section.rpartition(".")
        raise doc.error(f"[{section}] must be a table", parent, key)
    return value


def _hint(key: str) -> str:
    if key in SECRET_ENV:
        return f" (passwords are never read from the file: set {SECRET_ENV[key]})"
    close = get_close_matches(key, list(KEYS), n=1)
    return f" (did you mean {close[0]!r}?)" if close else " (see docs/configuration.md for the keys)"


def _password_in_file(key: str) -> str:
    """Never the URL itself: the message must not carry the password."""
    variable = SECRET_ENV[URL_SECRET[key]]
    return (
        f"{key} holds a password, and passwords are never read from the file: remove it from the URL "
        f"and set {variable} (or give the whole URL in {KEYS[key].env_var})"
    )


def _flatten(table: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """Unquoted dotted keys (`bigtablev3.filestream.x = 1`) parse as nested tables: undo that."""
    flat: dict[str, Any] = {}
    for key, value in table.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = value
    return flat


def _redis_settings(doc: _Document, table: Any, section: str) -> dict[str, Setting]:
    from wbctl.core.redis_settings import (
        validate_setting,  # core is pure: cheap to import
    )

    settings: dict[str, Setting] = {}
    for key, value in _flatten(_check_table(doc, table, section)).items():
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if isinstance(value, list):
            raise doc.error(f"{key}: expected a string or number", section, key)
        try:
            validate_setting(key, text, force=True)
        except UsageError as exc:
            raise doc.error(exc.message, section, key) from None
        settings[key] = Setting(text, f"file {doc.path} [{section}]")
    return settings


def load(
    env: Environment,
    *,
    flags: Mapping[str, Any] | None = None,
    context: str | None = None,
    config_path: str | None = None,
    sandbox: tuple[str, Mapping[str, Any]] | None = None,
) -> Settings:
    """Resolve every key with its origin. `flags` holds command-line values (None = not given).

    With `sandbox` (scenario name, backend values), the config file, its contexts and the
    secrets are ignored and the sandbox's values win over everything: a rehearsal can never
    reach a real deployment.
    """
    flags = {name: value for name, value in (flags or {}).items() if value is not None}
    if sandbox is not None:
        return _sandbox_settings(env, flags, *sandbox)
    path, explicit = config_file_path(env, config_path)
    doc = _read_document(path, explicit=explicit)
    _check_top_level(doc)
    contexts: dict[str, Any] = _check_table(doc, doc.data.get("contexts", {}), "contexts")
    chosen = _chosen_context(env, doc, contexts, context)
    section = f"contexts.{chosen}"
    context_table: dict[str, Any] = {}
    redis_settings: dict[str, Setting] = {}
    if doc.exists:
        context_table, redis_settings = _context_tables(doc, contexts, chosen)
        _check_every_context(doc, contexts)
    values = _resolve(env, flags, context_table, f"file {path} [{section}]", doc, section)
    secrets = {
        name: Setting(env.environ[var], f"env {var}") for name, var in SECRET_ENV.items() if env.environ.get(var)
    }
    return Settings(
        context=chosen,
        config_file=path if doc.exists else None,
        values=values,
        secrets=secrets,
        redis_settings=redis_settings,
    )


def _check_top_level(doc: _Document) -> None:
    for key in doc.data:
        if key not in {"current-context", "contexts", "redis"}:
            raise doc.error(f"unknown key {key!r} (known: current-context, contexts, redis)", "", key)
    current = doc.data.get("current-context")
    if current is not None and not isinstance(current, str):
        raise doc.error("current-context must be a string", "", "current-context")


def _chosen_context(env: Environment, doc: _Document, contexts: Mapping[str, Any], flag: str | None) -> str | None:
    """--context, else WBCTL_CONTEXT, else current-context, else the only context there is."""
    path = doc.path
    chosen = flag or env.environ.get("WBCTL_CONTEXT") or doc.data.get("current-context")
    if chosen is None and len(contexts) == 1:
        chosen = next(iter(contexts))
    elif chosen is None and len(contexts) > 1:
        raise doc.error(
            f"several contexts ({', '.join(sorted(contexts))}) and no current-context: "
            "pass --context NAME or set current-context"
        )
    if chosen is not None and chosen not in contexts:
        known = ", ".join(sorted(contexts)) or "none"
        origin = "--context" if flag else ("WBCTL_CONTEXT" if env.environ.get("WBCTL_CONTEXT") else "current-context")
        where = f"config {path}" if doc.exists else f"config {path} (no such file)"
        line = doc.line_of("", "current-context") if origin == "current-context" else None
        where = f"config {path}, line {line}" if line else where
        raise ConfigError(f"{where}: unknown context {chosen!r} (from {origin}; known: {known})")
    return chosen


def _only_settings(doc: _Document, table: Any, section: str) -> dict[str, Setting]:
    """A `[... .redis]` table: `settings` is its one key."""
    checked = _check_table(doc, table, section)
    for key in checked:
        if key != "settings":
            raise doc.error(f"unknown key {key!r} in [{section}] (known: settings)", section, key)
    return _redis_settings(doc, checked.get("settings", {}), f"{section}.settings")


def _context_tables(
    doc: _Document, contexts: Mapping[str, Any], chosen: str | None
) -> tuple[dict[str, Any], dict[str, Setting]]:
    """The chosen context's keys, and the Redis overrides: `[redis.settings]`, then the
    context's own `[contexts.NAME.redis.settings]` over them."""
    context_table: dict[str, Any] = {}
    redis_settings: dict[str, Setting] = {}
    if "redis" in doc.data:
        redis_settings.update(_only_settings(doc, doc.data["redis"], "redis"))
    if chosen is not None:
        section = f"contexts.{chosen}"
        context_table = dict(_check_table(doc, contexts[chosen], section))
        if "redis" in context_table:
            redis_settings.update(_only_settings(doc, context_table.pop("redis"), f"{section}.redis"))
    return context_table, redis_settings


def _check_every_context(doc: _Document, contexts: Mapping[str, Any]) -> None:
    """Typos and secrets in every context, not only the chosen one."""
    for name, other in contexts.items():
        for key, value in _check_table(doc, other, f"contexts.{name}").items():
            if key not in KEYS and key != "redis":
                raise doc.error(f"unknown key {key!r} in [contexts.{name}]{_hint(key)}", f"contexts.{name}", key)
            if key in URL_SECRET and isinstance(value, str) and (url_password(value) or secrets_in(value)):
                raise doc.error(_password_in_file(key), f"contexts.{name}", key)


def _sandbox_settings(
    env: Environment, flags: Mapping[str, Any], scenario: str, backend: Mapping[str, Any]
) -> Settings:
    values = _resolve(env, flags, {}, "", _Document(Path(), "", {}, exists=False), "")
    for name, value in backend.items():
        values[name] = Setting(value, f"sandbox {scenario}")
    return Settings(context=f"sandbox/{scenario}", config_file=None, values=values)


def _resolve(
    env: Environment,
    flags: Mapping[str, Any],
    context_table: Mapping[str, Any],
    file_origin: str,
    doc: _Document,
    section: str,
) -> dict[str, Setting]:
    values: dict[str, Setting] = {}
    for name, key in KEYS.items():
        if name in flags:
            origin, raw = f"flag --{name}", flags[name]
        elif key.env_var in env.environ:
            origin, raw = f"env {key.env_var}", env.environ[key.env_var]
        elif name in context_table:
            origin, raw = file_origin, context_table[name]
        elif key.convention and env.environ.get(key.convention):  # set but empty: unset, as Google's clients read it
            origin, raw = f"env {key.convention}", env.environ[key.convention]
        else:
            values[name] = Setting(key.default, "default")
            continue
        try:
            values[name] = Setting(key.parse(raw), origin)
        except ValueError as exc:
            if origin.startswith("file"):
                raise doc.error(f"{name}: {exc}", section, name) from None
            raise ConfigError(
                f"{origin.split(' ', 1)[1] if origin.startswith('env') else '--' + name}: {exc}"
            ) from None
    return values
