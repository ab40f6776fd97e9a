"""The runbook's look and --fix against the sandbox's incident, its clock stopped."""

from __future__ import annotations

import pytest

from wbctl.app.queue_backlog import Diagnoser, fix
from wbctl.core.queue import Verdict


@pytest.fixture
def session(make_session):
    session = make_session(argv=("runbook", "queue-backlog"), WBCTL_SANDBOX_SPEED="0")
    session.sandbox, session.scenario = True, "queue-backlog"
    yield session
    session.close()


def test_a_look_diagnoses_the_incident_and_a_second_one_sees_no_new_sample(session) -> None:
    diagnoser = Diagnoser(session, 1800)
    first = diagnoser.look()
    assert first.diagnosis.judgement.verdict is Verdict.GROWING
    assert first.updater is not None and "ready" in first.updater
    assert first.bigtable_cpu.known and diagnoser.moved() == ""
    diagnoser.look()
    assert len(diagnoser.history) == 2
    assert diagnoser.moved().startswith("no new sample since")  # the clock is stopped


def test_fix_dry_run_shows_the_diff_and_changes_nothing(session) -> None:
    diagnosis = Diagnoser(session, 1800).look().diagnosis
    assert diagnosis.fixes, "the incident asks for capacity"
    outcome, note = fix(session, diagnosis, dry_run=True, yes=False)
    assert outcome is not None and outcome.applied == [] and note == "--fix --dry-run: the diff only; nothing changed"
    assert "->" in session.env.stderr.getvalue() + session.env.stdout.getvalue()
    assert not session.audit_path().exists()
    again = Diagnoser(session, 1800).look().diagnosis
    assert [p.argv() for p in again.fixes] == [p.argv() for p in diagnosis.fixes]
