"""The stories the sandbox can tell, each a starting state of the simulated deployment."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


def _chart_043(gcsfuse: bool = True, **options: Any) -> Callable[[], list[dict[str, Any]]]:
    def build() -> list[dict[str, Any]]:
        from wbctl.core.parquet import FUSE_ANNOTATION, FUSE_BLOCK
        from wbctl.sandbox.kube_fixtures import chart_043, csi_drivers

        objects = chart_043(**options) + csi_drivers(gcsfuse=gcsfuse)
        for obj in objects:
            if obj["kind"] == "WeightsAndBiases":  # a released server image, so the FUSE gates can be judged
                values = obj["spec"]["values"]
                values.setdefault("app", {}).setdefault("image", {})["tag"] = "0.70.1"
                if gcsfuse:  # set up as the guide says, and rolled out
                    values.setdefault("parquet", {})["fuse"] = json.loads(json.dumps(FUSE_BLOCK))
            labels = obj.get("metadata", {}).get("labels", {})
            if gcsfuse and obj["kind"] == "Pod" and labels.get("app.kubernetes.io/name") == "parquet":
                obj["metadata"].setdefault("annotations", {})[FUSE_ANNOTATION] = "true"
        return objects

    return build


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    redis: dict[str, str] = field(default_factory=dict)
    kube: Callable[[], list[dict[str, Any]]] = field(default=_chart_043(replicas={"app": 1}))
    # demo_deployment's options: Bigtable autoscaling limits, CPU peak, a queue backlog
    google: dict[str, Any] = field(default_factory=lambda: {"min_nodes": 3, "max_nodes": 10, "cpu_peak": 0.55})


_TUNED = {
    "bigtablev3.filestream.metric_points_chunk_size": "20000",
    "bigtablev3.filestream.metric_points_parallelization": "4",
    "bigtablev3.filestream.write_cache_size": "10000000",
}

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("healthy", "a deployment set up as the guide recommends", dict(_TUNED)),
        Scenario(
            "misconfigured",
            "a fresh install: Redis settings missing, too few replicas on too few nodes, no autoscaling, "
            "Bigtable at Terraform's default of 1-3 nodes, no GCS FUSE CSI driver",
            {"bigtablev3.filestream.metric_points_chunk_size": "5000"},
            _chart_043(gcsfuse=False, replicas={"app": 2, "api": 1, "flat-run-fields-updater": 2}, nodes=2, hpa_for=()),
            {"min_nodes": 1, "max_nodes": 3, "cpu_peak": 0.62},  # the W&B Terraform module's defaults
        ),
        Scenario(
            "queue-backlog",
            "metrics pile up in the queue behind one noisy run; Bigtable at its maximum",
            dict(_TUNED),
            google={"min_nodes": 3, "max_nodes": 6, "cpu_peak": 0.91, "backlog": True},
        ),
    )
}
DEFAULT_SCENARIO = "healthy"
