"""FakeGoogleAPIs: in-process gRPC fakes of Bigtable instance admin and Cloud Monitoring (its
metrics and its dashboards).

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
  applies Google's autoscaling limits (bigtable/rules.py), treats serve_nodes as output-only on
  an autoscaled cluster (a serve_nodes-only update is silently ignored there, as the real API
  does), turns autoscaling off when the config is cleared and serve_nodes set, and answers a
  `google.longrunning.Operation` whose metadata is a PartialUpdateClusterMetadata and whose
  response (once done) is the Cluster. While an operation is pending its cluster is RESIZING.
- `google.monitoring.dashboard.v1.DashboardsService`: GetDashboard, CreateDashboard,
  UpdateDashboard (ABORTED on a stale etag; a new etag on every write), DeleteDashboard
  (dashboards.py: the rules it checks a dashboard by).
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

Where the parts live (this module composes them and re-exports the public names): grpc.py
(the server shell: call log, faults), bigtable/service.py (instance admin, operations, their
state), monitoring/service.py (ListTimeSeries, the series, the metric types), demo.py (a
plausible deployment's data); the pure rules are in bigtable/rules.py and the monitoring
package (filter, aggregation, series).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any, Self

import grpc

from wbctl.sandbox.google.bigtable.service import BIGTABLE_ADMIN, OPERATIONS, BigtableAdminFake
from wbctl.sandbox.google.dashboards import DASHBOARDS_SERVICE, DashboardsFake
from wbctl.sandbox.google.demo import demo_deployment, terraform_instance_name
from wbctl.sandbox.google.grpc import GrpcServer
from wbctl.sandbox.google.monitoring.service import (
    ACK_MESSAGE_COUNT,
    CPU_LOAD,
    CPU_LOAD_HOTTEST_NODE,
    EXPIRED_ACK_DEADLINES,
    METRIC_SERVICE,
    NODE_COUNT,
    OLDEST_UNACKED_AGE,
    SEND_MESSAGE_COUNT,
    STORAGE_UTILIZATION,
    UNDELIVERED,
    MonitoringFake,
)

__all__ = [
    "ACK_MESSAGE_COUNT",
    "BIGTABLE_ADMIN",
    "CPU_LOAD",
    "CPU_LOAD_HOTTEST_NODE",
    "DASHBOARDS_SERVICE",
    "EXPIRED_ACK_DEADLINES",
    "METRIC_SERVICE",
    "NODE_COUNT",
    "OLDEST_UNACKED_AGE",
    "OPERATIONS",
    "SEND_MESSAGE_COUNT",
    "STORAGE_UTILIZATION",
    "UNDELIVERED",
    "FakeGoogleAPIs",
    "demo_deployment",
    "terraform_instance_name",
]


class FakeGoogleAPIs:
    """Bigtable instance admin + long-running operations + Cloud Monitoring (metrics and
    dashboards) on one gRPC port.

    Composed of the service objects (`bigtable`, `monitoring`, `dashboards`: each its own
    state) and the server shell that serves them (`server`: port, faults, call log, `on_call`); the methods
    below delegate to them, so tests and the sandbox hold one object."""

    def __init__(self, *, max_workers: int = 16) -> None:
        self.bigtable = BigtableAdminFake()
        self.monitoring = MonitoringFake()
        self.dashboards = DashboardsFake()
        self.server = GrpcServer([self.bigtable, self.monitoring, self.dashboards], max_workers=max_workers)

    # -- the server: lifecycle, calls, faults ---------------------------------------------------

    def start(self) -> Self:
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`: what WBCTL_GCP_EMULATOR_HOST is set to, and what grpc.insecure_channel takes."""
        return self.server.address

    @property
    def on_call(self) -> Callable[[str], None] | None:
        """Called (outside any lock) with the method's name before each call is served."""
        return self.server.on_call

    @on_call.setter
    def on_call(self, hook: Callable[[str], None] | None) -> None:
        self.server.on_call = hook

    @property
    def calls(self) -> list[tuple[str, Any]]:
        """Every call since start or reset_calls(): (method, request)."""
        return self.server.calls

    @property
    def metadata(self) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
        """Every call's (method, invocation metadata)."""
        return self.server.metadata

    def count(self, method: str | None = None) -> int:
        return self.server.count(method)

    def requests(self, method: str) -> list[Any]:
        return self.server.requests(method)

    def connections(self) -> int:
        """Client connections that called since start or reset_calls() (GrpcServer.connections)."""
        return self.server.connections()

    def reset_calls(self) -> None:
        self.server.reset_calls()

    def fail(
        self,
        method: str,
        code: grpc.StatusCode,
        message: str | None = None,
        *,
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer `method` with `code` (GrpcServer.fail: `times`, `after`, the real API's wording)."""
        self.server.fail(method, code, message, times=times, after=after)

    def hang(self, method: str) -> None:
        self.server.hang(method)

    def latency(self, method: str, seconds: float) -> None:
        self.server.latency(method, seconds)

    def latency_all(self, seconds: float) -> None:
        self.server.latency_all(seconds)

    def reset_faults(self) -> None:
        """No faults, no latency, and PartialUpdateCluster's operations done at once again."""
        self.server.reset_faults()
        self.bigtable.reset_operations()

    # -- Bigtable's state -----------------------------------------------------------------------

    def add_instance(
        self,
        project: str,
        instance_id: str,
        *,
        display_name: str | None = None,
        clusters: Sequence[Mapping[str, Any]],
        labels: Mapping[str, str] | None = None,
    ) -> None:
        """An instance and its clusters (BigtableAdminFake.add_instance)."""
        self.bigtable.add_instance(project, instance_id, display_name=display_name, clusters=clusters, labels=labels)

    def cluster(self, project: str, instance: str, cluster: str) -> dict[str, Any]:
        return self.bigtable.cluster(project, instance, cluster)

    def set_serve_nodes(self, project: str, instance: str, cluster: str, nodes: int) -> None:
        self.bigtable.set_serve_nodes(project, instance, cluster, nodes)

    def state(self) -> dict[str, Any]:
        """Bigtable's state and the dashboards as JSON-able data (the sandbox saves it between
        invocations, so a second rehearsed apply finds the dashboard the first one made)."""
        return {**self.bigtable.state(), "dashboards": self.dashboards.state()}

    def load_state(self, saved: Mapping[str, Any]) -> None:
        self.bigtable.load_state(saved)
        self.dashboards.load_state(saved.get("dashboards") or {})

    def operation_polls(self, n: int) -> None:
        self.bigtable.operation_polls(n)

    def operation_delay(self, seconds: float) -> None:
        self.bigtable.operation_delay(seconds)

    # -- Monitoring's state ---------------------------------------------------------------------

    def add_series(
        self,
        project: str,
        metric_type: str,
        resource_type: str,
        resource_labels: Mapping[str, str],
        points: Iterable[tuple[datetime, float | int]],
        metric_labels: Mapping[str, str] | None = None,
        value_type: str = "DOUBLE",
        metric_kind: str = "GAUGE",
        sample_period: int = 60,
    ) -> None:
        """Points added to a time series (MonitoringFake.add_series)."""
        self.monitoring.add_series(
            project,
            metric_type,
            resource_type,
            resource_labels,
            points,
            metric_labels,
            value_type=value_type,
            metric_kind=metric_kind,
            sample_period=sample_period,
        )

    def clear_series(self) -> None:
        self.monitoring.clear_series()
