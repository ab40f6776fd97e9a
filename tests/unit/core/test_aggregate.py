from tests.unit.core.test_services import healthy
from wbctl.core import aggregate, services
from wbctl.core.model import Status
from wbctl.core.redis_settings import desired_settings


def test_unreachable_ids_are_the_ids_a_live_check_reports() -> None:
    live = {f.check for f in services.check(healthy()).findings}
    assert live <= set(aggregate.expected_ids("services"))


def test_unreachable_makes_every_finding_unknown_with_the_reason() -> None:
    desired = list(desired_settings({}, [], force=False))
    report = aggregate.unreachable("redis", "redis://h:1/0", "connection refused", desired)
    assert {f.check for f in report.findings} == {f"redis.{d.key}" for d in desired} | {"redis.gorilla.DiscardV2UpdatesForRun"}
    assert all(f.status is Status.UNKNOWN and f.message == "connection refused" for f in report.findings)
