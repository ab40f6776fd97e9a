"""The queue-backlog runbook's look: every read its four steps need, side by side, judged into
one diagnosis; repeated by `--watch` over the same adapters (the same connections); and `--fix`,
what the diagnosis proposes applied in one diff and one confirmation.

The CLI (wbctl/cli/queue_backlog.py) parses, renders and loops; this holds the work, so it reads
exactly what `wbctl check` reads for the same names (wbctl.app.reads).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from wbctl.app import changes, reads, timeline
from wbctl.app.backends import sdk_modules
from wbctl.app.gather import Results, gather
from wbctl.app.mutation import MutationOptions, Outcome, execute_all
from wbctl.app.session import Session
from wbctl.core import queue, runbook
from wbctl.core.kube import KubeObservation
from wbctl.core.model import Observed
from wbctl.core.queue import Verdict
from wbctl.core.queue_source import QueueAddress
from wbctl.core.runbook import Diagnosis, Evidence
from wbctl.core.series import SignalData


@dataclass(frozen=True)
class Round:
    """One look: the diagnosis and the series it was made from."""

    diagnosis: Diagnosis
    bigtable_cpu: SignalData
    bigtable_nodes: SignalData
    updater: str | None  # the updater's replicas now ("3/3 ready ..."), None when unreadable
    now: datetime


@dataclass
class Diagnoser:
    """The reads of one diagnosis, repeated by `--watch`; `history` keeps every look."""

    session: Session
    window: int
    history: list[Round] = field(default_factory=list)

    def _modules(self) -> list[str]:
        metrics = self.session.settings()["metrics-source"]
        return sdk_modules("kube", "redis", "bigtable", "prometheus", metrics)

    def look(self) -> Round:
        from wbctl.adapters.kube import RUNBOOK_KINDS

        session, now = self.session, self.session.env.now()
        readers: reads.Readers = {
            reads.KUBE: lambda _: session.backends.kube().observe(RUNBOOK_KINDS),
            reads.DISCARD: lambda _: session.backends.redis().discard_state(),
        }
        reads.add_queue(readers, session, self.window, now)
        reads.add_queue(readers, session, self.window, now, reads.FILESTREAM_QUEUE)
        reads.add_bigtable(readers, session, self.window, now)
        noisy = reads.add_noisy_runs(readers, session, now)
        reads.add_changes(readers, session, self.window, now)
        timeline.add_history(readers, session)
        results = gather(readers, timeout=session.settings().timeout, preload_modules=self._modules())
        address = results[reads.QUEUE_ADDRESS].value
        assert address is not None  # queue_address falls back to the config or Terraform's names
        judgement = queue.judge(
            reads.queue_readings(results, address), window=self.window, now=now, policy=reads.policy(session, address)
        )
        filestream_address, filestream = self._filestream(results, now)
        evidence = Evidence(
            now=now,
            address=address,
            judgement=judgement,
            bigtable=reads.bigtable_evidence(results),
            kube=results[reads.KUBE],
            discard=results[reads.DISCARD],
            loads=results[reads.NOISY_RUNS] if noisy else None,
            changes=results[reads.CHANGES],
            invocation=session.invocation(),
            kubectl=session.kubectl(),
            filestream_address=filestream_address,
            filestream=filestream,
            timeline=tuple(timeline.in_window(results, now, self.window, judgement.rise_began)),
        )
        diagnosis = runbook.diagnose(evidence)
        look = Round(diagnosis, evidence.bigtable.cpu, evidence.bigtable.nodes, updater_replicas(evidence.kube), now)
        self.history.append(look)
        return look

    def _filestream(self, results: Results, now: datetime) -> tuple[QueueAddress | None, queue.Judgement | None]:
        """The filestream queue's address and judgement (None when it is `none` or unreadable)."""
        of = reads.FILESTREAM_QUEUE
        address = results[of.address].value
        if address is None or address.source == "none":
            return address, None
        readings = reads.queue_readings(results, address, of)
        policy = reads.policy(self.session, address, of.kind)
        return address, queue.judge(readings, window=self.window, now=now, policy=policy)

    def moved(self) -> str:
        """How the backlog moved since the last look, or that no new sample arrived."""
        if len(self.history) < 2:
            return ""
        before, after = self.history[-2].diagnosis.judgement, self.history[-1].diagnosis.judgement
        newest_before = before.readings.backlog.newest
        newest_after = after.readings.backlog.newest
        if newest_after is not None and newest_after == newest_before:
            return f"no new sample since {newest_after:%H:%M} UTC"
        if before.backlog is None or after.backlog is None:
            return ""
        delta = after.backlog - before.backlog
        return f"since the last look: backlog {delta:+,.0f} ({before.backlog:,.0f} -> {after.backlog:,.0f})"


def updater_replicas(kube: Observed[KubeObservation]) -> str | None:
    from wbctl.core.service_view import UPDATER, service_named

    if kube.value is None:
        return None
    view = service_named(kube.value, UPDATER)
    if view is None or view.workload is None:
        return "not deployed"
    return f"{len(view.ready_pods)}/{view.workload.desired} ready (now; no history)"


def fix(session: Session, diagnosis: Diagnosis, *, dry_run: bool, yes: bool) -> tuple[Outcome | None, str]:
    """Apply what the diagnosis proposes (raised limits only), or say why nothing."""
    verdict = diagnosis.judgement.verdict
    if verdict is Verdict.STALLED:
        return None, "--fix: nothing applied - a stalled queue needs no capacity (see step 3)"
    if not diagnosis.judgement.needs_capacity:
        return None, f"--fix: nothing applied - the queue is {verdict.value}"
    proposals = diagnosis.fixes
    if not proposals:
        return None, "--fix: nothing to apply - no step proposes a change (see each step's next action)"
    staged = [changes.staged(session, proposal) for proposal in proposals]
    outcome = execute_all(
        staged,
        options=MutationOptions(dry_run=dry_run, yes=yes),
        read_only=session.settings().read_only,
        term=session.terminal(),
        audit=session.audit_log(),
    )
    if dry_run:
        return outcome, "--fix --dry-run: the diff only; nothing changed"
    applied = ", ".join(plan.target for plan in outcome.applied) or "nothing"
    return outcome, f"--fix: applied {applied}" + ("" if outcome.complete else " and stopped on a failure")
