"""The whole-deployment check: a read that fails makes unknown exactly what it feeds."""

from __future__ import annotations

import socket
from datetime import UTC, datetime

from wbctl.app import reads
from wbctl.app.check import Judged, Section, _judged, check_all
from wbctl.app.gather import gather
from wbctl.core import redis_settings
from wbctl.core.model import Report, Status
from wbctl.errors import BackendError

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_a_failed_read_makes_every_id_of_its_section_unknown_with_its_reason() -> None:
    section = Section(
        "mysql", "mysql://db", (reads.MYSQL,), lambda: ("mysql.a", "mysql.b"), lambda _: Judged(Report(()))
    )
    results = gather({reads.MYSQL: lambda _: (_ for _ in ()).throw(BackendError("access denied"))}, timeout=1)
    report = _judged(section, results).report
    assert [(f.check, f.status, f.target, f.message) for f in report.findings] == [
        ("mysql.a", Status.UNKNOWN, "mysql://db", "access denied"),
        ("mysql.b", Status.UNKNOWN, "mysql://db", "access denied"),
    ]


def test_an_unreachable_redis_is_unknown_and_hides_no_other_group(make_session) -> None:
    port = _closed_port()
    session = make_session(WBCTL_REDIS_URL=f"redis://127.0.0.1:{port}/0", WBCTL_TIMEOUT="1")
    result = check_all(session, window=3600, window_text="1h", now=NOW, groups=("redis",))
    desired = redis_settings.desired_settings({}, [], force=True)
    assert [f.check for f in result.report.findings] == list(redis_settings.check_ids(list(desired)))
    assert all(f.status is Status.UNKNOWN and str(port) in f.message for f in result.report.findings)
    names = {sample.name for sample in result.samples}
    assert "wbctl_check_status" in names and "wbctl_check_last_run_timestamp_seconds" in names


def test_no_queue_means_no_queue_findings(make_session) -> None:
    session = make_session(WBCTL_QUEUE_SOURCE="none")
    result = check_all(session, window=3600, window_text="1h", now=NOW, groups=("queue",))
    assert result.report.findings == ()
