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

Where the parts live (this module puts the services together on one server and re-exports the
public names): google_grpc.py (server, call log, faults), google_bigtable_service.py (instance
admin, operations), google_monitoring_service.py (ListTimeSeries, the metric types),
google_demo.py (a plausible deployment's data); the pure rules are in google_semantics.py.
"""

from __future__ import annotations

from typing import ClassVar

from wbctl.sandbox.google.bigtable.service import (
    BIGTABLE_ADMIN,
    BIGTABLE_METHODS,
    OPERATIONS,
    BigtableAdminFake,
)
from wbctl.sandbox.google.demo import demo_deployment, terraform_instance_name
from wbctl.sandbox.google.grpc import MethodTable
from wbctl.sandbox.google.monitoring.service import (
    ACK_MESSAGE_COUNT,
    CPU_LOAD,
    CPU_LOAD_HOTTEST_NODE,
    EXPIRED_ACK_DEADLINES,
    METRIC_SERVICE,
    MONITORING_METHODS,
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


class FakeGoogleAPIs(MonitoringFake, BigtableAdminFake):
    """Bigtable instance admin + long-running operations + Cloud Monitoring on one gRPC port."""

    _METHODS: ClassVar[MethodTable] = {**BIGTABLE_METHODS, **MONITORING_METHODS}
