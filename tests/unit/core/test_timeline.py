"""The timeline: each source's observations as changes, merged oldest first, filtered, rendered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st

from wbctl.core import timeline
from wbctl.core.model import AuditRecord, Change
from wbctl.core.redis_settings import DiscardState
from wbctl.core.timeline import KubeEvent, NodeCount, Revision, Sources

NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)
UPDATER = "wandb-flat-run-fields-updater"
IMAGE = "us-docker.pkg.dev/wandb-production/public/wandb/megabinary"


def ago(minutes: float) -> datetime:
    return NOW - timedelta(minutes=minutes)


def revisions() -> list[Revision]:
    return [
        Revision(f"{UPDATER}-bc", "rs-old", 1, ago(60 * 24 * 7), (f"{IMAGE}:0.70.0",), UPDATER),
        Revision(f"{UPDATER}-bc", "rs-new", 2, ago(37), (f"{IMAGE}:0.70.1",), UPDATER),
    ]


def rescale(minutes: float, name: str = UPDATER) -> KubeEvent:
    when = ago(minutes)
    return KubeEvent("HorizontalPodAutoscaler", name, "SuccessfulRescale", "New size: 5", "Normal", 1, when, when)


def discard_record(minutes: float) -> AuditRecord:
    change = Change("redis://sandbox:6379/0", "gorilla.DiscardV2UpdatesForRun", None, "k7w3x9qp")
    return AuditRecord(ago(minutes), "sre", "wbctl run discard k7w3x9qp --ttl 2h --yes", "applied", (change,))


def test_a_rollout_is_the_image_change_between_consecutive_revisions() -> None:
    rolled = timeline.from_revisions(revisions())[-1]
    assert (rolled.what, rolled.before, rolled.after) == (
        "rolled out 0.70.1 (revision 2, from 0.70.0)",
        f"{IMAGE}:0.70.0",
        f"{IMAGE}:0.70.1",
    )


def test_every_source_is_merged_oldest_first_within_the_window() -> None:
    sources = Sources(
        now=NOW,
        audit=[discard_record(5)],
        revisions=revisions(),
        events=[rescale(30)],
        nodes=[NodeCount("c1", ((ago(20), 2.0), (ago(19), 3.0)))],
        rise_began=ago(25),
    )
    listed = timeline.timeline(sources, since=ago(120))
    assert [h.source for h in listed] == ["rollout", "scaling", "queue", "bigtable", "wbctl", "discard"]


def test_service_keeps_that_service_s_changes() -> None:
    sources = Sources(now=NOW, revisions=revisions(), events=[rescale(30), rescale(10, "wandb-filestream")])
    listed = timeline.timeline(sources, since=ago(120), service=UPDATER)
    assert [(h.source, h.service) for h in listed] == [("rollout", UPDATER), ("scaling", UPDATER)]


def test_a_discard_key_s_expiry_is_listed_after_now() -> None:
    sources = Sources(now=NOW, discard=DiscardState("k7w3x9qp", 3600))
    (expiry,) = timeline.timeline(sources, since=ago(120))
    assert (expiry.time, expiry.what) == (NOW + timedelta(hours=1), "expires (run k7w3x9qp)")


def test_before_rise_words_the_rollout_in_minutes_before_the_rise() -> None:
    sources = Sources(now=NOW, revisions=revisions(), rise_began=ago(25))
    listed = timeline.before_rise(timeline.timeline(sources, since=ago(120)), ago(25))
    assert [timeline.relative(h, ago(25)) for h in listed] == [
        "flat-run-fields-updater rolled out 0.70.1 (revision 2, from 0.70.0), 12 minutes before the rise began"
    ]


def test_pod_trouble_keeps_warnings_and_leaves_routine_events_out() -> None:
    oom = KubeEvent(
        "Pod", "wandb-app-5d9f-abcde", "OOMKilling", "Memory cgroup out of memory", "Warning", 3, ago(9), ago(2)
    )
    pulled = KubeEvent("Pod", "wandb-app-5d9f-abcde", "Pulled", "image pulled", "Normal", 1, ago(9), ago(9))
    (listed,) = timeline.from_events([oom, pulled])
    assert (listed.source, listed.time, listed.what, listed.service) == (
        "pods",
        ago(2),
        "OOMKilling x3: Memory cgroup out of memory",
        "wandb-app",
    )


def test_the_document_is_what_json_prints() -> None:
    happenings = timeline.timeline(Sources(now=NOW, revisions=revisions()), since=ago(120))
    document = timeline.document(happenings, since=ago(120), now=NOW, notes=["Events: forbidden"])
    assert document["changes"][0]["time"] == "2026-05-01T11:23:00Z" and document["unknown"] == ["Events: forbidden"]


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_the_window_keeps_exactly_the_changes_since_its_start(age: int, window: int) -> None:
    sources = Sources(now=NOW, events=[rescale(age)])
    listed = timeline.timeline(sources, since=ago(window))
    assert len(listed) == (1 if age <= window else 0)


@given(st.text(max_size=30))
def test_service_of_never_raises_and_names_a_catalog_service(name: str) -> None:
    from wbctl.core import catalog

    found = timeline._service_of(name)
    assert found is None or found in {spec.name for spec in catalog.CATALOG}


def test_a_change_of_many_keys_is_named_in_its_line_and_whole_in_json() -> None:
    changes = tuple(Change("projects/p/dashboards/wbctl-runbook", f"tile {n}", None, {"n": n}) for n in range(23))
    record = AuditRecord(
        datetime(2026, 12, 3, 14, tzinfo=UTC),
        "sre",
        "wbctl dashboards apply cloud-monitoring --yes",
        "applied",
        changes,
    )
    [happening] = timeline.from_audit([record])
    assert happening.line().endswith("(23 keys: tile 0, tile 1, tile 2, ...; -o json lists each)")
    assert len(happening.to_json()["to"]) == 23
    few = AuditRecord(record.time, "sre", "wbctl redis tune", "applied", changes[:2])
    assert "'tile 1': {'n': 1}" in timeline.from_audit([few])[0].line()
