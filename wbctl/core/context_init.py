"""`config init`'s judgement: from what the cluster says (the WeightsAndBiases resource, the
workloads' variables and the ConfigMaps they name), the settings of one context.

Pure: the adapter reads, this derives. Each value keeps where it was read, so the command can
say it; what cannot be read from the cluster without a secret (passwords, CA files) is listed
as still to fill, with how. A password is never derived: URLs are built from host and port
alone, and the resource's `password` / `secretKey` values are never looked at.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from wbctl.core import queue_source, resource_settings
from wbctl.core.kube import Container, WandbResource, Workload
from wbctl.errors import UsageError

Value = str | bool


@dataclass(frozen=True)
class FoundResource:
    """A WeightsAndBiases resource found in the cluster."""

    namespace: str
    generation: int | None
    resource: WandbResource

    @property
    def label(self) -> str:
        return f"{self.namespace}/{self.resource.name}"


@dataclass
class Derived:
    """One context's settings, where each came from, and what is still to fill (key -> how)."""

    found: FoundResource
    values: dict[str, Value] = field(default_factory=dict)
    origins: dict[str, str] = field(default_factory=dict)
    to_fill: dict[str, str] = field(default_factory=dict)

    def set(self, key: str, value: Value | None, origin: str) -> None:
        if value is not None and value != "" and key not in self.values:
            self.values[key] = value
            self.origins[key] = origin


def choose(found: Sequence[FoundResource], namespace: str | None) -> FoundResource:
    """The one resource to describe: none found or several is the operator's to settle."""
    if not found:
        from wbctl.errors import BackendError

        where = f"namespace {namespace}" if namespace else "any namespace this kubeconfig may read"
        raise BackendError(f"no WeightsAndBiases resource in {where}: pass --namespace N or --kube-context K")
    if len(found) > 1:
        labels = ", ".join(sorted(f.label for f in found))
        raise UsageError(f"several WeightsAndBiases resources ({labels}): pass --namespace N to pick one")
    return found[0]


def variables(container: Container, config_maps: Mapping[str, Mapping[str, str]]) -> dict[str, str]:
    """A container's variables as Kubernetes sets them: its envFrom ConfigMaps, then its `env`
    (each `$(VAR)` expanded); a Secret's variable is absent (never read)."""
    result: dict[str, str] = {}
    for name in container.env_from:
        result.update(config_maps.get(name, {}))
    for var in container.env:
        if var.value is not None:
            result[var.name], _ = queue_source.expand(var.value, result)
        elif var.config_map is not None and var.config_map[1] in config_maps.get(var.config_map[0], {}):
            result[var.name] = config_maps[var.config_map[0]][var.config_map[1]]
    return result


def _nested(values: Mapping[str, Any], *path: str) -> Any:
    node: Any = values
    for part in path:
        node = node.get(part) if isinstance(node, Mapping) else None
    return node


def _text(value: Any) -> str | None:
    return str(value) if isinstance(value, str | int) and not isinstance(value, bool) and str(value) else None


def _first_with(
    workloads: Sequence[Workload], config_maps: Mapping[str, Mapping[str, str]], name: str
) -> tuple[str, dict[str, str]] | None:
    """The first workload (by name) whose container sets `name`, and that container's variables."""
    for workload in sorted(workloads, key=lambda w: w.name):
        for container in workload.containers:
            found = variables(container, config_maps)
            if found.get(name):
                return f"{workload.kind.lower()}/{workload.name}", found
    return None


def _secret_env(workloads: Sequence[Workload], name: str) -> bool:
    """Whether a workload takes `name` from a Secret (an env entry with neither value nor ConfigMap)."""
    return any(
        var.name == name and var.value is None and var.config_map is None
        for workload in workloads
        for container in workload.containers
        for var in container.env
    )


def derive(
    found: FoundResource,
    workloads: Sequence[Workload],
    config_maps: Mapping[str, Mapping[str, str]],
    *,
    kube_context: str | None,
) -> Derived:
    """The context's settings, in the order the file lists them."""
    derived = Derived(found)
    cr, values = found.resource, found.resource.values
    where_cr = f"weightsandbiases/{cr.name}"
    derived.set("kube-context", kube_context, "the kubeconfig")
    derived.set("namespace", found.namespace, f"{where_cr} (its namespace)")
    derived.set("instance", cr.name, f"{where_cr} (its name)")
    for key, given in resource_settings.from_values(values).items():  # gcp-project, bigtable-instance
        derived.set(key, given.value, f"{where_cr} values {given.path}")
    _emulator(derived, workloads, config_maps)
    _queue(derived, workloads, config_maps)
    _redis(derived, workloads, config_maps, values, where_cr)
    _mysql(derived, workloads, config_maps, values, where_cr)
    return derived


#: Google's own emulator variables, as the workloads carry them: wbctl's `gcp-emulator-host` is
#: one endpoint for every Google API, so Bigtable's wins over Pub/Sub's when both are set.
EMULATOR_VARIABLES = ("BIGTABLE_EMULATOR_HOST", "PUBSUB_EMULATOR_HOST")


def _emulator(derived: Derived, workloads: Sequence[Workload], config_maps: Mapping[str, Mapping[str, str]]) -> None:
    """A workload that talks to a Google emulator says where: wbctl talks to the same one."""
    for name in EMULATOR_VARIABLES:
        seen = _first_with(workloads, config_maps, name)
        if seen is not None:
            origin, env = seen
            derived.set("gcp-emulator-host", env[name], f"{origin} env {name}")
            return


def _queue(derived: Derived, workloads: Sequence[Workload], config_maps: Mapping[str, Mapping[str, str]]) -> None:
    updater = next((w for w in workloads if queue_source.updater_container(w) is not None), None)
    try:
        address = queue_source.discover(updater, config_maps)
    except UsageError:
        address = None
    if address is not None:
        derived.set("queue-source", address.source, address.origin)


def _redis(
    derived: Derived,
    workloads: Sequence[Workload],
    config_maps: Mapping[str, Mapping[str, str]],
    values: Mapping[str, Any],
    where_cr: str,
) -> None:
    seen = _first_with(workloads, config_maps, "REDIS_HOST")
    if seen is not None:
        origin, env = seen
        host, port, params = env["REDIS_HOST"], env.get("REDIS_PORT") or "6379", env.get("REDIS_PARAMS", "")
        origin = f"{origin} env REDIS_HOST, REDIS_PORT"
    else:
        host = _text(_nested(values, "global", "redis", "host")) or ""
        port = _text(_nested(values, "global", "redis", "port")) or "6379"
        params = "tls=true" if _nested(values, "global", "redis", "caCert") else ""
        params += str(_nested(values, "global", "redis", "params") or "")
        origin = f"{where_cr} values global.redis.host, port"
    if not host:
        return
    tls = "tls=true" in params.lower() or port == "6378"  # 6378: Memorystore's in-transit TLS port
    derived.set("redis-url", f"{'rediss' if tls else 'redis'}://{host}:{port}/0", origin)
    if tls:
        derived.to_fill["redis-ca-file"] = (
            "redis-ca-file: the server CA of the TLS Redis (Memorystore: gcloud redis instances describe NAME "
            "--region R --format='value(serverCaCerts[0].cert)' > FILE), then add redis-ca-file = \"FILE\""
        )
    if _secret_env(workloads, "REDIS_PASSWORD") or _nested(values, "global", "redis", "password"):
        derived.to_fill["redis-password"] = (
            'redis-password: never in this file: export WBCTL_REDIS_PASSWORD="$(cat PASSWORD_FILE)" '
            "(the AUTH string is in the Secret the workloads' REDIS_PASSWORD names)"
        )


def _mysql(
    derived: Derived,
    workloads: Sequence[Workload],
    config_maps: Mapping[str, Mapping[str, str]],
    values: Mapping[str, Any],
    where_cr: str,
) -> None:
    seen = _first_with(workloads, config_maps, "MYSQL_HOST")
    if seen is not None:
        origin, env = seen
        host, port = env["MYSQL_HOST"], env.get("MYSQL_PORT") or "3306"
        user, database = env.get("MYSQL_USER", ""), env.get("MYSQL_DATABASE", "")
        origin = f"{origin} env MYSQL_HOST, MYSQL_PORT, MYSQL_USER, MYSQL_DATABASE"
    else:
        mysql = _nested(values, "global", "mysql") or {}
        host = _text(_nested(mysql, "host")) or ""
        port = _text(_nested(mysql, "port")) or "3306"
        user, database = _text(_nested(mysql, "user")) or "", _text(_nested(mysql, "database")) or ""
        origin = f"{where_cr} values global.mysql"
    if not host:
        return
    derived.set("mysql-url", f"mysql://{user + '@' if user else ''}{host}:{port}/{database}", origin)
    derived.to_fill["mysql-password"] = (
        'mysql-password: never in this file: export WBCTL_MYSQL_PASSWORD="$(cat PASSWORD_FILE)" '
        "(the workloads take MYSQL_PASSWORD from a Secret)"
    )
