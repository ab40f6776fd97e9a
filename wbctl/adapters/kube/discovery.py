"""Finding the W&B install before any context names it (`config init`): the WeightsAndBiases
resources in one namespace or in every namespace the kubeconfig may list, and the name of the
kubeconfig's current context (so the new context stays on this cluster after a kubectl switch)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wbctl.adapters.kube import convert
from wbctl.adapters.kube.connection import CR_GROUP, CR_PLURAL, KubeConnection, NotFound
from wbctl.core.context_init import FoundResource
from wbctl.errors import BackendError


def find_wandb_resources(connection: KubeConnection, namespace: str | None) -> list[FoundResource]:
    """The resources in `namespace`, or cluster-wide when it is None; a cluster-wide list the
    Role forbids falls back to the connection's namespace (the kubeconfig context's). No CRD
    (a 404) is none."""
    if namespace is None:
        try:
            return _list(connection, None)
        except BackendError as exc:
            if not exc.message.startswith("forbidden"):
                raise
        namespace = connection.namespace
    return _list(connection, namespace)


def _list(connection: KubeConnection, namespace: str | None) -> list[FoundResource]:
    """At the version the install's generation is read at: a v2 resource listed at v1 would
    answer its stashed (possibly stale) v1 values."""
    connection.client()
    version = connection.generation().value
    path = (
        f"/apis/{CR_GROUP}/{version}/namespaces/{namespace}/{CR_PLURAL}"
        if namespace
        else f"/apis/{CR_GROUP}/{version}/{CR_PLURAL}"
    )
    try:
        with connection.translated("list", "cr"):
            answer = connection.request("GET", path)
    except NotFound:
        return []
    found = []
    for item in answer.get("items") or []:
        metadata = item.get("metadata") or {}
        generation = metadata.get("generation")
        found.append(
            FoundResource(
                namespace=str(metadata.get("namespace") or namespace or ""),
                generation=generation if isinstance(generation, int) else None,
                resource=convert.wandb_resource(item),
            )
        )
    return found


def kube_context_of(kubeconfig: str | None, kube_context: str | None) -> tuple[str | None, str | None]:
    """The kubeconfig context (`kube_context`, else the current one) and its namespace; Nones
    in a pod (no kubeconfig) or when it cannot be read (connecting then says why)."""
    import os

    from kubernetes import config

    listing: Callable[..., Any] = config.list_kube_config_contexts  # unannotated in the client
    try:
        contexts, active = listing(config_file=kubeconfig or os.path.expanduser("~/.kube/config"))
    except Exception:  # noqa: BLE001 - no kubeconfig, or not one: the connection reports it
        return kube_context, None
    chosen = next((c for c in contexts or [] if c.get("name") == kube_context), None) if kube_context else active
    name = (chosen or {}).get("name") or kube_context
    namespace = ((chosen or {}).get("context") or {}).get("namespace")
    return (str(name) if name else None), (str(namespace) if namespace else None)
