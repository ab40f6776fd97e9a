"""`wbctl runbook queue-backlog` as a diagnosis: the four steps, their proposals, `--fix`,
the exit status and the headline, from hand-built evidence (the SPEC of the issue)."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from tests.support.points import NOW, flat, minutes, ramp
from wbctl.core import bigtable, queue, scaling
from wbctl.core.bigtable import Autoscaling, BigtableObservation, ClusterState
from wbctl.core.discard import DiscardRequest
from wbctl.core.kube import (
    Autoscaler,
    Condition,
    Container,
    EnvVar,
    KubeObservation,
    Pod,
    WandbResource,
    Workload,
)
from wbctl.core.model import AuditRecord, Observed, Status
from wbctl.core.queue import Judgement, Policy, QueueReadings, Reading, Verdict
from wbctl.core.queue_source import QueueAddress
from wbctl.core.redis_settings import DiscardState
from wbctl.core.runbook import (
    BigtableEvidence,
    Diagnosis,
    Evidence,
    RunLoad,
    Step,
    diagnose,
)
from wbctl.core.series import Series, SignalData

WINDOW = 1800
INVOCATION = "wbctl --context prod"
KUBECTL = "kubectl --context gke-prod -n wandb"
UPDATER = "wandb-flat-run-fields-updater"
CLUSTER = "wandb-c1"
PUBSUB = QueueAddress(
    "pubsub",
    "deployment/wandb-flat-run-fields-updater env X",
    project="p",
    topic="wandb-run-updates-shadow",
    subscription="wandb-flat-run-fields-updater",
)


def kafka(partitions: int | None) -> QueueAddress:
    return QueueAddress(
        "kafka",
        "deployment/wandb-flat-run-fields-updater env X",
        topic="run-updates",
        broker="bufstream:9092",
        group="flat-run-fields-updater",
        partitions=partitions,
    )


# --- the queue's judgement ------------------------------------------------------------


def judged(
    backlog,
    age,
    published,
    consumed,
    *,
    source: str = "pubsub",
    policy: Policy | None = None,
    partitions: dict[str, float] | None = None,
) -> Judgement:
    def reading(name: str, values) -> Reading:
        return values if isinstance(values, Reading) else Reading(name, minutes(values))

    raw = QueueReadings(
        source,
        reading("backlog", backlog),
        reading("oldest_age", age),
        reading("published", published),
        reading("consumed", consumed),
        partitions=partitions,
    )
    return queue.judge(raw, window=WINDOW, now=NOW, policy=policy or Policy())


NONE = judged(flat(0), flat(0), flat(50), flat(50))
NONE_LOSS = judged(flat(500), flat(100), flat(0), flat(0), policy=Policy(allowed_backlog=1000))  # nothing consumed
GROWING = judged(ramp(0, 1000), ramp(30, 30), flat(500), flat(300))
STEADY = judged(flat(5000), flat(60), flat(200), flat(200))
DRAINING = judged(ramp(30000, -1000), ramp(900, -30), flat(100), flat(300))
DRAINING_LOSS = judged(ramp(100_000, -1000), flat(3000), flat(100), flat(100), policy=Policy(retention=3600))
STALLED = judged(ramp(0, 500), ramp(60, 60), flat(100), flat(0.5))
UNKNOWN = judged(Reading("backlog", reason="permission denied"), flat(10), flat(5), flat(5))
KAFKA_GROWING = judged(ramp(1000, 60), Reading("oldest_age"), Reading("published"), flat(10), source="kafka")
HOT_PARTITION = judged(
    ramp(1000, 60),
    Reading("oldest_age"),
    Reading("published"),
    flat(10),
    source="kafka",
    partitions={"0": 1900.0, "1": 150.0, "2": 150.0},
)


def test_the_judgements_are_what_their_names_say() -> None:
    for judgement, verdict in (
        (NONE, Verdict.NONE),
        (NONE_LOSS, Verdict.NONE),
        (GROWING, Verdict.GROWING),
        (STEADY, Verdict.STEADY),
        (DRAINING, Verdict.DRAINING),
        (DRAINING_LOSS, Verdict.DRAINING),
        (STALLED, Verdict.STALLED),
        (UNKNOWN, Verdict.UNKNOWN),
        (KAFKA_GROWING, Verdict.GROWING),
        (HOT_PARTITION, Verdict.GROWING),
    ):
        assert judgement.verdict is verdict, judgement.reason
    assert NONE_LOSS.loss is not None and NONE_LOSS.loss.projected
    assert DRAINING_LOSS.loss is not None and DRAINING_LOSS.loss.projected
    assert DRAINING.loss is not None and not DRAINING.loss.projected


# --- Bigtable -------------------------------------------------------------------------


def bt(
    *,
    nodes: int = 3,
    autoscaling: Autoscaling | None = Autoscaling(3, 10, 70),  # noqa: B008 - frozen, so one shared default is safe
    cpu: list[float] | None = None,
    node_counts: list[float] | None = None,
    admin: bool = True,
) -> BigtableEvidence:
    cluster = ClusterState(CLUSTER, "us-central1-a", "SSD", "READY", nodes, autoscaling)
    observation = BigtableObservation("p", "wandb", "wandb", "READY", (cluster,))
    labels = {"cluster": CLUSTER}
    cpu_values = flat(0.4) if cpu is None else cpu
    counts = flat(nodes) if node_counts is None else node_counts
    return BigtableEvidence(
        admin=Observed(observation) if admin else Observed.unknown("PermissionDenied: bigtable.instances.get"),
        cpu=SignalData("bigtable-cpu", (Series(labels, minutes(cpu_values)),))
        if cpu_values
        else SignalData.unknown("bigtable-cpu", "no data for the CPU query"),
        hottest=SignalData.unknown("bigtable-cpu-hottest", "not read"),
        nodes=SignalData("bigtable-nodes", (Series(labels, minutes(counts)),)),
    )


OVER = flat(0.9)
BT_UNDER = bt()
BT_AT_MAX = bt(nodes=10, autoscaling=Autoscaling(3, 10, 60), cpu=OVER)


# --- the updater on Kubernetes --------------------------------------------------------

LABELS = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "flat-run-fields-updater"}


def updater_pods(count: int, **fields) -> list[Pod]:
    base = {"phase": "Running", "ready": True, "restarts": 0}
    base.update(fields)
    return [
        Pod(
            f"{UPDATER}-7d9-{i}",
            dict(LABELS),
            f"n{i}",
            base["phase"],
            base["ready"],
            base["restarts"],
            NOW,
            False,
            waiting=base.get("waiting", ()),
            last_terminated=base.get("last_terminated", ()),
            unschedulable=base.get("unschedulable", ""),
        )
        for i in range(count)
    ]


def hpa(low: int, high: int, current: int, *, limited: bool = False) -> Autoscaler:
    conditions = (
        (Condition("ScalingLimited", "True", "TooManyReplicas", "the desired replica count is more than the maximum"),)
        if limited
        else (Condition("ScalingLimited", "False", "DesiredWithinRange", ""),)
    )
    return Autoscaler(
        "HorizontalPodAutoscaler",
        UPDATER,
        UPDATER,
        low,
        high,
        current,
        current,
        80,
        conditions=conditions,
        resource_version="9",
    )


def kube(
    ready: int = 3, *, autoscaler: Autoscaler | None = None, desired: int | None = None, extra: list[Pod] | None = None
) -> Observed[KubeObservation]:
    replicas = desired if desired is not None else ready + len(extra or [])
    workload = Workload(
        "Deployment",
        UPDATER,
        dict(LABELS),
        dict(LABELS),
        replicas,
        ready,
        (Container("flat-run-fields-updater", "wandb/local:0.70.0", {"cpu": "1"}, {"memory": "2Gi"}),),
        resource_version="7",
    )
    observation = KubeObservation(
        "https://k8s",
        "wandb",
        "wandb",
        workloads=[workload],
        pods=updater_pods(ready) + (extra or []),
        autoscalers=[autoscaler] if autoscaler else [],
    )
    return Observed(observation)


ROOM = kube(3, autoscaler=hpa(3, 10, 3))
AT_MAX = kube(10, autoscaler=hpa(3, 10, 10, limited=True))


def evidence(
    judgement: Judgement,
    *,
    address: QueueAddress = PUBSUB,
    bigtable_evidence: BigtableEvidence = BT_UNDER,
    kube_observed: Observed[KubeObservation] = ROOM,
    discard: DiscardState | None = None,
    loads: Observed[list[RunLoad]] | None = None,
) -> Evidence:
    return Evidence(
        now=NOW,
        address=address,
        judgement=judgement,
        bigtable=bigtable_evidence,
        kube=kube_observed,
        discard=Observed(discard or DiscardState(None, None)),
        loads=loads,
        changes=Observed([AuditRecord(NOW - timedelta(minutes=5), "alice", "wbctl redis tune", "applied")]),
        invocation=INVOCATION,
        kubectl=KUBECTL,
    )


def step(diagnosis: Diagnosis, number: int) -> Step:
    found = diagnosis.steps[number - 1]
    assert found.number == number
    return found


def argvs(found: Step) -> list[tuple[str, ...]]:
    return [proposal.argv() for proposal in found.proposals]


def loads(*rates: tuple[str, float]) -> Observed[list[RunLoad]]:
    return Observed([RunLoad(run, rate) for run, rate in rates])


DOMINANT = loads(("run-a", 80), ("run-b", 10), ("run-c", 5), ("run-d", 3), ("run-e", 1), ("run-f", 0.5), ("run-g", 0.5))


# --- the whole ------------------------------------------------------------------------


def test_four_steps_in_order() -> None:
    diagnosis = diagnose(evidence(GROWING))
    assert [(s.number, s.name) for s in diagnosis.steps] == [
        (1, "backlog"),
        (2, "bigtable"),
        (3, "flat-run-fields-updater"),
        (4, "noisy run"),
    ]
    for found in diagnosis.steps:
        assert found.status in tuple(Status)
        assert found.summary
    assert any("wandb-flat-run-fields-updater" in line for line in step(diagnosis, 1).evidence)
    assert diagnosis.changes and diagnosis.changes[0].user == "alice"


@pytest.mark.parametrize(
    ("judgement", "status"),
    [
        pytest.param(NONE, Status.OK, id="none"),
        pytest.param(STEADY, Status.WARN, id="steady"),
        pytest.param(DRAINING, Status.WARN, id="draining"),
        pytest.param(DRAINING_LOSS, Status.FAIL, id="draining-with-projected-loss"),
        pytest.param(GROWING, Status.FAIL, id="growing"),
        pytest.param(STALLED, Status.FAIL, id="stalled"),
        pytest.param(UNKNOWN, Status.UNKNOWN, id="unknown"),
    ],
)
def test_step_1_backlog(judgement: Judgement, status: Status) -> None:
    first = step(diagnose(evidence(judgement)), 1)
    assert first.status is status
    assert first.summary.startswith(judgement.verdict.value)


@pytest.mark.parametrize(
    ("judgement", "exit_status"),
    [
        pytest.param(NONE, 0, id="none"),
        pytest.param(NONE_LOSS, 1, id="none-with-projected-loss"),
        pytest.param(GROWING, 1, id="growing"),
        pytest.param(STEADY, 1, id="steady"),
        pytest.param(DRAINING, 1, id="draining"),
        pytest.param(STALLED, 1, id="stalled"),
        pytest.param(UNKNOWN, 3, id="unknown"),
    ],
)
def test_exit_status(judgement: Judgement, exit_status: int) -> None:
    assert diagnose(evidence(judgement)).exit_status == exit_status


def test_verdict_none_proposes_nothing_even_where_everything_else_would() -> None:
    diagnosis = diagnose(
        evidence(NONE, bigtable_evidence=bt(autoscaling=None, cpu=OVER), kube_observed=AT_MAX, loads=DOMINANT)
    )
    for number in (2, 3, 4):
        assert step(diagnosis, number).proposals == ()
    assert diagnosis.fixes == ()
    assert diagnosis.exit_status == 0
    assert "next:" not in diagnosis.headline


# --- step 2: Bigtable -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("bigtable_evidence", "status", "argv", "summary"),
    [
        pytest.param(
            bt(autoscaling=None, cpu=flat(0.5)),
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "3", "--max", "10", "--cluster", CLUSTER),
            "autoscaling is off",
            id="autoscaling-off",
        ),
        pytest.param(
            bt(nodes=1, autoscaling=None, cpu=flat(0.5)),
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "3", "--max", "10", "--cluster", CLUSTER),
            "autoscaling is off",
            id="autoscaling-off-one-node",
        ),
        pytest.param(
            BT_AT_MAX,
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "10", "--max", "20", "--cpu-target", "60", "--cluster", CLUSTER),
            "maximum",
            id="over-target-at-max",
        ),
        pytest.param(
            bt(nodes=5, autoscaling=Autoscaling(1, 5, 70), cpu=OVER),
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "5", "--max", "10", "--cpu-target", "70", "--cluster", CLUSTER),
            "maximum",
            id="over-target-at-max-min-1",
        ),
        pytest.param(
            bt(nodes=2, autoscaling=Autoscaling(1, 2, 70), cpu=OVER),
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "3", "--max", "10", "--cpu-target", "70", "--cluster", CLUSTER),
            "maximum",
            id="over-target-at-a-tiny-max",
        ),
        pytest.param(
            bt(nodes=40, autoscaling=Autoscaling(20, 40, 70), cpu=OVER),
            Status.FAIL,
            ("bigtable", "autoscale", "--min", "40", "--max", "80", "--cpu-target", "70", "--cluster", CLUSTER),
            "maximum",
            id="over-target-at-a-large-max",
        ),
        pytest.param(
            bt(nodes=4, cpu=OVER, node_counts=flat(3, 17) + flat(4, 4)),
            Status.WARN,
            None,
            "scaling under way",
            id="over-target-node-added-3-minutes-ago",
        ),
        pytest.param(
            bt(nodes=4, cpu=OVER, node_counts=flat(3, 6) + flat(4, 15)),
            Status.WARN,
            None,
            "scaling under way",
            id="over-target-node-added-14-minutes-ago",
        ),
        pytest.param(bt(nodes=3, cpu=OVER), Status.FAIL, None, "not acting (quota?)", id="over-target-not-acting"),
        pytest.param(
            bt(nodes=4, cpu=OVER + flat(0.9, 20), node_counts=flat(3, 10) + flat(4, 31)),
            Status.FAIL,
            None,
            "not acting (quota?)",
            id="over-target-last-node-added-30-minutes-ago",
        ),
        pytest.param(BT_UNDER, Status.OK, None, "under", id="under-target"),
        pytest.param(bt(admin=False), Status.UNKNOWN, None, "PermissionDenied", id="admin-unknown"),
        pytest.param(bt(cpu=[]), Status.UNKNOWN, None, "CPU unknown", id="cpu-unknown"),
    ],
)
def test_step_2_bigtable(bigtable_evidence: BigtableEvidence, status: Status, argv: tuple | None, summary: str) -> None:
    second = step(diagnose(evidence(GROWING, bigtable_evidence=bigtable_evidence)), 2)
    assert second.status is status, second.summary
    assert summary in second.summary
    if argv is None:
        assert second.proposals == ()
    else:
        assert argvs(second) == [argv]
        assert all(isinstance(p, bigtable.AutoscaleRequest) for p in second.proposals)
        assert second.next == f"{INVOCATION} " + " ".join(argv)


def test_step_2_raised_limits_follow_the_spec_formula() -> None:
    for low, high, nodes in ((1, 1, 1), (3, 10, 10), (1, 5, 5), (2, 30, 30), (5, 6, 6), (3, 10, 4)):
        cluster = ClusterState(CLUSTER, "z", "SSD", "READY", nodes, Autoscaling(low, high, 70))
        request = bigtable.raised_limits(cluster)
        new_min = max(low, 3, nodes)
        assert (request.min_nodes, request.max_nodes) == (new_min, min(10 * new_min, max(2 * high, 10)))
        request.validate()  # what --fix applies passes the same validation as the typed command


def test_step_2_scaling_under_way_waits_20_minutes_from_the_change() -> None:
    second = step(
        diagnose(evidence(GROWING, bigtable_evidence=bt(nodes=4, cpu=OVER, node_counts=flat(3, 16) + flat(4, 5)))), 2
    )
    assert second.status is Status.WARN and second.proposals == ()
    assert "11:56" in " ".join(second.evidence)  # the node was added at 11:56
    assert "12:16" in second.next  # wait until the change + 20 minutes


def test_step_2_is_never_fixable_on_a_stall() -> None:
    diagnosis = diagnose(evidence(STALLED, bigtable_evidence=bt(autoscaling=None, cpu=OVER)))
    assert step(diagnosis, 2).status is Status.FAIL
    assert step(diagnosis, 2).proposals == ()


# --- step 3: the flat-run-fields-updater ----------------------------------------------

UPDATER_ARGV = ("services", "autoscale", UPDATER)


@pytest.mark.parametrize(
    ("judgement", "kube_observed", "address", "bigtable_evidence", "status", "argv", "summary"),
    [
        pytest.param(
            GROWING,
            Observed.unknown("Forbidden: deployments"),
            PUBSUB,
            BT_UNDER,
            Status.UNKNOWN,
            None,
            "Forbidden",
            id="kube-unknown",
        ),
        pytest.param(
            GROWING,
            kube(3, autoscaler=hpa(2, 10, 10, limited=True)),
            PUBSUB,
            BT_UNDER,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "3", "--max", "20"),
            "maximum",
            id="at-max-spec-example",
        ),
        pytest.param(
            GROWING,
            AT_MAX,
            PUBSUB,
            BT_UNDER,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "10", "--max", "20"),
            "maximum",
            id="at-max-all-ready",
        ),
        pytest.param(
            GROWING,
            kube(4, autoscaler=hpa(3, 10, 4, limited=True)),
            PUBSUB,
            BT_UNDER,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "4", "--max", "20"),
            "maximum",
            id="at-max-by-the-hpa-condition",
        ),
        pytest.param(
            STEADY,
            kube(5, autoscaler=hpa(4, 5, 5, limited=True)),
            PUBSUB,
            BT_UNDER,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "5", "--max", "10"),
            "maximum",
            id="at-max-steady",
        ),
        pytest.param(GROWING, ROOM, PUBSUB, BT_UNDER, Status.OK, None, "room", id="autoscaler-has-room"),
        pytest.param(
            GROWING,
            AT_MAX,
            kafka(12),
            BT_UNDER,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "10", "--max", "12"),
            "maximum",
            id="kafka-max-capped-at-partitions",
        ),
        pytest.param(
            GROWING,
            kube(6, autoscaler=hpa(3, 6, 6, limited=True)),
            kafka(6),
            BT_UNDER,
            Status.WARN,
            None,
            "partitions",
            id="kafka-ready-equals-partitions",
        ),
        pytest.param(
            GROWING,
            kube(8, autoscaler=hpa(3, 8, 8, limited=True)),
            kafka(6),
            BT_UNDER,
            Status.WARN,
            None,
            "partitions",
            id="kafka-ready-over-partitions",
        ),
        pytest.param(
            HOT_PARTITION, AT_MAX, kafka(12), BT_UNDER, Status.WARN, None, "hot partition", id="kafka-hot-partition"
        ),
        pytest.param(
            GROWING,
            AT_MAX,
            PUBSUB,
            bt(nodes=4, cpu=OVER, node_counts=flat(3, 17) + flat(4, 4)),
            Status.WARN,
            None,
            "Bigtable first",
            id="bigtable-over-target-and-not-raised",
        ),
        pytest.param(
            GROWING, AT_MAX, PUBSUB, bt(cpu=[]), Status.WARN, None, "Bigtable first", id="bigtable-cpu-unknown"
        ),
        pytest.param(
            GROWING,
            AT_MAX,
            PUBSUB,
            BT_AT_MAX,
            Status.FAIL,
            (*UPDATER_ARGV, "--min", "10", "--max", "20"),
            "maximum",
            id="bigtable-raised-in-the-same-diagnosis",
        ),
        pytest.param(NONE, AT_MAX, PUBSUB, BT_UNDER, Status.OK, None, "", id="verdict-none"),
        pytest.param(DRAINING, AT_MAX, PUBSUB, BT_UNDER, Status.OK, None, "", id="draining-without-loss"),
    ],
)
def test_step_3_updater(
    judgement: Judgement,
    kube_observed: Observed,
    address: QueueAddress,
    bigtable_evidence: BigtableEvidence,
    status: Status,
    argv: tuple | None,
    summary: str,
) -> None:
    diagnosis = diagnose(
        evidence(judgement, kube_observed=kube_observed, address=address, bigtable_evidence=bigtable_evidence)
    )
    third = step(diagnosis, 3)
    assert third.status is status, third.summary
    assert summary in third.summary
    if argv is None:
        assert third.proposals == ()
    else:
        assert argvs(third) == [argv]
        assert all(isinstance(p, scaling.AutoscaleRequest) for p in third.proposals)
        assert third.next == f"{INVOCATION} " + " ".join(argv)


@pytest.mark.parametrize(
    ("address", "ready", "max_cap"),
    [
        pytest.param(PUBSUB, 2, None, id="pubsub"),
        pytest.param(PUBSUB, 6, None, id="pubsub-more-ready"),
        pytest.param(kafka(4), 2, 4, id="kafka-capped"),
    ],
)
def test_step_3_without_an_autoscaler_proposes_one(address: QueueAddress, ready: int, max_cap: int | None) -> None:
    third = step(diagnose(evidence(GROWING, address=address, kube_observed=kube(ready))), 3)
    assert third.status is Status.FAIL
    [argv] = argvs(third)
    assert argv[:3] == UPDATER_ARGV and argv[3] == "--min" and argv[5] == "--max"
    low, high = int(argv[4]), int(argv[6])
    if max_cap is None:
        assert low >= max(3, ready) and high > low
    else:
        assert low <= high <= max_cap
    assert third.next.startswith(f"{INVOCATION} services autoscale {UPDATER}")


def test_step_3_stalled_points_at_the_logs() -> None:
    third = step(diagnose(evidence(STALLED, kube_observed=AT_MAX)), 3)
    assert third.status is Status.FAIL
    assert third.proposals == ()
    assert third.next.startswith(f"{KUBECTL} logs")
    assert UPDATER in third.next


@pytest.mark.parametrize(
    "problem",
    [
        pytest.param(updater_pods(1, waiting=("CrashLoopBackOff",), restarts=12, ready=False), id="crashloop"),
        pytest.param(updater_pods(1, last_terminated=("OOMKilled",), restarts=3), id="oomkilled"),
        pytest.param(
            updater_pods(1, phase="Pending", ready=False, unschedulable="0/3 nodes: Insufficient cpu"), id="pending"
        ),
    ],
)
def test_step_3_unhealthy_pods_come_before_any_scaling(problem: list[Pod]) -> None:
    observed = kube(
        10,
        autoscaler=hpa(3, 10, 10, limited=True),
        extra=[
            Pod(
                f"{UPDATER}-bad-{i}",
                dict(LABELS),
                "n9",
                p.phase,
                p.ready,
                p.restarts,
                NOW,
                False,
                waiting=p.waiting,
                last_terminated=p.last_terminated,
                unschedulable=p.unschedulable,
            )
            for i, p in enumerate(problem)
        ],
    )
    third = step(diagnose(evidence(GROWING, kube_observed=observed)), 3)
    assert third.status is Status.FAIL
    assert third.proposals == ()
    assert f"{UPDATER}-bad-0" in third.next and third.next.startswith(KUBECTL)


def test_step_3_not_deployed() -> None:
    observed = Observed(KubeObservation("https://k8s", "wandb", "wandb"))
    third = step(diagnose(evidence(GROWING, kube_observed=observed)), 3)
    assert third.status is Status.FAIL and third.proposals == ()


# --- step 4: one noisy run ------------------------------------------------------------


def test_step_4_without_a_noisy_run_query_never_guesses() -> None:
    fourth = step(diagnose(evidence(GROWING, loads=None)), 4)
    assert fourth.next == f"{INVOCATION} runbook show noisy-run"
    assert fourth.proposals == ()
    assert "run discard" not in fourth.next


@pytest.mark.parametrize(
    ("observed", "status", "argv"),
    [
        pytest.param(DOMINANT, Status.FAIL, ("run", "discard", "run-a", "--ttl", "2h"), id="dominant"),
        pytest.param(loads(("solo", 12.5)), Status.FAIL, ("run", "discard", "solo", "--ttl", "2h"), id="only-run"),
        pytest.param(
            loads(("run-a", 50), ("run-b", 16), ("run-c", 34)),
            Status.FAIL,
            ("run", "discard", "run-a", "--ttl", "2h"),
            id="exactly-half-and-3x",
        ),  # 50 % and 3.1x
        pytest.param(loads(("run-a", 60), ("run-b", 30), ("run-c", 10)), None, None, id="half-but-only-2x"),
        pytest.param(
            loads(("run-a", 40), ("run-b", 5), ("run-c", 5), *((f"r{i}", 5) for i in range(10))),
            None,
            None,
            id="8x-but-under-half",
        ),
        pytest.param(loads(("run-a", 34), ("run-b", 33), ("run-c", 33)), None, None, id="even"),
    ],
)
def test_step_4_noisy_run(observed: Observed, status: Status | None, argv: tuple | None) -> None:
    fourth = step(diagnose(evidence(GROWING, loads=observed)), 4)
    run_lines = [line for line in fourth.evidence if line.startswith("run ")]
    assert 1 <= len(run_lines) <= 5
    assert all("%" in line for line in run_lines)
    if argv is None:
        assert fourth.proposals == ()
        assert fourth.status is not Status.FAIL
    else:
        assert fourth.status is status
        assert argvs(fourth) == [argv]
        assert all(isinstance(p, DiscardRequest) for p in fourth.proposals)
        assert fourth.next == f"{INVOCATION} " + " ".join(argv)


def test_step_4_shows_the_top_5_with_shares() -> None:
    fourth = step(diagnose(evidence(GROWING, loads=DOMINANT)), 4)
    run_lines = [line for line in fourth.evidence if line.startswith("run ")]
    assert [line.split(":")[0] for line in run_lines] == [f"run run-{x}" for x in "abcde"]
    assert "80%" in run_lines[0] and "10%" in run_lines[1]


def test_step_4_shows_a_discard_in_place_with_its_remaining_time() -> None:
    fourth = step(diagnose(evidence(GROWING, loads=DOMINANT, discard=DiscardState("run-z", 3600))), 4)
    line = next(line for line in fourth.evidence if "run-z" in line)
    assert "1h" in line and f"{INVOCATION} run restore run-z" in line
    [argv] = argvs(fourth)
    assert argv[:5] == ("run", "discard", "run-a", "--ttl", "2h")


def test_step_4_the_dominant_run_already_discarded() -> None:
    fourth = step(diagnose(evidence(GROWING, loads=DOMINANT, discard=DiscardState("run-a", 5400))), 4)
    assert fourth.proposals == ()
    assert "run-a" in " ".join(fourth.evidence) and "1h 30m" in " ".join(fourth.evidence)


def test_step_4_loads_unknown() -> None:
    fourth = step(diagnose(evidence(GROWING, loads=Observed.unknown("the noisy-run query failed: 400"))), 4)
    assert fourth.status is Status.UNKNOWN and fourth.proposals == ()


# --- --fix ----------------------------------------------------------------------------

EVERYTHING = {"bigtable_evidence": BT_AT_MAX, "kube_observed": AT_MAX, "loads": DOMINANT}


@pytest.mark.parametrize(
    ("judgement", "fixes"),
    [
        pytest.param(GROWING, 2, id="growing"),
        pytest.param(STEADY, 2, id="steady"),
        pytest.param(DRAINING_LOSS, 2, id="draining-with-projected-loss"),
        pytest.param(DRAINING, 0, id="draining"),
        pytest.param(STALLED, 0, id="stalled"),
        pytest.param(NONE, 0, id="none"),
        pytest.param(NONE_LOSS, 0, id="none-with-projected-loss"),
        pytest.param(UNKNOWN, 0, id="unknown"),
    ],
)
def test_fixes(judgement: Judgement, fixes: int) -> None:
    diagnosis = diagnose(evidence(judgement, **EVERYTHING))
    assert len(diagnosis.fixes) == fixes
    assert not any(isinstance(p, DiscardRequest) for p in diagnosis.fixes)
    step_proposals = [p for s in diagnosis.steps if s.number in (2, 3) for p in s.proposals]
    assert all(p in step_proposals for p in diagnosis.fixes)


def test_fixes_are_the_bigtable_and_updater_proposals_never_the_discard() -> None:
    diagnosis = diagnose(evidence(GROWING, **EVERYTHING))
    assert [p.argv() for p in diagnosis.fixes] == [
        ("bigtable", "autoscale", "--min", "10", "--max", "20", "--cpu-target", "60", "--cluster", CLUSTER),
        (*UPDATER_ARGV, "--min", "10", "--max", "20"),
    ]
    assert argvs(step(diagnosis, 4)) == [("run", "discard", "run-a", "--ttl", "2h")]  # proposed, never applied


def test_a_stall_proposes_no_capacity() -> None:
    diagnosis = diagnose(evidence(STALLED, **EVERYTHING))
    assert step(diagnosis, 2).proposals == () and step(diagnosis, 3).proposals == ()


# --- the headline ---------------------------------------------------------------------


def test_headline_growing() -> None:
    diagnosis = diagnose(evidence(GROWING, **EVERYTHING))
    first = diagnosis.headline
    assert "\n" not in first
    assert "GROWING" in first.upper()
    assert "+1,000 msg/min" in first
    assert "oldest 10m 30s" in first
    assert "DATA LOSS" not in first
    assert f"next: {INVOCATION} bigtable autoscale --min 10 --max 20" in first
    assert diagnosis.next.startswith(INVOCATION)


def test_headline_projected_loss() -> None:
    diagnosis = diagnose(evidence(DRAINING_LOSS, **EVERYTHING))
    assert diagnosis.headline.startswith("DATA LOSS in ~10m")  # 3600 s retention - 3000 s oldest
    assert "DRAINING" in diagnosis.headline.upper()
    assert "oldest 50m" in diagnosis.headline
    assert f"next: {INVOCATION} " in diagnosis.headline


def test_headline_next_without_a_proposal_is_the_first_step_to_act_on() -> None:
    diagnosis = diagnose(evidence(GROWING, loads=None))
    assert diagnosis.headline.endswith(f"next: {INVOCATION} runbook show noisy-run")


def test_headline_none() -> None:
    diagnosis = diagnose(evidence(NONE))
    assert "NONE" in diagnosis.headline.upper()
    assert "DATA LOSS" not in diagnosis.headline and diagnosis.next == ""


def test_headline_unknown_says_why() -> None:
    diagnosis = diagnose(evidence(UNKNOWN))
    assert "UNKNOWN" in diagnosis.headline.upper()
    assert "permission denied" in diagnosis.headline


# --- after a fix: wait, do not chase it -------------------------------------------------

WARMING = bt(nodes=10, autoscaling=Autoscaling(3, 10, 70), cpu=OVER, node_counts=flat(3, 12) + flat(10, 9))


@pytest.mark.parametrize("judgement", [GROWING, STEADY], ids=["growing", "steady"])
def test_at_its_maximum_while_new_nodes_warm_up_every_step_waits_and_none_raises(judgement: Judgement) -> None:
    # nodes 3 -> 10 at 11:52: the new maximum reached, its nodes help only from 12:12
    diagnosis = diagnose(evidence(judgement, bigtable_evidence=WARMING, kube_observed=AT_MAX, loads=DOMINANT))
    second, third = step(diagnosis, 2), step(diagnosis, 3)
    assert second.status is Status.WARN and second.proposals == (), second.summary
    assert "warm up" in second.summary and "12:12" in second.next
    assert third.proposals == () and "12:12" in third.next, third.summary
    assert diagnosis.fixes == ()
    assert diagnosis.next == "wait until 12:12 UTC, then run this again"  # not the discard, not a raise
    assert "next: wait until 12:12 UTC" in diagnosis.headline


def test_while_the_backlog_drains_in_time_the_steps_wait_until_it_is_empty() -> None:
    # 20,000 left, falling 1,000 a minute: empty at 12:10, long before any retention
    diagnosis = diagnose(evidence(DRAINING, bigtable_evidence=BT_AT_MAX, kube_observed=AT_MAX, loads=DOMINANT))
    for number in (2, 3):
        found = step(diagnosis, number)
        assert found.proposals == () and "12:10" in found.summary, found.summary
        assert "raise" not in found.next
    assert "12:10" in diagnosis.next and diagnosis.fixes == ()


def test_step_4_names_the_durable_fix_beside_the_discard_where_it_acts() -> None:
    off = kube(3, autoscaler=hpa(3, 10, 3))
    assert off.value is not None
    off.value.workloads[0] = replace(
        off.value.workloads[0],
        containers=(Container("updater", "wandb/local:0.70.0", {}, {}, (EnvVar("GORILLA_LIMITER", "noop://"),)),),
    )
    off.value.cr = WandbResource("wandb", "0.43.8", {}, "Completed", "1")
    acting = step(diagnose(evidence(GROWING, loads=DOMINANT, kube_observed=off)), 4)
    assert acting.status is Status.FAIL
    assert any("patch weightsandbiases wandb --type merge" in line for line in acting.evidence)
    quiet = step(diagnose(evidence(GROWING, loads=loads(("run-a", 10), ("run-b", 10)), kube_observed=off)), 4)
    assert quiet.status is Status.OK and not any("rate-limit" in line for line in quiet.evidence)


def test_step_3_and_the_health_check_say_the_same_of_an_oom_killed_updater() -> None:
    """One piece serves both: the runbook's evidence lines are the health finding's problems."""
    from wbctl.core import services

    bad = updater_pods(1, last_terminated=("OOMKilled",), restarts=3)[0]
    observed = kube(3, autoscaler=hpa(3, 10, 3), extra=[replace(bad, name=f"{UPDATER}-oom")])
    third = step(diagnose(evidence(GROWING, kube_observed=observed)), 3)
    assert observed.value is not None
    finding = next(
        f
        for f in services.check(observed.value, now=NOW, kubectl=KUBECTL).findings
        if f.check == f"services.{UPDATER}.health"
    )
    line = (
        f"{UPDATER}-oom: OOMKilled (3 restarts): raise its memory limit: "
        "values.flat-run-fields-updater.resources.limits.memory in the WeightsAndBiases resource"
    )
    assert line in third.evidence
    assert finding.status is Status.FAIL and finding.message.startswith(f"{UPDATER}-oom: OOMKilled (3 restarts)")
    assert finding.remedy.startswith(line.split(": ", 2)[2])
    assert third.next == f"{KUBECTL} describe pod {UPDATER}-oom; {KUBECTL} logs {UPDATER}-oom --previous"
