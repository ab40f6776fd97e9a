"""`wbctl runbook queue-backlog` on a bufstream (Kafka) install: the queue's address from the
updater's Deployment and its ConfigMap (Kubernetes fake), the lag from a real Prometheus holding
40 minutes of history for three consumer groups (tests/prometheus.py backfills a TSDB block),
Bigtable from the Google gRPC fake."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.support.prometheus import Family, openmetrics
from tests.support.redis import RedisServer
from wbctl.sandbox.google.api import FakeGoogleAPIs
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.sim.queue_model import Story
from wbctl.sandbox.sim.stories import Names, stage

LAG = "bufstream_kafka_consumer_group_offset_lag"
COMMITTED = "bufstream_kafka_consumer_group_committed_offset_total"
CONSUMED = f'sum(rate({COMMITTED}{{kafka_consumer_group_id="{{value}}"}}[5m]))'
NAMES = Names(project="wandb-prod", install="wandb")
TOPIC = "wandb-run-updates-shadow"
PARTITIONS = [str(p) for p in range(8)]
OTHER_GROUPS = {"metric-observer": 40_000, "history-updater": 90_000}  # large, flat: must not be counted
MINUTES = 40
CALM = Story(publish_base=400, hpa=(3, 10), replicas=4, nodes=(3, 10), start_nodes=3)  # Bigtable has room


def labels(group: str, partition: str) -> dict[str, str]:
    return {"kafka_consumer_group_id": group, "kafka_topic_name": TOPIC, "kafka_topic_partition": partition}


def history(now: int, lag_of, committed_rate: float) -> str:
    """Lag per (partition, minute) of the updater's group; the other groups flat; committed offsets
    growing at `committed_rate` per second in all (spread over the partitions)."""
    times = [now - 60 * (MINUTES - minute) for minute in range(MINUTES)]
    series = [
        (labels("flat-run-fields-updater", p), [(t, lag_of(p, m)) for m, t in enumerate(times)]) for p in PARTITIONS
    ]
    series += [
        (labels(group, p), [(t, value) for t in times]) for group, value in OTHER_GROUPS.items() for p in PARTITIONS
    ]
    per_partition = committed_rate / len(PARTITIONS)
    committed = [
        (labels(group, p), [(t, 1e6 + per_partition * 60 * m) for m, t in enumerate(times)])
        for group in ("flat-run-fields-updater", *OTHER_GROUPS)
        for p in PARTITIONS
    ]
    return openmetrics(
        [
            Family(LAG, "gauge", "Consumer group lag.", series),
            Family(COMMITTED, "counter", "Committed offsets.", committed),
        ]
    )


@pytest.fixture
def deployment(
    isolated_env: Path, redis_server: RedisServer, kube_api: FakeKubeAPI, google_api: FakeGoogleAPIs
) -> dict[str, str]:
    stage(kube_api, google_api, NAMES, CALM, 3600, now=datetime.now(UTC), kafka=True, queue_address=None)
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    return {
        "KUBECONFIG": str(kubeconfig),
        "WBCTL_GCP_EMULATOR_HOST": google_api.address,
        "WBCTL_GCP_PROJECT": NAMES.project,
        "WBCTL_REDIS_URL": redis_server.url,
    }


def steps(document: dict) -> dict[str, dict]:
    return {step["name"]: step for step in document["steps"]}


def test_growing_lag_of_the_updaters_group_only(deployment, backfilled_prometheus, wbctl) -> None:
    prometheus = backfilled_prometheus(history(int(time.time()), lambda p, m: 2_000 + 500 * m, 800.0))
    env = {**deployment, "WBCTL_PROMETHEUS_URL": prometheus.url, "WBCTL_PROMETHEUS_QUERY_QUEUE_CONSUMED": CONSUMED}
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=env)
    document = result.json()
    assert result.returncode == 1, result.stderr
    queue = document["queue"]
    assert (queue["source"], queue["topic"], queue["group"], queue["partitions"]) == (
        "kafka",
        TOPIC,
        "flat-run-fields-updater",
        100,
    )
    assert queue["broker"] == "bufstream.bufstream.svc.cluster.local:9092"  # from the ConfigMap; no credentials
    assert document["verdict"] == "growing"
    assert document["backlog"] == pytest.approx(len(PARTITIONS) * (2_000 + 500 * (MINUTES - 1)))  # one group, not three
    assert document["consume_per_second"] == pytest.approx(800.0, rel=0.02)
    assert document["publish_per_second"] == pytest.approx(800.0 + len(PARTITIONS) * 500 / 60, rel=0.05)
    assert document["oldest_age_seconds"] == pytest.approx(document["backlog"] / 800.0, rel=0.05)  # lag / consumption
    assert "retention unknown" in document["data_loss"]["reason"]
    updater = steps(document)["flat-run-fields-updater"]
    assert updater["proposals"] and updater["proposals"][0][:3] == [
        "services",
        "autoscale",
        "wandb-flat-run-fields-updater",
    ]
    assert int(updater["proposals"][0][-1]) <= 100  # capped at the partition count


def test_a_hot_partition_points_at_one_run_not_at_more_consumers(deployment, backfilled_prometheus, wbctl) -> None:
    prometheus = backfilled_prometheus(
        history(int(time.time()), lambda p, m: 50_000 + 5_000 * m if p == "3" else 500, 800.0)
    )
    env = {
        **deployment,
        "WBCTL_PROMETHEUS_URL": prometheus.url,
        "WBCTL_PROMETHEUS_QUERY_QUEUE_CONSUMED": CONSUMED,
        "WBCTL_QUEUE_RETENTION": "3d",
    }
    document = wbctl("runbook", "queue-backlog", "-o", "json", env=env).json()
    updater = steps(document)["flat-run-fields-updater"]
    assert "hot partition" in updater["summary"] and not updater["proposals"]
    shares = next(line for line in steps(document)["backlog"]["evidence"] if line.startswith("lag by partition: "))
    assert shares.startswith("lag by partition: 3 9")  # partition 3 holds more than 90 % of it
    assert "retention unknown" not in document["data_loss"]["reason"]


def test_without_a_consumption_query_age_and_drain_are_unknown(deployment, backfilled_prometheus, wbctl) -> None:
    prometheus = backfilled_prometheus(history(int(time.time()), lambda p, m: 2_000 + 500 * m, 800.0))
    document = wbctl(
        "runbook", "queue-backlog", "-o", "json", env={**deployment, "WBCTL_PROMETHEUS_URL": prometheus.url}
    ).json()
    assert document["verdict"] == "growing"  # the lag's own trend still tells
    assert document["oldest_age_seconds"] is None and document["consume_per_second"] is None
    assert "prometheus-query-queue-consumed" in document["signals"]["oldest_age"]["reason"]
