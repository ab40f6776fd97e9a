import pytest

from wbctl.core import redis_settings as rs
from wbctl.core.model import Observed, Status
from wbctl.errors import UsageError

TARGET = "redis://10.0.0.3:6379/0"


def observation(
    values: dict, run: str | None = None, ttl: int | None = None, version: str = "7.2.4"
) -> rs.RedisObservation:
    return rs.RedisObservation(TARGET, values, rs.DiscardState(run, ttl), Observed(version))


def test_recommended_values_are_the_guides() -> None:
    assert {r.key: r.value for r in rs.RECOMMENDED} == {
        "bigtablev3.filestream.metric_points_chunk_size": "20000",
        "bigtablev3.filestream.metric_points_parallelization": "4",
        "bigtablev3.filestream.write_cache_size": "10000000",
    }
    assert all("guide" in r.source for r in rs.RECOMMENDED)


def test_report_judges_each_key_and_the_discard_key() -> None:
    desired = rs.desired_settings({}, [], force=False)
    obs = observation(
        {
            "bigtablev3.filestream.metric_points_chunk_size": "20000",
            "bigtablev3.filestream.metric_points_parallelization": "8",
            "bigtablev3.filestream.write_cache_size": None,
        },
        run="noisy",
        ttl=120,
    )
    report = rs.report(obs, desired)
    by_id = {f.check: f for f in report.findings}
    assert by_id["redis.bigtablev3.filestream.metric_points_chunk_size"].status is Status.OK
    assert by_id["redis.bigtablev3.filestream.metric_points_parallelization"].status is Status.FAIL
    assert by_id["redis.bigtablev3.filestream.metric_points_parallelization"].remedy == "wbctl redis tune"
    assert by_id["redis.bigtablev3.filestream.write_cache_size"].observed is None
    discard = by_id["redis.gorilla.DiscardV2UpdatesForRun"]
    assert discard.status is Status.WARN and discard.observed == "noisy"
    assert discard.remedy == "wbctl run restore noisy"
    assert by_id["redis.version"].status is Status.OK  # 7.2.4
    assert report.summary == {"ok": 2, "warn": 1, "fail": 2, "unknown": 0}


def test_integer_values_compare_as_numbers() -> None:
    desired = rs.desired_settings({}, [], force=False)
    obs = observation({d.key: f"0{d.value}" for d in desired})
    assert all(f.status is Status.OK for f in rs.setting_findings(obs, desired))
    assert rs.tune_plan(obs, desired, "prod").empty


def test_tune_plan_has_only_the_drifted_keys() -> None:
    desired = rs.desired_settings({}, [], force=False)
    obs = observation({"bigtablev3.filestream.metric_points_chunk_size": "20000"})
    plan = rs.tune_plan(obs, desired, "prod")
    assert [(c.key, c.before, c.after) for c in plan.changes] == [
        ("bigtablev3.filestream.metric_points_parallelization", None, "4"),
        ("bigtablev3.filestream.write_cache_size", None, "10000000"),
    ]
    assert plan.to_json(applied=False)["context"] == "prod"


def test_overrides_then_set_win() -> None:
    desired = rs.desired_settings(
        {"bigtablev3.filestream.metric_points_parallelization": ("6", "file x [redis.settings]")},
        [("bigtablev3.filestream.metric_points_parallelization", "8"), ("bigtablev3.other", "on")],
        force=True,  # bigtablev3.other is not one of the guide's keys
    )
    values = {d.key: (d.value, d.source) for d in desired}
    assert values["bigtablev3.filestream.metric_points_parallelization"] == ("8", "--set")
    assert values["bigtablev3.other"] == ("on", "--set")


@pytest.mark.parametrize(
    ("key", "value", "force", "message"),
    [
        ("other.key", "1", False, "outside bigtablev3.: add --force"),
        ("gorilla.DiscardV2UpdatesForRun", "x", True, "wbctl run discard"),
        ("bad key", "1", True, "no spaces or control characters"),
        ("", "1", True, "invalid key"),
        ("bigtablev3.filestream.write_cache_size", "ten", False, "positive whole number"),
        ("bigtablev3.filestream.write_cache_size", "-5", False, "positive whole number"),
        ("bigtablev3.x", "", True, "non-empty"),
        ("bigtablev3.x", "1", False, "not one of the guide's keys: did you mean"),
        ("bigtablev3.filestream.write_cache_size", "2147483648", False, "up to 2,147,483,647"),
    ],
)
def test_validate_setting_rejects(key: str, value: str, force: bool, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        rs.validate_setting(key, value, force=force)


def test_force_allows_keys_outside_bigtablev3() -> None:
    rs.validate_setting("other.key", "1", force=True)


def test_parse_assignment() -> None:
    assert rs.parse_assignment("a.b=c=d") == ("a.b", "c=d")
    with pytest.raises(UsageError, match="expected KEY=VALUE"):
        rs.parse_assignment("novalue")
