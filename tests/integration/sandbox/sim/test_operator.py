"""The sandbox's operator (wbctl/sandbox/sim/operator.py) on a FakeKubeAPI holding a chart's
namespace: changes are made as wbctl makes them (a scaling plan applied by the real
KubeAdapter over HTTP, or a CR merge where wbctl has no command for it), then `reconcile`
plays the operator and the controllers, and the result is read back through the adapter and
judged by wbctl's own checks.
"""

from __future__ import annotations

import copy
import gc
import os
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from wbctl.adapters.kube import ALL_KINDS, SCALING_KINDS, KubeAdapter
from wbctl.core import services
from wbctl.core.kube import KubeObservation
from wbctl.core.model import Status
from wbctl.core.parquet import CSI_DRIVER, FUSE_ANNOTATION, FUSE_BLOCK
from wbctl.core.scaling import AutoscaleRequest, ScaleRequest
from wbctl.errors import VerificationError
from wbctl.sandbox.kube import objects as fx
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.sim.operator import READY_AT, reconcile
from wbctl.sandbox.sim.operator_pods import OOM_EVERY
from wbctl.sandbox.sim.scenarios import SCENARIOS

NOW = datetime(2031, 7, 9, 8, 30, tzinfo=UTC)  # far from the wall clock: a timestamp from it would show
READY = timedelta(seconds=30)
NS, INSTANCE = "default", "wandb"
UPDATER_HPA = "wandb-flat-run-fields-updater"


@pytest.fixture
def api(kube_api: FakeKubeAPI, isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> FakeKubeAPI:
    monkeypatch.setenv("KUBECONFIG", str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")))
    return kube_api


def adapter(api: FakeKubeAPI) -> KubeAdapter:
    return KubeAdapter(
        kube_context=None, namespace=NS, instance=INSTANCE, timeout=5, kubeconfig=os.environ["KUBECONFIG"]
    )


def observe(api: FakeKubeAPI, kinds: tuple[str, ...] = ALL_KINDS) -> KubeObservation:
    kube = adapter(api)
    try:
        return kube.observe(kinds)
    finally:
        kube.close()


def wbctl_applies(api: FakeKubeAPI, request: ScaleRequest | AutoscaleRequest, *, read_back: bool = True) -> None:
    """What `wbctl services scale|autoscale ... --yes` does: observe, plan, apply, read back."""
    kube = adapter(api)
    try:
        request.validate()
        plan = request.plan(kube.observe(SCALING_KINDS), "fake")
        assert plan.changes, plan.nothing_to_do
        kube.apply(plan)
        if read_back:
            kube.read_back(plan)
    finally:
        kube.close()


def run(api: FakeKubeAPI, at: datetime = NOW, **options: Any) -> list[str]:
    return reconcile(api, namespace=NS, instance=INSTANCE, now=at, **options)


def service_pods(api: FakeKubeAPI, label: str) -> list[dict[str, Any]]:
    return [
        p
        for p in api.objects("pods", NS)
        if p["metadata"]["labels"].get("app.kubernetes.io/name") == label
        and not any(r["kind"] == "Job" for r in p["metadata"].get("ownerReferences") or [])
    ]


def ready(pod: dict[str, Any]) -> bool:
    return any(c["type"] == "Ready" and c["status"] == "True" for c in pod["status"].get("conditions") or [])


def finding(observation: KubeObservation, check: str) -> Status:
    return next(f.status for f in services.check(observation).findings if f.check == check)


def misconfigured(**options: Any) -> list[dict[str, Any]]:
    """The misconfigured scenario's shape on three nodes: api at 1, the updater at 2, no HPAs."""
    return fx.chart_043(now=NOW, replicas={"app": 1, "api": 1, "flat-run-fields-updater": 2}, hpa_for=(), **options)


# --- out of the box ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "build",
    [
        lambda: fx.chart_043(now=NOW),
        lambda: fx.chart_0223(now=NOW),
        lambda: fx.chart_043(now=NOW, keda_frfu=True),
        lambda: fx.chart_043(now=NOW, updater_hpa={"minimum": 1, "maximum": 5, "current": 5, "limited": True}),
        misconfigured,
    ],
    ids=["chart-0.43.8", "chart-0.22.3", "keda", "updater-limited", "misconfigured"],
)
def test_a_settled_namespace_has_nothing_to_change(api: FakeKubeAPI, build: Any) -> None:
    api.add_all(build())
    before = {kind: api.objects(kind, NS) for kind in ("pods", "horizontalpodautoscalers", "scaledobjects")}
    assert run(api) == []
    assert {kind: api.objects(kind, NS) for kind in before} == before  # pods, HPAs (status too), KEDA untouched
    version = api.resource_version
    assert run(api, NOW + timedelta(hours=1)) == []
    assert api.resource_version == version  # nothing written at all


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_every_scenario_starts_settled(api: FakeKubeAPI, name: str) -> None:
    from wbctl.sandbox.kube.objects.operator_v2 import VERSIONS
    from wbctl.sandbox.sim import operator_v2

    scenario = SCENARIOS[name]
    operate = operator_v2.reconcile if scenario.operator == "v2" else reconcile
    if scenario.operator == "v2":  # its operator's CRD, and its operator
        api.serve_versions("weightsandbiases", VERSIONS)
    api.add_all(scenario.kube(scenario.samples()[-1]))
    assert operate(api, namespace=NS, instance=INSTANCE, now=NOW) == []
    version = api.resource_version
    later = operate(api, namespace=NS, instance=INSTANCE, now=NOW + timedelta(days=1))
    assert later == []
    killed = [p for p in api.objects("pods", NS) if OOM_EVERY in (p["metadata"].get("annotations") or {})]
    if not killed:
        assert api.resource_version == version
    else:  # the kubelet restarting the story's OOM-killed pod is the only write (misconfigured)
        assert name == "misconfigured"
        changed = [
            p["metadata"]["name"]
            for p in api.objects("pods", NS)
            if int(p["metadata"]["resourceVersion"]) > int(version)
        ]
        assert changed == [killed[0]["metadata"]["name"]]


def test_the_misconfigured_story_s_app_pod_is_oom_killed_every_few_minutes(api: FakeKubeAPI) -> None:
    """Whenever one looks, its last termination is OOMKilled within the last OOM_EVERY seconds,
    and its restarts have counted every kill since."""
    from wbctl.sandbox.sim.operator_pods import parse_time

    scenario = SCENARIOS["misconfigured"]
    api.add_all(scenario.kube(scenario.samples()[-1]))
    restarts = []
    for hours in (0, 1, 25):
        now = datetime.now(UTC) + timedelta(hours=hours)
        reconcile(api, namespace=NS, instance=INSTANCE, now=now)
        (pod,) = [p for p in api.objects("pods", NS) if OOM_EVERY in (p["metadata"].get("annotations") or {})]
        assert pod["metadata"]["labels"]["app.kubernetes.io/name"] == "app"
        (status, *_) = pod["status"]["containerStatuses"]
        terminated = status["lastState"]["terminated"]
        assert terminated["reason"] == "OOMKilled" and terminated["exitCode"] == 137
        finished = parse_time(terminated["finishedAt"])
        assert finished is not None and timedelta(0) <= now - finished < timedelta(seconds=7 * 60)
        restarts.append(status["restartCount"])
    assert restarts[0] >= 5 and restarts[1] - restarts[0] >= 8 and restarts[2] > restarts[1]


def test_the_misconfigured_scenario_is_put_right_by_its_remedies(api: FakeKubeAPI) -> None:
    """Its three nodes hold what the guide asks once the scale and the autoscale take: the api's
    three replicas on three nodes (the scheduler spreads them), the updater autoscaled."""
    scenario = SCENARIOS["misconfigured"]
    api.add_all(scenario.kube(scenario.samples()[-1]))
    run(api)
    before = observe(api)
    assert finding(before, "services.wandb-api.replicas") == Status.FAIL
    wbctl_applies(api, ScaleRequest("wandb-api", 3))
    wbctl_applies(api, AutoscaleRequest("wandb-flat-run-fields-updater", 3, 12))
    run(api)
    run(api, NOW + READY)
    observation = observe(api)
    assert finding(observation, "services.wandb-api.replicas") == Status.OK
    assert finding(observation, "services.wandb-flat-run-fields-updater.autoscaling") == Status.OK
    assert finding(observation, "services.wandb-api.spread") == Status.OK
    assert len({p["spec"]["nodeName"] for p in service_pods(api, "api")}) == 3


# --- replicas and pods ------------------------------------------------------------------------


def test_replica_count_gives_pods_spread_over_nodes_ready_after_the_delay(api: FakeKubeAPI) -> None:
    api.add_all(misconfigured())
    wbctl_applies(api, ScaleRequest("wandb-api", 3))
    assert api.get("weightsandbiases", NS, INSTANCE)["spec"]["values"]["api"]["replicaCount"] == 3
    assert api.get("deployments", NS, "wandb-api")["spec"]["replicas"] == 1  # wbctl only wrote the CR

    lines = run(api, ready_after=READY)
    assert lines[0] == "deployment/wandb-api: 1 -> 3 replicas (values.api.replicaCount)"
    assert sum(line.startswith("created pod/wandb-api-") for line in lines) == 2
    deployment = api.get("deployments", NS, "wandb-api")
    assert deployment["spec"]["replicas"] == 3 and deployment["metadata"]["generation"] == 2
    pods = service_pods(api, "api")
    assert len(pods) == 3
    assert len({p["spec"]["nodeName"] for p in pods}) == 3  # one per node, as the scheduler spreads them
    old, *new = sorted(pods, key=lambda p: READY_AT in p["metadata"]["annotations"])
    template = deployment["spec"]["template"]
    for pod in new:
        metadata = pod["metadata"]
        assert metadata["creationTimestamp"] == "2031-07-09T08:30:00Z"  # the caller's clock, not the wall's
        assert metadata["labels"] == old["metadata"]["labels"]  # template labels + the same pod-template-hash
        assert metadata["ownerReferences"] == old["metadata"]["ownerReferences"]
        assert (
            metadata["name"].startswith(metadata["generateName"])
            and metadata["generateName"] == old["metadata"]["generateName"]
        )
        assert pod["spec"]["containers"] == template["spec"]["containers"]
        assert metadata["annotations"][READY_AT] == (NOW + READY).isoformat()
        assert pod["status"]["phase"] == "Running" and pod["status"]["podIP"] and pod["status"]["hostIP"]
        assert not ready(pod) and not any(c["ready"] for c in pod["status"]["containerStatuses"])
    assert {p["status"]["podIP"] for p in pods}.__len__() == 3
    status = deployment["status"]
    assert (status["replicas"], status["readyReplicas"], status["availableReplicas"], status["updatedReplicas"]) == (
        3,
        1,
        1,
        3,
    )

    assert run(api, NOW + READY - timedelta(seconds=1)) == []  # not before its time
    flipped = run(api, NOW + READY)
    assert sorted(flipped) == sorted(f"pod/{p['metadata']['name']}: ready" for p in new)
    pods = service_pods(api, "api")
    assert all(ready(p) for p in pods)
    assert all(c["ready"] for p in pods for c in p["status"]["containerStatuses"])
    assert next(c for c in pods[0]["status"]["conditions"] if c["type"] == "Ready")["lastTransitionTime"]
    assert api.get("deployments", NS, "wandb-api")["status"]["readyReplicas"] == 3
    assert run(api, NOW + READY) == []


def test_scaling_down_removes_the_newest_pods_first(api: FakeKubeAPI) -> None:
    api.add_all(fx.chart_043(now=NOW, hpa_for=()))
    original = {p["metadata"]["name"] for p in service_pods(api, "api")}
    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"api": {"replicaCount": 5}}}})
    run(api)
    run(api, NOW + timedelta(minutes=1))  # the two new ones are ready
    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"api": {"replicaCount": 6}}}})
    run(api, NOW + timedelta(minutes=2))  # a sixth, not ready yet
    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"api": {"replicaCount": 3}}}})
    lines = run(api, NOW + timedelta(minutes=2, seconds=10))
    assert lines[0] == "deployment/wandb-api: 6 -> 3 replicas (values.api.replicaCount)"
    assert sum(line.startswith("deleted pod/") for line in lines) == 3
    assert {p["metadata"]["name"] for p in service_pods(api, "api")} == original
    assert api.get("deployments", NS, "wandb-api")["status"]["replicas"] == 3


def test_a_direct_deployment_scale_is_undone(api: FakeKubeAPI) -> None:
    api.add_all(misconfigured())
    run(api)  # the operator has seen the namespace once: what the chart renders is known
    wbctl_applies(api, ScaleRequest("wandb-api", 3, via="deployment"), read_back=False)
    assert api.get("deployments", NS, "wandb-api")["spec"]["replicas"] == 3
    assert run(api) == ["deployment/wandb-api: 3 -> 1 replicas (as the chart renders it)"]
    assert len(service_pods(api, "api")) == 1

    # wbctl's own read-back, after the sandbox reconciled behind its write, says who won
    with pytest.raises(VerificationError, match="the operator"):
        kube = adapter(api)
        try:
            plan = ScaleRequest("wandb-api", 4, via="deployment").plan(kube.observe(SCALING_KINDS), "fake")
            kube.apply(plan)
            run(api)
            kube.read_back(plan)
        finally:
            kube.close()

    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"api": {"replicaCount": 3}}}})
    run(api)
    api.merge("deployments", NS, "wandb-api", {"spec": {"replicas": 7}})  # kubectl scale
    assert run(api)[0] == "deployment/wandb-api: 7 -> 3 replicas (values.api.replicaCount)"


# --- autoscaling --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("build", "service", "deployment", "keys"),
    [
        (misconfigured, "flat-run-fields-updater", "wandb-flat-run-fields-updater-bc", ("horizontal",)),
        (lambda: fx.chart_0223(now=NOW, hpa_for=(), replicas={"executor": 2}), "executor", "wandb-executor", ()),
    ],
    ids=["chart-0.43.8", "chart-0.22.3"],
)
def test_autoscaling_values_create_update_and_remove_the_hpa(
    api: FakeKubeAPI, build: Any, service: str, deployment: str, keys: tuple[str, ...]
) -> None:
    api.add_all(build())
    name = f"{INSTANCE}-{service}"
    run(api)
    wbctl_applies(api, AutoscaleRequest(f"wandb-{service}", 3, 12))
    autoscaling = api.get("weightsandbiases", NS, INSTANCE)["spec"]["values"][service]["autoscaling"]
    for key in keys:
        autoscaling = autoscaling[key]
    assert (autoscaling["enabled"], autoscaling["minReplicas"], autoscaling["maxReplicas"]) == (True, 3, 12)

    lines = run(api)
    assert lines[:2] == [
        f"created horizontalpodautoscaler/{name} (3-12, cpu target 80%)",
        f"deployment/{deployment}: 2 -> 3 replicas (horizontalpodautoscaler/{name}, 3-12)",
    ]
    hpa = api.get("horizontalpodautoscalers", NS, name)
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (3, 12)
    assert hpa["spec"]["metrics"] == fx.hpa("x", NS, deployment, {}, 3)["spec"]["metrics"]  # the chart's shape
    chart = api.get("weightsandbiases", NS, INSTANCE)["spec"]["chart"]["version"]
    assert hpa["metadata"]["labels"] == {
        "helm.sh/chart": f"operator-wandb-{chart}",
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/instance": INSTANCE,
        "app.kubernetes.io/version": "latest",
        "app.kubernetes.io/managed-by": "Helm",
    }
    assert hpa["metadata"]["creationTimestamp"] == "2031-07-09T08:30:00Z"
    assert (hpa["status"]["currentReplicas"], hpa["status"]["desiredReplicas"]) == (3, 3)
    assert hpa["status"]["lastScaleTime"] == "2031-07-09T08:30:00Z"
    events = [e for e in api.objects("events", NS) if e["involvedObject"]["name"] == name]
    assert [(e["reason"], e["message"]) for e in events] == [
        ("SuccessfulRescale", "New size: 3; reason: Current number of replicas below Spec.MinReplicas")
    ]
    assert len(service_pods(api, service)) == 3
    seen = next(a for a in observe(api).autoscalers if a.name == name)
    assert (seen.min_replicas, seen.max_replicas, seen.cpu_target, seen.at_max) == (3, 12, 80, False)

    wbctl_applies(api, AutoscaleRequest(f"wandb-{service}", 4, 8, cpu_target=70))
    lines = run(api)
    assert lines[0] == f"horizontalpodautoscaler/{name}: 3-12 -> 4-8, cpu target 80% -> 70%"
    assert lines[1] == f"deployment/{deployment}: 3 -> 4 replicas (horizontalpodautoscaler/{name}, 4-8)"
    hpa = api.get("horizontalpodautoscalers", NS, name)
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"], hpa["metadata"]["generation"]) == (4, 8, 2)
    assert hpa["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 70

    api.merge("horizontalpodautoscalers", NS, name, {"spec": {"maxReplicas": 50}})  # by hand: the operator reverts it
    assert run(api) == [f"horizontalpodautoscaler/{name}: 4-50 -> 4-8"]

    wbctl_applies(api, AutoscaleRequest(f"wandb-{service}", disable=True))
    lines = run(api)
    assert lines[0] == f"deleted horizontalpodautoscaler/{name} (autoscaling is off in weightsandbiases/{INSTANCE})"
    assert api.get("horizontalpodautoscalers", NS, name) is None
    assert lines[1] == f"deployment/{deployment}: 4 -> 2 replicas (as the chart renders it)"
    assert run(api) == []


def test_an_hpa_made_by_hand_is_left_alone(api: FakeKubeAPI) -> None:
    api.add_all(misconfigured())
    run(api)
    wbctl_applies(api, AutoscaleRequest("wandb-flat-run-fields-updater", 3, 6, via="hpa"))
    lines = run(api)
    assert (
        lines[0]
        == f"deployment/wandb-flat-run-fields-updater-bc: 2 -> 3 replicas (horizontalpodautoscaler/{UPDATER_HPA}, 3-6)"
    )
    assert (
        api.get("horizontalpodautoscalers", NS, UPDATER_HPA) is not None
    )  # values say nothing: not the chart's to remove


def test_wanting_more_than_the_maximum_pins_at_it(api: FakeKubeAPI) -> None:
    api.add_all(fx.chart_043(now=NOW))  # the updater's HPA: 1-10, at 3
    lines = run(api, desired_replicas={"flat-run-fields-updater": 25})
    assert lines[:2] == [
        f"deployment/wandb-flat-run-fields-updater-bc: 3 -> 10 replicas (horizontalpodautoscaler/{UPDATER_HPA}, 1-10)",
        f"horizontalpodautoscaler/{UPDATER_HPA}: wants 25, limited to 10 (ScalingLimited: TooManyReplicas)",
    ]
    status = api.get("horizontalpodautoscalers", NS, UPDATER_HPA)["status"]
    limited = next(c for c in status["conditions"] if c["type"] == "ScalingLimited")
    expected = next(
        c for c in fx.hpa("x", NS, "y", {}, 10, limited=True)["status"]["conditions"] if c["type"] == "ScalingLimited"
    )
    assert {k: limited[k] for k in ("status", "reason", "message")} == {
        k: expected[k] for k in ("status", "reason", "message")
    }
    assert (status["currentReplicas"], status["desiredReplicas"]) == (10, 10)
    assert len(service_pods(api, "flat-run-fields-updater")) == 10
    assert run(api, desired_replicas={"flat-run-fields-updater": 25}) == []
    seen = next(a for a in observe(api).autoscalers if a.name == UPDATER_HPA)
    assert seen.at_max and seen.current == 10

    lines = run(api, NOW + timedelta(minutes=5), desired_replicas={"wandb-flat-run-fields-updater": 4})
    assert lines[:2] == [
        f"deployment/wandb-flat-run-fields-updater-bc: 10 -> 4 replicas (horizontalpodautoscaler/{UPDATER_HPA}, 1-10)",
        f"horizontalpodautoscaler/{UPDATER_HPA}: no longer limited (DesiredWithinRange)",
    ]
    assert len(service_pods(api, "flat-run-fields-updater")) == 4
    event = next(e for e in api.objects("events", NS) if e["involvedObject"]["name"] == UPDATER_HPA)
    assert event["message"] == "New size: 4; reason: All metrics below target"


def test_raising_the_maximum_lifts_a_limit_the_controller_reported(api: FakeKubeAPI) -> None:
    api.add_all(fx.chart_043(now=NOW, updater_hpa={"minimum": 1, "maximum": 5, "current": 5, "limited": True}))
    wbctl_applies(api, AutoscaleRequest("wandb-flat-run-fields-updater", 3, 12))
    assert run(api) == [
        f"horizontalpodautoscaler/{UPDATER_HPA}: 1-5 -> 3-12",
        f"horizontalpodautoscaler/{UPDATER_HPA}: no longer limited (DesiredWithinRange)",
    ]
    assert run(api, desired_replicas={"flat-run-fields-updater": 8})[0].endswith(
        f"5 -> 8 replicas (horizontalpodautoscaler/{UPDATER_HPA}, 3-12)"
    )


def test_keda_bounds_follow_the_values(api: FakeKubeAPI) -> None:
    api.add_all(fx.chart_043(now=NOW, keda_frfu=True))
    wbctl_applies(api, AutoscaleRequest("wandb-flat-run-fields-updater", 4, 8))
    keda_hpa = "keda-hpa-wandb-flat-run-fields-updater"
    assert run(api)[:3] == [
        "scaledobject/wandb-flat-run-fields-updater: 0-3 -> 4-8 replicas",
        f"horizontalpodautoscaler/{keda_hpa}: 1-3 -> 4-8 (KEDA, after scaledobject/wandb-flat-run-fields-updater)",
        f"deployment/wandb-flat-run-fields-updater-bc: 3 -> 4 replicas (horizontalpodautoscaler/{keda_hpa}, 4-8)",
    ]
    scaled = api.get("scaledobjects", NS, "wandb-flat-run-fields-updater")["spec"]
    assert (scaled["minReplicaCount"], scaled["maxReplicaCount"]) == (4, 8)
    assert api.get("horizontalpodautoscalers", NS, UPDATER_HPA) is None  # no plain HPA beside KEDA's
    assert run(api) == []


# --- GCS FUSE ----------------------------------------------------------------------------------


def test_fuse_annotation_only_with_the_csi_driver(api: FakeKubeAPI) -> None:
    api.add_all(fx.chart_043(now=NOW) + fx.csi_drivers(gcsfuse=False, now=NOW))
    fuse = {"spec": {"values": {"parquet": {"fuse": copy.deepcopy(FUSE_BLOCK)}}}}

    def annotated() -> list[bool]:
        return [
            p["metadata"].get("annotations", {}).get(FUSE_ANNOTATION) == "true" for p in service_pods(api, "parquet")
        ]

    api.merge("weightsandbiases", NS, INSTANCE, fuse)
    assert run(api) == [] and annotated() == [False] * 3  # no driver: the chart's annotation would not mount
    api.add_all([d for d in fx.csi_drivers(gcsfuse=True, now=NOW) if d["metadata"]["name"] == CSI_DRIVER])
    lines = run(api)
    assert len(lines) == 3 and all(line.endswith(f'annotated {FUSE_ANNOTATION}: "true"') for line in lines)
    assert annotated() == [True] * 3
    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"parquet": {"replicaCount": 4}}}})
    run(api)
    assert annotated() == [True] * 4  # a new pod carries it from the start
    assert all(p["metadata"]["annotations"][FUSE_ANNOTATION] == "true" for p in service_pods(api, "parquet"))
    backfill_pods = [p for p in api.objects("pods", NS) if "job-name" in p["metadata"]["labels"]]
    assert all(FUSE_ANNOTATION not in (p["metadata"].get("annotations") or {}) for p in backfill_pods)

    api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"parquet": {"fuse": {"enabled": False}}}}})
    assert len(run(api)) == 4 and annotated() == [False] * 4
    assert run(api) == []


# --- end to end: wbctl's checks ------------------------------------------------------------


def test_services_check_passes_after_the_scale_and_the_autoscale(api: FakeKubeAPI) -> None:
    api.add_all(misconfigured())
    run(api)
    before = observe(api)
    for check in (
        "services.wandb-api.replicas",
        "services.wandb-api.spread",
        "services.wandb-flat-run-fields-updater.autoscaling",
    ):
        assert finding(before, check) == Status.FAIL, check

    wbctl_applies(api, ScaleRequest("wandb-api", 3))
    run(api)
    wbctl_applies(api, AutoscaleRequest("wandb-flat-run-fields-updater", 3, 12))
    run(api)
    starting = observe(api)
    assert finding(starting, "services.wandb-api.replicas") == Status.FAIL  # started, not ready yet
    assert finding(starting, "services.wandb-flat-run-fields-updater.autoscaling") == Status.OK

    run(api, NOW + READY)
    after = observe(api)
    for check in (
        "services.wandb-api.replicas",
        "services.wandb-api.spread",
        "services.wandb-flat-run-fields-updater.autoscaling",
        "services.wandb-flat-run-fields-updater.replicas",
        "services.wandb-flat-run-fields-updater.spread",
    ):
        assert finding(after, check) == Status.OK, check
    api_view = next(w for w in after.workloads if w.name == "wandb-api")
    assert (api_view.desired, api_view.ready) == (3, 3)


# --- speed ---------------------------------------------------------------------------------------


def _best_ms(action: Any, repeat: int = 9) -> tuple[float, float]:
    gc.collect()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    return min(times), statistics.median(times)


def test_a_whole_chart_namespace_reconciles_well_under_50_ms(
    api: FakeKubeAPI, capsys: pytest.CaptureFixture[str]
) -> None:
    api.add_all(fx.chart_043(now=NOW) + fx.csi_drivers(now=NOW))
    assert len(api.objects("pods", NS)) >= 45
    first = _best_ms(lambda: run(api), repeat=1)  # records what the chart renders on every Deployment
    idle = _best_ms(lambda: run(api))
    counts = iter(range(4, 40))

    def scale() -> None:  # a CR change, then the reconcile that creates a pod for it
        api.merge("weightsandbiases", NS, INSTANCE, {"spec": {"values": {"api": {"replicaCount": next(counts)}}}})
        assert run(api)

    busy = _best_ms(scale)
    with capsys.disabled():
        print(
            f"\nreconcile, chart 0.43.8 namespace: first {first[0]:.1f} ms; idle best {idle[0]:.1f} / median "
            f"{idle[1]:.1f} ms; one scale best {busy[0]:.1f} / median {busy[1]:.1f} ms"
        )
    # best of several: the figure is the code's, not a busy machine's (the medians are printed beside
    # it). The first reconcile is one sample, so a busy machine's figure: printed, not asserted. Idle
    # takes 12-20 ms alone on 2 cores and reached 25.2 beside the suite's three workers: the bound
    # catches a reconcile grown several times over, not a neighbour's load.
    assert idle[0] < 40 and busy[0] < 50
