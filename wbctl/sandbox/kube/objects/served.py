"""The chart's namespace as `sandbox serve` serves it: the WeightsAndBiases resource, the
workloads' variables and the chart's Redis ConfigMap naming the served loopback endpoints
instead of the chart's in-cluster ones, so that `wbctl config init` against the served
kubeconfig writes a context that reaches every served backend without `--sandbox`.

Only serving does this: the in-process sandbox and the tests' fixtures keep the real chart's
values. What it sets is what an install pointed at external services says: the workloads'
MYSQL_* and Google's emulator variables (BIGTABLE_EMULATOR_HOST, PUBSUB_EMULATOR_HOST,
PUBSUB_PROJECT_ID: the chart's `global.env`, where the fmb values already point them at an
emulator), the Redis ConfigMap's REDIS_HOST / REDIS_PORT (as the chart renders it), and the
resource's global.bigtable / global.pubSub project and instance, global.redis and global.mysql. The served
Redis takes no password, so global.redis.password goes; the served MySQL takes any.
`chart_values` puts the chart's values back, so a served rehearsal's saved state does not
carry ports that are gone once the server stops.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from wbctl.sandbox.kube.objects.basics import Obj, stable_uid, timestamp
from wbctl.sandbox.kube.objects.snapshot import snapshot_manifests

EMULATOR_VARIABLES = ("BIGTABLE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")
#: The resource's values serving replaces (and `chart_values` restores).
SERVED_PATHS: tuple[tuple[str, ...], ...] = (
    ("global", "bigtable", "project"),
    ("global", "bigtable", "instance"),
    ("global", "pubSub", "project"),
    ("global", "env", "BIGTABLE_EMULATOR_HOST"),
    ("global", "env", "PUBSUB_EMULATOR_HOST"),
    ("global", "env", "PUBSUB_PROJECT_ID"),
    ("global", "redis"),
    ("global", "mysql"),
)


@dataclass(frozen=True)
class Endpoints:
    """Where the served backends listen, and the Google names the served fakes answer for."""

    redis_host: str
    redis_port: int
    mysql_host: str
    mysql_port: int
    mysql_user: str
    mysql_database: str
    emulator_host: str
    project: str
    bigtable_instance: str

    @classmethod
    def of(cls, settings: Mapping[str, Any], *, project: str, bigtable_instance: str) -> Endpoints:
        """From the sandbox's own settings (its redis-url, mysql-url and gcp-emulator-host)."""
        redis, mysql = urlsplit(str(settings["redis-url"])), urlsplit(str(settings["mysql-url"]))
        return cls(
            redis_host=redis.hostname or "127.0.0.1",
            redis_port=redis.port or 6379,
            mysql_host=mysql.hostname or "127.0.0.1",
            mysql_port=mysql.port or 3306,
            mysql_user=mysql.username or "",
            mysql_database=mysql.path.lstrip("/"),
            emulator_host=str(settings["gcp-emulator-host"]),
            project=project,
            bigtable_instance=bigtable_instance,
        )

    def variables(self) -> dict[str, str]:
        """The workloads' variables that name a backend, as served."""
        return {
            "MYSQL_HOST": self.mysql_host,
            "MYSQL_PORT": str(self.mysql_port),
            "MYSQL_USER": self.mysql_user,
            "MYSQL_DATABASE": self.mysql_database,
            **dict.fromkeys(EMULATOR_VARIABLES, self.emulator_host),
            "PUBSUB_PROJECT_ID": self.project,
        }

    def values(self) -> dict[tuple[str, ...], Any]:
        """The resource's values at SERVED_PATHS, as served."""
        return {
            ("global", "bigtable", "project"): self.project,
            ("global", "bigtable", "instance"): self.bigtable_instance,
            ("global", "pubSub", "project"): self.project,
            ("global", "env", "BIGTABLE_EMULATOR_HOST"): self.emulator_host,
            ("global", "env", "PUBSUB_EMULATOR_HOST"): self.emulator_host,
            ("global", "env", "PUBSUB_PROJECT_ID"): self.project,
            ("global", "redis"): {"host": self.redis_host, "port": self.redis_port},
            ("global", "mysql"): {
                "host": self.mysql_host,
                "port": self.mysql_port,
                "user": self.mysql_user,
                "database": self.mysql_database,
            },
        }


def point_at(
    objects: Iterable[Obj], endpoints: Endpoints, *, instance: str, namespace: str, now: datetime | None = None
) -> list[Obj]:
    """The namespace's objects (copies) naming the served endpoints, with the chart's Redis ConfigMap."""
    out = [copy.deepcopy(obj) for obj in objects]
    variables = endpoints.variables()
    for obj in out:
        if obj.get("kind") == "WeightsAndBiases":
            obj["spec"]["values"] = served_values(obj["spec"].get("values") or {}, endpoints)
        for container in _containers(obj):
            for var in container.get("env") or []:
                if var.get("name") in variables and "value" in var:
                    var["value"] = variables[var["name"]]
    name = f"{instance}-redis-configmap"
    out = [o for o in out if not (o.get("kind") == "ConfigMap" and o["metadata"]["name"] == name)]
    return [*out, _redis_config_map(endpoints, instance, namespace, now or datetime.now(UTC))]


def served_values(values: Mapping[str, Any], endpoints: Endpoints) -> dict[str, Any]:
    out = copy.deepcopy(dict(values))
    for path, value in endpoints.values().items():
        _put(out, path, copy.deepcopy(value))
    return out


def chart_values(values: Mapping[str, Any], chart: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with the chart's own at every SERVED_PATHS (absent where the chart has none)."""
    out = copy.deepcopy(dict(values))
    for path in SERVED_PATHS:
        original = _get(chart, path)
        if original is _ABSENT:
            _drop(out, path)
        else:
            _put(out, path, copy.deepcopy(original))
    return out


def _redis_config_map(endpoints: Endpoints, instance: str, namespace: str, now: datetime) -> Obj:
    """The chart's `<instance>-redis-configmap` (templates/redis.yaml), its host and port the served Redis's."""
    name = f"{instance}-redis-configmap"
    rendered = snapshot_manifests("fmb.snap", instance, namespace, "operator-wandb-0.43.8", ("ConfigMap",))
    config_map = next(m for m in rendered if m["metadata"]["name"] == name)
    metadata = config_map["metadata"]
    for empty in [key for key in ("labels", "annotations") if key in metadata and not metadata[key]]:
        del metadata[empty]  # rendered as `labels:` with nothing under it; the API server omits it
    metadata.setdefault("uid", stable_uid("ConfigMap", namespace, name))
    metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=30)))
    config_map["data"] = {
        **(config_map.get("data") or {}),
        "REDIS_HOST": endpoints.redis_host,
        "REDIS_PORT": str(endpoints.redis_port),
    }
    return config_map


def _containers(obj: Obj) -> Iterator[dict[str, Any]]:
    spec = obj.get("spec") or {}
    pod_specs = [
        spec if obj.get("kind") == "Pod" else None,
        (spec.get("template") or {}).get("spec"),
        (((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}).get("spec"),
    ]
    for pod_spec in pod_specs:
        if isinstance(pod_spec, dict):
            yield from [*(pod_spec.get("initContainers") or []), *(pod_spec.get("containers") or [])]


_ABSENT = object()


def _get(values: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = values
    for part in path:
        if not isinstance(node, Mapping) or part not in node:
            return _ABSENT
        node = node[part]
    return node


def _put(values: dict[str, Any], path: tuple[str, ...], value: Any) -> None:
    node = values
    for part in path[:-1]:
        if not isinstance(node.get(part), dict):
            node[part] = {}
        node = node[part]
    node[path[-1]] = value


def _drop(values: dict[str, Any], path: tuple[str, ...]) -> None:
    node: Any = values
    for part in path[:-1]:
        node = node.get(part) if isinstance(node, dict) else None
    if isinstance(node, dict):
        node.pop(path[-1], None)
