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
from wbctl.core.kube import INSTANCE_LABEL, Generation, KubeObservation, WandbResource
from wbctl.errors import BackendError

__all__ = [
    "ALL_KINDS",
    "HEALTH_KINDS",
    "INSTANCE_LABEL",
    "PARQUET_KINDS",
    "RUNBOOK_KINDS",
    "SCALING_KINDS",
    "STATUS_KINDS",
    "KubeReader",
]

# what a v2 install is read differently for: its Pods and CronJobs by instance=<namespace>, its
# Deployments and HPAs (no labels of their own: application_controller.go) unselected and kept by
# selector and target, and the CR at apps.wandb.com/v2
V2_SELECTED = ("deployments", "cronjobs", "horizontalpodautoscalers", "pods", "scaledobjects", "cr", "podmetrics")


# what the commands need: `status` reads six kinds (the budget), list/check add KEDA
STATUS_KINDS = ("deployments", "cronjobs", "horizontalpodautoscalers", "pods", "nodes", "cr")
ALL_KINDS = (*STATUS_KINDS, "scaledobjects")
SCALING_KINDS = ("deployments", "horizontalpodautoscalers", "scaledobjects", "cr")  # what a scaling plan reads
PARQUET_KINDS = ("deployments", "cronjobs", "pods", "cr", "csidrivers")
RUNBOOK_KINDS = ("deployments", "horizontalpodautoscalers", "pods", "scaledobjects", "cr")  # the updater, seen whole
# what the pods' health reads besides (`services check`, `check`): their memory in use, where served
HEALTH_KINDS = (*ALL_KINDS, "podmetrics")


class KubeReader:
    """Lists and GETs through a connection."""

    def __init__(self, connection: KubeConnection, *, page_size: Callable[[], int]) -> None:
        self._connection = connection
        self._page_size = page_size  # items per list page, asked at each list (KubeAdapter: kube.PAGE_SIZE)

    def observe(self, kinds: tuple[str, ...] = ALL_KINDS) -> KubeObservation:
        """The instance's workloads, pods, autoscalers, nodes and CR: one list call per kind,
        concurrently, selected as the install's generation labels them (v1: instance=<CR name>;
        v2: instance=<namespace>, its Deployments and HPAs kept by selector and target).

        The generation is detected once per connection, side by side with the first lists
        (read as v1's, so a v1 install costs no extra round trip and a silent API server one
        timeout); on a v2 install the kinds it selects differently are listed again."""
        self._connection.client()
        known = self._connection.known_generation
        if known is not None:
            return self._observation(kinds, self._read(kinds, known), known)
        with ThreadPoolExecutor(max_workers=len(kinds) + 1) as pool:
            detected = pool.submit(self._connection.generation)
            futures = {kind: pool.submit(self._readers(Generation.V1)[kind]) for kind in kinds}
            results = {kind: future.result() for kind, future in futures.items()}
            generation = detected.result()
        if generation is Generation.V2:
            again = tuple(kind for kind in kinds if kind in V2_SELECTED)
            results.update(self._read(again, generation))
        return self._observation(kinds, results, generation)

    def _read(self, kinds: tuple[str, ...], generation: Generation) -> dict[str, Any]:
        if not kinds:
            return {}
        readers = self._readers(generation)
        with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            futures = {kind: pool.submit(readers[kind]) for kind in kinds}
            return {kind: future.result() for kind, future in futures.items()}

    def _readers(self, generation: Generation) -> dict[str, Callable[[], Any]]:
        v1 = generation is Generation.V1
        return {
            "deployments": lambda: self._list("deployments", generation, selected=v1),
            "cronjobs": lambda: self._list("cronjobs", generation),
            "horizontalpodautoscalers": lambda: self._list("horizontalpodautoscalers", generation, selected=v1),
            "pods": lambda: self._list("pods", generation),
            "nodes": self._nodes,
            "cr": lambda: self._cr(generation),
            "scaledobjects": lambda: self._scaled_objects(generation, selected=v1),
            "csidrivers": self._csi_drivers,
            "podmetrics": lambda: self._pod_metrics(generation),
        }

    def _observation(self, kinds: tuple[str, ...], results: dict[str, Any], generation: Generation) -> KubeObservation:
        """What the lists answered, as wbctl's observation; a kind that could not be read is a note."""
        connection = self._connection
        observation = KubeObservation(connection.server, connection.namespace, connection.instance)
        observation.generation = generation
        value = generation.instance_label(connection.namespace, connection.instance)
        deployments = [convert.deployment(d) for d in results.get("deployments", [])]
        if generation is Generation.V2:  # unselected: the install's are those whose Pods it selects
            deployments = [
                d for d in deployments if value in (d.selector.get(INSTANCE_LABEL), d.labels.get(INSTANCE_LABEL))
            ]
        observation.workloads = deployments + [convert.cronjob(c) for c in results.get("cronjobs", [])]
        observation.pods = [convert.pod(p) for p in results.get("pods", [])]
        autoscalers = [convert.hpa(h) for h in results.get("horizontalpodautoscalers", [])]
        autoscalers += [convert.scaled_object(s) for s in results.get("scaledobjects", None) or []]
        if generation is Generation.V2:
            names = {d.name for d in deployments}
            autoscalers = [a for a in autoscalers if a.target in names]
        observation.autoscalers = autoscalers
        nodes = results.get("nodes")
        if isinstance(nodes, str):
            observation.notes.append(nodes)
        elif nodes is not None:
            observation.node_zones = {
                n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "")
                for n in nodes
            }
        metrics = results.get("podmetrics")
        if isinstance(metrics, str):
            observation.memory_unknown = metrics
        elif metrics is not None:
            observation.pod_memory = dict(convert.pod_memory(m) for m in metrics)
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
                    + (
                        "its applications' settings unknown"
                        if generation is Generation.V2
                        else "chart version and values unknown"
                    )
                )
            elif generation is Generation.V2 and cr.written_as == Generation.V1.api_version:
                observation.notes.append(
                    f"weightsandbiases/{cr.name} was last written as apps.wandb.com/v1 and is run by the v2 operator: "
                    "its v1 spec.values survive only in an annotation and are not what runs; read as apps.wandb.com/v2"
                )
        return observation

    def _list(
        self, resource: str, generation: Generation = Generation.V1, *, selected: bool = True
    ) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        connection = self._connection
        value = generation.instance_label(connection.namespace, connection.instance)
        with self._connection.translated("list", resource):
            while True:
                query = [("limit", str(self._page_size()))]
                if selected:
                    query.append(("labelSelector", f"{INSTANCE_LABEL}={value}"))
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

    def _pod_metrics(self, generation: Generation) -> list[dict[str, Any]] | str:
        """The pods' memory in use from metrics.k8s.io (metrics-server), selected as the pods are;
        a cluster that does not serve it (a 404), or refuses it, only costs the memory judgement."""
        try:
            return self._list("podmetrics", generation)
        except NotFound:
            return "the cluster does not serve metrics.k8s.io (no metrics-server): memory use unknown"
        except BackendError as exc:
            return f"metrics.k8s.io not readable ({exc.message}): memory use unknown"

    def _scaled_objects(self, generation: Generation, *, selected: bool = True) -> list[dict[str, Any]] | None:
        try:
            return self._list("scaledobjects", generation, selected=selected)
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
        """The CR at the generation's version: v2 when the CRD serves it (a v1 read of a v2
        object answers a stash, possibly stale), else v1."""
        return self._cr(self._connection.generation())

    def _cr(self, generation: Generation) -> WandbResource | None:
        raw = self.get("cr", self._connection.instance, cr_version=generation.value)
        return None if raw is None else convert.wandb_resource(raw)

    def get(self, resource: str, name: str, *, cr_version: str | None = None) -> dict[str, Any] | None:
        """One object by name; None when the API server has none (a 404)."""
        try:
            with self._connection.translated("get", resource, name):
                return self._connection.request("GET", self._connection.path(resource, name, cr_version=cr_version))
        except NotFound:
            return None
