"""`wbctl runbook queue-backlog` as a subprocess, over the Kubernetes fake, the Google gRPC fake
and a real redis-server, each story played by the sandbox's queue model (wbctl/sandbox/sim/queue_model.py)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import grpc
import pytest

from tests.support.audit import read_audit
from tests.support.redis import RedisServer
from wbctl.sandbox.google.api import FakeGoogleAPIs
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.sim.queue_model import Change, Story
from wbctl.sandbox.sim.stories import NOISY_RUN, Names, stage

NAMES = Names(project="wandb-prod", install="wandb")
INCIDENT = Story(
    publish_base=400, publish_noisy=600, noisy_from=60 * 60, hpa=(1, 5), replicas=4, nodes=(1, 3), start_nodes=2
)
LENGTH = 80 * 60  # the noisy run began 20 minutes before now
BIGTABLE_FIX = ("bigtable", "autoscale", "--min", "3", "--max", "10", "--cpu-target", "70", "--cluster", NAMES.cluster)
UPDATER_FIX = ("services", "autoscale", "wandb-flat-run-fields-updater", "--min", "5", "--max", "10")


@dataclass
class World:
    kube: FakeKubeAPI
    google: FakeGoogleAPIs
    redis: RedisServer
    env: dict[str, str]

    def stage(self, story: Story = INCIDENT, length: int = LENGTH, **options) -> None:
        stage(self.kube, self.google, NAMES, story, length, now=datetime.now(UTC), **options)

    def cr(self) -> dict:
        return self.kube.get("weightsandbiases", "default", "wandb")

    def bigtable(self) -> dict:
        return self.google.cluster(NAMES.project, NAMES.instance, NAMES.cluster)


@pytest.fixture
def world(isolated_env: Path, redis_server: RedisServer, kube_api: FakeKubeAPI, google_api: FakeGoogleAPIs) -> World:
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    env = {
        "KUBECONFIG": str(kubeconfig),
        "WBCTL_GCP_EMULATOR_HOST": google_api.address,
        "WBCTL_GCP_PROJECT": NAMES.project,
        "WBCTL_REDIS_URL": redis_server.url,
    }
    return World(kube_api, google_api, redis_server, env)


def steps(document: dict) -> dict[str, dict]:
    return {step["name"]: step for step in document["steps"]}


def test_growing_backlog_with_bigtable_and_the_updater_at_their_max(world: World, wbctl) -> None:
    world.stage()
    before_cr, before_bigtable = world.cr(), world.bigtable()
    world.kube.reset_requests()
    result = wbctl("runbook", "queue-backlog", env=world.env)
    assert result.returncode == 1, result.stderr
    headline = result.stdout.splitlines()[0]
    assert headline.startswith("queue GROWING +") and "oldest" in headline
    assert f"next: wbctl {' '.join(BIGTABLE_FIX)}" in headline
    assert f"wbctl {' '.join(BIGTABLE_FIX)}" in result.stdout and f"wbctl {' '.join(UPDATER_FIX)}" in result.stdout
    assert "at its autoscaling maximum of 3 nodes" in result.stdout and "at its maximum of 5" in result.stdout
    assert "runbook show noisy-run" in result.stdout  # no noisy-run query: never a guessed run id
    # nothing written anywhere
    assert world.cr() == before_cr and world.bigtable() == before_bigtable
    assert world.kube.count(method="PATCH") == 0 and world.google.count("PartialUpdateCluster") == 0
    document = wbctl("runbook", "queue-backlog", "-o", "json", env=world.env).json()
    assert document["verdict"] == "growing" and document["queue"]["subscription"] == NAMES.subscription
    assert document["queue"]["origin"].startswith("deployment/wandb-flat-run-fields-updater-bc env ")
    found = steps(document)
    assert found["bigtable"]["proposals"] == [list(BIGTABLE_FIX)]
    assert found["flat-run-fields-updater"]["proposals"] == [list(UPDATER_FIX)]
    assert len(document["signals"]["backlog"]["points"]) >= 20


# what each Cloud Monitoring read asks for: gauges at their max a minute, counters as summed rates
EXPECTED_AGGREGATION = {
    "pubsub.googleapis.com/subscription/num_undelivered_messages": ("ALIGN_MAX", "REDUCE_NONE"),
    "pubsub.googleapis.com/subscription/oldest_unacked_message_age": ("ALIGN_MAX", "REDUCE_NONE"),
    "pubsub.googleapis.com/subscription/ack_message_count": ("ALIGN_RATE", "REDUCE_SUM"),
    "pubsub.googleapis.com/topic/send_message_operation_count": ("ALIGN_RATE", "REDUCE_SUM"),
    "pubsub.googleapis.com/subscription/expired_ack_deadlines_count": ("ALIGN_RATE", "REDUCE_SUM"),
    "bigtable.googleapis.com/cluster/cpu_load": ("ALIGN_MEAN", "REDUCE_NONE"),
    "bigtable.googleapis.com/cluster/cpu_load_hottest_node": ("ALIGN_MAX", "REDUCE_NONE"),
    "bigtable.googleapis.com/cluster/node_count": ("ALIGN_MAX", "REDUCE_NONE"),
}


def test_each_monitoring_request_asks_for_its_aligner_and_reducer(world: World, wbctl) -> None:
    from google.cloud.monitoring_v3.types import common

    world.stage()
    world.google.reset_calls()
    assert wbctl("runbook", "queue-backlog", env=world.env).returncode == 1
    seen = {}
    for request in world.google.requests("ListTimeSeries"):
        metric = request.filter.split('"')[1]
        aggregation = request.aggregation
        seen[metric] = (
            common.Aggregation.Aligner(aggregation.per_series_aligner).name,
            common.Aggregation.Reducer(aggregation.cross_series_reducer).name,
        )
        assert aggregation.alignment_period.total_seconds() == 60
        if metric.endswith("send_message_operation_count"):
            assert 'metric.labels.response_code = "success"' in request.filter
            # the updater's topic, and filestream's: both queues are read, each by its own topic
            topics = (NAMES.topic, NAMES.filestream_topic)
            assert any(f'resource.labels.topic_id = "{topic}"' in request.filter for topic in topics)
        end = request.interval.end_time
        assert end.second == 0 and end.microsecond == 0  # the last whole minute
    assert seen == EXPECTED_AGGREGATION


def test_draining_while_bigtable_scales_shows_the_time_to_empty(world: World, wbctl) -> None:
    fixed = [Change(at=LENGTH - 20 * 60, hpa=(5, 10), nodes=(3, 20))]  # the fix, 20 minutes ago
    world.stage(changes=fixed)
    result = wbctl("runbook", "queue-backlog", "-o", "json", env=world.env)
    document = result.json()
    assert document["verdict"] == "draining", document["headline"]
    assert result.returncode == 1  # not yet none
    assert document["drain_seconds"] and document["drain_seconds"] > 0
    assert "empty in ~" in document["headline"]
    bigtable = steps(document)["bigtable"]
    assert bigtable["status"] == "warn" and not bigtable["proposals"]
    assert "scaling under way" in bigtable["summary"] and "wait until" in bigtable["next"]


def test_monitoring_down_makes_the_queue_unknown_and_the_rest_is_still_judged(world: World, wbctl) -> None:
    world.stage()
    world.google.fail("ListTimeSeries", grpc.StatusCode.PERMISSION_DENIED)
    result = wbctl("--timeout", "3", "runbook", "queue-backlog", "-o", "json", env=world.env)
    assert result.returncode == 3, result.stderr
    document = result.json()
    assert document["verdict"] == "unknown" and "monitoring.timeSeries.list" in document["reason"]
    found = steps(document)
    assert found["backlog"]["status"] == "unknown"
    assert found["bigtable"]["status"] == "unknown" and "CPU unknown" in found["bigtable"]["summary"]
    assert found["flat-run-fields-updater"]["status"] != "unknown"  # Kubernetes answered
    assert "3 nodes, autoscaling 1-3" in " ".join(found["bigtable"]["evidence"])  # the admin API answered


def test_fix_changes_exactly_the_planned_values_and_audits_them(world: World, wbctl, audit_log: Path) -> None:
    world.stage()
    before_cr, before_bigtable = world.cr(), world.bigtable()
    result = wbctl("runbook", "queue-backlog", "--fix", "--yes", env=world.env)
    assert result.returncode == 1, result.stderr  # the diagnosis stands: the backlog grew until now
    assert "--fix: applied" in result.stdout
    after_bigtable = world.bigtable()
    assert after_bigtable["autoscaling"] == {**before_bigtable["autoscaling"], "min": 3, "max": 10}
    assert {k: v for k, v in after_bigtable.items() if k != "autoscaling"} == {
        k: v for k, v in before_bigtable.items() if k != "autoscaling"
    }
    after_cr = world.cr()
    horizontal = after_cr["spec"]["values"]["flat-run-fields-updater"]["autoscaling"]["horizontal"]
    assert (horizontal["minReplicas"], horizontal["maxReplicas"]) == (5, 10)
    before_values = json.loads(json.dumps(before_cr["spec"]["values"]))
    before_values["flat-run-fields-updater"]["autoscaling"]["horizontal"].update(minReplicas=5, maxReplicas=10)
    assert after_cr["spec"]["values"] == before_values  # nothing else in the CR changed
    entries = read_audit(audit_log)
    assert [e["result"] for e in entries] == ["applied", "applied"]
    assert entries[0]["changes"][0]["target"].endswith(NAMES.cluster)
    assert entries[1]["changes"][0]["key"].startswith("spec.values.flat-run-fields-updater.autoscaling")
    assert all(e["command"][:3] == ["wbctl", "runbook", "queue-backlog"] for e in entries)
    again = wbctl("runbook", "queue-backlog", "--fix", "--dry-run", "-o", "json", env=world.env)
    assert again.json()["fix"]["applied"] == []  # dry run: the new proposals are shown, nothing written


def test_fix_without_a_terminal_or_yes_refuses_and_writes_nothing(world: World, wbctl, audit_log: Path) -> None:
    world.stage()
    before_cr, before_bigtable = world.cr(), world.bigtable()
    result = wbctl("runbook", "queue-backlog", "--fix", env=world.env)
    assert result.returncode == 4
    assert "re-run with --yes" in result.stderr
    assert world.cr() == before_cr and world.bigtable() == before_bigtable and read_audit(audit_log) == []


def test_fix_never_discards_a_run_and_a_discard_in_place_is_shown(world: World, wbctl) -> None:
    world.stage()
    world.redis.client().set("gorilla.DiscardV2UpdatesForRun", NOISY_RUN, ex=5400)
    document = wbctl("runbook", "queue-backlog", "--fix", "--yes", "-o", "json", env=world.env).json()
    assert world.redis.client().get("gorilla.DiscardV2UpdatesForRun") == NOISY_RUN
    evidence = " ".join(steps(document)["noisy run"]["evidence"])
    assert (
        f"run {NOISY_RUN} is discarded now (expires in 1h 29m" in evidence
        or f"run {NOISY_RUN} is discarded now (expires in 1h 30m" in evidence
    )


def test_noisy_run_named_from_the_configured_query(world: World, wbctl) -> None:
    world.stage()
    env = {**world.env, "WBCTL_NOISY_RUN_QUERY": NAMES.noisy_run_query}
    document = wbctl("runbook", "queue-backlog", "-o", "json", env=env).json()
    noisy = steps(document)["noisy run"]
    assert noisy["proposals"] == [["run", "discard", NOISY_RUN, "--ttl", "2h"]]
    assert noisy["next"] == f"wbctl run discard {NOISY_RUN} --ttl 2h"


def test_bad_input_is_refused_before_any_call(world: World, wbctl) -> None:
    for args, message in (
        (("--window", "5m"), "at least 10m"),
        (("--window", "2d"), "at most 24h"),
        (("--dry-run",), "--dry-run only applies with --fix"),
        (("--until-clear",), "--until-clear only applies with --watch"),
        (("--interval", "5s"), "--interval only applies with --watch"),
        (("--window", "ten"), "invalid duration"),
    ):
        result = wbctl("runbook", "queue-backlog", *args, env=world.env)
        assert result.returncode == 2, (args, result.stderr)
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert world.kube.requests == [] and world.google.count() == 0
    none = wbctl("runbook", "queue-backlog", env={**world.env, "WBCTL_QUEUE_SOURCE": "none"})
    assert none.returncode == 2 and "no queue to diagnose" in none.stderr


def _start_watch(world: World, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "wbctl", "runbook", "queue-backlog", "--watch", *args],
        env={**os.environ, **world.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_watch_prints_a_document_per_round_reuses_its_connections_and_ends_on_ctrl_c(world: World) -> None:
    world.stage()
    world.kube.delay(0.2)  # every round's reads overlap: the first round opens as many connections as any
    world.google.latency_all(0.2)
    client = world.redis.client()
    process = _start_watch(world, "--interval", "1s", "-o", "json")
    try:
        first = json.loads(process.stdout.readline())
        # from the second round on: the first round's Kubernetes reads wait for one API discovery
        # (the operator generation) before they overlap, so it may open fewer connections
        second = json.loads(process.stdout.readline())
        counts = (
            world.kube.connections(),
            world.google.connections(),
            int(client.info("stats")["total_connections_received"]),
        )
        third = json.loads(process.stdout.readline())
        json.loads(process.stdout.readline())
        assert (
            world.kube.connections(),
            world.google.connections(),
            int(client.info("stats")["total_connections_received"]),
        ) == counts
    finally:
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=20)
    assert process.returncode == 130 and "interrupted" in stderr
    assert first["verdict"] == second["verdict"] == third["verdict"] == "growing"
    assert first["moved"] is None and second["moved"]  # how the backlog moved, or that no sample arrived
    assert "no new sample since" in second["moved"]  # the fake's series did not move between rounds


def test_watch_until_clear_ends_with_zero_once_the_queue_is_clear(world: World, wbctl) -> None:
    quiet = Story(publish_base=400, hpa=(3, 10), replicas=4, nodes=(3, 10), start_nodes=3)
    world.stage(quiet, 3600)
    started = time.monotonic()
    result = wbctl("runbook", "queue-backlog", "--watch", "--until-clear", "--interval", "1s", env=world.env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("queue NONE") == 1 and time.monotonic() - started < 30


def _fits(text: str, width: int) -> list[str]:
    """The lines of `text` wider than `width` that are more than one unit (word or command)."""
    from wbctl.wrapping import units

    return [line for line in text.splitlines() if len(line) > width and len(units(line)) > 1]


def test_columns_is_the_width_in_a_pipe_and_no_command_is_broken(wbctl) -> None:
    narrow = wbctl("--sandbox", "runbook", "queue-backlog", env={"COLUMNS": "80", "WBCTL_SANDBOX_SPEED": "0"})
    assert narrow.returncode == 1, narrow.stderr
    assert _fits(narrow.stdout, 80) == []
    document = wbctl(
        "--sandbox", "runbook", "queue-backlog", "-o", "json", env={"COLUMNS": "80", "WBCTL_SANDBOX_SPEED": "0"}
    ).json()
    lines = narrow.stdout.splitlines()
    for step in document["steps"]:
        if step["next"]:
            assert any(step["next"] in line for line in lines), step["next"]
    assert "bigtable CPU" in narrow.stdout and "backlog (messages)" in narrow.stdout
    wide = wbctl(
        "--sandbox", "runbook", "queue-backlog", "-o", "json", env={"COLUMNS": "200", "WBCTL_SANDBOX_SPEED": "0"}
    ).json()
    assert wide["steps"] == document["steps"]  # whole values stay in -o json
