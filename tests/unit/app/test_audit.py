"""The audit log (wbctl/app/audit.py): one JSON line per plan with secrets masked, a file only
its owner reads, refused when it cannot be written, and `read_changes` for the runbook's window
(one context, within the window's bounds, since the sandbox's last reset)."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wbctl.app import audit
from wbctl.app.audit import AuditLog, audit_path, mark_reset, read_changes
from wbctl.core.model import Change, Expiry, Plan
from wbctl.environment import Environment
from wbctl.errors import BackendError, PartialWriteError, RefusedError
from wbctl.redact import Redactor

NOW = datetime(2026, 11, 27, 12, 30, 5, 123456, tzinfo=UTC)
SECRET = "hunter2-s3cret"


def environment(tmp_path: Path) -> Environment:
    return Environment(
        environ={"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "state")},
        now=lambda: NOW,
        user=lambda: "oncall",
    )


def plan(*changes: Change) -> Plan:
    return Plan(context="prod", target=f"redis://:{SECRET}@10.0.0.5:6379/0", changes=changes, summary="s")


def log(tmp_path: Path, command: list[str] | None = None) -> AuditLog:
    env = environment(tmp_path)
    return AuditLog(audit_path(env), env, Redactor([SECRET]), command or ["wbctl", "redis", "set"])


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_the_path_follows_xdg_state_home_or_home(tmp_path: Path) -> None:
    assert audit_path(environment(tmp_path)) == tmp_path / "state" / "wbctl" / "audit.jsonl"
    assert audit_path(Environment(environ={"HOME": str(tmp_path)})) == (
        tmp_path / ".local" / "state" / "wbctl" / "audit.jsonl"
    )


def test_one_json_line_per_plan_with_time_user_command_and_changes(tmp_path: Path) -> None:
    entry = log(tmp_path)
    change = Change("redis", "bigtablev3.filestream.chunk_size", "1", "2", expiry=Expiry(None, 3600))
    with entry.open() as stream:
        entry.record(stream, plan(change), "applied")
        entry.record(stream, plan(), "failed", error="connection refused")
    first, second = lines(entry.path)
    assert first == {
        "time": "2026-11-27T12:30:05Z",
        "user": "oncall",
        "context": "prod",
        "command": ["wbctl", "redis", "set"],
        "target": "redis://:***@10.0.0.5:6379/0",
        "changes": [
            {
                "target": "redis",
                "key": "bigtablev3.filestream.chunk_size",
                "before": "1",
                "after": "2",
                "ttl_seconds": {"before": None, "after": 3600},
            }
        ],
        "result": "applied",
    }
    assert second["result"] == "failed" and second["error"] == "connection refused"
    assert "applied" not in second and "unknown" not in second


def test_secrets_are_masked_everywhere_in_the_line(tmp_path: Path) -> None:
    entry = log(tmp_path, ["wbctl", "--redis-password", SECRET, "redis", "set"])
    change = Change("redis", "k", None, f"value with {SECRET} inside")
    with entry.open() as stream:
        entry.record(stream, plan(change), "failed", error=f"AUTH {SECRET} refused")
    text = entry.path.read_text()
    assert SECRET not in text
    (line,) = lines(entry.path)
    assert line["command"] == ["wbctl", "--redis-password", "***", "redis", "set"]
    assert line["changes"][0]["after"] == "value with *** inside"
    assert line["error"] == "AUTH *** refused"


def test_a_partial_write_names_what_was_applied_and_what_not(tmp_path: Path) -> None:
    a, b, c = (Change("mysql", name, "0", "1") for name in ("a", "b", "c"))
    entry = log(tmp_path)
    with entry.open() as stream:
        entry.record(stream, plan(a, b), "partial", "x", PartialWriteError("refused", applied=[a], not_applied=[b]))
        entry.record(stream, plan(a, b, c), "partial", "y", PartialWriteError("lost", [a], [b], unknown=[c]))
    known, lost = lines(entry.path)
    assert [item["key"] for item in known["applied"]] == ["a"]
    assert [item["key"] for item in known["not_applied"]] == ["b"]
    assert "unknown" not in known
    assert [item["key"] for item in lost["unknown"]] == ["c"]


def test_the_file_and_its_directory_are_the_owners_only(tmp_path: Path) -> None:
    entry = log(tmp_path)
    with entry.open() as stream:
        entry.record(stream, plan(), "applied")
    assert stat.S_IMODE(entry.path.stat().st_mode) == 0o600
    assert stat.S_IMODE(entry.path.parent.stat().st_mode) == 0o700
    with entry.open() as stream:  # appended, never truncated
        entry.record(stream, plan(), "applied")
    assert len(lines(entry.path)) == 2


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes through permissions")
def test_an_unwritable_log_refuses_before_anything_changes(tmp_path: Path) -> None:
    entry = log(tmp_path)
    entry.path.parent.mkdir(parents=True)
    entry.path.parent.chmod(0o500)
    try:
        with pytest.raises(RefusedError, match=r"cannot write the audit log .*audit\.jsonl .*nothing changed"):
            entry.open()
    finally:
        entry.path.parent.chmod(0o700)


def test_a_log_path_that_is_a_directory_refuses(tmp_path: Path) -> None:
    entry = log(tmp_path)
    entry.path.mkdir(parents=True)
    with pytest.raises(RefusedError, match="set XDG_STATE_HOME"):
        entry.open()


def write_lines(path: Path, *entries: dict | str) -> None:
    path.write_text("".join((e if isinstance(e, str) else json.dumps(e)) + "\n" for e in entries))


def changes(path: Path, since: datetime, until: datetime = NOW, context: str = "prod", **options) -> list:
    return read_changes(path, context=context, since=since, until=until, **options)


def entry(time: str, user: str = "a", context: str | None = "prod", **more) -> dict:
    return {"time": time, "user": user, "command": ["wbctl", "x"], "result": "applied", **more} | (
        {"context": context} if context is not None else {}
    )


def test_read_changes_keeps_the_window_oldest_first_and_skips_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(
        path,
        entry("2026-11-27T11:00:00Z"),
        "not json",
        {"user": "no time", "context": "prod"},
        {"time": "yesterday", "context": "prod"},
        entry("2026-11-27T12:00:00Z", "b", command=["wbctl", "run", "discard", "r1"]),
        {"time": "2026-11-27T12:10:00+00:00", "result": "failed", "context": "prod"},
        "[1, 2]",
    )
    records = changes(path, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assert [(r.time, r.user, r.command, r.result) for r in records] == [
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "b", "wbctl run discard r1", "applied"),
        (datetime(2026, 11, 27, 12, 10, tzinfo=UTC), "?", "", "failed"),
    ]


def test_read_changes_only_this_contexts(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(
        path,
        entry("2026-11-27T12:00:00Z", "prod"),
        entry("2026-11-27T12:01:00Z", "staging", context="staging"),
        entry("2026-11-27T12:02:00Z", "nameless", context=None),
    )
    since = NOW - timedelta(hours=1)
    assert [r.user for r in changes(path, since)] == ["prod"]
    assert [r.user for r in changes(path, since, context="staging")] == ["staging"]


def test_read_changes_nothing_after_now(tmp_path: Path) -> None:
    """A sandbox's clock restarts at wall time on a reset: what was stamped after an advance
    would otherwise sit ahead of `now`, inside every window."""
    path = tmp_path / "audit.jsonl"
    write_lines(path, entry("2026-11-27T12:30:05Z", "now"), entry("2026-11-27T12:30:06Z", "ahead"))
    assert [r.user for r in changes(path, NOW - timedelta(minutes=30))] == ["now"]


def test_read_changes_since_the_last_reset(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, entry("2026-11-27T12:00:00Z", "first"))
    mark_reset(path, environment(tmp_path))
    with path.open("a") as stream:  # the new story's clock may stand behind the old one's
        stream.write(json.dumps(entry("2026-11-27T11:59:00Z", "after")) + "\n")
    since = NOW - timedelta(hours=1)
    assert [r.user for r in changes(path, since)] == ["after"]
    assert [r.user for r in changes(path, since, since_reset=False)] == ["after", "first"]


def test_mark_reset_is_a_line_of_its_own(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(path, entry("2026-11-27T12:00:00Z"))
    mark_reset(path, environment(tmp_path))
    assert lines(path)[1] == {"time": "2026-11-27T12:30:05Z", "user": "oncall", "event": "reset"}


def test_mark_reset_without_a_log_writes_nothing(tmp_path: Path) -> None:
    mark_reset(tmp_path / "sandbox" / "audit.jsonl", environment(tmp_path))
    assert not (tmp_path / "sandbox").exists()


def test_mark_reset_that_cannot_be_written_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    path.mkdir()  # unwritable as a file, even by root
    with pytest.raises(RefusedError, match="cannot write the audit log"):
        mark_reset(path, environment(tmp_path))


def test_read_changes_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert changes(tmp_path / "absent.jsonl", NOW) == []


def test_read_changes_an_unreadable_path_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="cannot read the audit log"):
        changes(tmp_path, NOW)  # a directory


def test_read_changes_reads_only_the_tail_and_drops_its_cut_first_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "audit.jsonl"
    old = entry("2026-11-27T12:00:00Z", "old")
    new = entry("2026-11-27T12:00:01Z", "new")
    write_lines(path, old, new)
    size = len(json.dumps(new)) + 1
    monkeypatch.setattr(audit, "TAIL_BYTES", size + 5)  # the tail starts inside `old`'s line
    assert [r.user for r in changes(path, NOW - timedelta(days=1))] == ["new"]


def test_what_record_writes_read_changes_reads_back(tmp_path: Path) -> None:
    entry = log(tmp_path)
    with entry.open() as stream:
        entry.record(stream, plan(), "applied")
    (record,) = changes(entry.path, NOW.replace(microsecond=0))
    assert (record.user, record.command, record.result) == ("oncall", "wbctl redis set", "applied")


def test_read_changes_gives_back_what_each_entry_changed(tmp_path: Path) -> None:
    """The runbook knows a raise it just made (the target, the key, from and to) from the log
    the plan was recorded in, so step 2 waits for it rather than blame the autoscaler."""
    entry_log = log(tmp_path)
    raised = Change("projects/p/instances/i/clusters/c1", "autoscaling max nodes", 10, 20, path=("x",))
    with entry_log.open() as stream:
        entry_log.record(stream, plan(raised), "applied")
    write_lines_after = (
        entry_log.path.read_text() + '{"time": "2026-11-27T12:30:06Z", "context": "prod", "changes": [1, "x"]}\n'
    )
    entry_log.path.write_text(write_lines_after)
    records = changes(
        entry_log.path, datetime(2026, 11, 27, 12, 0, tzinfo=UTC), datetime(2026, 11, 27, 13, 0, tzinfo=UTC)
    )
    assert [record.changes for record in records] == [
        (Change("projects/p/instances/i/clusters/c1", "autoscaling max nodes", 10, 20),),
        (),  # changes that are not objects are skipped, the entry kept
    ]
