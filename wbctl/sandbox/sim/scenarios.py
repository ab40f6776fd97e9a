"""The stories the sandbox can tell, each a starting state of the simulated deployment and
the numbers of its queue (queue_model.Story) over the last hour or so."""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any

from wbctl.sandbox.sim.queue_model import HPA_TARGET, FilestreamStory, Sample, Story, simulate
from wbctl.sandbox.sim.stories import Names

NAMES = Names()


OOM_EVERY = 7 * 60  # the misconfigured story's wandb-app: OOM killed every seven minutes


def _chart_043(
    gcsfuse: bool = True, oom_killed: tuple[str, ...] = (), **options: Any
) -> Callable[[Sample], list[dict[str, Any]]]:
    """The chart's workloads as the story's last sample leaves them (the updater's replicas and HPA);
    the first pod of each `oom_killed` service (its app.kubernetes.io/name) OOM killed every
    OOM_EVERY seconds (sim/operator_pods.py keeps it so on the simulated clock)."""

    def build(last: Sample) -> list[dict[str, Any]]:
        from wbctl.core.parquet import FUSE_ANNOTATION, FUSE_BLOCK
        from wbctl.sandbox.kube.objects import csi_drivers
        from wbctl.sandbox.kube.objects.pod_health import oom_killed as oom
        from wbctl.sandbox.sim.operator_pods import OOM_EVERY as MARK
        from wbctl.sandbox.sim.stories import kube_objects

        objects = kube_objects(last, NAMES, **options) + csi_drivers(gcsfuse=gcsfuse)
        for service in oom_killed:
            index = next(
                i
                for i, obj in enumerate(objects)
                if obj["kind"] == "Pod" and obj["metadata"].get("labels", {}).get("app.kubernetes.io/name") == service
            )
            objects[index] = oom(objects[index], restarts=5)
            objects[index]["metadata"].setdefault("annotations", {})[MARK] = str(OOM_EVERY)
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


def _operator_v2() -> Callable[[Sample], list[dict[str, Any]]]:
    """A namespace the v2 operator runs (kube/objects/operator_v2.py), the updater as the story's
    last sample leaves it: its bounds in spec.wandb.applications, its replicas, its HPA's limit."""

    def build(last: Sample) -> list[dict[str, Any]]:
        from wbctl.sandbox.kube.objects import csi_drivers
        from wbctl.sandbox.kube.objects.operator_v2 import UPDATER, operator_v2

        applications = {}
        if last.hpa is not None:
            applications[UPDATER] = {"autoscaling": {"minReplicas": last.hpa[0], "maxReplicas": last.hpa[1]}}
        return operator_v2(
            "default",
            NAMES.install,
            applications=applications,
            replicas={UPDATER: last.replicas},
            limited=(UPDATER,) if last.hpa_limited else (),
        ) + csi_drivers(gcsfuse=False)

    return build


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    redis: dict[str, str] = field(default_factory=dict)
    # set up as the guide says, observable too (traces exported, the app's metrics scraped, the auditor running)
    kube: Callable[[Sample], list[dict[str, Any]]] = field(default=_chart_043(replicas={"app": 1}, observable=True))
    story: Story = field(default_factory=Story)
    length: int = 3600  # seconds of the story before now
    settings: dict[str, Any] = field(default_factory=dict)  # more sandbox settings (a noisy-run query)
    mysql: str = "healthy"  # the MySQL variables it starts with (sandbox/mysql/variables.py's stories)
    operator: str = "v1"  # which W&B operator runs it: "v1" (the chart's) or "v2" (apps.wandb.com/v2)
    # a rollout before the story's end: (the Deployment's app.kubernetes.io/name, the image tags
    # it was rolled out from and to, the second of the story it was rolled out at); sim/rollouts.py
    rollout: tuple[str, tuple[str, str], int] | None = None

    def samples(self) -> list[Sample]:
        return simulate(self.story, self.length)


_TUNED = {
    "bigtablev3.filestream.metric_points_chunk_size": "20000",
    "bigtablev3.filestream.metric_points_parallelization": "4",
    "bigtablev3.filestream.write_cache_size": "10000000",
}
_INCIDENT = 80 * 60  # the queue-backlog story: 80 minutes, the noisy run starting 25 minutes ago
_NOISY_RUN_SENDS = 86400  # the noisy run sends for a day; then the script ends and the backlog drains on its own
_FILESTREAM_SLOW = 30 * 60  # the filestream-backlog story: filestream has fallen behind for the last 30 minutes
_HEALTHY = Story(
    publish_base=400,
    hpa=(3, 10),
    replicas=math.ceil(400 / (HPA_TARGET * 150)),
    nodes=(3, 10),
    start_nodes=3,
)
# The v2 install: more run updates than its updater's bounds (3-10) can write (10 x 150/s), so the
# Kafka lag grows (sim/kafka.py) until the bounds are raised. It runs no Bigtable: the model's store
# is sized never to be the limit.
_V2_UNDERSIZED = Story(
    publish_base=1700,
    hpa=(3, 10),
    replicas=4,  # at the story's start, an hour ago: its HPA is at 10 within minutes
    nodes=(40, 40),
    start_nodes=40,
)

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario(
            "healthy",
            "a deployment set up as the guide recommends; the queue keeps up",
            dict(_TUNED),
            story=_HEALTHY,
        ),
        Scenario(
            "filestream-backlog",
            "healthy, but the filestream service has fallen behind its own Pub/Sub subscription for 30 minutes",
            dict(_TUNED),
            story=replace(
                _HEALTHY, filestream=FilestreamStory(publish=120, slow_from=3600 - _FILESTREAM_SLOW, slow_consume=80)
            ),
        ),
        Scenario(
            "misconfigured",
            "a fresh install: Redis settings missing, MySQL flags at their defaults, too few replicas, two app replicas, "
            "no autoscaling, Bigtable at Terraform's default of 1-3 nodes, no GCS FUSE CSI driver, a wandb-app pod "
            "OOM killed every few minutes, tracing off and the collector exporting to its debug log, the app's "
            "metrics unscraped, no auditor",
            {"bigtablev3.filestream.metric_points_chunk_size": "5000"},
            _chart_043(gcsfuse=False, oom_killed=("app",), replicas={"app": 2, "api": 1}, nodes=3, hpa_for=()),
            story=Story(publish_base=200, hpa=None, replicas=2, nodes=(1, 3), start_nodes=1),
            mysql="misconfigured",
        ),
        Scenario(
            "queue-backlog",
            "metrics pile up in the queue behind one noisy run; Bigtable and the updater at their maximum",
            dict(_TUNED),
            story=Story(
                publish_base=400,
                publish_noisy=600,
                noisy_from=_INCIDENT - 25 * 60,
                noisy_until=_INCIDENT - 25 * 60 + _NOISY_RUN_SENDS,
                hpa=(1, 5),
                replicas=4,
                nodes=(1, 3),
                start_nodes=2,
            ),
            length=_INCIDENT,
            settings={"noisy-run-query": NAMES.noisy_run_query},
            # the updater rolled out from 0.70.0 twelve minutes before the noisy run begins
            rollout=("flat-run-fields-updater", ("0.70.0", "0.70.1"), _INCIDENT - 25 * 60 - 12 * 60),
        ),
        Scenario(
            "operator-v2",
            "the v2 operator (apps.wandb.com/v2) running server manifest 0.84.0: workloads named after the app, "
            "replicas from spec.wandb.applications, no app, console or Bigtable; the updater reads Kafka, "
            "at its maximum of 10 replicas while the lag grows",
            dict(_TUNED),
            _operator_v2(),
            story=_V2_UNDERSIZED,
            operator="v2",
        ),
    )
}
DEFAULT_SCENARIO = "queue-backlog"  # the incident: what the sandbox is for
