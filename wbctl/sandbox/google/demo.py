"""A plausible W&B deployment's data in the Google fakes: the Bigtable instance and cluster W&B's
Terraform module creates (named as it names them), and an hour of 1-minute metrics (Bigtable
CPU, nodes and storage; the Pub/Sub backlog of the updater's subscription, calm or growing,
and a healthy one beside it). Separate from the fakes because it is data about W&B, not
behaviour of Google's APIs.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol

from wbctl.sandbox.google.bigtable.service import BigtableAdminFake
from wbctl.sandbox.google.grpc import as_utc
from wbctl.sandbox.google.monitoring.service import (
    CPU_LOAD,
    NODE_COUNT,
    OLDEST_UNACKED_AGE,
    STORAGE_UTILIZATION,
    UNDELIVERED,
    MonitoringFake,
)


class GoogleFakes(Protocol):
    """What the demo data goes into: FakeGoogleAPIs's two services (named by their own modules,
    so this module and api.py, which re-exports demo_deployment, do not import each other)."""

    @property
    def bigtable(self) -> BigtableAdminFake: ...

    @property
    def monitoring(self) -> MonitoringFake: ...


def terraform_instance_name(namespace: str) -> str:
    """The Bigtable instance id W&B's Terraform module derives from its namespace."""
    name = namespace if len(namespace) >= 6 else f"{namespace}-bigtable"
    return name[:27]


def demo_deployment(
    fake: GoogleFakes,
    project: str = "wandb-sandbox",
    instance: str | None = None,
    now: datetime | None = None,
    *,
    namespace: str = "wandb",
    min_nodes: int = 1,
    max_nodes: int = 3,
    cpu_target: int = 70,
    cpu_peak: float = 0.62,
    backlog: bool = False,
    zone: str = "us-central1-a",
) -> dict[str, str]:
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
    end = as_utc(now) if now else datetime.now(UTC).replace(second=0, microsecond=0)
    minutes = list(range(59, -1, -1))  # 59 minutes ago .. now
    times = [end - timedelta(minutes=m) for m in minutes]
    cpu, nodes = _bigtable_load(len(times), min_nodes, max_nodes, cpu_peak, backlog)
    fake.bigtable.add_instance(
        project,
        instance,
        display_name=instance,
        labels={"managed-by": "terraform"},
        clusters=[
            {
                "id": cluster_id,
                "location": zone,
                "storage_type": "SSD",
                "serve_nodes": nodes[-1],
                "autoscaling": {"min": min_nodes, "max": max_nodes, "cpu_target": cpu_target},
            }
        ],
    )
    bigtable = {"project_id": project, "instance": instance, "cluster": cluster_id, "zone": zone}
    _add_bigtable_series(fake.monitoring, project, bigtable, times, cpu, nodes)
    _add_pubsub(fake.monitoring, project, subscription, namespace, times, backlog)
    return {
        "project": project,
        "namespace": namespace,
        "instance": instance,
        "cluster": cluster_id,
        "zone": zone,
        "subscription": subscription,
    }


def _bigtable_load(
    n: int, min_nodes: int, max_nodes: int, cpu_peak: float, backlog: bool
) -> tuple[list[float], list[int]]:
    """n minutes of CPU load and node count: with a backlog, nodes climb from min to max as CPU
    rises and stays high; without, a bump of load mid-window, within the target."""
    if backlog:
        cpu = [min(cpu_peak, 0.35 + (cpu_peak - 0.35) * min(1.0, i / (n * 0.6))) for i in range(n)]
        nodes = [min(max_nodes, min_nodes + (i * (max_nodes - min_nodes + 1)) // n) for i in range(n)]
    else:
        cpu = [round(0.28 + (cpu_peak - 0.28) * max(0.0, 1 - abs(i - n * 0.55) / (n * 0.2)), 4) for i in range(n)]
        nodes = [min_nodes] * n
    cpu[int(n * 0.55) if not backlog else n - 1] = cpu_peak
    return cpu, nodes


def _add_bigtable_series(
    monitoring: MonitoringFake,
    project: str,
    labels: dict[str, str],
    times: list[datetime],
    cpu: list[float],
    nodes: list[int],
) -> None:
    """The cluster's cpu_load, node_count and (slowly rising) storage_utilization."""
    monitoring.add_series(project, CPU_LOAD, "bigtable_cluster", labels, zip(times, cpu))
    monitoring.add_series(project, NODE_COUNT, "bigtable_cluster", labels, zip(times, nodes), value_type="INT64")
    monitoring.add_series(
        project,
        STORAGE_UTILIZATION,
        "bigtable_cluster",
        labels,
        [(t, 0.118 + 0.0002 * i) for i, t in enumerate(times)],
    )


def _add_pubsub(
    monitoring: MonitoringFake,
    project: str,
    subscription: str,
    namespace: str,
    times: list[datetime],
    backlog: bool,
) -> None:
    """The updater's subscription (a backlog that began 40 minutes ago and grows faster and
    faster, or quiet) and, quiet beside it, the filestream's."""

    def pubsub(sub: str, undelivered: list[int], age: list[int]) -> None:
        labels = {"project_id": project, "subscription_id": sub}
        monitoring.add_series(
            project, UNDELIVERED, "pubsub_subscription", labels, zip(times, undelivered), value_type="INT64"
        )
        monitoring.add_series(
            project, OLDEST_UNACKED_AGE, "pubsub_subscription", labels, zip(times, age), value_type="INT64"
        )

    n = len(times)
    quiet_counts = [(i * 7) % 23 for i in range(n)]
    quiet_ages = [(i * 3) % 5 for i in range(n)]
    if backlog:
        began = n - 40
        counts = [quiet_counts[i] if i < began else 150 * (i - began) ** 2 + 500 * (i - began) for i in range(n)]
        ages = [quiet_ages[i] if i < began else 60 * (i - began) + 7 for i in range(n)]
    else:
        counts, ages = quiet_counts, quiet_ages
    pubsub(subscription, counts, ages)
    pubsub(f"{namespace}-filestream-gorilla", quiet_counts, quiet_ages)
