"""A story's numbers (queue_model.py) served as Google's APIs would serve them.

Bigtable's instance and cluster as W&B's Terraform module creates them, and one minute per
point of the metrics wbctl reads: Pub/Sub's backlog gauges and its counters (DELTA, as
Pub/Sub reports them, the newest 2 minutes missing: Pub/Sub points arrive late), Bigtable's
CPU (cluster mean and hottest node) and node count, and a per-run counter for the
noisy-run query. The sandbox and the end-to-end tests both publish through here.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from wbctl.sandbox.sim.queue_model import Sample, Story

PER_REPLICA = 150.0  # the updater's CPU request is sized for this many messages/s (queue_model.Story.per_replica)

UNDELIVERED = "pubsub.googleapis.com/subscription/num_undelivered_messages"
OLDEST_AGE = "pubsub.googleapis.com/subscription/oldest_unacked_message_age"
ACKED = "pubsub.googleapis.com/subscription/ack_message_count"
PUBLISHED = "pubsub.googleapis.com/topic/send_message_operation_count"
CPU_LOAD = "bigtable.googleapis.com/cluster/cpu_load"
CPU_HOTTEST = "bigtable.googleapis.com/cluster/cpu_load_hottest_node"
NODE_COUNT = "bigtable.googleapis.com/cluster/node_count"
STORAGE = "bigtable.googleapis.com/cluster/storage_utilization"
RUN_UPDATES = "logging.googleapis.com/user/wandb_run_updates"  # a log-based metric an operator would define
NOISY_RUN = "k7w3x9qp"
QUIET_RUNS = ("a1b2c3d4", "e5f6g7h8", "j2k4m6n8", "p3q5r7s9", "t2v4w6y8")
PUBSUB_DELAY = timedelta(minutes=2)


@dataclass(frozen=True)
class Names:
    project: str = "wandb-sandbox"
    install: str = "wandb"  # the Terraform namespace: the CR name

    @property
    def topic(self) -> str:
        return f"{self.install}-run-updates-shadow"

    @property
    def subscription(self) -> str:
        return f"{self.install}-flat-run-fields-updater"

    @property
    def filestream_topic(self) -> str:
        return f"{self.install}-filestream"

    @property
    def filestream_subscription(self) -> str:
        return f"{self.install}-filestream-gorilla"

    @property
    def filestream_address(self) -> str:
        """What the chart hands filestream with Pub/Sub on (helm-charts, `wandb.fileStreamStoreConsumer`)."""
        return f"pubsub:/{self.project}/{self.filestream_topic}/{self.filestream_subscription}"

    @property
    def instance(self) -> str:
        name = self.install if len(self.install) >= 6 else f"{self.install}-bigtable"
        return name[:27]

    @property
    def cluster(self) -> str:
        return f"{self.instance}-c1"

    @property
    def queue_address(self) -> str:
        return f"pubsub:/{self.project}/{self.topic}/{self.subscription}"

    @property
    def noisy_run_query(self) -> str:
        return f'filter:metric.type = "{RUN_UPDATES}"'


def times(samples: Sequence[Sample], now: datetime) -> list[datetime]:
    """The wall time of each sample: the last one at `now` (whole minutes)."""
    end = now.replace(second=0, microsecond=0)
    last = samples[-1].time if samples else 0
    return [end - timedelta(seconds=last - sample.time) for sample in samples]


def add_bigtable(fake: Any, names: Names, *, bounds: tuple[int, int], nodes: int, cpu_target: int = 70) -> None:
    fake.add_instance(
        names.project,
        names.instance,
        display_name=names.instance,
        labels={"managed-by": "terraform"},
        clusters=[
            {
                "id": names.cluster,
                "location": "us-central1-a",
                "storage_type": "SSD",
                "serve_nodes": nodes,
                "autoscaling": {"min": bounds[0], "max": bounds[1], "cpu_target": cpu_target},
            }
        ],
    )


def publish(
    fake: Any,
    names: Names,
    samples: Sequence[Sample],
    now: datetime,
    *,
    story: Story | None = None,
    pubsub_delay: timedelta = PUBSUB_DELAY,
) -> None:
    """Every series of the story, one point a minute, ending at `now` (Pub/Sub: `pubsub_delay` earlier)."""
    pairs = list(zip(times(samples, now), samples))
    publish_pubsub(fake, names, [(t, s) for t, s in pairs if t <= now - pubsub_delay], story)
    publish_bigtable(fake, names, pairs)


@dataclass(frozen=True)
class _Minute:
    """One minute of one subscription, as Pub/Sub reports it."""

    backlog: float
    oldest_age: float
    consumed: float  # per second
    published: float  # per second


def _subscription_series(
    fake: Any, project: str, subscription: str, topic: str, points: Sequence[tuple[datetime, _Minute]]
) -> None:
    """A subscription's gauges and counters (DELTA, a minute's count each), and its topic's publishes."""
    sub = {"project_id": project, "subscription_id": subscription}
    top = {"project_id": project, "topic_id": topic}
    gauges = ((UNDELIVERED, lambda m: m.backlog), (OLDEST_AGE, lambda m: m.oldest_age))
    for metric, value in gauges:
        fake.add_series(
            project, metric, "pubsub_subscription", sub, [(t, round(value(m))) for t, m in points], value_type="INT64"
        )
    fake.add_series(
        project,
        ACKED,
        "pubsub_subscription",
        sub,
        [(t, round(m.consumed * 60)) for t, m in points],
        value_type="INT64",
        metric_kind="DELTA",
    )
    fake.add_series(
        project,
        PUBLISHED,
        "pubsub_topic",
        top,
        [(t, round(m.published * 60)) for t, m in points],
        value_type="INT64",
        metric_kind="DELTA",
        metric_labels={"response_code": "success"},
    )


def publish_pubsub(
    fake: Any,
    names: Names,
    pairs: Sequence[tuple[datetime, Sample]],
    story: Story | None,
    filestream_changes: Sequence[tuple[float, int]] = (),
) -> None:
    """Pub/Sub's gauges and counters of both subscriptions (the updater's and filestream's, with
    filestream's replica changes as (at, replicas)), and the per-run counter."""
    from wbctl.sandbox.sim.filestream import filestream_points

    updater = [(t, _Minute(s.backlog, s.oldest_age, s.consumed, s.published)) for t, s in pairs]
    _subscription_series(fake, names.project, names.subscription, names.topic, updater)
    filestream = filestream_points((story or Story()).filestream, [s.time for _, s in pairs], filestream_changes)
    minutes = [(t, _Minute(p.backlog, p.oldest_age, p.consumed, p.published)) for (t, _), p in zip(pairs, filestream)]
    _subscription_series(fake, names.project, names.filestream_subscription, names.filestream_topic, minutes)
    if story is not None:
        _run_updates(fake, names, story, [s for _, s in pairs], [t for t, _ in pairs])


def publish_bigtable(fake: Any, names: Names, pairs: Sequence[tuple[datetime, Sample]]) -> None:
    cluster = {
        "project_id": names.project,
        "instance": names.instance,
        "cluster": names.cluster,
        "zone": "us-central1-a",
    }
    fake.add_series(names.project, CPU_LOAD, "bigtable_cluster", cluster, [(t, round(s.cpu, 4)) for t, s in pairs])
    fake.add_series(
        names.project,
        CPU_HOTTEST,
        "bigtable_cluster",
        cluster,
        [(t, round(min(1.0, s.cpu * 1.08), 4)) for t, s in pairs],
    )
    fake.add_series(
        names.project, NODE_COUNT, "bigtable_cluster", cluster, [(t, s.nodes) for t, s in pairs], value_type="INT64"
    )
    fake.add_series(
        names.project, STORAGE, "bigtable_cluster", cluster, [(t, 0.118 + 0.00002 * s.time / 60) for t, s in pairs]
    )


def _run_updates(fake: Any, names: Names, story: Story, samples: Sequence[Sample], moments: list[datetime]) -> None:
    """Updates written per run a minute: the quiet runs share the base load; the noisy run,
    while it sends (and is not discarded), its share of what is published."""
    if not samples:
        return
    resource = {"project_id": names.project}
    noisy = [max(0.0, s.published - story.publish_base) / s.published if s.published else 0.0 for s in samples]
    for run, share in zip(QUIET_RUNS, (0.3, 0.25, 0.2, 0.15, 0.1)):
        points = [(t, round(s.consumed * 60 * share * (1 - n))) for t, s, n in zip(moments, samples, noisy)]
        fake.add_series(
            names.project,
            RUN_UPDATES,
            "global",
            resource,
            points,
            value_type="INT64",
            metric_kind="DELTA",
            metric_labels={"run_id": run},
        )
    points = [(t, round(s.consumed * 60 * n)) for t, s, n in zip(moments, samples, noisy) if n > 0]
    if points:
        fake.add_series(
            names.project,
            RUN_UPDATES,
            "global",
            resource,
            points,
            value_type="INT64",
            metric_kind="DELTA",
            metric_labels={"run_id": NOISY_RUN},
        )


def kube_objects(last: Sample, names: Names, **chart_options: Any) -> list[dict[str, Any]]:
    """The chart's workloads (sandbox/kube/objects/chart_043.py) with the updater as the story's last
    sample leaves it: its queue address, its replicas, and its HPA's bounds, CPU and limit."""
    from wbctl.sandbox.kube.objects import chart_043

    options = dict(chart_options)
    options.setdefault("queue_address", names.queue_address)
    options.setdefault("filestream_address", names.filestream_address)
    autoscaled = "flat-run-fields-updater" in options.get("hpa_for", ("filestream", "flat-run-fields-updater"))
    if last.hpa is not None and autoscaled and not options.get("keda_frfu"):
        cpu = math.ceil(100 * last.consumed / (last.replicas * PER_REPLICA)) if last.replicas else 0
        options["updater_hpa"] = {
            "minimum": last.hpa[0],
            "maximum": last.hpa[1],
            "current": last.replicas,
            "cpu_current": min(cpu, 100),
            "limited": last.hpa_limited,
        }
    else:
        options["replicas"] = {**options.get("replicas", {}), "flat-run-fields-updater": last.replicas}
    options.setdefault("project", names.project)
    options.setdefault("bigtable_instance", names.instance)
    return chart_043(instance=names.install, **options)


def stage(
    kube: Any,
    google: Any,
    names: Names,
    story: Story,
    length: int,
    *,
    now: datetime,
    changes: Sequence[Any] = (),
    **chart_options: Any,
) -> list[Sample]:
    """A whole deployment as the story leaves it at `now`: Kubernetes objects, Bigtable's
    instance (with the bounds in force at the end), and every metric series. For tests."""
    from wbctl.sandbox.sim.queue_model import simulate

    samples = simulate(story, length, changes)
    last = samples[-1]
    kube.add_all(kube_objects(last, names, **chart_options))
    add_bigtable(google, names, bounds=last.node_bounds, nodes=last.nodes, cpu_target=round(story.cpu_target * 100))
    publish(google, names, samples, now, story=story)
    return samples
