"""`wbctl runbook queue-backlog` on an install of the v2 operator: the Kubernetes fake serving both
CR versions with the v2 namespace (kube/objects/operator_v2.py), the updater's Kafka lag from a
real Prometheus (backfilled), no Bigtable. Step 2 says Bigtable is not part of v2; step 3 and
`--fix` raise the updater's bounds in spec.wandb.applications, written at apps.wandb.com/v2."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.support.prometheus import Family, openmetrics
from tests.support.redis import RedisServer
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects.operator_v2 import RUNS_V2_TOPIC, UPDATER, VERSIONS, operator_v2

LAG = "bufstream_kafka_consumer_group_offset_lag"
COMMITTED = "bufstream_kafka_consumer_group_committed_offset_total"
CONSUMED = f'sum(rate({COMMITTED}{{kafka_consumer_group_id="{{value}}"}}[5m]))'
NAMESPACE = "wandb-prod"
PARTITIONS = [str(p) for p in range(4)]
MINUTES = 40
AT_MAX = {UPDATER: {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}


def history(now: int) -> str:
    """The updater's group falling behind on the runs-v2 topic: lag growing 500 a minute per partition."""
    times = [now - 60 * (MINUTES - minute) for minute in range(MINUTES)]

    def labels(partition: str) -> dict[str, str]:
        return {
            "kafka_consumer_group_id": UPDATER,
            "kafka_topic_name": RUNS_V2_TOPIC,
            "kafka_topic_partition": partition,
        }

    lag = [(labels(p), [(t, 2_000 + 500 * m) for m, t in enumerate(times)]) for p in PARTITIONS]
    committed = [(labels(p), [(t, 1e6 + 200 * 60 * m) for m, t in enumerate(times)]) for p in PARTITIONS]
    return openmetrics(
        [
            Family(LAG, "gauge", "Consumer group lag.", lag),
            Family(COMMITTED, "counter", "Committed offsets.", committed),
        ]
    )


@pytest.fixture
def env(isolated_env: Path, redis_server: RedisServer, kube_api: FakeKubeAPI, backfilled_prometheus) -> dict[str, str]:
    kube_api.serve_versions("weightsandbiases", VERSIONS)
    kube_api.add_all(operator_v2(NAMESPACE, "wandb", applications=AT_MAX, replicas={UPDATER: 10}, limited=(UPDATER,)))
    prometheus = backfilled_prometheus(history(int(time.time())))
    return {
        "KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")),
        "WBCTL_NAMESPACE": NAMESPACE,
        "WBCTL_REDIS_URL": redis_server.url,
        "WBCTL_PROMETHEUS_URL": prometheus.url,
        "WBCTL_PROMETHEUS_QUERY_QUEUE_CONSUMED": CONSUMED,
    }


def _steps(document: dict) -> dict[str, dict]:
    return {step["name"]: step for step in document["steps"]}


def test_step_2_says_bigtable_is_not_part_of_v2(wbctl, env) -> None:
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=env)
    bigtable = _steps(result.json())["bigtable"]
    assert (bigtable["status"], "not part of this generation" in bigtable["summary"]) == ("ok", True)


def test_step_3_raises_the_updater_at_its_maximum(wbctl, env) -> None:
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    proposal = _steps(result.json())["flat-run-fields-updater"]["proposals"][0]
    assert proposal[:3] == ["services", "autoscale", "wandb-flat-run-fields-updater"]


def test_fix_raises_the_bounds_in_spec_wandb_applications(wbctl, kube_api, env) -> None:
    kube_api.reset_requests()
    result = wbctl("runbook", "queue-backlog", "--fix", "--yes", "-o", "json", env=env)
    assert result.returncode in (0, 1), result.stderr
    bounds = kube_api.get("weightsandbiases", NAMESPACE, "wandb")["spec"]["wandb"]["applications"][UPDATER]
    patches = {r.path for r in kube_api.requests if r.method == "PATCH"}
    assert (bounds["autoscaling"]["maxReplicas"], patches) == (
        20,
        {f"/apis/apps.wandb.com/v2/namespaces/{NAMESPACE}/weightsandbiases/wandb"},
    )
