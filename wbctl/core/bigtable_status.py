"""What `wbctl bigtable status` shows: per cluster, nodes and autoscaling from the admin API,
CPU now and at its peak against the target, storage, and the node count's changes in the
window, as a typed view the command renders (and `to_json` for `-o json`)."""

from __future__ import annotations

from dataclasses import dataclass

from wbctl.core.bigtable import BigtableObservation, ClusterState
from wbctl.core.series import Series, SignalData


def _percent(value: float | None) -> float | None:
    return None if value is None else round(value * 100, 1)


def node_changes(series: Series | None) -> list[dict[str, object]]:
    """The moments the node count changed in the window (first point included)."""
    changes: list[dict[str, object]] = []
    last: float | None = None
    for moment, value in series.points if series else ():
        if value != last:
            changes.append({"time": moment.isoformat(), "nodes": int(value)})
            last = value
    return changes


@dataclass(frozen=True)
class ClusterStatus:
    cluster: ClusterState
    cpu_now: float | None  # percent
    cpu_peak: float | None
    storage_percent: float | None
    node_changes: tuple[dict[str, object], ...]


@dataclass(frozen=True)
class BigtableStatus:
    """What `bigtable status` shows: typed, rendered by the command; `to_json` its document."""

    observation: BigtableObservation
    window: str
    clusters: tuple[ClusterStatus, ...]
    unknown: dict[str, str]  # signal -> why it is unknown

    def to_json(self) -> dict[str, object]:
        clusters = []
        for status in self.clusters:
            cluster, scaling = status.cluster, status.cluster.autoscaling
            clusters.append(
                {
                    "cluster": cluster.cluster_id,
                    "location": cluster.location,
                    "storage_type": cluster.storage_type,
                    "state": cluster.state,
                    "serve_nodes": cluster.serve_nodes,
                    "autoscaling": None
                    if scaling is None
                    else {
                        "min_nodes": scaling.min_nodes,
                        "max_nodes": scaling.max_nodes,
                        "cpu_target": scaling.cpu_target,
                        "storage_target_gib": scaling.storage_target_gib,
                    },
                    "cpu_percent": {
                        "now": status.cpu_now,
                        "peak": status.cpu_peak,
                        "target": scaling.cpu_target if scaling else None,
                    },
                    "storage_utilization_percent": status.storage_percent,
                    "node_changes": list(status.node_changes),
                }
            )
        observation = self.observation
        return {
            "instance": {
                "name": observation.target(),
                "display_name": observation.display_name,
                "state": observation.state,
            },
            "window": self.window,
            "clusters": clusters,
            "unknown": self.unknown,
        }


def status_view(observation: BigtableObservation, signals: dict[str, SignalData], window: str) -> BigtableStatus:
    cpu, nodes, storage = (signals.get(name) for name in ("bigtable-cpu", "bigtable-nodes", "bigtable-storage"))
    clusters = []
    for cluster in observation.clusters:
        cpu_series = cpu.for_label("cluster", cluster.cluster_id) if cpu else None
        storage_series = storage.for_label("cluster", cluster.cluster_id) if storage else None
        node_series = nodes.for_label("cluster", cluster.cluster_id) if nodes else None
        clusters.append(
            ClusterStatus(
                cluster,
                _percent(cpu_series.latest if cpu_series else None),
                _percent(cpu_series.peak if cpu_series else None),
                _percent(storage_series.latest if storage_series else None),
                tuple(node_changes(node_series)),
            )
        )
    unknown = {name: data.reason for name, data in signals.items() if data.series is None}
    return BigtableStatus(observation, window, tuple(clusters), unknown)


def status_document(observation: BigtableObservation, signals: dict[str, SignalData], window: str) -> dict[str, object]:
    return status_view(observation, signals, window).to_json()
