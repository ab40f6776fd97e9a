"""The Bigtable instance admin fake and its long-running operations: instances and clusters kept
as plain dicts (the sandbox saves and restores them), ListInstances, GetInstance, ListClusters
(instance `-` lists every instance's clusters), GetCluster, PartialUpdateCluster (Google's rules from
bigtable/rules.py; the cluster RESIZING while its operation is pending) and GetOperation, which
`operation.result()` polls; an operation completes after a number of polls or a delay.
Of the table admin, ListTables and GetTable over the tables W&B's Terraform module creates
(`WANDB_TABLES`), so Google's `cbt` answers `listinstances`, `ls` and `ls <table>` as on a real
project. A service object the gRPC shell (grpc.py) serves; separate from Monitoring, its own state.
"""

from __future__ import annotations

import copy
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import grpc
from google.cloud.bigtable_admin_v2.types import bigtable_instance_admin as bia
from google.cloud.bigtable_admin_v2.types import bigtable_table_admin as bta
from google.cloud.bigtable_admin_v2.types import instance as bti
from google.cloud.bigtable_admin_v2.types import table as btt
from google.longrunning import operations_pb2  # no py.typed: Any

from wbctl.sandbox.google.bigtable.rules import apply_cluster_update
from wbctl.sandbox.google.grpc import Abort, Method, invalid_argument

BIGTABLE_ADMIN = "google.bigtable.admin.v2.BigtableInstanceAdmin"
TABLE_ADMIN = "google.bigtable.admin.v2.BigtableTableAdmin"
# terraform-google-wandb modules/bigtable/main.tf: each table's column families, one version kept
WANDB_TABLES: dict[str, tuple[str, ...]] = {
    "history": ("event",),
    "logs": ("line",),
    "omni-history": ("x",),
    "omni-history-lookup": ("x",),
    "runs": ("data", "metadata"),
}
OPERATIONS = "google.longrunning.Operations"

_CLUSTER_NAME = re.compile(r"projects/([^/]+)/instances/([^/]+)/clusters/([^/]+)")
_INSTANCE_NAME = re.compile(r"projects/([^/]+)/instances/([^/]+)")
_PROJECT_NAME = re.compile(r"projects/([^/]+)")
_TABLE_NAME = re.compile(r"(projects/[^/]+/instances/[^/]+)/tables/([^/]+)")


@dataclass
class _Operation:
    name: str
    key: tuple[str, str, str]  # project, instance, cluster
    request: bia.PartialUpdateClusterRequest
    request_time: datetime
    polls_left: int | None  # done when it reaches 0 (GetOperation calls)
    done_at: float | None  # or done at this monotonic time
    done: bool = False
    finish_time: datetime | None = None


def _denied(permission: str, resource: Callable[[Any], str]) -> Callable[[Any], str]:
    """Bigtable's PERMISSION_DENIED wording: the IAM permission and the resource refused."""
    return lambda request: f"Permission '{permission}' denied on resource '{resource(request)}' (or it may not exist)."


class BigtableAdminFake:
    """Bigtable instance admin and its long-running operations (see the module docstring)."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # over the state below; the shell serves each call under it
        # project -> instance id -> {"display_name", "labels", "clusters": {id: cluster dict}}
        self._instances: dict[str, dict[str, dict[str, Any]]] = {}
        self._operations: dict[str, _Operation] = {}
        self._op_counter = 0
        self._op_polls = 0
        self._op_delay: float | None = None

    # -- state: Bigtable ------------------------------------------------------------------------

    def add_instance(
        self,
        project: str,
        instance_id: str,
        *,
        display_name: str | None = None,
        clusters: Sequence[Mapping[str, Any]],
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """clusters: dicts with id, location ("us-central1-a"), storage_type ("SSD"/"HDD"),
        serve_nodes, and optional autoscaling {min, max, cpu_target, storage_target_gib}."""
        stored: dict[str, dict[str, Any]] = {}
        for spec in clusters:
            storage_type = str(spec.get("storage_type", "SSD")).upper()
            auto = spec.get("autoscaling")
            autoscaling = None
            if auto:
                default_storage = 8192 if storage_type == "HDD" else 2560
                autoscaling = {
                    "min": int(auto["min"]),
                    "max": int(auto["max"]),
                    "cpu_target": int(auto.get("cpu_target", 70)),
                    "storage_target_gib": int(auto.get("storage_target_gib") or default_storage),
                }
            serve_nodes = int(spec.get("serve_nodes", autoscaling["min"] if autoscaling else 1))
            stored[spec["id"]] = {
                "id": spec["id"],
                "location": spec.get("location", "us-central1-a"),
                "storage_type": storage_type,
                "serve_nodes": serve_nodes,
                "autoscaling": autoscaling,
                "state": "READY",
            }
        with self.lock:
            self._instances.setdefault(project, {})[instance_id] = {
                "display_name": display_name or instance_id,
                "labels": dict(labels or {}),
                "clusters": stored,
            }

    def cluster(self, project: str, instance: str, cluster: str) -> dict[str, Any]:
        """A copy of the stored cluster: id, location, storage_type, serve_nodes, state
        ("READY"/"RESIZING"), autoscaling ({min, max, cpu_target, storage_target_gib} or None)."""
        with self.lock:
            self._finish_due_operations()
            return copy.deepcopy(self._instances[project][instance]["clusters"][cluster])

    def set_serve_nodes(self, project: str, instance: str, cluster: str, nodes: int) -> None:
        """What Bigtable's autoscaler does: the node count within the autoscaling limits (the sandbox's model decides it)."""
        with self.lock:
            self._instances[project][instance]["clusters"][cluster]["serve_nodes"] = int(nodes)

    def state(self) -> dict[str, Any]:
        """The Bigtable state as JSON-able data (the sandbox saves it between invocations)."""
        with self.lock:
            self._finish_due_operations()
            return copy.deepcopy({"instances": self._instances})

    def load_state(self, saved: Mapping[str, Any]) -> None:
        with self.lock:
            self._instances = copy.deepcopy(dict(saved.get("instances", {})))
            for project in self._instances.values():
                for inst in project.values():
                    for cluster in inst["clusters"].values():
                        cluster["state"] = "READY"

    def operation_polls(self, n: int) -> None:
        """PartialUpdateCluster's operation is done after n GetOperation calls (0: done at once)."""
        with self.lock:
            self._op_polls, self._op_delay = max(0, n), None

    def operation_delay(self, seconds: float) -> None:
        """PartialUpdateCluster's operation is done `seconds` after the request."""
        with self.lock:
            self._op_polls, self._op_delay = 0, seconds

    def reset_operations(self) -> None:
        """Operations done at once again (what reset_faults restores besides the server's faults)."""
        with self.lock:
            self._op_polls, self._op_delay = 0, None

    # -- Bigtable instance admin ----------------------------------------------------------------

    def methods(self) -> dict[str, Method]:
        """The methods the shell serves: short name -> wire service, messages, implementation."""
        return {
            "ListInstances": Method(
                BIGTABLE_ADMIN,
                bia.ListInstancesRequest.deserialize,
                bia.ListInstancesResponse.serialize,
                self._list_instances,
                _denied("bigtable.instances.list", lambda request: request.parent),
            ),
            "ListTables": Method(
                TABLE_ADMIN,
                bta.ListTablesRequest.deserialize,
                bta.ListTablesResponse.serialize,
                self._list_tables,
                _denied("bigtable.tables.list", lambda request: request.parent),
            ),
            "GetTable": Method(
                TABLE_ADMIN,
                bta.GetTableRequest.deserialize,
                btt.Table.serialize,
                self._get_table,
                _denied("bigtable.tables.get", lambda request: request.name),
            ),
            "GetInstance": Method(
                BIGTABLE_ADMIN,
                bia.GetInstanceRequest.deserialize,
                bti.Instance.serialize,
                self._get_instance,
                _denied("bigtable.instances.get", lambda request: request.name),
            ),
            "ListClusters": Method(
                BIGTABLE_ADMIN,
                bia.ListClustersRequest.deserialize,
                bia.ListClustersResponse.serialize,
                self._list_clusters,
                _denied("bigtable.clusters.list", lambda request: request.parent),
            ),
            "GetCluster": Method(
                BIGTABLE_ADMIN,
                bia.GetClusterRequest.deserialize,
                bti.Cluster.serialize,
                self._get_cluster,
                _denied("bigtable.clusters.get", lambda request: request.name),
            ),
            "PartialUpdateCluster": Method(
                BIGTABLE_ADMIN,
                bia.PartialUpdateClusterRequest.deserialize,
                operations_pb2.Operation.SerializeToString,
                self._partial_update_cluster,
                _denied("bigtable.clusters.update", lambda request: request.cluster.name),
            ),
            "GetOperation": Method(
                OPERATIONS,
                operations_pb2.GetOperationRequest.FromString,
                operations_pb2.Operation.SerializeToString,
                self._get_operation,
                _denied("bigtable.clusters.get", lambda request: request.name),
            ),
        }

    def _instance(self, name: str) -> tuple[str, str, dict[str, Any]]:
        match = _INSTANCE_NAME.fullmatch(name)
        if not match:
            raise invalid_argument(
                f"When parsing '{name}' : Instance name expected in the form "
                "'projects/<project_id>/instances/<instance_id>'."
            )
        project, instance_id = match.groups()
        found = self._instances.get(project, {}).get(instance_id)
        if found is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Instance {name} not found.")
        return project, instance_id, found

    def _cluster_entry(self, name: str) -> tuple[str, str, dict[str, Any]]:
        match = _CLUSTER_NAME.fullmatch(name)
        if not match:
            raise invalid_argument(
                f"When parsing '{name}' : Cluster name expected in the form "
                "'projects/<project_id>/instances/<instance_id>/clusters/<cluster_id>'."
            )
        project, instance_id, cluster_id = match.groups()
        _, _, found = self._instance(f"projects/{project}/instances/{instance_id}")
        cluster = found["clusters"].get(cluster_id)
        if cluster is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Cluster {name} not found.")
        return project, instance_id, cluster

    @staticmethod
    def _cluster_pb(project: str, instance_id: str, cluster: Mapping[str, Any]) -> bti.Cluster:
        config = None
        auto = cluster.get("autoscaling")
        if auto:
            config = bti.Cluster.ClusterConfig(
                cluster_autoscaling_config=bti.Cluster.ClusterAutoscalingConfig(
                    autoscaling_limits=bti.AutoscalingLimits(min_serve_nodes=auto["min"], max_serve_nodes=auto["max"]),
                    autoscaling_targets=bti.AutoscalingTargets(
                        cpu_utilization_percent=auto["cpu_target"],
                        storage_utilization_gib_per_node=auto["storage_target_gib"],
                    ),
                )
            )
        return bti.Cluster(
            name=f"projects/{project}/instances/{instance_id}/clusters/{cluster['id']}",
            location=f"projects/{project}/locations/{cluster['location']}",
            state=cluster.get("state", "READY"),  # proto-plus takes an enum member's name
            serve_nodes=cluster["serve_nodes"],
            node_scaling_factor=bti.Cluster.NodeScalingFactor.NODE_SCALING_FACTOR_1X,
            cluster_config=config,
            default_storage_type=cluster["storage_type"],
        )

    def _get_instance(self, request: bia.GetInstanceRequest) -> bti.Instance:
        self._finish_due_operations()
        project, instance_id, found = self._instance(request.name)
        return self._instance_pb(project, instance_id, found)

    def _list_instances(self, request: bia.ListInstancesRequest) -> bia.ListInstancesResponse:
        match = _PROJECT_NAME.fullmatch(request.parent)
        if not match:
            raise invalid_argument(
                f"When parsing '{request.parent}' : Project name expected in the form 'projects/<project_id>'."
            )
        project = match.group(1)
        found = sorted(self._instances.get(project, {}).items())
        return bia.ListInstancesResponse(instances=[self._instance_pb(project, iid, inst) for iid, inst in found])

    @staticmethod
    def _table_pb(name: str, families: Sequence[str], view: int) -> btt.Table:
        if view == btt.Table.View.NAME_ONLY:
            return btt.Table(name=name)
        one_version = btt.GcRule(max_num_versions=1)
        return btt.Table(
            name=name,
            column_families={family: btt.ColumnFamily(gc_rule=one_version) for family in families},
            granularity=btt.Table.TimestampGranularity.MILLIS,
            deletion_protection=True,
        )

    def _list_tables(self, request: bta.ListTablesRequest) -> bta.ListTablesResponse:
        self._instance(request.parent)  # INVALID_ARGUMENT or NOT_FOUND as Google answers
        view = request.view or btt.Table.View.NAME_ONLY  # ListTables' default view
        tables = [self._table_pb(f"{request.parent}/tables/{t}", f, view) for t, f in sorted(WANDB_TABLES.items())]
        return bta.ListTablesResponse(tables=tables)

    def _get_table(self, request: bta.GetTableRequest) -> btt.Table:
        match = _TABLE_NAME.fullmatch(request.name)
        if not match:
            raise invalid_argument(
                f"When parsing '{request.name}' : Table name expected in the form "
                "'projects/<project_id>/instances/<instance_id>/tables/<table_id>'."
            )
        self._instance(match.group(1))
        families = WANDB_TABLES.get(match.group(2))
        if families is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Table not found: {request.name}")
        return self._table_pb(request.name, families, request.view or btt.Table.View.SCHEMA_VIEW)  # GetTable's default

    @staticmethod
    def _instance_pb(project: str, instance_id: str, found: Mapping[str, Any]) -> bti.Instance:
        return bti.Instance(
            name=f"projects/{project}/instances/{instance_id}",
            display_name=found["display_name"],
            state=bti.Instance.State.READY,
            type_=bti.Instance.Type.PRODUCTION,
            edition=bti.Instance.Edition.ENTERPRISE,
            labels=found["labels"],
            create_time=datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        )

    def _list_clusters(self, request: bia.ListClustersRequest) -> bia.ListClustersResponse:
        self._finish_due_operations()
        match = _INSTANCE_NAME.fullmatch(request.parent)
        if match and match.group(2) == "-":
            project = match.group(1)
            clusters = [
                self._cluster_pb(project, iid, c)
                for iid, inst in sorted(self._instances.get(project, {}).items())
                for _, c in sorted(inst["clusters"].items())
            ]
        else:
            project, instance_id, found = self._instance(request.parent)
            clusters = [self._cluster_pb(project, instance_id, c) for _, c in sorted(found["clusters"].items())]
        return bia.ListClustersResponse(clusters=clusters)

    def _get_cluster(self, request: bia.GetClusterRequest) -> bti.Cluster:
        self._finish_due_operations()
        project, instance_id, cluster = self._cluster_entry(request.name)
        return self._cluster_pb(project, instance_id, cluster)

    def _partial_update_cluster(self, request: bia.PartialUpdateClusterRequest) -> operations_pb2.Operation:
        self._finish_due_operations()
        project, instance_id, cluster = self._cluster_entry(request.cluster.name)
        limits = request.cluster.cluster_config.cluster_autoscaling_config.autoscaling_limits
        targets = request.cluster.cluster_config.cluster_autoscaling_config.autoscaling_targets
        requested = {
            "serve_nodes": request.cluster.serve_nodes,
            "autoscaling": {
                "min": limits.min_serve_nodes,
                "max": limits.max_serve_nodes,
                "cpu_target": targets.cpu_utilization_percent,
                "storage_target_gib": targets.storage_utilization_gib_per_node,
            },
        }
        updated = apply_cluster_update(cluster, requested, list(request.update_mask.paths))
        now = datetime.now(UTC)
        self._op_counter += 1
        name = (
            f"operations/projects/{project}/instances/{instance_id}/clusters/{cluster['id']}"
            f"/locations/{cluster['location']}/operations/{1_700_000_000_000 + self._op_counter}"
        )
        op = _Operation(
            name,
            (project, instance_id, cluster["id"]),
            request,
            now,
            polls_left=self._op_polls if self._op_delay is None else None,
            done_at=None if self._op_delay is None else time.monotonic() + self._op_delay,
        )
        cluster.update(updated)
        self._operations[name] = op
        if op.polls_left == 0 or (op.done_at is not None and op.done_at <= time.monotonic()):
            self._complete(op)
        else:
            cluster["state"] = "RESIZING"
        return self._operation_pb(op)

    def _complete(self, op: _Operation) -> None:
        op.done, op.finish_time = True, datetime.now(UTC)
        project, instance_id, cluster_id = op.key
        cluster = self._instances.get(project, {}).get(instance_id, {}).get("clusters", {}).get(cluster_id)
        if cluster is not None:
            cluster["state"] = "READY"

    def _finish_due_operations(self) -> None:
        now = time.monotonic()
        for op in self._operations.values():
            if not op.done and op.done_at is not None and op.done_at <= now:
                self._complete(op)

    def _operation_pb(self, op: _Operation) -> operations_pb2.Operation:
        metadata = bia.PartialUpdateClusterMetadata(
            request_time=op.request_time, finish_time=op.finish_time, original_request=op.request
        )
        result = operations_pb2.Operation(name=op.name, done=op.done)
        result.metadata.Pack(bia.PartialUpdateClusterMetadata.pb(metadata))
        if op.done:
            project, instance_id, cluster_id = op.key
            cluster = self._instances[project][instance_id]["clusters"][cluster_id]
            result.response.Pack(bti.Cluster.pb(self._cluster_pb(project, instance_id, cluster)))
        return result

    def _get_operation(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
        self._finish_due_operations()
        op = self._operations.get(request.name)
        if op is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, f"Operation {request.name} not found.")
        if not op.done and op.polls_left is not None:
            op.polls_left -= 1
            if op.polls_left <= 0:
                self._complete(op)
        return self._operation_pb(op)
