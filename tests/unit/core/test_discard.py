import pytest

from wbctl.core.discard import plan_discard, plan_restore, validate_run_id
from wbctl.core.redis_settings import DISCARD_KEY, DiscardState
from wbctl.errors import RefusedError, UsageError

T = "redis://h:6379/0"
NONE = DiscardState(None, None)


@pytest.mark.parametrize("run_id", ["", "x" * 257, "a b", "a\tb", "a\nb", "a\x00b", "a\x7fb", "a\u00a0b"])
def test_invalid_run_ids(run_id: str) -> None:
    with pytest.raises(UsageError):
        validate_run_id(run_id)


@pytest.mark.parametrize("placeholder", ["RUN_ID", "<id-for-run>", "id-for-run", "<RUN_ID>"])
def test_the_docs_placeholders_are_not_run_ids(placeholder: str) -> None:
    with pytest.raises(UsageError, match=r"is a placeholder.*copy it from the run's URL") as raised:
        validate_run_id(placeholder)
    assert "\n" not in str(raised.value)


def test_valid_run_ids_and_refused_ones() -> None:
    for good in ("3x9k2m1p", "x" * 256, "run-1_A"):
        validate_run_id(good)
    with pytest.raises(UsageError, match=r"character 7 is U\+002F \(SOLIDUS\)"):
        validate_run_id("entity/project/run")


def test_replacing_a_timed_discard_without_ttl_says_the_expiry_goes() -> None:
    plan = plan_discard(DiscardState("r1", 3600), "r2", ttl_seconds=None, replace=True, context="prod", target=T)
    assert any("the expiry (1h left) is removed" in note for note in plan.notes)
    same = plan_discard(DiscardState("r1", 3600), "r1", ttl_seconds=None, replace=False, context="prod", target=T)
    assert any("add --ttl to keep one" in note for note in same.notes)


def test_discard_when_none_is_discarded() -> None:
    plan = plan_discard(NONE, "r1", ttl_seconds=1800, replace=False, context="prod", target=T)
    (change,) = plan.changes
    assert (change.key, change.before, change.after) == (DISCARD_KEY, None, "r1")
    assert change.expiry is not None and change.expiry.after == 1800
    assert "DROPPED" in plan.summary and "30m" in plan.summary
    assert "lost for good" in plan.summary and "sent after the 30m are processed" in plan.summary
    assert "then processed again" not in plan.summary  # the dropped updates never come back
    assert plan.to_json(False)["changes"][0]["ttl_seconds"] == {"before": None, "after": 1800}


def test_discard_without_ttl_says_until_restored() -> None:
    plan = plan_discard(NONE, "r1", ttl_seconds=None, replace=False, context="prod", target=T)
    assert "wbctl run restore r1" in plan.summary
    assert plan.changes[0].expiry is None
    assert "ttl_seconds" not in plan.to_json(False)["changes"][0]


def test_discard_of_the_same_run_is_no_change() -> None:
    plan = plan_discard(DiscardState("r1", None), "r1", ttl_seconds=None, replace=False, context="p", target=T)
    assert plan.empty and "already discarded" in plan.nothing_to_do


def test_same_run_without_ttl_removes_its_expiry() -> None:
    """`discard RUN` means until restored: an expiry left from an earlier --ttl goes."""
    plan = plan_discard(DiscardState("r1", 100), "r1", ttl_seconds=None, replace=False, context="p", target=T)
    (change,) = plan.changes
    assert (change.before, change.after) == ("r1", "r1")
    assert change.expiry is not None and (change.expiry.before, change.expiry.after) == (100, None)


def test_same_run_with_ttl_resets_the_expiry() -> None:
    plan = plan_discard(DiscardState("r1", 100), "r1", ttl_seconds=3600, replace=False, context="p", target=T)
    (change,) = plan.changes
    assert change.expiry is not None and (change.expiry.before, change.expiry.after) == (100, 3600)


def test_another_run_needs_replace() -> None:
    with pytest.raises(RefusedError, match="--replace"):
        plan_discard(DiscardState("r0", None), "r1", ttl_seconds=None, replace=False, context="p", target=T)
    plan = plan_discard(DiscardState("r0", None), "r1", ttl_seconds=None, replace=True, context="p", target=T)
    assert plan.changes[0].before == "r0"
    assert any("replaces run r0" in note for note in plan.notes)


def test_restore() -> None:
    assert plan_restore(NONE, None, context="p", target=T).empty
    plan = plan_restore(DiscardState("r1", 60), None, context="p", target=T)
    assert (plan.changes[0].before, plan.changes[0].after) == ("r1", None)
    assert plan_restore(DiscardState("r1", None), "r1", context="p", target=T).changes
    with pytest.raises(RefusedError, match="not run r2"):
        plan_restore(DiscardState("r1", None), "r2", context="p", target=T)
