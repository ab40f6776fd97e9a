"""`config get-contexts` and `config use-context`: the file's contexts, and switching between
them as kubectl does. Neither loads the settings: a current-context that names no context
must not stop the command that fixes it."""

from __future__ import annotations

from typing import Any

from wbctl.config import ConfigFile, Settings
from wbctl.config.writer import set_current_context, write_atomically
from wbctl.environment import Environment
from wbctl.errors import UsageError


def in_use(file: ConfigFile, env: Environment, flag: str | None) -> str | None:
    """The context commands use now, as `load` chooses it (--context, WBCTL_CONTEXT,
    current-context, the only one), or None when that is none or names no context."""
    chosen = flag or env.environ.get("WBCTL_CONTEXT") or file.current
    if chosen is None and len(file.contexts) == 1:
        chosen = next(iter(file.contexts))
    return chosen if chosen in file.contexts else None


def rows(file: ConfigFile, env: Environment, flag: str | None) -> list[dict[str, Any]]:
    """One row per context, by name, with the keys that say where it points."""
    current = in_use(file, env, flag)
    return [
        {
            "current": name == current,
            "name": name,
            "namespace": table.get("namespace"),
            "instance": table.get("instance"),
            "kube-context": table.get("kube-context"),
            "read-only": bool(table.get("read-only", False)),
        }
        for name, table in sorted(file.contexts.items())
    ]


def use_context(file: ConfigFile, name: str) -> None:
    """Set the file's current-context to NAME, an existing context; nothing else changes."""
    if name not in file.contexts:
        known = ", ".join(sorted(file.contexts)) or "none"
        raise UsageError(f"unknown context {name!r} in {file.path} (known: {known}): nothing was changed")
    if file.current == name:
        return
    write_atomically(file.path, set_current_context(file.text, name, file.path))


def setting_rows(settings: Settings) -> list[dict[str, Any]]:
    """`config show`'s rows (the support bundle's config.json too): every setting with its
    origin, secrets as *** (never their value), then the context's Redis settings."""
    from wbctl.redact import MASK

    rows: list[dict[str, Any]] = [
        {"key": name, "value": setting.value, "origin": setting.origin} for name, setting in settings.values.items()
    ]
    rows += [{"key": name, "value": MASK, "origin": setting.origin} for name, setting in settings.secrets.items()]
    rows += [
        {"key": f"redis.settings.{key}", "value": setting.value, "origin": setting.origin}
        for key, setting in settings.redis_settings.items()
    ]
    return rows
