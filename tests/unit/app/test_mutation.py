"""The one mutation path, driven with the real Redis adapter over fakeredis."""

from __future__ import annotations

import io
import json
from pathlib import Path

import fakeredis
import pytest

from wbctl.adapters.redis import RedisAdapter
from wbctl.app.audit import AuditLog
from wbctl.app.mutation import MutationOptions, execute
from wbctl.core import redis_settings as rs
from wbctl.core.discard import plan_discard
from wbctl.environment import Environment
from wbctl.errors import RefusedError
from wbctl.output import Terminal
from wbctl.redact import Redactor

URL = "redis://fake:6379/0"


@pytest.fixture
def client() -> fakeredis.FakeRedis:
    return fakeredis.FakeRedis(decode_responses=True)


@pytest.fixture
def adapter(client: fakeredis.FakeRedis) -> RedisAdapter:
    return RedisAdapter(URL, password=None, ca_file=None, timeout=1, client=client)


def make_env(stdin: str = "", tty: bool = False) -> Environment:
    return Environment(
        environ={"NO_COLOR": "1", "COLUMNS": "200"},
        stdin=io.StringIO(stdin),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin_isatty=tty,
        stdout_isatty=False,
        stderr_isatty=False,
    )


def run(
    adapter: RedisAdapter,
    tmp_path: Path,
    env: Environment,
    *,
    output: str = "table",
    read_only: bool = False,
    **options,
):
    desired = rs.desired_settings({}, [], force=False)
    plan = rs.tune_plan(adapter.observe([d.key for d in desired]), desired, "test")
    audit = AuditLog(tmp_path / "audit.jsonl", env, Redactor(), ["wbctl", "redis", "tune"])
    return execute(
        plan, adapter, options=MutationOptions(**options), read_only=read_only, term=Terminal(env, output), audit=audit
    )


def audit_lines(tmp_path: Path) -> list[dict]:
    path = tmp_path / "audit.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_dry_run_shows_the_diff_and_writes_nothing(adapter, client, tmp_path) -> None:
    env = make_env()
    assert run(adapter, tmp_path, env, dry_run=True) is False
    assert client.keys("*") == []
    out = env.stdout.getvalue()
    assert "bigtablev3.filestream.write_cache_size" in out and "(unset)" in out and "10000000" in out
    assert "dry run" in env.stderr.getvalue()
    assert audit_lines(tmp_path) == []


def test_no_terminal_and_no_yes_refuses(adapter, client, tmp_path) -> None:
    with pytest.raises(RefusedError, match="--yes"):
        run(adapter, tmp_path, make_env())
    assert client.keys("*") == []


def test_read_only_context_refuses_even_with_yes(adapter, client, tmp_path) -> None:
    with pytest.raises(RefusedError, match="read-only"):
        run(adapter, tmp_path, make_env(), read_only=True, yes=True)
    assert client.keys("*") == []


def test_declined_prompt_refuses(adapter, client, tmp_path) -> None:
    env = make_env("n\n", tty=True)
    with pytest.raises(RefusedError, match="not confirmed"):
        run(adapter, tmp_path, env)
    assert "[y/N]" in env.stderr.getvalue()
    assert client.keys("*") == []


def test_confirmed_prompt_applies_verifies_and_audits(adapter, client, tmp_path) -> None:
    env = make_env("y\n", tty=True)
    assert run(adapter, tmp_path, env) is True
    assert client.get("bigtablev3.filestream.metric_points_chunk_size") == "20000"
    (entry,) = audit_lines(tmp_path)
    assert entry["result"] == "applied" and entry["context"] == "test"
    assert {c["key"] for c in entry["changes"]} == {r.key for r in rs.RECOMMENDED}
    assert entry["time"].endswith("Z") and entry["user"]
    # a re-run is "no changes", exit 0, and adds no audit line
    env2 = make_env()
    assert run(adapter, tmp_path, env2, yes=True) is False
    assert "no changes" in env2.stderr.getvalue()
    assert len(audit_lines(tmp_path)) == 1


def test_json_output_is_one_document_with_the_diff_on_stderr(adapter, tmp_path) -> None:
    env = make_env()
    run(adapter, tmp_path, env, output="json", yes=True)
    document = json.loads(env.stdout.getvalue())
    assert document["applied"] is True and len(document["changes"]) == 3
    assert "Plan for" in env.stderr.getvalue()


def test_conflict_replans_shows_the_new_diff_and_applies_on_fresh_state(adapter, client, tmp_path) -> None:
    desired = rs.desired_settings({}, [], force=False)
    keys = [d.key for d in desired]
    plan = rs.tune_plan(adapter.observe(keys), desired, "t")
    client.set("bigtablev3.filestream.metric_points_parallelization", "16")  # someone else, after the diff
    env = make_env()
    audit = AuditLog(tmp_path / "audit.jsonl", env, Redactor(), ["wbctl"])
    replans: list[int] = []

    def replan():
        replans.append(1)
        return rs.tune_plan(adapter.observe(keys), desired, "t")

    assert (
        execute(
            plan,
            adapter,
            options=MutationOptions(yes=True),
            read_only=False,
            term=Terminal(env),
            audit=audit,
            replan=replan,
        )
        is True
    )
    assert replans == [1]
    assert "changed since the diff was shown" in env.stderr.getvalue()
    assert env.stdout.getvalue().count("Plan for") == 2  # the fresh diff was shown again
    assert client.get("bigtablev3.filestream.metric_points_parallelization") == "4"
    assert [e["result"] for e in audit_lines(tmp_path)] == ["refused", "applied"]
    fresh = [c for c in audit_lines(tmp_path)[1]["changes"] if c["key"].endswith("parallelization")]
    assert fresh[0]["before"] == "16"


def test_compare_and_set_refuses_when_the_key_changed_after_the_diff(adapter, client, tmp_path) -> None:
    plan = plan_discard(adapter.discard_state(), "mine", ttl_seconds=None, replace=False, context="t", target=URL)
    client.set(rs.DISCARD_KEY, "someone-else")  # another engineer, between diff and apply
    env = make_env()
    audit = AuditLog(tmp_path / "audit.jsonl", env, Redactor(), ["wbctl"])
    with pytest.raises(RefusedError, match="changed since the diff was shown"):
        execute(plan, adapter, options=MutationOptions(yes=True), read_only=False, term=Terminal(env), audit=audit)
    assert client.get(rs.DISCARD_KEY) == "someone-else"
    assert audit_lines(tmp_path)[0]["result"] == "refused"


def test_unwritable_audit_log_refuses_before_writing(adapter, client, tmp_path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    env = make_env()
    desired = rs.desired_settings({}, [], force=False)
    plan = rs.tune_plan(adapter.observe([d.key for d in desired]), desired, "t")
    audit = AuditLog(blocker / "audit.jsonl", env, Redactor(), ["wbctl"])
    with pytest.raises(RefusedError, match="cannot write the audit log"):
        execute(plan, adapter, options=MutationOptions(yes=True), read_only=False, term=Terminal(env), audit=audit)
    assert client.keys("*") == []


def test_discard_with_ttl_sets_the_expiry(adapter, client, tmp_path) -> None:
    plan = plan_discard(adapter.discard_state(), "r1", ttl_seconds=600, replace=False, context="t", target=URL)
    env = make_env()
    audit = AuditLog(tmp_path / "audit.jsonl", env, Redactor(), ["wbctl"])
    execute(plan, adapter, options=MutationOptions(yes=True), read_only=False, term=Terminal(env), audit=audit)
    assert client.get(rs.DISCARD_KEY) == "r1"
    assert 590 <= client.ttl(rs.DISCARD_KEY) <= 600
    assert adapter.discard_state().ttl_seconds is not None


# --- a write that stops midway (MySQL statement by statement, Bigtable cluster by cluster) -----


class ChangeByChange:
    """An applier that writes one change at a time and is refused at `refuse_at` (lost: the
    outcome of that one is not known)."""

    def __init__(self, refuse_at: int, lost: bool = False) -> None:
        self.refuse_at, self.lost = refuse_at, lost
        self.written: list[str] = []

    def apply(self, plan) -> None:
        from wbctl.errors import PartialWriteError

        for index, change in enumerate(plan.changes):
            if index == self.refuse_at:
                done, rest = plan.changes[:index], plan.changes[index + 1 :]
                if self.lost:
                    raise PartialWriteError("the connection dropped", done, rest, unknown=(change,))
                raise PartialWriteError(f"{change.target} refused {change.key}", done, (change, *rest))
            self.written.append(f"{change.target} {change.key}")

    def read_back(self, plan) -> bool:  # pragma: no cover - never reached
        raise AssertionError("no read-back after a partial write")


def cluster_plan():
    from wbctl.core.model import Change, Plan

    changes = tuple(Change(f"clusters/c{n}", "min_nodes", 1, 3) for n in (1, 2, 3))
    return Plan("prod", "instances/wandb", changes, "raise the floor of 3 clusters")


def run_partial(tmp_path: Path, applier: ChangeByChange):
    from wbctl.errors import ExitStatus, PartialWriteError

    env = make_env()
    audit = AuditLog(tmp_path / "audit.jsonl", env, Redactor(), ["wbctl", "bigtable", "autoscale"])
    with pytest.raises(PartialWriteError) as raised:
        execute(
            cluster_plan(), applier, options=MutationOptions(yes=True), read_only=False, term=Terminal(env), audit=audit
        )
    assert raised.value.exit_status is ExitStatus.BACKEND
    (entry,) = audit_lines(tmp_path)
    return raised.value, entry


def test_partial_write_is_audited_with_what_was_applied_and_what_was_not(tmp_path) -> None:
    applier = ChangeByChange(refuse_at=1)
    error, entry = run_partial(tmp_path, applier)
    assert applier.written == ["clusters/c1 min_nodes"]
    assert error.message == (
        "clusters/c2 refused min_nodes; partial write: applied clusters/c1 min_nodes; "
        "not applied clusters/c2 min_nodes, clusters/c3 min_nodes"
    )
    assert entry["result"] == "partial" and entry["error"] == error.message
    assert [c["target"] for c in entry["applied"]] == ["clusters/c1"]
    assert [c["target"] for c in entry["not_applied"]] == ["clusters/c2", "clusters/c3"]
    assert entry["not_applied"][0] == {"target": "clusters/c2", "key": "min_nodes", "before": 1, "after": 3}
    assert len(entry["changes"]) == 3 and "unknown" not in entry


def test_refused_at_the_first_change_is_failed_and_says_nothing_changed(tmp_path) -> None:
    error, entry = run_partial(tmp_path, ChangeByChange(refuse_at=0))
    assert error.message.endswith(
        "; nothing changed; not applied clusters/c1 min_nodes, clusters/c2 min_nodes, clusters/c3 min_nodes"
    )
    assert entry["result"] == "failed" and entry["applied"] == [] and len(entry["not_applied"]) == 3


def test_a_change_whose_outcome_was_lost_is_unknown(tmp_path) -> None:
    error, entry = run_partial(tmp_path, ChangeByChange(refuse_at=1, lost=True))
    assert error.message == (
        "the connection dropped; partial write: applied clusters/c1 min_nodes; "
        "not applied clusters/c3 min_nodes; unknown whether applied clusters/c2 min_nodes"
    )
    assert entry["result"] == "partial"
    assert [c["target"] for c in entry["unknown"]] == ["clusters/c2"]
    assert [c["target"] for c in entry["not_applied"]] == ["clusters/c3"]
