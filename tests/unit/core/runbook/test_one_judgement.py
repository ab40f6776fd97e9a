"""One state, one judgement: where `check` and the runbook judge the same thing (Bigtable's
CPU against its target, the backlog) they give the same status and propose the same raise,
whatever the state; and a raise wbctl just made is waited for, not chased."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import given
from hypothesis import strategies as st

from tests.support.points import NOW, flat, minutes
from tests.unit.core.runbook.test_runbook import DRAINING, DRAINING_LOSS, GROWING, NONE, STALLED, STEADY, UNKNOWN
from tests.unit.core.runbook.test_runbook import evidence as runbook_evidence
from wbctl.core import bigtable, queue
from wbctl.core.bigtable import Autoscaling, BigtableObservation, ClusterState
from wbctl.core.model import AuditRecord, Change, Observed, Status
from wbctl.core.runbook import BigtableEvidence, diagnose
from wbctl.core.runbook.steps import bigtable_step
from wbctl.core.series import Series, SignalData

CLUSTER = "wandb-c1"
TARGET = f"projects/p/instances/wandb/clusters/{CLUSTER}"


def _state(nodes: int, scaling: Autoscaling | None) -> tuple[BigtableObservation, ClusterState]:
    cluster = ClusterState(CLUSTER, "us-central1-a", "SSD", "READY", nodes, scaling)
    return BigtableObservation("p", "wandb", "wandb", "READY", (cluster,)), cluster


def _signal(name: str, values: list[float]) -> SignalData:
    return SignalData(name, (Series({"cluster": CLUSTER}, minutes(values)),))


def _raise(at_minutes_ago: int, before: int, after: int) -> AuditRecord:
    change = Change(TARGET, bigtable.MAX_NODES_KEY, before, after)
    return AuditRecord(
        NOW - timedelta(minutes=at_minutes_ago), "alice", "wbctl runbook queue-backlog --fix", "applied", (change,)
    )


scalings = st.one_of(
    st.none(),
    st.builds(
        lambda low, span, target: Autoscaling(low, low + span, target),
        st.integers(1, 10),
        st.integers(0, 20),
        st.sampled_from([50, 60, 70, 80]),
    ),
)


@given(
    scaling=scalings,
    nodes=st.integers(1, 30),
    cpu=st.lists(st.floats(0, 1), min_size=1, max_size=30),
    added=st.one_of(st.none(), st.integers(1, 40)),
    raised=st.one_of(st.none(), st.integers(0, 40)),
    drains_in=st.one_of(st.none(), st.integers(1, 120)),
)
def test_check_and_step_2_give_one_status_and_one_raise(
    scaling: Autoscaling | None,
    nodes: int,
    cpu: list[float],
    added: int | None,
    raised: int | None,
    drains_in: int | None,
) -> None:
    observation, cluster = _state(nodes, scaling)
    counts = flat(nodes, 41) if added is None else flat(max(1, nodes - 1), 41 - added) + flat(nodes, added)
    cpu_data, nodes_data = _signal("bigtable-cpu", cpu), _signal("bigtable-nodes", counts)
    changes = () if raised is None else (_raise(raised, max(1, nodes - 1), nodes + 5),)
    drains_by = None if drains_in is None else NOW + timedelta(minutes=drains_in)

    report = bigtable.check(
        observation, cpu_data, "30m", nodes=nodes_data, changes=changes, now=NOW, drains_by=drains_by
    )
    found = {finding.check: finding for finding in report.findings}
    evidence = BigtableEvidence(
        Observed(observation), cpu_data, SignalData.unknown("bigtable-cpu-hottest", "not read"), nodes_data
    )
    step = bigtable_step(evidence, NOW, True, "wbctl", drains_by, changes)

    statuses = {found["bigtable.cpu"].status}
    if scaling is None:  # step 2 also carries check's bigtable.autoscaling (a failure of its own)
        statuses.add(found["bigtable.autoscaling"].status)
    worst = next(s for s in (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.OK) if s in statuses)
    assert step.status is worst
    if scaling is not None:
        assert step.proposals == ((found["bigtable.cpu"].proposal,) if found["bigtable.cpu"].proposal else ())


def test_a_raise_wbctl_just_made_is_waited_for_not_called_a_stuck_autoscaler() -> None:
    """Two minutes after `--fix` raised the maximum 10 -> 20, CPU has been over target for 15
    minutes and no node was added yet: wait for the autoscaler, do not blame a quota."""
    observation, cluster = _state(10, Autoscaling(10, 20, 60))
    cpu_data, nodes_data = _signal("bigtable-cpu", flat(0.9, 15)), _signal("bigtable-nodes", flat(10, 15))
    evidence = BigtableEvidence(
        Observed(observation), cpu_data, SignalData.unknown("bigtable-cpu-hottest", "not read"), nodes_data
    )
    before = bigtable_step(evidence, NOW, True, "wbctl")
    assert before.status is Status.FAIL and "not acting (quota?)" in before.summary  # with no raise on record

    after = bigtable_step(evidence, NOW, True, "wbctl", changes=(_raise(2, 10, 20),))
    assert after.status is Status.WARN and after.proposals == ()
    assert "wbctl raised the maximum to 20 at 11:58 UTC" in after.summary
    assert after.next == "wait until 12:18 UTC, then run this again"  # the raise + 20 minutes
    # a minute later, the same wait: the next step does not flip between readings
    later = bigtable_step(evidence, NOW + timedelta(minutes=1), True, "wbctl", changes=(_raise(2, 10, 20),))
    assert later.next == after.next
    # another context's entry (or a lowered maximum) is not a raise of this cluster
    lowered = AuditRecord(
        NOW, "bob", "wbctl bigtable autoscale", "applied", (Change(TARGET, bigtable.MAX_NODES_KEY, 20, 10),)
    )
    assert bigtable.raised_max_at([lowered], TARGET) is None


def test_check_and_step_1_give_one_backlog_status() -> None:
    for judgement in (NONE, STEADY, DRAINING, DRAINING_LOSS, GROWING, STALLED, UNKNOWN):
        backlog = {f.check: f for f in queue.check(judgement, "q", "wbctl runbook queue-backlog").findings}
        first = diagnose(runbook_evidence(judgement)).steps[0]
        assert backlog["queue.backlog"].status is first.status, judgement.verdict
    assert queue.backlog_status(DRAINING_LOSS) is Status.FAIL  # drains, but too slowly: data is lost
