"""The Google API fakes (wbctl/sandbox/google/api.py), driven only through the real clients.

Each client gets a transport on `grpc.insecure_channel(google_api.address)`; every call passes an
explicit timeout and retry=None (or a bounded retry), never the clients' default of retrying
for 60-90 s.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import grpc
import pytest
from google.api.metric_pb2 import MetricDescriptor
from google.api_core import exceptions as gexc
from google.api_core import retry as gretry
from google.api_core.future import polling
from google.cloud.bigtable_admin_v2 import BigtableInstanceAdminClient, BigtableTableAdminClient
from google.cloud.bigtable_admin_v2.services.bigtable_instance_admin.transports import (
    BigtableInstanceAdminGrpcTransport,
)
from google.cloud.bigtable_admin_v2.services.bigtable_table_admin.transports import BigtableTableAdminGrpcTransport
from google.cloud.bigtable_admin_v2.types import Cluster, StorageType, Table
from google.cloud.monitoring_v3 import (
    Aggregation,
    ListTimeSeriesRequest,
    MetricServiceClient,
)
from google.cloud.monitoring_v3.services.metric_service.transports import (
    MetricServiceGrpcTransport,
)

from wbctl.sandbox.google.api import (
    CPU_LOAD,
    NODE_COUNT,
    UNDELIVERED,
    FakeGoogleAPIs,
    demo_deployment,
)

PROJECT = "wandb-sandbox"
NOW = datetime(2025, 3, 4, 12, 0, tzinfo=UTC)
MetricKind, ValueType = MetricDescriptor.MetricKind, MetricDescriptor.ValueType
FAST_POLLING = polling.DEFAULT_POLLING.with_delay(initial=0.02, maximum=0.05, multiplier=1.0)


@pytest.fixture
def demo(google_api: FakeGoogleAPIs) -> dict[str, str]:
    return demo_deployment(google_api, PROJECT, now=NOW)


@pytest.fixture
def admin(google_api: FakeGoogleAPIs) -> Iterator[BigtableInstanceAdminClient]:
    channel = grpc.insecure_channel(google_api.address)
    yield BigtableInstanceAdminClient(transport=BigtableInstanceAdminGrpcTransport(channel=channel))
    channel.close()


@pytest.fixture
def metrics(google_api: FakeGoogleAPIs) -> Iterator[MetricServiceClient]:
    channel = grpc.insecure_channel(google_api.address)
    yield MetricServiceClient(transport=MetricServiceGrpcTransport(channel=channel))
    channel.close()


def _cluster_name(demo: dict[str, str]) -> str:
    return f"projects/{demo['project']}/instances/{demo['instance']}/clusters/{demo['cluster']}"


def _autoscaling_update(name: str, *, min_nodes: int, max_nodes: int, cpu: int, storage: int = 0) -> dict[str, Any]:
    return {
        "cluster": {
            "name": name,
            "cluster_config": {
                "cluster_autoscaling_config": {
                    "autoscaling_limits": {"min_serve_nodes": min_nodes, "max_serve_nodes": max_nodes},
                    "autoscaling_targets": {
                        "cpu_utilization_percent": cpu,
                        "storage_utilization_gib_per_node": storage,
                    },
                }
            },
        },
        "update_mask": {"paths": ["cluster_config.cluster_autoscaling_config"]},
    }


# -- Bigtable instance admin ----------------------------------------------------------------------


def test_demo_is_named_like_the_terraform_module(demo: dict[str, str], google_api: FakeGoogleAPIs) -> None:
    assert demo["instance"] == "wandb-bigtable"  # namespace "wandb" is shorter than 6 characters
    assert demo["cluster"] == "wandb-bigtable-c1"
    assert demo["subscription"] == "wandb-flat-run-fields-updater"
    assert google_api.cluster(PROJECT, "wandb-bigtable", "wandb-bigtable-c1")["autoscaling"] == {
        "min": 1,
        "max": 3,
        "cpu_target": 70,
        "storage_target_gib": 2560,
    }
    other = FakeGoogleAPIs()
    assert (
        demo_deployment(other, namespace="wandb-production-long-namespace-x")["instance"]
        == "wandb-production-long-names"
    )


def test_get_instance_list_clusters_get_cluster(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    google_api.add_instance(
        PROJECT,
        "other",
        clusters=[
            {"id": "other-c1", "location": "europe-west4-b", "storage_type": "HDD", "serve_nodes": 2},
            {"id": "other-c2", "location": "europe-west4-c", "storage_type": "HDD", "serve_nodes": 2},
        ],
    )
    instance_name = f"projects/{PROJECT}/instances/{demo['instance']}"
    got = admin.get_instance(name=instance_name, timeout=5, retry=None)
    assert got.name == instance_name and got.state == got.State.READY and got.type_ == got.Type.PRODUCTION

    clusters = admin.list_clusters(parent=instance_name, timeout=5, retry=None).clusters
    assert [c.name for c in clusters] == [_cluster_name(demo)]
    everything = admin.list_clusters(parent=f"projects/{PROJECT}/instances/-", timeout=5, retry=None).clusters
    assert len(everything) == 3

    cluster = admin.get_cluster(name=_cluster_name(demo), timeout=5, retry=None)
    assert cluster.location == f"projects/{PROJECT}/locations/us-central1-a"
    assert cluster.default_storage_type == StorageType.SSD
    assert cluster.state == Cluster.State.READY and cluster.serve_nodes == 1
    auto = cluster.cluster_config.cluster_autoscaling_config
    assert (auto.autoscaling_limits.min_serve_nodes, auto.autoscaling_limits.max_serve_nodes) == (1, 3)
    assert auto.autoscaling_targets.cpu_utilization_percent == 70
    hdd = admin.get_cluster(name=f"projects/{PROJECT}/instances/other/clusters/other-c1", timeout=5, retry=None)
    assert hdd.default_storage_type == StorageType.HDD and "cluster_autoscaling_config" not in hdd.cluster_config

    assert [name for name, _ in google_api.calls] == [
        "GetInstance",
        "ListClusters",
        "ListClusters",
        "GetCluster",
        "GetCluster",
    ]
    assert google_api.count("GetCluster") == 2
    # the client sends the routing header the real API needs
    assert ("x-goog-request-params", f"name={_cluster_name(demo)}") in google_api.metadata[3][1]
    google_api.reset_calls()
    assert google_api.count() == 0


def test_not_found_names_the_resource(demo: dict[str, str], admin: BigtableInstanceAdminClient) -> None:
    with pytest.raises(gexc.NotFound, match="projects/wandb-sandbox/instances/nope"):
        admin.get_instance(name=f"projects/{PROJECT}/instances/nope", timeout=5, retry=None)
    missing = f"projects/{PROJECT}/instances/{demo['instance']}/clusters/nope"
    with pytest.raises(gexc.NotFound, match=f"Cluster {missing} not found"):
        admin.get_cluster(name=missing, timeout=5, retry=None)


def test_enable_autoscaling_done_at_once(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    operation = admin.partial_update_cluster(
        request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=10, cpu=60), timeout=5, retry=None
    )
    assert operation.done()
    assert operation.operation.name == (
        f"operations/projects/{PROJECT}/instances/wandb-bigtable/clusters/wandb-bigtable-c1"
        "/locations/us-central1-a/operations/1700000000001"
    )
    assert operation.metadata.original_request.update_mask.paths == ["cluster_config.cluster_autoscaling_config"]
    result = operation.result(timeout=5)
    assert isinstance(result, Cluster) and result.serve_nodes == 3  # raised to the new minimum
    assert google_api.count("GetOperation") == 0
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"]) == {
        "id": "wandb-bigtable-c1",
        "location": "us-central1-a",
        "storage_type": "SSD",
        "serve_nodes": 3,
        "state": "READY",
        "autoscaling": {"min": 3, "max": 10, "cpu_target": 60, "storage_target_gib": 2560},
    }


def test_operation_done_after_polls(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    google_api.operation_polls(3)
    operation = admin.partial_update_cluster(
        request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=6, cpu=50), timeout=5, retry=None
    )
    assert not operation.operation.done
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"])["state"] == "RESIZING"
    result = operation.result(timeout=5, polling=FAST_POLLING)
    assert result.cluster_config.cluster_autoscaling_config.autoscaling_limits.max_serve_nodes == 6
    assert result.state == Cluster.State.READY
    assert google_api.count("GetOperation") == 3
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"])["state"] == "READY"


def test_operation_with_default_polling_and_delay(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    # operation.result() polls GetOperation after 1 s, 1.5 s, ... (api_core's DEFAULT_POLLING)
    google_api.operation_delay(0.5)
    operation = admin.partial_update_cluster(
        request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=5, cpu=70), timeout=5, retry=None
    )
    assert not operation.operation.done
    started = time.monotonic()
    assert operation.result(timeout=5).serve_nodes == 3
    assert time.monotonic() - started < 3  # api_core jitters its 1 s first delay
    assert google_api.count("GetOperation") >= 1


def test_operation_not_done_within_timeout(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    google_api.operation_polls(1000)
    operation = admin.partial_update_cluster(
        request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=5, cpu=70), timeout=5, retry=None
    )
    import concurrent.futures

    with pytest.raises(concurrent.futures.TimeoutError):
        operation.result(timeout=0.3, polling=FAST_POLLING)


def test_manual_scale_turns_autoscaling_off(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    name = _cluster_name(demo)
    # serve_nodes alone on an autoscaled cluster is output-only: accepted and ignored
    admin.partial_update_cluster(
        request={"cluster": {"name": name, "serve_nodes": 5}, "update_mask": {"paths": ["serve_nodes"]}},
        timeout=5,
        retry=None,
    ).result(timeout=5)
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"])["serve_nodes"] == 1
    # clearing the autoscaling config and setting serve_nodes turns it off
    result = admin.partial_update_cluster(
        request={
            "cluster": {"name": name, "serve_nodes": 5},
            "update_mask": {"paths": ["serve_nodes", "cluster_config.cluster_autoscaling_config"]},
        },
        timeout=5,
        retry=None,
    ).result(timeout=5)
    assert result.serve_nodes == 5 and "cluster_autoscaling_config" not in result.cluster_config
    stored = google_api.cluster(PROJECT, demo["instance"], demo["cluster"])
    assert stored["serve_nodes"] == 5 and stored["autoscaling"] is None
    # and a plain serve_nodes update now applies
    admin.partial_update_cluster(
        request={"cluster": {"name": name, "serve_nodes": 4}, "update_mask": {"paths": ["serve_nodes"]}},
        timeout=5,
        retry=None,
    ).result(timeout=5)
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"])["serve_nodes"] == 4


def test_sub_path_update_changes_one_field(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    path = "cluster_config.cluster_autoscaling_config.autoscaling_limits.min_serve_nodes"
    admin.partial_update_cluster(
        request={
            "cluster": {
                "name": _cluster_name(demo),
                "cluster_config": {
                    "cluster_autoscaling_config": {"autoscaling_limits": {"min_serve_nodes": 3, "max_serve_nodes": 99}}
                },
            },
            "update_mask": {"paths": [path]},
        },
        timeout=5,
        retry=None,
    ).result(timeout=5)
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"])["autoscaling"] == {
        "min": 3,
        "max": 3,
        "cpu_target": 70,
        "storage_target_gib": 2560,
    }


_AS = "cluster_config.cluster_autoscaling_config"


@pytest.mark.parametrize(
    ("request_body", "message"),
    [
        (
            {"cluster": {"serve_nodes": 4}, "update_mask": {"paths": ["location"]}},
            "Invalid update_mask path 'location'",
        ),
        ({"cluster": {"serve_nodes": 4}, "update_mask": {"paths": []}}, "update_mask"),
        (_autoscaling_update("", min_nodes=3, max_nodes=10, cpu=90), "between 10 and 80, got 90"),
        (_autoscaling_update("", min_nodes=3, max_nodes=10, cpu=5), "between 10 and 80, got 5"),
        (_autoscaling_update("", min_nodes=3, max_nodes=31, cpu=70), "at most 10 times"),
        (_autoscaling_update("", min_nodes=0, max_nodes=3, cpu=70), "at least 1"),
        (_autoscaling_update("", min_nodes=4, max_nodes=3, cpu=70), "must be at least min_serve_nodes"),
        (_autoscaling_update("", min_nodes=3, max_nodes=5, cpu=70, storage=8192), "between 2560 and 5120 for SSD"),
        ({"cluster": {}, "update_mask": {"paths": [_AS]}}, "explicit serve_nodes"),
        (
            {
                "cluster": {
                    "serve_nodes": 4,
                    "cluster_config": {
                        "cluster_autoscaling_config": {
                            "autoscaling_limits": {"min_serve_nodes": 3, "max_serve_nodes": 5},
                            "autoscaling_targets": {"cpu_utilization_percent": 70},
                        }
                    },
                },
                "update_mask": {"paths": ["serve_nodes", _AS]},
            },
            "Cannot set serve_nodes and",
        ),
    ],
)
def test_invalid_updates_change_nothing(
    google_api: FakeGoogleAPIs,
    demo: dict[str, str],
    admin: BigtableInstanceAdminClient,
    request_body: dict[str, Any],
    message: str,
) -> None:
    before = google_api.cluster(PROJECT, demo["instance"], demo["cluster"])
    request_body["cluster"]["name"] = _cluster_name(demo)
    with pytest.raises(gexc.InvalidArgument, match=message):
        admin.partial_update_cluster(request=request_body, timeout=5, retry=None)
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"]) == before


def test_permission_denied_names_the_permission(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    before = google_api.cluster(PROJECT, demo["instance"], demo["cluster"])
    google_api.fail("PartialUpdateCluster", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(gexc.PermissionDenied) as caught:
        admin.partial_update_cluster(
            request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=10, cpu=60), timeout=5, retry=None
        )
    assert caught.value.message == (
        f"Permission 'bigtable.clusters.update' denied on resource '{_cluster_name(demo)}' (or it may not exist)."
    )
    assert google_api.cluster(PROJECT, demo["instance"], demo["cluster"]) == before
    google_api.fail("GetInstance", grpc.StatusCode.PERMISSION_DENIED, "custom words")
    with pytest.raises(gexc.PermissionDenied, match="custom words"):
        admin.get_instance(name=f"projects/{PROJECT}/instances/{demo['instance']}", timeout=5, retry=None)
    google_api.reset_faults()
    admin.get_instance(name=f"projects/{PROJECT}/instances/{demo['instance']}", timeout=5, retry=None)


def test_unavailable_and_a_bounded_retry(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    google_api.fail("GetCluster", grpc.StatusCode.UNAVAILABLE)
    with pytest.raises(gexc.ServiceUnavailable, match="currently unavailable"):
        admin.get_cluster(name=_cluster_name(demo), timeout=5, retry=None)
    google_api.reset_faults()
    google_api.fail("GetCluster", grpc.StatusCode.UNAVAILABLE, times=2)
    retry = gretry.Retry(
        predicate=gretry.if_exception_type(gexc.ServiceUnavailable), initial=0.01, maximum=0.05, timeout=2
    )
    google_api.reset_calls()
    assert admin.get_cluster(name=_cluster_name(demo), timeout=2, retry=retry).serve_nodes == 1
    assert google_api.count("GetCluster") == 3


def test_hang_ends_in_deadline_exceeded(
    google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient
) -> None:
    google_api.hang("GetInstance")
    started = time.monotonic()
    with pytest.raises(gexc.DeadlineExceeded):
        admin.get_instance(name=f"projects/{PROJECT}/instances/{demo['instance']}", timeout=0.5, retry=None)
    assert time.monotonic() - started < 1.5
    # the other methods still answer
    assert admin.get_cluster(name=_cluster_name(demo), timeout=5, retry=None).serve_nodes == 1


# -- Cloud Monitoring ---------------------------------------------------------------------------


def _list(metrics: MetricServiceClient, filter_: str, minutes: int = 60, **extra: Any) -> list[Any]:
    request = {
        "name": f"projects/{PROJECT}",
        "filter": filter_,
        "interval": {"start_time": NOW - timedelta(minutes=minutes), "end_time": NOW},
        **extra,
    }
    return list(metrics.list_time_series(request=request, timeout=5, retry=None))


def test_filter_and_interval(demo: dict[str, str], metrics: MetricServiceClient) -> None:
    series = _list(
        metrics,
        f'metric.type = "{UNDELIVERED}" AND resource.type = "pubsub_subscription" '
        f'AND resource.labels.subscription_id = "{demo["subscription"]}"',
        minutes=30,
    )
    assert len(series) == 1
    (one,) = series
    assert one.resource.labels["subscription_id"] == "wandb-flat-run-fields-updater"
    assert one.value_type == ValueType.INT64 and one.metric_kind == MetricKind.GAUGE
    ends = [p.interval.end_time for p in one.points]
    assert len(ends) == 30 and ends == sorted(ends, reverse=True)  # (start, end], newest first
    assert ends[0] == NOW and min(ends) == NOW - timedelta(minutes=29)
    assert "int64_value" in one.points[0].value
    both = _list(metrics, f'metric.type = "{UNDELIVERED}"')
    assert sorted(s.resource.labels["subscription_id"] for s in both) == [
        "wandb-filestream-gorilla",
        "wandb-flat-run-fields-updater",
    ]
    one_of = _list(
        metrics,
        f'metric.type = "{UNDELIVERED}" AND resource.label.subscription_id = one_of("wandb-filestream-gorilla", "x")',
    )
    assert len(one_of) == 1
    cpu = _list(metrics, f'metric.type = "{CPU_LOAD}" AND resource.labels.cluster = "{demo["cluster"]}"')
    assert len(cpu) == 1 and "double_value" in cpu[0].points[0].value
    assert max(p.value.double_value for p in cpu[0].points) == pytest.approx(0.62)
    assert _list(metrics, f'metric.type = "{CPU_LOAD}" AND resource.labels.cluster = "nope"') == []
    with pytest.raises(gexc.InvalidArgument, match="metric type"):
        _list(metrics, 'resource.type = "bigtable_cluster"')
    with pytest.raises(gexc.InvalidArgument, match="Could not parse"):
        _list(metrics, f'metric.type = "{CPU_LOAD}" AND resource.labels.cluster =')


def test_backlog_rises(google_api: FakeGoogleAPIs, metrics: MetricServiceClient) -> None:
    demo_deployment(google_api, PROJECT, now=NOW, backlog=True, max_nodes=6)
    (one,) = _list(
        metrics, f'metric.type = "{UNDELIVERED}" AND resource.labels.subscription_id = "wandb-flat-run-fields-updater"'
    )
    newest, older = one.points[0].value.int64_value, one.points[30].value.int64_value
    assert newest > 100_000 and newest > 10 * older
    (nodes,) = _list(metrics, f'metric.type = "{NODE_COUNT}"')
    assert nodes.points[0].value.int64_value == 6 and nodes.points[-1].value.int64_value == 1


def test_align_max_over_the_hour(
    google_api: FakeGoogleAPIs, demo: dict[str, str], metrics: MetricServiceClient
) -> None:
    aggregation = {"alignment_period": {"seconds": 3600}, "per_series_aligner": Aggregation.Aligner.ALIGN_MAX}
    series = _list(metrics, f'metric.type = "{UNDELIVERED}"', aggregation=aggregation)
    assert len(series) == 2 and all(len(s.points) == 1 for s in series)
    assert all(s.points[0].interval.end_time == NOW for s in series)
    raw = {
        s.resource.labels["subscription_id"]: max(p.value.int64_value for p in s.points)
        for s in _list(metrics, f'metric.type = "{UNDELIVERED}"')
    }
    assert {s.resource.labels["subscription_id"]: s.points[0].value.int64_value for s in series} == raw
    mean = _list(
        metrics,
        f'metric.type = "{NODE_COUNT}"',
        aggregation={"alignment_period": {"seconds": 600}, "per_series_aligner": Aggregation.Aligner.ALIGN_MEAN},
    )
    assert len(mean[0].points) == 6 and mean[0].value_type == ValueType.DOUBLE
    assert mean[0].points[0].value.double_value == 1.0


def test_reduce_max_across_clusters(google_api: FakeGoogleAPIs, metrics: MetricServiceClient) -> None:
    times = [NOW - timedelta(minutes=m) for m in range(10)]
    for cluster, level in (("c1", 0.2), ("c2", 0.5), ("c3", 0.9)):
        instance = "two" if cluster != "c3" else "three"
        google_api.add_series(
            PROJECT,
            CPU_LOAD,
            "bigtable_cluster",
            {"project_id": PROJECT, "instance": instance, "cluster": cluster, "zone": "us-central1-a"},
            [(t, level + i / 100) for i, t in enumerate(times)],
        )
    aggregation = {
        "alignment_period": {"seconds": 300},
        "per_series_aligner": Aggregation.Aligner.ALIGN_MAX,
        "cross_series_reducer": Aggregation.Reducer.REDUCE_MAX,
    }
    (overall,) = _list(metrics, f'metric.type = "{CPU_LOAD}"', minutes=10, aggregation=aggregation)
    assert [p.value.double_value for p in overall.points] == pytest.approx([0.94, 0.99])
    assert dict(overall.resource.labels) == {} and overall.resource.type == "bigtable_cluster"
    grouped = _list(
        metrics,
        f'metric.type = "{CPU_LOAD}"',
        minutes=10,
        aggregation={**aggregation, "group_by_fields": ["resource.labels.instance"]},
    )
    assert {s.resource.labels["instance"]: s.points[0].value.double_value for s in grouped} == pytest.approx(
        {"two": 0.54, "three": 0.94}
    )
    with pytest.raises(gexc.InvalidArgument, match="ALIGN_NONE"):
        _list(
            metrics, f'metric.type = "{CPU_LOAD}"', aggregation={"cross_series_reducer": Aggregation.Reducer.REDUCE_MAX}
        )


def test_pagination_headers_and_call_counting(google_api: FakeGoogleAPIs, metrics: MetricServiceClient) -> None:
    for cluster in range(5):
        google_api.add_series(
            PROJECT,
            CPU_LOAD,
            "bigtable_cluster",
            {"project_id": PROJECT, "cluster": f"c{cluster}"},
            [(NOW - timedelta(minutes=m), 0.1) for m in range(3)],
        )
    google_api.reset_calls()
    request = {
        "name": f"projects/{PROJECT}",
        "filter": f'metric.type = "{CPU_LOAD}"',
        "interval": {"start_time": NOW - timedelta(hours=1), "end_time": NOW},
        "page_size": 2,
        "view": ListTimeSeriesRequest.TimeSeriesView.HEADERS,
    }
    pager = metrics.list_time_series(request=request, timeout=5, retry=None)
    series = list(pager)
    assert sorted(s.resource.labels["cluster"] for s in series) == ["c0", "c1", "c2", "c3", "c4"]
    assert all(len(s.points) == 0 for s in series)
    assert google_api.count("ListTimeSeries") == 3  # pages of 2, 2 and 1 series
    assert [r.page_token == "" for r in google_api.requests("ListTimeSeries")] == [True, False, False]
    google_api.reset_calls()
    full = list(
        metrics.list_time_series(
            request={**request, "view": ListTimeSeriesRequest.TimeSeriesView.FULL, "page_size": 7},
            timeout=5,
            retry=None,
        )
    )
    assert len(full) == 5 and google_api.count("ListTimeSeries") == 3  # FULL: page_size counts points (3 a series)
    with pytest.raises(gexc.InvalidArgument, match="page_token"):
        _list(metrics, f'metric.type = "{CPU_LOAD}"', page_token="garbage")


def test_monitoring_faults_and_latency(
    google_api: FakeGoogleAPIs, demo: dict[str, str], metrics: MetricServiceClient
) -> None:
    filter_ = f'metric.type = "{CPU_LOAD}"'
    google_api.latency("ListTimeSeries", 0.3)
    started = time.monotonic()
    assert len(_list(metrics, filter_)) == 1
    assert 0.3 <= time.monotonic() - started < 1.0
    google_api.reset_faults()
    google_api.fail("ListTimeSeries", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(gexc.PermissionDenied, match=r"Permission monitoring\.timeSeries\.list denied"):
        _list(metrics, filter_)
    google_api.fail("ListTimeSeries", grpc.StatusCode.UNAVAILABLE, "backend overloaded")
    with pytest.raises(gexc.ServiceUnavailable, match="backend overloaded"):
        _list(metrics, filter_)
    google_api.reset_faults()
    google_api.hang("ListTimeSeries")
    started = time.monotonic()
    with pytest.raises(gexc.DeadlineExceeded):
        list(
            metrics.list_time_series(
                request={"name": f"projects/{PROJECT}", "filter": filter_, "interval": {"end_time": NOW}},
                timeout=0.5,
                retry=None,
            )
        )
    assert time.monotonic() - started < 1.5


def test_state_round_trip(google_api: FakeGoogleAPIs, demo: dict[str, str], admin: BigtableInstanceAdminClient) -> None:
    admin.partial_update_cluster(
        request=_autoscaling_update(_cluster_name(demo), min_nodes=3, max_nodes=9, cpu=60), timeout=5, retry=None
    ).result(timeout=5)
    saved = google_api.state()
    with FakeGoogleAPIs() as again:
        again.load_state(saved)
        assert again.cluster(PROJECT, demo["instance"], demo["cluster"])["autoscaling"]["max"] == 9


def test_list_instances_and_the_tables_w_and_b_creates(
    admin: BigtableInstanceAdminClient, google_api: FakeGoogleAPIs, demo: dict[str, str]
) -> None:
    listed = admin.list_instances(parent=f"projects/{PROJECT}", timeout=5, retry=None)
    assert [i.name for i in listed.instances] == [f"projects/{PROJECT}/instances/{demo['instance']}"]
    assert admin.list_instances(parent="projects/elsewhere", timeout=5, retry=None).instances == []
    with pytest.raises(gexc.InvalidArgument):
        admin.list_instances(parent="elsewhere", timeout=5, retry=None)

    channel = grpc.insecure_channel(google_api.address)
    try:
        tables = BigtableTableAdminClient(transport=BigtableTableAdminGrpcTransport(channel=channel))
        instance = f"projects/{PROJECT}/instances/{demo['instance']}"
        names = [t.name.rsplit("/", 1)[1] for t in tables.list_tables(parent=instance, timeout=5, retry=None)]
        assert names == ["history", "logs", "omni-history", "omni-history-lookup", "runs"]
        runs = tables.get_table(name=f"{instance}/tables/runs", timeout=5, retry=None)
        assert sorted(runs.column_families) == ["data", "metadata"]
        assert runs.column_families["data"].gc_rule.max_num_versions == 1
        full = tables.list_tables(request={"parent": instance, "view": Table.View.SCHEMA_VIEW}, timeout=5, retry=None)
        assert all(t.column_families for t in full)
        with pytest.raises(gexc.NotFound):
            tables.get_table(name=f"{instance}/tables/nope", timeout=5, retry=None)
        with pytest.raises(gexc.NotFound):
            tables.list_tables(parent=f"projects/{PROJECT}/instances/nope", timeout=5, retry=None)
    finally:
        channel.close()
