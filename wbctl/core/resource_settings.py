"""The settings a WeightsAndBiases resource's values already name: which Google Cloud project
and which Bigtable instance the deployment uses.

W&B's Terraform writes them into the resource (terraform-google-wandb `main.tf`:
`global.bigtable.project` and `global.bigtable.instance`, `global.pubSub.project`) and the chart
builds its history stores from exactly those values (helm-charts
`charts/operator-wandb/templates/_history.tpl`: `bigtablev3://<project>/<instance>`). So they are
what the deployment really talks to, and they come before any naming rule: Terraform names the
instance after its own `namespace` variable, which need not be the resource's name.

Pure: `config init` (core/context_init.py) writes them into a context and the Session
(app/locate.py) fills them in for a context that does not set them; both read them here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: The settings the resource can give, each with the value paths that hold it, first found wins.
PATHS: dict[str, tuple[tuple[str, ...], ...]] = {
    "gcp-project": (("global", "bigtable", "project"), ("global", "pubSub", "project")),
    "bigtable-instance": (("global", "bigtable", "instance"),),
}
RESOURCE_KEYS = tuple(PATHS)


@dataclass(frozen=True)
class FromResource:
    """One setting as the resource's values give it, and the value path it was read at."""

    key: str
    value: str
    path: str  # dotted, as the chart's values are written: "global.bigtable.instance"


def _at(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _text(value: Any) -> str | None:
    """A value a setting can take: a non-empty string (Terraform writes "" for no Bigtable)."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def from_values(values: Mapping[str, Any]) -> dict[str, FromResource]:
    """The settings `values` (a resource's spec.values) name; a key it does not name is absent."""
    found: dict[str, FromResource] = {}
    for key, paths in PATHS.items():
        for path in paths:
            value = _text(_at(values, path))
            if value is not None:
                found[key] = FromResource(key, value, ".".join(path))
                break
    return found
