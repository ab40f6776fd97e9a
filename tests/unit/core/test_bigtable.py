from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from wbctl.core import bigtable as bt
from wbctl.core import bigtable_status
from wbctl.core.model import AutoscalingWrite, Status
from wbctl.core.series import Series, SignalData
from wbctl.errors import UsageError

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def observation(*clusters: bt.ClusterState) -> bt.BigtableObservation:
    return bt.BigtableObservation("proj", "wandb-bigtable", "W&B", "READY", clusters)


SCALING = bt.Autoscaling(1, 3, 70)


def cluster(cid="wandb-bigtable-c1", nodes=3, scaling: bt.Autoscaling | None = SCALING, storage="SSD"):
    return bt.ClusterState(cid, "us-central1-a", storage, "READY", nodes, scaling)


def cpu(values: list[float], cid="wandb-bigtable-c1") -> SignalData:
    points = tuple((NOW - timedelta(minutes=len(values) - i), v) for i, v in enumerate(values))
    return SignalData("bigtable-cpu", (Series({"cluster": cid}, points),))


def test_default_names_follow_the_terraform_module() -> None:
    assert bt.default_instance("wandb") == "wandb-bigtable"
    assert bt.default_instance("wandb-prod") == "wandb-prod"
    assert bt.default_instance("x" * 40) == "x" * 27


def test_terraform_default_fails_min_nodes() -> None:
    findings = {f.check: f for f in bt.check(observation(cluster()), cpu([0.3, 0.4]), "1h").findings}
    assert findings["bigtable.autoscaling"].status is Status.OK
    assert findings["bigtable.min-nodes"].status is Status.FAIL
    assert "Terraform module's default is 1" in findings["bigtable.min-nodes"].message
    assert findings["bigtable.min-nodes"].remedy.startswith("wbctl bigtable autoscale --min 3 --max 10")
    assert findings["bigtable.cpu"].status is Status.OK and findings["bigtable.cpu"].observed == "40%"


def test_manual_cluster_fails_autoscaling() -> None:
    findings = {f.check: f for f in bt.check(observation(cluster(nodes=5, scaling=None)), cpu([0.2]), "1h").findings}
    assert findings["bigtable.autoscaling"].status is Status.FAIL
    assert findings["bigtable.min-nodes"].status is Status.OK


def test_cpu_over_target_on_the_newest_point_fails_only_at_max_nodes() -> None:
    busy = cpu([0.5, 0.85, 0.9])
    at_max = {
        f.check: f
        for f in bt.check(
            observation(cluster(nodes=10, scaling=bt.Autoscaling(3, 10, 70))), busy, "1h", now=NOW
        ).findings
    }["bigtable.cpu"]
    assert at_max.status is Status.FAIL and "at its autoscaling maximum" in at_max.message
    assert at_max.remedy.startswith("wbctl bigtable autoscale --min 10 --max 20")  # the runbook's raise
    room = {
        f.check: f
        for f in bt.check(
            observation(cluster(nodes=5, scaling=bt.Autoscaling(3, 10, 70))), busy, "1h", now=NOW
        ).findings
    }["bigtable.cpu"]
    assert room.status is Status.WARN and "the autoscaler adds nodes" in room.message and room.proposal is None


def test_a_peak_that_has_passed_is_not_a_finding() -> None:
    """Judged on the newest point, as the runbook's step 2: a peak earlier in the window is
    shown, not judged (it made check warn while step 2 said ok)."""
    finding = {
        f.check: f
        for f in bt.check(
            observation(cluster(nodes=10, scaling=bt.Autoscaling(3, 10, 70))), cpu([0.9, 0.95, 0.4]), "1h", now=NOW
        ).findings
    }["bigtable.cpu"]
    assert finding.status is Status.OK and finding.observed == "40%" and "peak 95%" in finding.message


def test_no_cpu_data_is_unknown_not_zero() -> None:
    findings = {
        f.check: f for f in bt.check(observation(cluster()), SignalData("bigtable-cpu", None, "no data"), "1h").findings
    }
    assert findings["bigtable.cpu"].status is Status.UNKNOWN and findings["bigtable.cpu"].observed is None


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((0, 3, None, None, True), "takes 1-1000 nodes"),
        ((3, 99999999999, None, None, False), r"--max 99999999999: Bigtable takes 1-1000 nodes"),
        ((None, None, None, None, False), "nothing to change"),
        ((3, 2, None, None, False), "below --min"),
        ((3, 31, None, None, False), "10 x --min"),
        ((3, 10, 9, None, False), "10-80"),
        ((3, 10, 81, None, False), "10-80"),
        ((3, 10, 70, 100, False), "GiB per node"),
        ((2, 10, 70, None, False), "guide's absolute minimum"),
    ],
)
def test_autoscale_validation(args, message) -> None:
    with pytest.raises(UsageError, match=message):
        bt.validate_autoscale(*args)


def test_min_below_three_with_force() -> None:
    bt.validate_autoscale(2, 10, 70, None, True)


def test_one_bound_of_an_autoscaled_cluster_keeps_the_other() -> None:
    plan = bt.plan_autoscale(
        observation(cluster()),
        min_nodes=3,
        max_nodes=None,
        cpu_target=None,
        storage_gib=None,
        cluster_id=None,
        context="c",
    )
    assert [(c.key, c.after) for c in plan.changes] == [("autoscaling min nodes", 3)]  # max 3 kept
    with pytest.raises(UsageError, match="autoscaling is off"):
        bt.plan_autoscale(
            observation(cluster(scaling=None)),
            min_nodes=3,
            max_nodes=None,
            cpu_target=None,
            storage_gib=None,
            cluster_id=None,
            context="c",
        )
    with pytest.raises(UsageError, match="more than 10 x --min 1"):  # the kept minimum still binds the new maximum
        bt.plan_autoscale(
            observation(cluster()),
            min_nodes=None,
            max_nodes=11,
            cpu_target=None,
            storage_gib=None,
            cluster_id=None,
            context="c",
        )


@pytest.mark.parametrize(
    ("nodes", "force", "message"),
    [
        (0, True, "takes 1-1000"),
        (99999999999, False, "takes 1-1000"),
        (1, False, "add --force"),
        (2, False, "guide's absolute minimum"),
    ],
)
def test_fixed_nodes_are_bounded_and_below_three_needs_force(nodes, force, message) -> None:
    with pytest.raises(UsageError, match=message):
        bt.validate_nodes(nodes, force)
    bt.validate_nodes(2, True)
    with pytest.raises(UsageError, match="--cluster is empty"):
        bt.validate_cluster("")


def test_autoscale_plan_names_every_cluster_and_carries_the_whole_config() -> None:
    obs = observation(cluster("c1"), cluster("c2", scaling=None, nodes=4))
    plan = bt.plan_autoscale(
        obs, min_nodes=3, max_nodes=10, cpu_target=None, storage_gib=None, cluster_id=None, context="p"
    )
    targets = {c.target for c in plan.changes}
    assert targets == {
        "projects/proj/instances/wandb-bigtable/clusters/c1",
        "projects/proj/instances/wandb-bigtable/clusters/c2",
    }
    c1 = {c.key: (c.before, c.after) for c in plan.changes if c.target.endswith("/c1")}
    assert c1 == {"autoscaling min nodes": (1, 3), "autoscaling max nodes": (3, 10)}
    assert plan.writes["projects/proj/instances/wandb-bigtable/clusters/c1"] == AutoscalingWrite(3, 10, 70, None)
    assert any("c2: autoscaling replaces its fixed 4 nodes" in n for n in plan.notes)
    again = bt.plan_autoscale(
        observation(cluster("c1", scaling=bt.Autoscaling(3, 10, 70))),
        min_nodes=3,
        max_nodes=10,
        cpu_target=70,
        storage_gib=None,
        cluster_id=None,
        context="p",
    )
    assert again.empty


def test_storage_target_checked_against_the_clusters_type() -> None:
    with pytest.raises(UsageError, match="HDD cluster"):
        bt.plan_autoscale(
            observation(cluster(storage="HDD")),
            min_nodes=3,
            max_nodes=10,
            cpu_target=None,
            storage_gib=3000,
            cluster_id=None,
            context="p",
        )


def test_unknown_cluster() -> None:
    with pytest.raises(UsageError, match="no cluster 'c9'"):
        bt.plan_scale(observation(cluster("c1")), nodes=3, cluster_id="c9", context="p")


def test_scale_turns_autoscaling_off_and_says_so() -> None:
    plan = bt.plan_scale(observation(cluster("c1", nodes=3)), nodes=5, cluster_id=None, context="p")
    assert [(c.key, c.after) for c in plan.changes] == [("autoscaling", None), ("serve nodes", 5)]
    assert any("turns autoscaling OFF" in n for n in plan.notes)
    manual = bt.plan_scale(observation(cluster("c1", nodes=5, scaling=None)), nodes=5, cluster_id=None, context="p")
    assert manual.empty


def test_status_document() -> None:
    nodes = SignalData(
        "bigtable-nodes",
        (
            Series(
                {"cluster": "wandb-bigtable-c1"},
                (
                    (NOW - timedelta(minutes=3), 1.0),
                    (NOW - timedelta(minutes=2), 1.0),
                    (NOW - timedelta(minutes=1), 3.0),
                ),
            ),
        ),
    )
    doc = bigtable_status.status_document(
        observation(cluster()),
        {
            "bigtable-cpu": cpu([0.2, 0.6]),
            "bigtable-nodes": nodes,
            "bigtable-storage": SignalData("bigtable-storage", None, "none"),
        },
        "1h",
    )
    (c,) = doc["clusters"]
    assert c["cpu_percent"] == {"now": 60.0, "peak": 60.0, "target": 70}
    assert [n["nodes"] for n in c["node_changes"]] == [1, 3]
    assert doc["unknown"] == {"bigtable-storage": "none"}
