"""The audit log (wbctl/app/audit.py): one JSON line per plan with secrets masked, a file only
its owner reads, refused when it cannot be written, and `read_since` for the runbook's window."""

from __future__ import annotations

import json
import os
import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from wbctl.app import audit
from wbctl.app.audit import AuditLog, audit_path, read_since
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


def test_read_since_keeps_the_window_oldest_first_and_skips_what_it_cannot_read(tmp_path: Path) -> None:
    path = tmp_path / "audit.jsonl"
    write_lines(
        path,
        {"time": "2026-11-27T11:00:00Z", "user": "a", "command": ["wbctl", "x"], "result": "applied"},
        "not json",
        {"user": "no time"},
        {"time": "yesterday"},
        {
            "time": "2026-11-27T12:00:00Z",
            "user": "b",
            "command": ["wbctl", "run", "discard", "r1"],
            "result": "applied",
        },
        {"time": "2026-11-27T12:10:00+00:00", "result": "failed"},
    )
    records = read_since(path, datetime(2026, 11, 27, 12, 0, tzinfo=UTC))
    assert [(r.time, r.user, r.command, r.result) for r in records] == [
        (datetime(2026, 11, 27, 12, 0, tzinfo=UTC), "b", "wbctl run discard r1", "applied"),
        (datetime(2026, 11, 27, 12, 10, tzinfo=UTC), "?", "", "failed"),
    ]


def test_read_since_a_missing_file_is_empty(tmp_path: Path) -> None:
    assert read_since(tmp_path / "absent.jsonl", NOW) == []


def test_read_since_an_unreadable_path_is_a_backend_error(tmp_path: Path) -> None:
    with pytest.raises(BackendError, match="cannot read the audit log"):
        read_since(tmp_path, NOW)  # a directory


def test_read_since_reads_only_the_tail_and_drops_its_cut_first_line(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "audit.jsonl"
    old = {"time": "2026-11-27T12:00:00Z", "user": "old", "command": [], "result": "applied"}
    new = {"time": "2026-11-27T12:00:01Z", "user": "new", "command": [], "result": "applied"}
    write_lines(path, old, new)
    size = len(json.dumps(new)) + 1
    monkeypatch.setattr(audit, "TAIL_BYTES", size + 5)  # the tail starts inside `old`'s line
    assert [r.user for r in read_since(path, NOW - timedelta(days=1))] == ["new"]


def test_what_record_writes_read_since_reads_back(tmp_path: Path) -> None:
    entry = log(tmp_path)
    with entry.open() as stream:
        entry.record(stream, plan(), "applied")
    (record,) = read_since(entry.path, NOW.replace(microsecond=0))
    assert (record.user, record.command, record.result) == ("oncall", "wbctl redis set", "applied")
