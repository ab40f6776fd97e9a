"""Service mapping, the guide's checks and the scaling plans, on hand-made observations."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from wbctl.core import catalog, scaling, services
from wbctl.core.kube import (
    Autoscaler,
    Container,
    KubeObservation,
    Pod,
    WandbResource,
    Workload,
)
from wbctl.core.model import KubeWrite, Status
from wbctl.errors import BackendError, UsageError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def deployment(short: str, replicas: int, *, name: str | None = None, label: str | None = None) -> Workload:
    labels = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": label or short}
    return Workload(
        "Deployment",
        name or f"wandb-{short}",
        labels,
        dict(labels),
        replicas,
        replicas,
        (Container("main", f"wandb/local:0.70.{replicas}", {"cpu": "1"}, {"memory": "4Gi"}),),
        resource_version="7",
    )


def pods(workload: Workload, count: int, nodes: list[str], ready: bool = True) -> list[Pod]:
    return [
        Pod(f"{workload.name}-{i}", dict(workload.selector), nodes[i % len(nodes)], "Running", ready, 0, NOW, False)
        for i in range(count)
    ]


def observation(chart: str | None = "0.43.8", values: dict | None = None) -> KubeObservation:
    obs = KubeObservation("https://k8s", "default", "wandb")
    if chart is not None:
        obs.cr = WandbResource("wandb", chart, values or {}, "Completed", "42")
    return obs


def healthy() -> KubeObservation:
    obs = observation()
    nodes = ["n1", "n2", "n3"]
    for spec in catalog.CATALOG:
        if spec.kind != "Deployment":
            continue
        count = 1 if spec.single_instance else 3
        workload = deployment(spec.short, count, name=f"wandb-{spec.short}-bc", label=spec.label)
        obs.workloads.append(workload)
        obs.pods += pods(workload, count, nodes)
    for short in ("filestream", "flat-run-fields-updater"):
        obs.autoscalers.append(
            Autoscaler(
                "HorizontalPodAutoscaler", f"wandb-{short}", f"wandb-{short}-bc", 3, 10, 3, 3, 80, resource_version="9"
            )
        )
    return obs


def by_id(obs: KubeObservation) -> dict:
    return {f.check: f for f in services.check(obs).findings}


def test_healthy_deployment_passes_every_check() -> None:
    report = services.check(healthy())
    assert not report.has(Status.FAIL), [f for f in report.findings if f.status is Status.FAIL]
    ids = {f.check for f in report.findings}
    assert {
        "services.wandb-api.replicas",
        "services.wandb-api.spread",
        "services.wandb-filestream.autoscaling",
        "services.wandb-app.single-instance",
        "services.wandb-flat-run-fields-updater.autoscaling",
    } <= ids


def test_mapping_keeps_extras_and_tells_cronjob_from_deployment() -> None:
    obs = healthy()
    extra = deployment("filemeta", 1)
    cron = Workload(
        "CronJob", "wandb-parquet-backfill", {"app.kubernetes.io/name": "parquet"}, {}, None, 0, (), "* * * * *", True
    )
    obs.workloads += [extra, cron]
    obs.pods.append(
        Pod(
            "wandb-parquet-backfill-1-x",
            {"app.kubernetes.io/name": "parquet", "job-name": "x"},
            "n1",
            "Succeeded",
            False,
            0,
            NOW,
            True,
        )
    )
    views = {v.name: v for v in services.map_services(obs)}
    assert views["wandb-filemeta"].spec is None and views["wandb-filemeta"].workload is extra
    assert views["wandb-parquet-backfill"].workload is cron
    assert [p.name for p in views["wandb-parquet-backfill"].pods] == ["wandb-parquet-backfill-1-x"]
    assert all(not p.job_pod for p in views["wandb-parquet"].pods)


def test_name_fallback_when_the_label_is_missing() -> None:
    obs = observation()
    workload = Workload("Deployment", "wandb-executor-bc", {}, {"app": "x"}, 1, 1, ())
    obs.workloads.append(workload)
    assert next(v for v in services.map_services(obs) if v.name == "wandb-executor").workload is workload


def test_too_few_replicas_and_one_node() -> None:
    obs = healthy()
    api = next(w for w in obs.workloads if w.label_name == "api")
    obs.pods = [p for p in obs.pods if not p.name.startswith(api.name)] + pods(api, 3, ["n1"])[:2]
    findings = by_id(obs)
    assert findings["services.wandb-api.replicas"].status is Status.FAIL
    assert findings["services.wandb-api.replicas"].observed == 2
    assert findings["services.wandb-api.replicas"].remedy == "wbctl services scale wandb-api --replicas 3"
    assert findings["services.wandb-api.spread"].status is Status.FAIL
    assert findings["services.wandb-api.spread"].observed == 1


def test_three_ready_on_two_nodes_fails_spread_only() -> None:
    obs = healthy()
    executor = next(w for w in obs.workloads if w.label_name == "executor")
    obs.pods = [p for p in obs.pods if not p.name.startswith(executor.name)] + pods(executor, 3, ["n1", "n2"])
    findings = by_id(obs)
    assert findings["services.wandb-executor.replicas"].status is Status.OK
    assert findings["services.wandb-executor.spread"].status is Status.FAIL
    assert "anti-affinity" in findings["services.wandb-executor.spread"].remedy


def test_missing_autoscaler_and_keda_counts() -> None:
    obs = healthy()
    obs.autoscalers = [a for a in obs.autoscalers if a.target != "wandb-filestream-bc"]
    obs.autoscalers = [
        Autoscaler("ScaledObject", "wandb-flat-run-fields-updater", "wandb-flat-run-fields-updater-bc", 0, 3, keda=True)
    ]
    findings = by_id(obs)
    assert findings["services.wandb-filestream.autoscaling"].status is Status.FAIL
    assert findings["services.wandb-filestream.autoscaling"].remedy.startswith(
        "wbctl services autoscale wandb-filestream"
    )
    assert findings["services.wandb-flat-run-fields-updater.autoscaling"].status is Status.OK


def test_app_with_several_replicas_fails_single_instance() -> None:
    obs = healthy()
    app = next(w for w in obs.workloads if w.label_name == "app")
    obs.workloads = [w for w in obs.workloads if w is not app] + [deployment("app", 2, name=app.name)]
    finding = by_id(obs)["services.wandb-app.single-instance"]
    assert finding.status is Status.FAIL and finding.remedy == "wbctl services scale wandb-app --replicas 1"


def test_absent_services_old_chart_api() -> None:
    obs = healthy()
    obs.cr = WandbResource("wandb", "0.22.3", {}, "Completed", "1")
    obs.workloads = [w for w in obs.workloads if w.label_name not in {"api", "glue"}]
    findings = by_id(obs)
    assert findings["services.wandb-api.present"].status is Status.FAIL
    assert "0.23.0" in findings["services.wandb-api.present"].message
    assert findings["services.wandb-glue.present"].status is Status.OK  # optional
    assert "services.wandb-api.replicas" not in findings


# --- plans ------------------------------------------------------------------------------


def test_scale_via_cr_writes_replica_count_with_the_cr_resource_version() -> None:
    obs = healthy()
    plan = scaling.plan_scale(obs, catalog.resolve("api"), 5, via=None, force=False, context="prod")
    (change,) = plan.changes
    assert (change.target, change.key, change.before, change.after) == (
        "weightsandbiases/wandb",
        "spec.values.api.replicaCount",
        None,
        5,
    )
    assert change.path == ("spec", "values", "api", "replicaCount")
    assert plan.writes == {"weightsandbiases/wandb": KubeWrite("42")}


def test_scale_again_is_no_change() -> None:
    obs = healthy()
    obs.cr = WandbResource("wandb", "0.43.8", {"api": {"replicaCount": 5}}, "Completed", "42")
    assert scaling.plan_scale(obs, catalog.resolve("api"), 5, via="cr", force=False, context="p").empty


def test_scale_via_deployment_warns_of_the_operator() -> None:
    plan = scaling.plan_scale(healthy(), catalog.resolve("api"), 4, via="deployment", force=False, context="p")
    (change,) = plan.changes
    assert (change.target, change.before, change.after) == ("deployment/wandb-api-bc", 3, 4)
    assert any("operator re-applies" in note for note in plan.notes)


def test_scale_without_cr_defaults_to_deployment_and_cr_is_refused() -> None:
    obs = healthy()
    obs.cr = None
    assert (
        scaling.plan_scale(obs, catalog.resolve("api"), 4, via=None, force=False, context="p")
        .changes[0]
        .target.startswith("deployment/")
    )
    with pytest.raises(BackendError, match="no WeightsAndBiases resource named wandb in namespace default"):
        scaling.plan_scale(obs, catalog.resolve("api"), 4, via="cr", force=False, context="p")


@pytest.mark.parametrize(
    ("service", "replicas", "via", "force", "message"),
    [
        ("app", 2, None, False, "cannot run in HA mode"),
        ("api", -1, None, False, "from 0 to 500"),
        ("parquet-backfill", 1, None, False, "is a CronJob"),
        ("api", 1, "hpa", False, "--via cr or --via deployment"),
    ],
)
def test_scale_rejects(service, replicas, via, force, message) -> None:
    with pytest.raises(UsageError, match=message):
        scaling.validate_scale(catalog.resolve(service), replicas, via, force)


def test_app_scale_with_force() -> None:
    scaling.validate_scale(catalog.resolve("app"), 2, None, True)


def test_autoscale_via_cr_new_and_old_layouts() -> None:
    new = scaling.plan_autoscale(
        healthy(),
        catalog.resolve("flat-run-fields-updater"),
        min_replicas=3,
        max_replicas=12,
        cpu_target=70,
        disable=False,
        via=None,
        context="p",
    )
    assert {c.key: c.after for c in new.changes} == {
        "spec.values.flat-run-fields-updater.autoscaling.horizontal.enabled": True,
        "spec.values.flat-run-fields-updater.autoscaling.horizontal.minReplicas": 3,
        "spec.values.flat-run-fields-updater.autoscaling.horizontal.maxReplicas": 12,
        "spec.values.flat-run-fields-updater.autoscaling.horizontal.targetCPUUtilizationPercentage": 70,
    }
    obs = healthy()
    obs.cr = WandbResource(
        "wandb", "0.22.3", {"filestream": {"autoscaling": {"enabled": False, "minReplicas": 1}}}, "Completed", "5"
    )
    old = scaling.plan_autoscale(
        obs,
        catalog.resolve("filestream"),
        min_replicas=2,
        max_replicas=10,
        cpu_target=80,
        disable=False,
        via="cr",
        context="p",
    )
    assert {c.key: (c.before, c.after) for c in old.changes} == {
        "spec.values.filestream.autoscaling.enabled": (False, True),
        "spec.values.filestream.autoscaling.minReplicas": (1, 2),
        "spec.values.filestream.autoscaling.maxReplicas": (None, 10),
        "spec.values.filestream.autoscaling.targetCPU": (None, 80),
    }


def test_autoscale_via_hpa_patches_existing_or_creates() -> None:
    obs = healthy()
    patch = scaling.plan_autoscale(
        obs,
        catalog.resolve("filestream"),
        min_replicas=2,
        max_replicas=10,
        cpu_target=None,
        disable=False,
        via="hpa",
        context="p",
    )
    assert [(c.key, c.before, c.after) for c in patch.changes] == [("spec.minReplicas", 3, 2)]
    assert patch.writes == {"horizontalpodautoscaler/wandb-filestream": KubeWrite("9")}
    create = scaling.plan_autoscale(
        obs,
        catalog.resolve("executor"),
        min_replicas=3,
        max_replicas=6,
        cpu_target=None,
        disable=False,
        via="hpa",
        context="p",
    )
    manifest = create.writes["horizontalpodautoscaler/wandb-executor"].create
    assert manifest["spec"]["scaleTargetRef"]["name"] == "wandb-executor-bc"
    assert {c.key: c.after for c in create.changes} == {
        "spec.minReplicas": 3,
        "spec.maxReplicas": 6,
        "cpu target %": 80,
    }


def test_autoscale_disable_via_hpa_deletes_it() -> None:
    plan = scaling.plan_autoscale(
        healthy(),
        catalog.resolve("filestream"),
        min_replicas=None,
        max_replicas=None,
        cpu_target=None,
        disable=True,
        via="hpa",
        context="p",
    )
    (change,) = plan.changes
    assert change.after is None and change.path == ()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 5, None, False, None), "--min 0: from 1 to 500"),
        ((1, 99999999999, None, False, None), "--max 99999999999: from 1 to 500"),
        ((5, 3, None, False, None), "below --min"),
        ((1, 3, 0, False, None), "between 1 and 100"),
        ((1, 3, 101, False, None), "between 1 and 100"),
        ((None, 3, None, False, None), "both needed"),
        ((1, 3, None, False, "deployment"), "--via cr or --via hpa"),
        ((1, 3, None, True, None), "--disable takes no"),
    ],
)
def test_autoscale_rejects(args, message) -> None:
    with pytest.raises(UsageError, match=message):
        scaling.validate_autoscale(*args)


def test_autoscale_services_the_chart_cannot() -> None:
    obs = healthy()
    with pytest.raises(UsageError, match="cannot be autoscaled"):
        scaling.plan_autoscale(
            obs,
            catalog.resolve("app"),
            min_replicas=1,
            max_replicas=2,
            cpu_target=None,
            disable=False,
            via=None,
            context="p",
        )
    obs.cr = WandbResource("wandb", "0.22.3", {}, "Completed", "1")
    with pytest.raises(UsageError, match="operator-wandb 0.22.3"):
        scaling.plan_autoscale(
            obs,
            catalog.resolve("weave"),
            min_replicas=1,
            max_replicas=2,
            cpu_target=None,
            disable=False,
            via=None,
            context="p",
        )


def test_list_rows_and_status_document() -> None:
    obs = healthy()
    rows = {r["service"]: r for r in services.list_rows(obs)}
    assert rows["wandb-api"]["ready"] == 3 and rows["wandb-api"]["nodes"] == 3
    assert rows["wandb-parquet-backfill"]["present"] is False
    assert services.list_cells(rows["wandb-filestream"])["autoscaling"] == "3-10, now 3"
    views = [v for v in services.map_services(obs) if v.name == "wandb-api"]
    (doc,) = services.status_document(obs, views, NOW)
    assert doc["pods"][0]["age_seconds"] == 0 and doc["containers"][0]["requests"] == {"cpu": "1"}
