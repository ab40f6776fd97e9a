"""The Kubernetes adapter's reads: `observe` lists each kind a command needs once,
label-selected by `app.kubernetes.io/instance=<instance>` and paginated, all kinds
concurrently (never one call per service), and turns the answers into a KubeObservation; plus
the CR, ConfigMaps by name, and GETs where absence is an answer. A KubeReader works through the
connection it is given (connection.py); separate from writing: a read never needs a plan, and
its concurrency is its own concern.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wbctl.adapters.kube import convert
from wbctl.adapters.kube.connection import KubeConnection, NotFound
from wbctl.core.kube import KubeObservation, WandbResource
from wbctl.errors import BackendError

INSTANCE_LABEL = "app.kubernetes.io/instance"


# what the commands need: `status` reads six kinds (the budget), list/check add KEDA
STATUS_KINDS = ("deployments", "cronjobs", "horizontalpodautoscalers", "pods", "nodes", "cr")
ALL_KINDS = (*STATUS_KINDS, "scaledobjects")
SCALING_KINDS = ("deployments", "horizontalpodautoscalers", "scaledobjects", "cr")  # what a scaling plan reads
PARQUET_KINDS = ("deployments", "cronjobs", "pods", "cr", "csidrivers")
RUNBOOK_KINDS = ("deployments", "horizontalpodautoscalers", "pods", "scaledobjects", "cr")  # the updater, seen whole


class KubeReader:
    """Lists and GETs through a connection."""

    def __init__(self, connection: KubeConnection, *, page_size: Callable[[], int]) -> None:
        self._connection = connection
        self._page_size = page_size  # items per list page, asked at each list (KubeAdapter: kube.PAGE_SIZE)

    def observe(self, kinds: tuple[str, ...] = ALL_KINDS) -> KubeObservation:
        """The instance's workloads, pods, autoscalers, nodes and CR: one list call per kind, concurrently."""
        self._connection.client()
        readers: dict[str, Callable[[], Any]] = {
            "deployments": lambda: self._list("deployments"),
            "cronjobs": lambda: self._list("cronjobs"),
            "horizontalpodautoscalers": lambda: self._list("horizontalpodautoscalers"),
            "pods": lambda: self._list("pods"),
            "nodes": self._nodes,
            "cr": self.read_cr,
            "scaledobjects": self._scaled_objects,
            "csidrivers": self._csi_drivers,
        }
        with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            futures = {kind: pool.submit(readers[kind]) for kind in kinds}
            results = {kind: future.result() for kind, future in futures.items()}
        return self._observation(kinds, results)

    def _observation(self, kinds: tuple[str, ...], results: dict[str, Any]) -> KubeObservation:
        """What the lists answered, as wbctl's observation; a kind that could not be read is a note."""
        connection = self._connection
        observation = KubeObservation(connection.server, connection.namespace, connection.instance)
        observation.workloads = [convert.deployment(d) for d in results.get("deployments", [])]
        observation.workloads += [convert.cronjob(c) for c in results.get("cronjobs", [])]
        observation.pods = [convert.pod(p) for p in results.get("pods", [])]
        observation.autoscalers = [convert.hpa(h) for h in results.get("horizontalpodautoscalers", [])]
        observation.autoscalers += [convert.scaled_object(s) for s in results.get("scaledobjects", None) or []]
        nodes = results.get("nodes")
        if isinstance(nodes, str):
            observation.notes.append(nodes)
        elif nodes is not None:
            observation.node_zones = {
                n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "")
                for n in nodes
            }
        drivers = results.get("csidrivers")
        if isinstance(drivers, str):
            observation.notes.append(drivers)
        elif drivers is not None:
            observation.csi_drivers = {d["metadata"]["name"] for d in drivers}
        if "cr" in kinds:
            cr = results["cr"]
            observation.cr = cr
            if cr is None:
                observation.notes.append(
                    f"no WeightsAndBiases resource named {connection.instance} in namespace {connection.namespace}: "
                    "chart version and values unknown"
                )
        return observation

    def _list(self, resource: str, *, selected: bool = True) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        with self._connection.translated("list", resource):
            while True:
                query = [("limit", str(self._page_size()))]
                if selected:
                    query.append(("labelSelector", f"{INSTANCE_LABEL}={self._connection.instance}"))
                if token:
                    query.append(("continue", token))
                page = self._connection.request("GET", self._connection.path(resource), query=query)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    return items

    def _nodes(self) -> list[dict[str, Any]] | str:
        """Nodes give zones; pods already name their node, so a refusal only costs the zones."""
        try:
            return self._list("nodes", selected=False)
        except BackendError as exc:
            return f"nodes not readable ({exc.message}): zones unknown"

    def _csi_drivers(self) -> list[dict[str, Any]] | str:
        try:
            return self._list("csidrivers", selected=False)
        except BackendError as exc:
            return f"CSIDrivers not readable ({exc.message})"

    def _scaled_objects(self) -> list[dict[str, Any]] | None:
        try:
            return self._list("scaledobjects")
        except NotFound:
            return None  # no KEDA CRD in this cluster

    def config_maps(self, names: Iterable[str]) -> dict[str, dict[str, str]]:
        """The data of the named ConfigMaps (GET by name, side by side: the chart's ConfigMaps
        carry no instance label to select them by); a missing one is left out."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        self._connection.client()
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            found = dict(zip(wanted, pool.map(lambda name: self.get("configmaps", name), wanted)))
        return {
            name: {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
            for name, obj in found.items()
            if obj is not None
        }

    def read_cr(self) -> WandbResource | None:
        raw = self.get("cr", self._connection.instance)
        return None if raw is None else convert.wandb_resource(raw)

    def get(self, resource: str, name: str) -> dict[str, Any] | None:
        """One object by name; None when the API server has none (a 404)."""
        try:
            with self._connection.translated("get", resource, name):
                return self._connection.request("GET", self._connection.path(resource, name))
        except NotFound:
            return None
