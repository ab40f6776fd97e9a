"""`wbctl check` as metrics: series per finding and status, the queue's numbers, Bigtable's and
the updater's, from judgements built the way the check builds them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.support.points import NOW, minutes, ramp
from wbctl.core import measurements, queue
from wbctl.core.bigtable import Autoscaling, BigtableObservation, ClusterState
from wbctl.core.measurements import FAMILIES, Sample, UpdaterReplicas, change_kind, change_samples
from wbctl.core.model import AuditRecord, Finding, Report, Status
from wbctl.core.queue import Policy, QueueReadings, Reading, Verdict
from wbctl.core.series import Series, SignalData

WEEK = 7 * 86400


def by_name(samples: list[Sample]) -> dict[str, list[Sample]]:
    grouped: dict[str, list[Sample]] = {}
    for sample in samples:
        grouped.setdefault(sample.name, []).append(sample)
    return grouped


def judged(
    backlog: list[float],
    age: list[float],
    published: list[float],
    consumed: list[float],
    retention: float | None = WEEK,
) -> queue.Judgement:
    readings = QueueReadings(
        "pubsub",
        Reading("backlog", minutes(backlog)),
        Reading("oldest_age", minutes(age)),
        Reading("published", minutes(published)),
        Reading("consumed", minutes(consumed)),
    )
    return queue.judge(readings, window=1800, now=NOW, policy=Policy(retention=retention))


def test_a_finding_is_four_series_one_of_them_set() -> None:
    report = Report(
        (Finding("bigtable.min-nodes", Status.FAIL, "t", 1, 3, "m"), Finding("bigtable.cpu", Status.OK, "t", 1, 3, "m"))
    )
    samples = measurements.finding_samples("bigtable", report)
    assert len(samples) == 8
    set_ = {(dict(s.labels)["check"], dict(s.labels)["status"]) for s in samples if s.value == 1}
    assert set_ == {("bigtable.min-nodes", "fail"), ("bigtable.cpu", "ok")}
    assert {dict(s.labels)["group"] for s in samples} == {"bigtable"}


def test_a_growing_queue_exports_its_numbers_and_no_drain_time() -> None:
    judgement = judged(ramp(1000, 1000, 31), ramp(60, 60, 31), [1000.0] * 31, [950.0] * 31)
    assert judgement.verdict is Verdict.GROWING
    found = by_name(measurements.queue_samples(judgement))
    assert [dict(s.labels)["verdict"] for s in found["wbctl_queue_verdict"] if s.value == 1] == ["growing"]
    assert len(found["wbctl_queue_verdict"]) == len(Verdict)
    assert found["wbctl_queue_backlog_messages"][0].value == 31_000
    assert found["wbctl_queue_backlog_trend_messages_per_second"][0].value == pytest.approx(1000 / 60)
    assert "wbctl_queue_drain_eta_seconds" not in found
    assert found["wbctl_queue_retention_headroom_seconds"][0].value == pytest.approx(WEEK - 1860 - 31_000 / 950)
    assert found["wbctl_queue_data_loss_projected"][0].value == 0


def test_a_draining_queue_has_a_drain_time() -> None:
    judgement = judged(ramp(60_000, -1000, 31), ramp(1800, -30, 31), [1000.0] * 31, [1016.0] * 31)
    assert judgement.verdict is Verdict.DRAINING
    found = by_name(measurements.queue_samples(judgement))
    assert found["wbctl_queue_drain_eta_seconds"][0].value == pytest.approx(judgement.drain_seconds)


def test_loss_is_projected_when_the_backlog_outlasts_the_retention() -> None:
    judgement = judged(ramp(1000, 1000, 31), ramp(3000, 60, 31), [1000.0] * 31, [1.0] * 31, retention=3600)
    found = by_name(measurements.queue_samples(judgement))
    assert found["wbctl_queue_data_loss_projected"][0].value == 1
    assert found["wbctl_queue_retention_headroom_seconds"][0].value < 0  # negative: messages will be dropped


@pytest.mark.parametrize(
    "retention, age, backlog, consume, expected",
    [
        (None, 10.0, 0.0, 1.0, None),  # no retention: unknown
        (WEEK, None, 0.0, 1.0, None),  # no age: unknown
        (WEEK, 10.0, 0.0, None, WEEK - 10),  # nothing waiting: the age is all that counts
        (WEEK, 10.0, 100.0, None, None),  # a backlog and no consumption read: unknown, not infinite
        (WEEK, 10.0, 100.0, 0.0, None),
        (WEEK, 10.0, 100.0, 10.0, WEEK - 20),
    ],
)
def test_headroom(retention, age, backlog, consume, expected) -> None:
    judgement = queue.Judgement(
        Verdict.STEADY,
        "",
        judged([0.0] * 5, [0.0] * 5, [0.0] * 5, [0.0] * 5).readings,
        backlog=backlog,
        oldest_age=age,
        consume_rate=consume,
        policy=Policy(retention=retention),
    )
    assert measurements.headroom(judgement) == expected


def test_an_unknown_queue_exports_its_verdict_only() -> None:
    readings = QueueReadings(
        "pubsub",
        Reading("backlog", reason="down"),
        Reading("oldest_age", reason="down"),
        Reading("published", reason="down"),
        Reading("consumed", reason="down"),
    )
    judgement = queue.judge(readings, window=1800, now=NOW, policy=Policy(retention=None))
    found = by_name(measurements.queue_samples(judgement))
    assert set(found) == {"wbctl_queue_verdict"}
    assert [dict(s.labels)["verdict"] for s in found["wbctl_queue_verdict"] if s.value == 1] == ["unknown"]


def test_bigtable_clusters_with_and_without_autoscaling() -> None:
    observation = BigtableObservation(
        "p",
        "i",
        "i",
        "READY",
        (
            ClusterState("c1", "us-east1-b", "SSD", "READY", 4, Autoscaling(3, 10, 60)),
            ClusterState("c2", "us-east1-c", "SSD", "READY", 5, None),
        ),
    )
    cpu = SignalData("bigtable-cpu", (Series({"cluster": "c1"}, minutes([0.5, 0.75])),))
    found = by_name(measurements.bigtable_samples(observation, cpu))
    value = {(name, dict(s.labels)["cluster"]): s.value for name, samples in found.items() for s in samples}
    assert value[("wbctl_bigtable_min_nodes", "c1")] == 3 and value[("wbctl_bigtable_max_nodes", "c1")] == 10
    assert value[("wbctl_bigtable_min_nodes", "c2")] == value[("wbctl_bigtable_max_nodes", "c2")] == 5
    assert (
        value[("wbctl_bigtable_cpu_target_ratio", "c1")] == 0.6
        and value[("wbctl_bigtable_cpu_target_ratio", "c2")] == 0.7
    )
    assert value[("wbctl_bigtable_cpu_ratio", "c1")] == 0.75 and ("wbctl_bigtable_cpu_ratio", "c2") not in value


def test_updater_without_autoscaling_is_at_its_own_ceiling() -> None:
    assert [s.value for s in measurements.updater_samples(UpdaterReplicas(3, None))] == [3, 3]
    assert [s.value for s in measurements.updater_samples(UpdaterReplicas(3, 12))] == [3, 12]


def test_run_samples_and_order() -> None:
    finished = datetime(2026, 11, 30, 12, tzinfo=UTC)
    samples = measurements.run_samples(finished, {"redis": 0.5})
    ordered = measurements.ordered([*measurements.updater_samples(UpdaterReplicas(1, 2)), *samples])
    assert [s.name for s in ordered] == [
        "wbctl_check_last_run_timestamp_seconds",
        "wbctl_check_duration_seconds",
        "wbctl_updater_replicas",
        "wbctl_updater_max_replicas",
    ]
    assert ordered[0].value == finished.timestamp()


def test_names_follow_prometheus_conventions() -> None:
    for name in FAMILIES:
        assert name.startswith("wbctl_") and name == name.lower()
        assert not name.endswith("_total")  # gauges only
        assert not any(unit in name for unit in ("_ms", "_minutes", "_percent", "_bytes_total"))
    with pytest.raises(ValueError):
        Sample.of("wbctl_no_such_metric", 1)


def test_each_queue_s_series_carry_its_name() -> None:
    judgement = judged(ramp(1000, 1000, 31), ramp(60, 60, 31), [1000.0] * 31, [950.0] * 31)
    run_updates = measurements.queue_samples(judgement)
    filestream = measurements.queue_samples(judgement, "filestream")
    assert {dict(s.labels)["queue"] for s in run_updates} == {"run-updates"}
    assert {dict(s.labels)["queue"] for s in filestream} == {"filestream"}
    # the same names and values, told apart by the label alone
    assert [(s.name, s.value) for s in run_updates] == [(s.name, s.value) for s in filestream]


# --- wbctl's own changes, for the dashboards' annotations ---------------------------------

GROUPS = ("bigtable", "services", "redis", "run", "mysql")


def _record(minutes: int, command: str, result: str = "applied") -> AuditRecord:
    from datetime import timedelta

    return AuditRecord(datetime(2026, 12, 3, 12, tzinfo=UTC) + timedelta(minutes=minutes), "sre", command, result)


def test_change_kind_is_the_group_and_verb_whatever_comes_before() -> None:
    assert change_kind("wbctl --context prod bigtable autoscale --min 3 --max 9", GROUPS) == "bigtable autoscale"
    assert change_kind("wbctl run discard k7w3x9qp --ttl 2h --yes", GROUPS) == "run discard"
    assert change_kind("wbctl redis --yes tune", GROUPS) == "redis tune"
    assert change_kind("wbctl sandbox reset", GROUPS) == "other"


@given(
    before=st.lists(st.sampled_from(["--context", "prod", "-v", "--sandbox", "--timeout=3"]), max_size=4),
    group=st.sampled_from(GROUPS),
    verb=st.from_regex(r"[a-z][a-z-]{0,12}", fullmatch=True),
    after=st.lists(st.text(min_size=1, max_size=8).filter(lambda t: not t.isspace()), max_size=3),
)
def test_change_kind_properties(before: list[str], group: str, verb: str, after: list[str]) -> None:
    """A group word is found past any options; the kind is always a few words, never a value."""
    words = ["wbctl", *[w for w in before if w not in GROUPS], group, verb, *after]
    kind = change_kind(" ".join(words), GROUPS)
    assert kind == f"{group} {verb}"


def test_change_samples_keep_the_newest_change_of_each_kind() -> None:
    records = [
        _record(0, "wbctl bigtable autoscale --max 6"),
        _record(30, "wbctl --context prod bigtable autoscale --max 9"),
        _record(40, "wbctl services autoscale wandb-filestream --min 2 --max 6", result="failed"),
        _record(50, "wbctl run discard k7w3x9qp --ttl 2h", result="partial"),
    ]
    samples = change_samples(records, GROUPS)
    assert [(dict(s.labels)["kind"], s.value) for s in samples] == [
        ("bigtable autoscale", records[1].time.timestamp()),
        ("run discard", records[3].time.timestamp()),
    ]
    assert all(s.name == "wbctl_audit_last_change_timestamp_seconds" for s in samples)
    assert change_samples([], GROUPS) == []
