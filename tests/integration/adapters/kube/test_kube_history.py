"""The reads of what changed (adapters/kube/history.py) against the API fake, through the real
client: ReplicaSets label-selected, Events by field selector (the selector reaches the server
and the server applies it), each list one bounded page."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wbctl.adapters.kube import KubeAdapter
from wbctl.adapters.kube import history as kube_history
from wbctl.adapters.kube.history import EVENT_SELECTORS, HistoryReader
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.sim import operator
from wbctl.sandbox.sim.rollouts import pods_hash, story_rollout

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
UPDATER = "wandb-flat-run-fields-updater-bc"


@pytest.fixture
def api(kube_api: FakeKubeAPI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKubeAPI:
    monkeypatch.setenv("KUBECONFIG", str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")))
    return kube_api


def reader() -> HistoryReader:
    kube = KubeAdapter(
        kube_context=None, namespace="default", instance="wandb", timeout=5, kubeconfig=os.environ["KUBECONFIG"]
    )
    return HistoryReader(kube.connection)


def pod_event(name: str, reason: str, kind: str = "Pod", type_: str = "Warning") -> dict:
    when = (NOW - timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": name, "namespace": "default"},
        "involvedObject": {"kind": kind, "name": "wandb-app-5d9f-abcde", "namespace": "default"},
        "reason": reason,
        "message": "Memory cgroup out of memory",
        "type": type_,
        "count": 2,
        "firstTimestamp": when,
        "lastTimestamp": when,
        "source": {"component": "kubelet"},
    }


def test_the_updater_rollout_is_read_as_two_revisions(api: FakeKubeAPI) -> None:
    api.add_all(chart_043(now=NOW))
    deployment = api.get("deployments", "default", UPDATER)
    assert deployment is not None
    pods = [p for p in api.objects("pods", "default") if p["metadata"]["name"].startswith(UPDATER)]
    story_rollout(
        api, deployment, ("0.70.0", "0.70.1"), at=NOW - timedelta(minutes=37), hash_=pods_hash(deployment, pods)
    )
    operator.reconcile(api, namespace="default", instance="wandb", now=NOW)
    api.reset_requests()
    found = sorted((r for r in reader().revisions() if r.deployment == UPDATER), key=lambda r: r.revision)
    assert [(r.revision, r.images[0].rpartition(":")[2], r.created) for r in found] == [
        (1, "0.70.0", NOW - timedelta(days=7, minutes=37)),
        (2, "0.70.1", NOW - timedelta(minutes=37)),
    ]
    assert [r.query.get("labelSelector") for r in api.requests if r.resource == "replicasets"] == [
        "app.kubernetes.io/instance=wandb"
    ]


def test_field_selectors_reach_the_server_and_select_there(api: FakeKubeAPI) -> None:
    api.add_all([pod_event("oom", "OOMKilling"), pod_event("pulled", "Pulled", type_="Normal")])
    api.reset_requests()
    events = reader().events()
    assert [e.reason for e in events] == ["OOMKilling"]
    asked = sorted(r.query.get("fieldSelector") for r in api.requests if r.resource == "events")
    assert asked == sorted(EVENT_SELECTORS)


def test_a_list_is_one_page_whatever_the_namespace_holds(api: FakeKubeAPI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kube_history, "LIMIT", 5)
    api.add_all([pod_event(f"oom-{i}", "OOMKilling") for i in range(12)])
    api.reset_requests()
    history = reader()
    events = history.events(("involvedObject.kind=Pod,type=Warning",))
    assert (len(events), api.count("list", "events")) == (5, 1)
    assert history.notes == ["more than 5 events (involvedObject.kind=Pod,type=Warning): the first 5 read"]
