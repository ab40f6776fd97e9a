"""Where the deployment's Google resources are, from the WeightsAndBiases resource first.

A context that does not set `gcp-project` or `bigtable-instance` gets them from the resource's
values (core/resource_settings.py: what W&B's Terraform wrote there and the chart uses), before
any naming rule. Each value filled keeps its origin, so `config show --origin` says it came
"from the WeightsAndBiases resource". What the context sets on purpose (flag, variable, file)
is never replaced.

The resource costs one Kubernetes GET, so it is read only when a command needs one of these
settings and it is unset (Backends.locate: once per invocation), never when they are given.
An unreadable resource is not fatal: the settings stay unset, and the reason is kept for the
message of whoever needed them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from wbctl.core.resource_settings import RESOURCE_KEYS, from_values
from wbctl.errors import WbctlError

if TYPE_CHECKING:
    from wbctl.config import Settings
    from wbctl.core.kube import WandbResource

ORIGIN = "from the WeightsAndBiases resource"


@dataclass(frozen=True)
class Located:
    """What one look at the resource filled in, and, when it could not be read, why."""

    read: bool  # the resource was asked for
    filled: tuple[str, ...] = ()
    unread: str | None = None  # the one-line reason it could not be read
    v2: bool = False  # the resource is the v2 operator's: its install has no Bigtable

    def why_unset(self, key: str) -> str:
        """For a message about `key` still unset: what the resource said, if it was asked."""
        if not self.read:
            return ""
        if self.unread is not None:
            return f" (the WeightsAndBiases resource could not be read: {self.unread})"
        where = {"gcp-project": "global.bigtable.project", "bigtable-instance": "global.bigtable.instance"}
        return f" (the WeightsAndBiases resource sets no {where.get(key, key)})"


def unset(settings: Settings, keys: Iterable[str] = RESOURCE_KEYS) -> list[str]:
    """The keys the settings leave empty (a default of None, or a sandbox's None)."""
    return [key for key in keys if not settings[key]]


def fill(
    settings: Settings,
    read: Callable[[], WandbResource | None],
    *,
    namespace: str,
    keys: Iterable[str] = RESOURCE_KEYS,
) -> Located:
    """Fill the unset `keys` from the resource `read` returns (None: there is none)."""
    from wbctl.config import Setting

    missing = unset(settings, keys)
    if not missing:
        return Located(read=False)
    try:
        resource = read()
    except WbctlError as exc:
        return Located(read=True, unread=exc.message)
    if resource is None:
        return Located(
            read=True, unread=f"no WeightsAndBiases resource {settings['instance']} in namespace {namespace}"
        )
    from wbctl.core.kube import Generation

    given = from_values(resource.values)
    filled: list[str] = []
    for key in missing:
        if key in given:
            where = f"{ORIGIN} {namespace}/{resource.name} ({given[key].path})"
            settings.values[key] = Setting(given[key].value, where)
            filled.append(key)
    return Located(read=True, filled=tuple(filled), v2=resource.generation is Generation.V2)
