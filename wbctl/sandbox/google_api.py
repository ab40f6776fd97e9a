"""FakeGoogleAPIs: in-process gRPC fakes of Bigtable instance admin and Cloud Monitoring.

It serves the sandbox (`wbctl --sandbox`) and the test suite alike, over a real `grpc.server` on
127.0.0.1 (port 0), so the real google-cloud-bigtable and google-cloud-monitoring clients run
unmodified: they are handed a transport built on `grpc.insecure_channel(fake.address)`. Why a
fake of our own: the Bigtable emulator has no instance admin, and Cloud Monitoring has no
emulator at all (docs/sources.md).

Services and methods (the wire names the generated clients call; messages are the clients' own
proto-plus / protobuf types, so what the fake answers is exactly what the clients parse):

- `google.bigtable.admin.v2.BigtableInstanceAdmin`: GetInstance, ListClusters (instance `-`
  lists every instance's clusters), GetCluster, PartialUpdateCluster. The latter validates the
  update mask (`serve_nodes`, `cluster_config.cluster_autoscaling_config` and its sub-paths),
  applies Google's autoscaling limits (google_semantics.py), treats serve_nodes as output-only on
  an autoscaled cluster (a serve_nodes-only update is silently ignored there, as the real API
  does), turns autoscaling off when the config is cleared and serve_nodes set, and answers a
  `google.longrunning.Operation` whose metadata is a PartialUpdateClusterMetadata and whose
  response (once done) is the Cluster. While an operation is pending its cluster is RESIZING.
- `google.longrunning.Operations`: GetOperation, which is what `operation.result()` polls.
- `google.monitoring.v3.MetricService`: ListTimeSeries with name, filter, interval (start, end],
  aggregation (aligners MEAN/MAX/MIN/SUM/COUNT/NEXT_OLDER/RATE/DELTA, reducers
  MEAN/MAX/MIN/SUM/COUNT with group_by_fields), view FULL/HEADERS, page_size/page_token. Series
  are GAUGE, DELTA (Pub/Sub's counters: each point counts its sample period) or CUMULATIVE, and
  answer with their real metric kind and point intervals. Points newest first. Pages hold whole
  series; with view FULL page_size counts points (as the real API documents), with HEADERS series.

Failure injection per method (short names: "GetInstance", "ListTimeSeries", ...): fail (any
status, optionally for the next n calls only), hang (no answer until the client gives up or
the fake stops), latency (one method, or every method with latency_all; the wait holds no lock,
so concurrent calls wait side by side); operation_polls / operation_delay control when an
update's operation completes. Every call is recorded in `calls` as (method, request);
`connections()` counts the client connections (gRPC peers) that called since the last
reset_calls(): how a test sees that a loop reuses its channel.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import json
import re
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from types import TracebackType
from typing import Any

import grpc
from google.api import metric_pb2
from google.cloud.bigtable_admin_v2.types import bigtable_instance_admin as bia
from google.cloud.bigtable_admin_v2.types import common as bt_common
from google.cloud.bigtable_admin_v2.types import instance as bti
from google.cloud.monitoring_v3.types import common as mon_common
from google.cloud.monitoring_v3.types import metric as mon_metric
from google.cloud.monitoring_v3.types import metric_service as mon_service
from google.longrunning import operations_pb2
from google.protobuf import any_pb2

from wbctl.sandbox.google_semantics import (
    METRIC_KINDS,
    Aggregation,
    InvalidArgument,
    Series,
    apply_cluster_update,
    parse_filter,
    select,
)

BIGTABLE_ADMIN = "google.bigtable.admin.v2.BigtableInstanceAdmin"
OPERATIONS = "google.longrunning.Operations"
METRIC_SERVICE = "google.monitoring.v3.MetricService"

#: The metric types wbctl reads (docs/sources.md).
CPU_LOAD = "bigtable.googleapis.com/cluster/cpu_load"
NODE_COUNT = "bigtable.googleapis.com/cluster/node_count"
STORAGE_UTILIZATION = "bigtable.googleapis.com/cluster/storage_utilization"
UNDELIVERED = "pubsub.googleapis.com/subscription/num_undelivered_messages"
OLDEST_UNACKED_AGE = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
#: What the queue runbook reads besides: Pub/Sub counters are DELTA INT64 (read as rates), the rest GAUGE.
CPU_LOAD_HOTTEST_NODE = "bigtable.googleapis.com/cluster/cpu_load_hottest_node"
ACK_MESSAGE_COUNT = "pubsub.googleapis.com/subscription/ack_message_count"
EXPIRED_ACK_DEADLINES = "pubsub.googleapis.com/subscription/expired_ack_deadlines_count"
SEND_MESSAGE_COUNT = "pubsub.googleapis.com/topic/send_message_operation_count"  # resource pubsub_topic

_CLUSTER_NAME = re.compile(r"projects/([^/]+)/instances/([^/]+)/clusters/([^/]+)")
_INSTANCE_NAME = re.compile(r"projects/([^/]+)/instances/([^/]+)")
_DEFAULT_PAGE_SIZE = 100_000


class _Abort(Exception):
    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _invalid(message: str) -> _Abort:
    return _Abort(grpc.StatusCode.INVALID_ARGUMENT, message)


def _utc(moment: datetime) -> datetime:
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def terraform_instance_name(namespace: str) -> str:
    """The Bigtable instance id W&B's Terraform module derives from its namespace."""
    name = namespace if len(namespace) >= 6 else f"{namespace}-bigtable"
    return name[:27]


@dataclass
class _Fault:
    code: grpc.StatusCode
    message: str | None
    times: int | None  # None: until reset_faults


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


class FakeGoogleAPIs:
    """Bigtable instance admin + long-running operations + Cloud Monitoring on one gRPC port."""

    def __init__(self, *, max_workers: int = 16) -> None:
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: grpc.Server | None = None
        self._port = 0
        self._max_workers = max_workers
        # project -> instance id -> {"display_name", "labels", "clusters": {id: cluster dict}}
        self._instances: dict[str, dict[str, dict[str, Any]]] = {}
        self._series: dict[tuple[Any, ...], Series] = {}
        self._operations: dict[str, _Operation] = {}
        self._op_counter = 0
        self.calls: list[tuple[str, Any]] = []
        self.metadata: list[tuple[str, tuple[tuple[str, str], ...]]] = []  # (method, invocation metadata)
        self._faults: dict[str, _Fault] = {}
        self._hangs: set[str] = set()
        self._latency: dict[str, float] = {}
        self._latency_all = 0.0
        self._peers: set[str] = set()  # gRPC peers ("ipv4:127.0.0.1:54321"): one per client connection
        self._new_peers = 0  # peers first seen since start or reset_calls()
        self._op_polls = 0
        self._op_delay: float | None = None

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> FakeGoogleAPIs:
        server = grpc.server(futures.ThreadPoolExecutor(max_workers=self._max_workers,
                                                        thread_name_prefix="fake-google-api"))
        server.add_generic_rpc_handlers(self._handlers())
        self._port = server.add_insecure_port("127.0.0.1:0")
        if not self._port:
            raise RuntimeError("could not bind a loopback port for the Google API fake")
        self._stopping.clear()
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hung handlers
        if self._server is not None:
            self._server.stop(grace=0.2).wait(2)
            self._server = None

    def __enter__(self) -> FakeGoogleAPIs:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`: what WBCTL_GCP_EMULATOR_HOST is set to, and what grpc.insecure_channel takes."""
        return f"127.0.0.1:{self._port}"

    # -- state: Bigtable ------------------------------------------------------------------------

    def add_instance(self, project: str, instance_id: str, *, display_name: str | None = None,
                     clusters: Sequence[Mapping[str, Any]], labels: Mapping[str, str] | None = None) -> None:
        """clusters: dicts with id, location ("us-central1-a"), storage_type ("SSD"/"HDD"),
        serve_nodes, and optional autoscaling {min, max, cpu_target, storage_target_gib}."""
        stored: dict[str, dict[str, Any]] = {}
        for spec in clusters:
            storage_type = str(spec.get("storage_type", "SSD")).upper()
            auto = spec.get("autoscaling")
            autoscaling = None
            if auto:
                default_storage = 8192 if storage_type == "HDD" else 2560
                autoscaling = {"min": int(auto["min"]), "max": int(auto["max"]),
                               "cpu_target": int(auto.get("cpu_target", 70)),
                               "storage_target_gib": int(auto.get("storage_target_gib") or default_storage)}
            serve_nodes = int(spec.get("serve_nodes", autoscaling["min"] if autoscaling else 1))
            stored[spec["id"]] = {
                "id": spec["id"], "location": spec.get("location", "us-central1-a"),
                "storage_type": storage_type, "serve_nodes": serve_nodes, "autoscaling": autoscaling,
                "state": "READY",
            }
        with self._lock:
            self._instances.setdefault(project, {})[instance_id] = {
                "display_name": display_name or instance_id, "labels": dict(labels or {}), "clusters": stored,
            }

    def cluster(self, project: str, instance: str, cluster: str) -> dict[str, Any]:
        """A copy of the stored cluster: id, location, storage_type, serve_nodes, state
        ("READY"/"RESIZING"), autoscaling ({min, max, cpu_target, storage_target_gib} or None)."""
        with self._lock:
            self._finish_due_operations()
            return copy.deepcopy(self._instances[project][instance]["clusters"][cluster])

    def cluster_proto(self, project: str, instance: str, cluster: str) -> bti.Cluster:
        with self._lock:
            self._finish_due_operations()
            return self._cluster_pb(project, instance, self._instances[project][instance]["clusters"][cluster])

    def state(self) -> dict[str, Any]:
        """The Bigtable state as JSON-able data (the sandbox saves it between invocations)."""
        with self._lock:
            self._finish_due_operations()
            return copy.deepcopy({"instances": self._instances})

    def load_state(self, saved: Mapping[str, Any]) -> None:
        with self._lock:
            self._instances = copy.deepcopy(dict(saved.get("instances", {})))
            for project in self._instances.values():
                for inst in project.values():
                    for cluster in inst["clusters"].values():
                        cluster["state"] = "READY"

    # -- state: Monitoring ----------------------------------------------------------------------

    def add_series(self, project: str, metric_type: str, resource_type: str, resource_labels: Mapping[str, str],
                   points: Iterable[tuple[datetime, float | int]], metric_labels: Mapping[str, str] | None = None,
                   value_type: str = "DOUBLE", metric_kind: str = "GAUGE", sample_period: int = 60) -> None:
        """Add points to a time series (created on first use). Datetimes without tzinfo are UTC.

        `metric_kind` is what the real metric is: GAUGE (a value at an instant), DELTA (each point
        counts what happened in the `sample_period` seconds ending at its time, as Pub/Sub's
        *_count metrics do), or CUMULATIVE (a running total since the series' first sample)."""
        if value_type not in ("DOUBLE", "INT64"):
            raise ValueError(f"value_type must be DOUBLE or INT64, not {value_type!r}")
        if metric_kind not in METRIC_KINDS:
            raise ValueError(f"metric_kind must be one of {', '.join(METRIC_KINDS)}, not {metric_kind!r}")
        if sample_period <= 0:
            raise ValueError(f"sample_period must be a positive number of seconds, not {sample_period!r}")
        convert: Callable[[Any], float | int] = float if value_type == "DOUBLE" else int
        series = Series(project, metric_type, resource_type, {k: str(v) for k, v in resource_labels.items()},
                        {k: str(v) for k, v in (metric_labels or {}).items()}, value_type,
                        metric_kind=metric_kind, sample_period=int(sample_period))
        new_points = [(_utc(t), convert(v)) for t, v in points]
        with self._lock:
            stored = self._series.setdefault(series.identity(), series)
            for name in ("value_type", "metric_kind", "sample_period"):
                if getattr(stored, name) != getattr(series, name):
                    raise ValueError(f"series {metric_type} {dict(resource_labels)} already has "
                                     f"{name} {getattr(stored, name)!r}")
            by_time = dict(stored.points)
            by_time.update(new_points)
            stored.points = sorted(by_time.items())
            if metric_kind == "CUMULATIVE" and stored.points:  # counting began one sample before the first
                stored.start_time = stored.points[0][0] - timedelta(seconds=sample_period)

    def clear_series(self) -> None:
        with self._lock:
            self._series.clear()

    # -- calls and faults -----------------------------------------------------------------------

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for name, _ in self.calls if method is None or name == method)

    def requests(self, method: str) -> list[Any]:
        with self._lock:
            return [request for name, request in self.calls if name == method]

    def connections(self) -> int:
        """How many client connections opened since start or reset_calls() have called: a client
        that keeps its channel open between rounds adds none after the first (the Kubernetes
        fake counts the same way). gRPC shares one connection between open channels with the
        same target and options, so a fresh channel is not always a fresh connection."""
        with self._lock:
            return self._new_peers

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.metadata.clear()
            self._new_peers = 0

    def fail(self, method: str, code: grpc.StatusCode, message: str | None = None, *, times: int | None = None) -> None:
        """Answer `method` with `code`. Without a message, the real API's wording for that code
        (PERMISSION_DENIED names the IAM permission and the resource). `times`: only the next n calls."""
        self._check_method(method)
        with self._lock:
            self._faults[method] = _Fault(code, message, times)

    def hang(self, method: str) -> None:
        """Never answer `method` (until the client's deadline cancels the call, or stop())."""
        self._check_method(method)
        with self._lock:
            self._hangs.add(method)

    def latency(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (e.g. 0.3 on ListTimeSeries); it overrides latency_all."""
        self._check_method(method)
        with self._lock:
            self._latency[method] = seconds

    def latency_all(self, seconds: float) -> None:
        """Answer every method only after `seconds` (the benchmark's 300 ms round trip); 0 turns it off."""
        with self._lock:
            self._latency_all = max(0.0, seconds)

    def operation_polls(self, n: int) -> None:
        """PartialUpdateCluster's operation is done after n GetOperation calls (0: done at once)."""
        with self._lock:
            self._op_polls, self._op_delay = max(0, n), None

    def operation_delay(self, seconds: float) -> None:
        """PartialUpdateCluster's operation is done `seconds` after the request."""
        with self._lock:
            self._op_polls, self._op_delay = 0, seconds

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._hangs.clear()
            self._latency.clear()
            self._latency_all = 0.0
            self._op_polls, self._op_delay = 0, None

    @staticmethod
    def _check_method(method: str) -> None:
        if method not in _METHODS:
            raise ValueError(f"unknown method {method!r} (known: {', '.join(_METHODS)})")

    # -- gRPC plumbing --------------------------------------------------------------------------

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for method, (service, request_type, serialize, impl) in _METHODS.items():
            by_service.setdefault(service, {})[method] = grpc.unary_unary_rpc_method_handler(
                self._wrap(method, getattr(self, impl)),
                request_deserializer=request_type, response_serializer=serialize)
        return [grpc.method_handlers_generic_handler(service, methods) for service, methods in by_service.items()]

    def _wrap(self, method: str, impl: Callable[[Any], Any]) -> Callable[[Any, grpc.ServicerContext], Any]:
        def handler(request: Any, context: grpc.ServicerContext) -> Any:
            with self._lock:
                self.calls.append((method, request))
                self.metadata.append((method, tuple((m.key, str(m.value)) for m in context.invocation_metadata())))
                if (peer := context.peer()) not in self._peers:
                    self._peers.add(peer)
                    self._new_peers += 1
                hang = method in self._hangs
                delay = self._latency.get(method, self._latency_all)
                fault = self._faults.get(method)
                if fault is not None and fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        del self._faults[method]
            if hang:
                while context.is_active() and not self._stopping.wait(0.05):
                    pass
                context.abort(grpc.StatusCode.UNAVAILABLE, "server shutting down")
            if delay:  # outside the lock: concurrent calls wait side by side, as on a real network
                until = time.monotonic() + delay
                while (left := until - time.monotonic()) > 0 and context.is_active():
                    self._stopping.wait(min(left, 0.05))
            if fault is not None:
                context.abort(fault.code, fault.message or _default_message(method, fault.code, request))
            try:
                with self._lock:
                    return impl(request)
            except _Abort as abort:
                context.abort(abort.code, abort.message)
            except InvalidArgument as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

        return handler

    # -- Bigtable instance admin ----------------------------------------------------------------

    def _instance(self, name: str) -> tuple[str, str, dict[str, Any]]:
        match = _INSTANCE_NAME.fullmatch(name)
        if not match:
            raise _invalid(f"When parsing '{name}' : Instance name expected in the form "
                           "'projects/<project_id>/instances/<instance_id>'.")
        project, instance_id = match.groups()
        found = self._instances.get(project, {}).get(instance_id)
        if found is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Instance {name} not found.")
        return project, instance_id, found

    def _cluster_entry(self, name: str) -> tuple[str, str, dict[str, Any]]:
        match = _CLUSTER_NAME.fullmatch(name)
        if not match:
            raise _invalid(f"When parsing '{name}' : Cluster name expected in the form "
                           "'projects/<project_id>/instances/<instance_id>/clusters/<cluster_id>'.")
        project, instance_id, cluster_id = match.groups()
        _, _, found = self._instance(f"projects/{project}/instances/{instance_id}")
        cluster = found["clusters"].get(cluster_id)
        if cluster is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Cluster {name} not found.")
        return project, instance_id, cluster

    @staticmethod
    def _cluster_pb(project: str, instance_id: str, cluster: Mapping[str, Any]) -> bti.Cluster:
        config = None
        auto = cluster.get("autoscaling")
        if auto:
            config = bti.Cluster.ClusterConfig(cluster_autoscaling_config=bti.Cluster.ClusterAutoscalingConfig(
                autoscaling_limits=bti.AutoscalingLimits(min_serve_nodes=auto["min"], max_serve_nodes=auto["max"]),
                autoscaling_targets=bti.AutoscalingTargets(
                    cpu_utilization_percent=auto["cpu_target"],
                    storage_utilization_gib_per_node=auto["storage_target_gib"]),
            ))
        return bti.Cluster(
            name=f"projects/{project}/instances/{instance_id}/clusters/{cluster['id']}",
            location=f"projects/{project}/locations/{cluster['location']}",
            state=bti.Cluster.State[cluster.get("state", "READY")],
            serve_nodes=cluster["serve_nodes"],
            node_scaling_factor=bti.Cluster.NodeScalingFactor.NODE_SCALING_FACTOR_1X,
            cluster_config=config,
            default_storage_type=bt_common.StorageType[cluster["storage_type"]],
        )

    def _get_instance(self, request: bia.GetInstanceRequest) -> bti.Instance:
        self._finish_due_operations()
        project, instance_id, found = self._instance(request.name)
        return bti.Instance(
            name=f"projects/{project}/instances/{instance_id}", display_name=found["display_name"],
            state=bti.Instance.State.READY, type_=bti.Instance.Type.PRODUCTION,
            edition=bti.Instance.Edition.ENTERPRISE, labels=found["labels"],
            create_time=datetime(2024, 1, 15, 9, 30, tzinfo=UTC),
        )

    def _list_clusters(self, request: bia.ListClustersRequest) -> bia.ListClustersResponse:
        self._finish_due_operations()
        match = _INSTANCE_NAME.fullmatch(request.parent)
        if match and match.group(2) == "-":
            project = match.group(1)
            clusters = [self._cluster_pb(project, iid, c)
                        for iid, inst in sorted(self._instances.get(project, {}).items())
                        for _, c in sorted(inst["clusters"].items())]
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
            "autoscaling": {"min": limits.min_serve_nodes, "max": limits.max_serve_nodes,
                            "cpu_target": targets.cpu_utilization_percent,
                            "storage_target_gib": targets.storage_utilization_gib_per_node},
        }
        updated = apply_cluster_update(cluster, requested, list(request.update_mask.paths))
        now = datetime.now(UTC)
        self._op_counter += 1
        name = (f"operations/projects/{project}/instances/{instance_id}/clusters/{cluster['id']}"
                f"/locations/{cluster['location']}/operations/{1_700_000_000_000 + self._op_counter}")
        op = _Operation(name, (project, instance_id, cluster["id"]), request, now,
                        polls_left=self._op_polls if self._op_delay is None else None,
                        done_at=None if self._op_delay is None else time.monotonic() + self._op_delay)
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
        metadata = bia.PartialUpdateClusterMetadata(request_time=op.request_time, finish_time=op.finish_time,
                                                    original_request=op.request)
        packed_metadata = any_pb2.Any()
        packed_metadata.Pack(bia.PartialUpdateClusterMetadata.pb(metadata))
        result = operations_pb2.Operation(name=op.name, metadata=packed_metadata, done=op.done)
        if op.done:
            project, instance_id, cluster_id = op.key
            cluster = self._instances[project][instance_id]["clusters"][cluster_id]
            result.response.Pack(bti.Cluster.pb(self._cluster_pb(project, instance_id, cluster)))
        return result

    def _get_operation(self, request: operations_pb2.GetOperationRequest) -> operations_pb2.Operation:
        self._finish_due_operations()
        op = self._operations.get(request.name)
        if op is None:
            raise _Abort(grpc.StatusCode.NOT_FOUND, f"Operation {request.name} not found.")
        if not op.done and op.polls_left is not None:
            op.polls_left -= 1
            if op.polls_left <= 0:
                self._complete(op)
        return self._operation_pb(op)

    # -- Cloud Monitoring -----------------------------------------------------------------------

    def _list_time_series(self, request: mon_service.ListTimeSeriesRequest) -> mon_service.ListTimeSeriesResponse:
        match = re.fullmatch(r"projects/([^/]+)", request.name)
        if not match:
            raise _invalid(f"Field name had an invalid value of \"{request.name}\": "
                           "must be of the form projects/[PROJECT_ID_OR_NUMBER].")
        if "end_time" not in request.interval:
            raise _invalid("Field interval.endTime had an invalid value: an end time is required.")
        end = _utc(request.interval.end_time)
        start = _utc(request.interval.start_time) if "start_time" in request.interval else None
        if start is not None and start > end:
            raise _invalid("Field interval.startTime had an invalid value: it must not be later than endTime.")
        aggregation = request.aggregation
        agg = Aggregation(
            alignment_period=aggregation.alignment_period if "alignment_period" in aggregation else None,
            aligner=mon_common.Aggregation.Aligner(aggregation.per_series_aligner).name,
            reducer=mon_common.Aggregation.Reducer(aggregation.cross_series_reducer).name,
            group_by=tuple(aggregation.group_by_fields),
        )
        predicate = parse_filter(request.filter)
        found = select(self._series.values(), project=match.group(1), predicate=predicate, start=start, end=end, agg=agg)
        headers_only = request.view == mon_service.ListTimeSeriesRequest.TimeSeriesView.HEADERS
        fingerprint = hashlib.sha256(repr((request.name, request.filter, start, end, agg, headers_only)).encode()
                                     ).hexdigest()[:16]
        offset = self._decode_token(request.page_token, fingerprint) if request.page_token else 0
        page_size = request.page_size if request.page_size > 0 else _DEFAULT_PAGE_SIZE
        page: list[Series] = []
        used = 0
        for one in found[offset:]:
            cost = 1 if headers_only else max(1, len(one.points))
            if page and used + cost > page_size:
                break
            page.append(one)
            used += cost
        following = offset + len(page)
        token = self._encode_token(following, fingerprint) if following < len(found) else ""
        return mon_service.ListTimeSeriesResponse(
            time_series=[self._series_pb(one, headers_only) for one in page], next_page_token=token)

    @staticmethod
    def _encode_token(offset: int, fingerprint: str) -> str:
        return base64.urlsafe_b64encode(json.dumps([offset, fingerprint]).encode()).decode()

    @staticmethod
    def _decode_token(token: str, fingerprint: str) -> int:
        try:
            offset, seen = json.loads(base64.urlsafe_b64decode(token.encode()))
        except (ValueError, TypeError):
            raise _invalid(f"Field page_token had an invalid value of \"{token}\".") from None
        if seen != fingerprint or not isinstance(offset, int):
            raise _invalid("Field page_token had an invalid value: the request changed since the token was issued.")
        return offset

    @staticmethod
    def _series_pb(series: Series, headers_only: bool) -> mon_metric.TimeSeries:
        value_key = "double_value" if series.value_type == "DOUBLE" else "int64_value"
        points = [] if headers_only else [
            {"interval": {"end_time": t, "start_time": series.point_start(t)}, "value": {value_key: v}}
            for t, v in series.points
        ]
        return mon_metric.TimeSeries(
            metric={"type": series.metric_type, "labels": series.metric_labels},
            resource={"type": series.resource_type, "labels": series.resource_labels},
            metric_kind=metric_pb2.MetricDescriptor.MetricKind.Value(series.metric_kind),
            value_type=metric_pb2.MetricDescriptor.ValueType.Value(series.value_type),
            points=points,
        )


#: method -> (service, request deserializer, response serializer, implementation)
_METHODS: dict[str, tuple[str, Callable[[bytes], Any], Callable[[Any], bytes], str]] = {
    "GetInstance": (BIGTABLE_ADMIN, bia.GetInstanceRequest.deserialize, bti.Instance.serialize, "_get_instance"),
    "ListClusters": (BIGTABLE_ADMIN, bia.ListClustersRequest.deserialize, bia.ListClustersResponse.serialize,
                     "_list_clusters"),
    "GetCluster": (BIGTABLE_ADMIN, bia.GetClusterRequest.deserialize, bti.Cluster.serialize, "_get_cluster"),
    "PartialUpdateCluster": (BIGTABLE_ADMIN, bia.PartialUpdateClusterRequest.deserialize,
                             operations_pb2.Operation.SerializeToString, "_partial_update_cluster"),
    "GetOperation": (OPERATIONS, operations_pb2.GetOperationRequest.FromString,
                     operations_pb2.Operation.SerializeToString, "_get_operation"),
    "ListTimeSeries": (METRIC_SERVICE, mon_service.ListTimeSeriesRequest.deserialize,
                       mon_service.ListTimeSeriesResponse.serialize, "_list_time_series"),
}

_PERMISSIONS = {
    "GetInstance": "bigtable.instances.get",
    "ListClusters": "bigtable.clusters.list",
    "GetCluster": "bigtable.clusters.get",
    "PartialUpdateCluster": "bigtable.clusters.update",
    "GetOperation": "bigtable.clusters.get",
}


def _default_message(method: str, code: grpc.StatusCode, request: Any) -> str:
    if code == grpc.StatusCode.PERMISSION_DENIED:
        if method == "ListTimeSeries":
            return "Permission monitoring.timeSeries.list denied (or the resource may not exist)."
        resource = {
            "GetInstance": lambda: request.name, "GetCluster": lambda: request.name,
            "ListClusters": lambda: request.parent, "PartialUpdateCluster": lambda: request.cluster.name,
            "GetOperation": lambda: request.name,
        }[method]()
        return f"Permission '{_PERMISSIONS[method]}' denied on resource '{resource}' (or it may not exist)."
    if code == grpc.StatusCode.UNAVAILABLE:
        return "The service is currently unavailable."
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return ("Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
                "or other valid authentication credential.")
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return "Quota exceeded for quota metric 'Read requests' of service."
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "Deadline exceeded."
    return f"{code.name.replace('_', ' ').capitalize()}."


# -------------------------------------------------------------------------------------------------
# A plausible W&B deployment
# -------------------------------------------------------------------------------------------------


def demo_deployment(fake: FakeGoogleAPIs, project: str = "wandb-sandbox", instance: str | None = None,
                    now: datetime | None = None, *, namespace: str = "wandb", min_nodes: int = 1,
                    max_nodes: int = 3, cpu_target: int = 70, cpu_peak: float = 0.62,
                    backlog: bool = False, zone: str = "us-central1-a") -> dict[str, str]:
    """Populate `fake` like W&B's Terraform module would on `project`, with one hour of 1-minute
    metrics ending at `now` (default: the current minute).

    The instance defaults to the Terraform name for `namespace` ("wandb" -> "wandb-bigtable");
    cluster `<instance>-c1`, SSD, autoscaling min/max/CPU target (Terraform: 1/3/70). Series:
    Bigtable cpu_load (peaking at `cpu_peak`), node_count, storage_utilization for the cluster;
    Pub/Sub num_undelivered_messages and oldest_unacked_message_age for
    `<ns>-flat-run-fields-updater` (rising steeply when `backlog`, near zero otherwise) and, for
    contrast, a healthy `<ns>-filestream-gorilla`. Returns the names used.
    """
    instance = instance or terraform_instance_name(namespace)
    cluster_id = f"{instance}-c1"
    subscription = f"{namespace}-flat-run-fields-updater"
    end = _utc(now) if now else datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = list(range(59, -1, -1))  # 59 minutes ago .. now
    times = [end - timedelta(minutes=m) for m in minutes]
    n = len(times)

    if backlog:  # nodes climb from min to max as CPU rises and stays high
        cpu = [min(cpu_peak, 0.35 + (cpu_peak - 0.35) * min(1.0, i / (n * 0.6))) for i in range(n)]
        nodes = [min(max_nodes, min_nodes + (i * (max_nodes - min_nodes + 1)) // n) for i in range(n)]
    else:  # a bump of load mid-window, within the target
        cpu = [round(0.28 + (cpu_peak - 0.28) * max(0.0, 1 - abs(i - n * 0.55) / (n * 0.2)), 4) for i in range(n)]
        nodes = [min_nodes] * n
    cpu[int(n * 0.55) if not backlog else n - 1] = cpu_peak
    fake.add_instance(project, instance, display_name=instance, labels={"managed-by": "terraform"}, clusters=[{
        "id": cluster_id, "location": zone, "storage_type": "SSD", "serve_nodes": nodes[-1],
        "autoscaling": {"min": min_nodes, "max": max_nodes, "cpu_target": cpu_target},
    }])
    bigtable = {"project_id": project, "instance": instance, "cluster": cluster_id, "zone": zone}
    fake.add_series(project, CPU_LOAD, "bigtable_cluster", bigtable, zip(times, cpu))
    fake.add_series(project, NODE_COUNT, "bigtable_cluster", bigtable, zip(times, nodes), value_type="INT64")
    fake.add_series(project, STORAGE_UTILIZATION, "bigtable_cluster", bigtable,
                    [(t, 0.118 + 0.0002 * i) for i, t in enumerate(times)])

    def pubsub(sub: str, undelivered: list[int], age: list[int]) -> None:
        labels = {"project_id": project, "subscription_id": sub}
        fake.add_series(project, UNDELIVERED, "pubsub_subscription", labels, zip(times, undelivered), value_type="INT64")
        fake.add_series(project, OLDEST_UNACKED_AGE, "pubsub_subscription", labels, zip(times, age), value_type="INT64")

    quiet_counts = [(i * 7) % 23 for i in range(n)]
    quiet_ages = [(i * 3) % 5 for i in range(n)]
    if backlog:  # the backlog starts 40 minutes ago and grows faster and faster
        began = n - 40
        counts = [quiet_counts[i] if i < began else 150 * (i - began) ** 2 + 500 * (i - began) for i in range(n)]
        ages = [quiet_ages[i] if i < began else 60 * (i - began) + 7 for i in range(n)]
    else:
        counts, ages = quiet_counts, quiet_ages
    pubsub(subscription, counts, ages)
    pubsub(f"{namespace}-filestream-gorilla", quiet_counts, quiet_ages)
    return {"project": project, "namespace": namespace, "instance": instance, "cluster": cluster_id,
            "zone": zone, "subscription": subscription}
