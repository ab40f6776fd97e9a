"""Bigtable instance admin through google-cloud-bigtable's admin client.

Reads the instance and its clusters (two calls), and changes a cluster with
PartialUpdateCluster and an update mask, waiting for the long-running operation within the
timeout (a spinner on stderr) unless told not to wait. The client is imported on first use.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from wbctl.adapters.google import translated, transport
from wbctl.core.bigtable import (
    PATH_AUTOSCALING,
    PATH_CPU,
    PATH_MAX,
    PATH_MIN,
    PATH_NODES,
    PATH_STORAGE,
    Autoscaling,
    BigtableObservation,
    ClusterState,
)
from wbctl.core.model import AutoscalingWrite, Change, Plan
from wbctl.errors import BackendError, PartialWriteError, VerificationError, WbctlError


class BigtableAdapter:
    def __init__(
        self,
        *,
        project: str,
        instance_id: str,
        timeout: float,
        emulator_host: str | None = None,
        endpoint: str | None = None,
        wait: bool = True,
        progress: Callable[[str], Any] | None = None,  # a context manager factory: a spinner on stderr
    ) -> None:
        self.project = project
        self.instance_id = instance_id
        self.timeout = timeout
        self.emulator_host = emulator_host
        self.endpoint = endpoint
        self.wait = wait
        self.progress = progress
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def instance_path(self) -> str:
        return f"projects/{self.project}/instances/{self.instance_id}"

    def client(self) -> Any:
        with self._client_lock:
            return self._client if self._client is not None else self._connect()

    def _connect(self) -> Any:
        if self._client is None:
            from google.cloud.bigtable_admin_v2 import BigtableInstanceAdminClient
            from google.cloud.bigtable_admin_v2.services.bigtable_instance_admin.transports import (
                BigtableInstanceAdminGrpcTransport,
            )

            self._client = BigtableInstanceAdminClient(
                transport=transport(
                    BigtableInstanceAdminGrpcTransport,
                    emulator_host=self.emulator_host,
                    endpoint=self.endpoint,
                    service="Bigtable admin",
                )
            )
        return self._client

    def observe(self) -> BigtableObservation:
        client = self.client()

        def get_instance() -> Any:
            with translated("get instance", self.instance_path, self.timeout, permission="bigtable.instances.get"):
                return client.get_instance(name=self.instance_path, retry=None, timeout=self.timeout)

        def list_clusters() -> Any:
            with translated("list clusters of", self.instance_path, self.timeout, permission="bigtable.clusters.list"):
                return client.list_clusters(parent=self.instance_path, retry=None, timeout=self.timeout)

        with ThreadPoolExecutor(max_workers=2) as pool:  # two independent calls: side by side
            instance_call, clusters_call = pool.submit(get_instance), pool.submit(list_clusters)
            instance, response = instance_call.result(), clusters_call.result()
        return BigtableObservation(
            project=self.project,
            instance_id=self.instance_id,
            display_name=instance.display_name,
            state=instance.state.name,
            clusters=tuple(_cluster(c) for c in response.clusters),
        )

    # --- changes ----------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        """One PartialUpdateCluster per cluster, in order. Autoscaling is written whole (the plan
        carries the complete desired config), since the API replaces cluster_autoscaling_config
        as a unit. Clusters are not updated together: when one fails after others were changed,
        PartialWriteError says which were and which were not."""
        groups = list(plan.by_target().items())
        for index, (target, changes) in enumerate(groups):
            try:
                self._update(plan, target, changes)
            except WbctlError as exc:
                done = [change for _, earlier in groups[:index] for change in earlier]
                rest = [change for _, later in groups[index:] for change in later]
                if not done:
                    raise
                raise PartialWriteError(exc.message, applied=done, not_applied=rest) from exc

    def _update(self, plan: Plan, target: str, changes: list[Change]) -> None:
        from google.cloud.bigtable_admin_v2 import types

        cluster = types.Cluster(name=target)
        desired = plan.writes.get(target)
        paths: list[str] = []
        if isinstance(desired, AutoscalingWrite):
            for path, value in (
                (PATH_MIN, desired.min_nodes),
                (PATH_MAX, desired.max_nodes),
                (PATH_CPU, desired.cpu_target),
                (PATH_STORAGE, desired.storage_gib),
            ):
                if value is not None:
                    _set(cluster, path, value)
            paths.append(".".join(PATH_AUTOSCALING))
        if any(change.path == PATH_AUTOSCALING for change in changes):
            paths.append(".".join(PATH_AUTOSCALING))  # an empty config: autoscaling off
        for change in changes:
            if change.path == PATH_NODES:
                cluster.serve_nodes = change.after
                paths.append("serve_nodes")
        # the mask as a mapping: proto-plus builds the FieldMask (google.protobuf has no types)
        request = types.PartialUpdateClusterRequest(cluster=cluster, update_mask={"paths": sorted(set(paths))})
        with translated("update cluster", target, self.timeout, permission="bigtable.clusters.update"):
            operation = self.client().partial_update_cluster(request=request, retry=None, timeout=self.timeout)
        if self.wait:
            self._wait(operation, target)

    def _wait(self, operation: Any, target: str) -> None:
        """Poll the long-running operation ourselves, each poll bounded by what is left of the
        timeout: the client's `operation.result(timeout=...)` does not bound its polls and can
        wait for minutes on a server that stops answering."""
        import time

        deadline = time.monotonic() + self.timeout
        name = operation.operation.name
        operations = self.client().transport.operations_client
        delay = 0.05
        waiting = self.progress(f"waiting for the update of {target}") if self.progress else contextlib.nullcontext()
        with waiting:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise BackendError(
                        f"the update of {target} was accepted but not finished within {self.timeout:g}s: "
                        "it goes on; check with 'wbctl bigtable status'"
                    )
                with translated("wait for the update of", target, self.timeout, permission="bigtable.clusters.get"):
                    state = operations.get_operation(name, timeout=remaining, retry=None)
                if state.done:
                    if state.HasField("error") and state.error.code:
                        raise BackendError(f"the update of {target} failed: {state.error.message}")
                    return
                time.sleep(min(delay, max(0.0, deadline - time.monotonic())))
                delay = min(delay * 2, 1.0)

    def read_back(self, plan: Plan) -> bool:
        if not self.wait:
            return False  # accepted, not waited for: nothing to verify yet
        observed = {self.instance_path + "/clusters/" + c.cluster_id: c for c in self.observe().clusters}
        for change in plan.changes:
            cluster = observed.get(change.target)
            found = _value(cluster, change.path) if cluster else None
            if found != change.after:
                raise VerificationError(
                    f"read-back of {change.target} shows {change.key} = {found!r}, not {change.after!r}"
                )
        return True

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()


def _cluster(cluster: Any) -> ClusterState:
    config = cluster.cluster_config.cluster_autoscaling_config
    limits, targets = config.autoscaling_limits, config.autoscaling_targets
    autoscaling = None
    if limits.max_serve_nodes:
        autoscaling = Autoscaling(
            min_nodes=limits.min_serve_nodes,
            max_nodes=limits.max_serve_nodes,
            cpu_target=targets.cpu_utilization_percent,
            storage_target_gib=targets.storage_utilization_gib_per_node or None,
        )
    return ClusterState(
        cluster_id=cluster.name.rsplit("/", 1)[-1],
        location=cluster.location.rsplit("/", 1)[-1],
        storage_type=cluster.default_storage_type.name,
        state=cluster.state.name,
        serve_nodes=cluster.serve_nodes,
        autoscaling=autoscaling,
    )


def _value(cluster: ClusterState, path: tuple[str, ...]) -> Any:
    scaling = cluster.autoscaling
    if path == PATH_NODES:
        return cluster.serve_nodes
    if path == PATH_AUTOSCALING:
        return None if scaling is None else "on"
    if scaling is None:
        return None
    by_path: dict[tuple[str, ...], int | None] = {
        PATH_MIN: scaling.min_nodes,
        PATH_MAX: scaling.max_nodes,
        PATH_CPU: scaling.cpu_target,
        PATH_STORAGE: scaling.storage_target_gib,
    }
    return by_path.get(path)


def _set(message: Any, path: tuple[str, ...], value: Any) -> None:
    for part in path[:-1]:
        message = getattr(message, part)
    setattr(message, path[-1], value)
