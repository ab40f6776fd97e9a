"""`config init`: find the WeightsAndBiases resource, read what the cluster says about the
install, and turn it into one new context of the config file.

The settings are not loaded: the file may have no usable context yet (that is why one runs
this), so the timeout comes from --timeout / WBCTL_TIMEOUT alone. Reads: the resources (every
namespace the kubeconfig may list, or --namespace), then the chosen install's Deployments and
the ConfigMaps their containers name; never a Secret. The file's new text is computed here
and written by the command after the diff and the confirmation.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from wbctl.config import KEYS, ConfigFile
from wbctl.config.writer import add_context, context_block
from wbctl.core.context_init import Derived, choose, derive
from wbctl.environment import Environment
from wbctl.errors import ConfigError


@dataclass(frozen=True)
class Target:
    """Where to look: the kubeconfig context and the namespace (None: every namespace)."""

    kube_context: str | None
    namespace: str | None
    timeout: float
    kubeconfig: str | None


def target(env: Environment, *, kube_context: str | None, namespace: str | None, timeout: str | None) -> Target:
    raw, origin = (timeout, "--timeout") if timeout else (env.environ.get("WBCTL_TIMEOUT"), "WBCTL_TIMEOUT")
    try:
        seconds = float(KEYS["timeout"].parse(raw)) if raw else float(KEYS["timeout"].default)
    except ValueError as exc:
        raise ConfigError(f"{origin}: {exc}") from None
    return Target(kube_context or None, namespace or None, seconds, env.environ.get("KUBECONFIG"))


def discover(env: Environment, where: Target) -> Derived:
    """Read the cluster and derive the context's settings."""
    from wbctl.adapters.kube import KubeAdapter
    from wbctl.adapters.kube.discovery import find_wandb_resources, kube_context_of

    kube_context, context_namespace = kube_context_of(where.kubeconfig, where.kube_context)
    finder = KubeAdapter(
        kube_context=where.kube_context,
        namespace=where.namespace or context_namespace or "default",
        instance="",
        timeout=where.timeout,
        kubeconfig=where.kubeconfig,
        environ=env.environ,
    )
    try:
        found = choose(find_wandb_resources(finder.connection, where.namespace), where.namespace)
    finally:
        finder.close()
    adapter = KubeAdapter(
        kube_context=where.kube_context,
        namespace=found.namespace,
        instance=found.resource.name,
        timeout=where.timeout,
        kubeconfig=where.kubeconfig,
        environ=env.environ,
    )
    try:
        workloads = adapter.observe(("deployments",)).workloads
        names = {
            name
            for workload in workloads
            for container in workload.containers
            for name in (
                *container.env_from,
                *(var.config_map[0] for var in container.env if var.config_map is not None),
            )
            if name
        }
        config_maps = adapter.config_maps(names)
    finally:
        adapter.close()
    return _parsable(derive(found, workloads, config_maps, kube_context=kube_context))


def _parsable(derived: Derived) -> Derived:
    """A value the key's own parser refuses (a URL scheme it does not take) is not written:
    the file would stop loading. It is said as a setting still to fill."""
    for key, value in list(derived.values.items()):
        try:
            KEYS[key].parse(value)
        except ValueError as exc:
            del derived.values[key]
            derived.to_fill[key] = f"{key}: the cluster says {value!r}, which wbctl cannot take ({exc}): set it by hand"
    return derived


@dataclass(frozen=True)
class FileChange:
    name: str
    before: str
    after: str

    def diff(self, path: str) -> str:
        lines = difflib.unified_diff(
            self.before.splitlines(keepends=True), self.after.splitlines(keepends=True), path, path
        )
        return "".join(line if line.endswith("\n") else line + "\n" for line in lines)


def file_change(file: ConfigFile, name: str | None, derived: Derived, *, force: bool) -> FileChange:
    """The file's text with the new context (named NAME, else after the instance)."""
    chosen = name or derived.found.resource.name
    comments = {"source": f"from {derived.found.label} by wbctl config init", **derived.to_fill}
    block = context_block(chosen, derived.values, comments)
    after = add_context(file.text, chosen, block, derived.values, file.path, replace=force)
    return FileChange(chosen, file.text, after)
