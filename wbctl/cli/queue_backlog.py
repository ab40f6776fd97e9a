"""`wbctl runbook queue-backlog`: is the queue backing up, why, and what to do - now, or as
it goes (`--watch`), and with `--fix` the capacity the diagnosis asks for, in one diff."""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

import typer

from wbctl.app import changes
from wbctl.app import reads as readings
from wbctl.app.gather import Reader, gather
from wbctl.app.mutation import MutationOptions, Outcome, execute_all
from wbctl.cli.options import DryRun, Output, Yes
from wbctl.cli.queue_backlog_view import document, render, series_views
from wbctl.cli.state import SDK_MODULES, State
from wbctl.core import queue, runbook
from wbctl.core.durations import format_duration, parse_duration
from wbctl.core.model import Observed
from wbctl.core.queue import Verdict
from wbctl.core.runbook import Diagnosis, Evidence
from wbctl.environment import Environment
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import Terminal

MAX_WINDOW = 86400


@dataclass
class Round:
    """One look: the diagnosis and what it was made from."""

    diagnosis: Diagnosis
    views: list[dict[str, Any]]
    now: datetime


@dataclass
class Runbook:
    """The reads of one diagnosis, repeated by `--watch` over the same adapters (the same
    connections)."""

    state: State
    window: int
    history: list[Round] = field(default_factory=list)

    def _modules(self) -> list[str]:
        settings = self.state.settings()
        modules = [*SDK_MODULES["kube"], *SDK_MODULES["redis"], *SDK_MODULES["google"], *SDK_MODULES["bigtable"]]
        modules += SDK_MODULES["prometheus"]
        if settings["metrics-source"] != "prometheus":
            modules += SDK_MODULES["monitoring"]
        return modules

    def look(self) -> Round:
        from wbctl.adapters.kube import RUNBOOK_KINDS

        state, now = self.state, self.state.env.now()
        readers: dict[str, Reader] = {
            "kube": lambda _: state.kube().observe(RUNBOOK_KINDS),
            "discard": lambda _: state.redis().discard_state(),
        }
        readings.add_queue(readers, state, self.window, now)
        readings.add_bigtable(readers, state, self.window, now)
        noisy = readings.add_noisy_runs(readers, state, now)
        readings.add_changes(readers, state, self.window, now)
        results = gather(readers, timeout=state.settings().timeout, preload_modules=self._modules())
        address = results["queue-address"].value
        assert address is not None  # queue_address falls back to the config or Terraform's names
        judgement = queue.judge(
            readings.queue_readings(results, address),
            window=self.window,
            now=now,
            policy=readings.policy(state, address),
        )
        evidence = Evidence(
            now=now,
            address=address,
            judgement=judgement,
            bigtable=readings.bigtable_evidence(results),
            kube=results["kube"],
            discard=results["discard"],
            loads=results["noisy-runs"] if noisy else None,
            changes=results["changes"],
            invocation=state.invocation(),
            kubectl=_kubectl(state),
        )
        diagnosis = runbook.diagnose(evidence)
        bt = evidence.bigtable
        look = Round(diagnosis, series_views(diagnosis, bt.cpu, bt.nodes, _replicas(results["kube"])), now)
        self.history.append(look)
        return look


def _replicas(kube: Observed[Any]) -> str | None:
    from wbctl.core.service_view import service_named

    if not kube.known:
        return None
    view = service_named(kube.value, runbook.UPDATER)
    if view is None or view.workload is None:
        return "not deployed"
    return f"{len(view.ready_pods)}/{view.workload.desired} ready (now; no history)"


def _kubectl(state: State) -> str:
    import shlex

    settings = state.settings()
    words = ["kubectl"]
    if state.sandbox and state._sandbox is not None and state._sandbox.kubeconfig is not None:
        words += ["--kubeconfig", str(state._sandbox.kubeconfig)]
    if settings["kube-context"]:
        words += ["--context", settings["kube-context"]]
    words += ["-n", settings["namespace"]]
    return shlex.join(words)


def _moved(history: list[Round]) -> str:
    """How the backlog moved since the last look, or that no new sample arrived."""
    if len(history) < 2:
        return ""
    before, after = history[-2].diagnosis.judgement, history[-1].diagnosis.judgement
    newest_before = before.readings.backlog.newest
    newest_after = after.readings.backlog.newest
    if newest_after is not None and newest_after == newest_before:
        return f"no new sample since {newest_after:%H:%M} UTC"
    if before.backlog is None or after.backlog is None:
        return ""
    delta = after.backlog - before.backlog
    return f"since the last look: backlog {delta:+,.0f} ({before.backlog:,.0f} -> {after.backlog:,.0f})"


def _fix(state: State, diagnosis: Diagnosis, *, dry_run: bool, yes: bool) -> tuple[Outcome | None, str]:
    """Apply what the diagnosis proposes (raised limits only), or say why nothing."""
    verdict = diagnosis.judgement.verdict
    if verdict is Verdict.STALLED:
        return None, "--fix: nothing applied - a stalled queue needs no capacity (see step 3)"
    if not diagnosis.judgement.needs_capacity:
        return None, f"--fix: nothing applied - the queue is {verdict.value}"
    proposals = diagnosis.fixes
    if not proposals:
        return None, "--fix: nothing to apply - no step proposes a change (see each step's next action)"
    term = state.terminal()
    staged = [changes.staged(state, proposal) for proposal in proposals]
    settings = state.settings()
    from wbctl.app.audit import AuditLog

    audit = AuditLog(state.audit_path(), state.env, state.redactor(), ["wbctl", *state.argv])
    outcome = execute_all(
        staged, options=MutationOptions(dry_run=dry_run, yes=yes), read_only=settings.read_only, term=term, audit=audit
    )
    if dry_run:
        return outcome, "--fix --dry-run: the diff only; nothing changed"
    applied = ", ".join(plan.target for plan in outcome.applied) or "nothing"
    return outcome, f"--fix: applied {applied}" + ("" if outcome.complete else " and stopped on a failure")


def _validate(
    window: int,
    interval: int,
    *,
    fix: bool,
    dry_run: bool,
    yes: bool,
    watch: bool,
    until_clear: bool,
    interval_given: bool,
) -> None:
    if window < queue.MIN_WINDOW:
        raise UsageError(f"--window {format_duration(window)}: at least 10m (a trend needs 10 minutes of points)")
    if window > MAX_WINDOW:
        raise UsageError(f"--window {format_duration(window)}: at most 24h")
    if dry_run and not fix:
        raise UsageError("--dry-run only applies with --fix")
    if yes and not fix:
        raise UsageError("--yes only applies with --fix")
    if until_clear and not watch:
        raise UsageError("--until-clear only applies with --watch")
    if interval_given and not watch:
        raise UsageError("--interval only applies with --watch")
    if watch and dry_run:
        raise UsageError("--watch and --dry-run do not go together: a dry run changes nothing to watch")
    if interval > 3600:
        raise UsageError(f"--interval {format_duration(interval)}: at most 1h")


def queue_backlog(
    ctx: typer.Context,
    window: Annotated[
        str, typer.Option("--window", metavar="DURATION", help="How far back to read (at least 10m).")
    ] = "30m",
    fix: Annotated[
        bool,
        typer.Option(
            "--fix",
            help="Raise Bigtable's and the updater's limits as the diagnosis proposes: one diff, one confirmation.",
        ),
    ] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    watch: Annotated[bool, typer.Option("--watch", help="Look again every --interval until Ctrl-C.")] = False,
    interval: Annotated[
        str | None,
        typer.Option("--interval", metavar="DURATION", help="Time between looks with --watch (default 60s)."),
    ] = None,
    until_clear: Annotated[
        bool, typer.Option("--until-clear", help="With --watch: stop (exit 0) once the verdict is none.")
    ] = False,
    output: Output = None,
) -> None:
    """Is the queue backing up, why, and what to do: the guide's runbook, step by step."""
    seconds = parse_duration(window)
    pause = parse_duration(interval) if interval is not None else 60
    _validate(
        seconds,
        pause,
        fix=fix,
        dry_run=dry_run,
        yes=yes,
        watch=watch,
        until_clear=until_clear,
        interval_given=interval is not None,
    )
    state = State.of(ctx)
    settings = state.settings(output=output)
    if settings["queue-source"] == "none":
        raise UsageError("queue-source is none: this context has no queue to diagnose (unset queue-source)")
    term = state.terminal()
    book = Runbook(state, seconds)
    look = book.look()
    outcome, note = (None, "")
    if fix:
        if not term.json_mode:
            render(term, look.diagnosis, look.views, window=window)
        outcome, note = _fix(state, look.diagnosis, dry_run=dry_run, yes=yes)
        if not watch:
            _finish(state, look, window, outcome, note, fix=True, shown=True)
            return
    if not watch:
        _finish(state, look, window, None, "", fix=False, shown=False)
        return
    if note:
        term.info(note)
    _watch(state, book, look, window, pause, until_clear=until_clear, outcome=outcome, fix=fix)


def _finish(
    state: State, look: Round, window: str, outcome: Outcome | None, note: str, *, fix: bool, shown: bool
) -> None:
    term = state.terminal()
    if term.json_mode:
        term.json(
            document(
                look.diagnosis,
                look.views,
                context=state.settings().context_label,
                window=window,
                now=look.now,
                outcome=outcome,
                fix_requested=fix,
            )
        )
    elif shown:
        if note:
            term.line("")
            term.line(note, "bold")
        if outcome is not None and outcome.error is not None:
            render_failure(term, outcome)
    else:
        render(term, look.diagnosis, look.views, window=window)
    if outcome is not None and outcome.error is not None:
        raise typer.Exit(ExitStatus.BACKEND)
    raise typer.Exit(look.diagnosis.exit_status)


def render_failure(term: Terminal, outcome: Outcome) -> None:
    from wbctl.cli.queue_backlog_view import outcome_line

    term.error(outcome_line(outcome))


def _watch(
    state: State,
    book: Runbook,
    look: Round,
    window: str,
    pause: int,
    *,
    until_clear: bool,
    outcome: Outcome | None,
    fix: bool,
) -> None:
    """Redraw every `pause` seconds: rich Live on a terminal, a JSON document per line with
    -o json, the table again (with a time stamp) otherwise. Ctrl-C ends it (130)."""
    term = state.terminal()
    live = None
    if not term.json_mode and term.out.is_terminal:
        from rich.live import Live

        live = Live(console=term.out, auto_refresh=False, transient=False)
        live.start()
    try:
        first = True
        while True:
            moved = _moved(book.history)
            if term.json_mode:
                doc = document(
                    look.diagnosis,
                    look.views,
                    context=state.settings().context_label,
                    window=window,
                    now=look.now,
                    outcome=outcome if first else None,
                    fix_requested=fix and first,
                    moved=moved,
                )
                term.json_line(doc)
            elif live is not None:
                live.update(_captured(state, look, window, moved), refresh=True)
            else:
                term.line(f"--- {look.now:%Y-%m-%d %H:%M:%S} UTC (every {format_duration(pause)}; Ctrl-C to stop)")
                render(term, look.diagnosis, look.views, window=window, moved=moved)
                term.line("")
            first = False
            if until_clear and look.diagnosis.judgement.verdict is Verdict.NONE:
                raise typer.Exit(ExitStatus.SUCCESS)
            state.env.sleep(pause)
            look = book.look()
    finally:
        if live is not None:
            live.stop()


def _captured(state: State, look: Round, window: str, moved: str) -> Any:
    """The table form rendered for rich Live: drawn into a buffer with the terminal's width
    and colours, then handed to Live as one renderable."""
    from rich.text import Text

    buffer = io.StringIO()
    env = Environment(
        environ=dict(state.env.environ),
        stdout=buffer,
        stderr=state.env.stderr,
        stdin_isatty=False,
        stdout_isatty=True,
        stderr_isatty=state.env.stderr_isatty,
        now=state.env.now,
        user=state.env.user,
    )
    term = Terminal(env, "table", state.redactor())
    term._out = None
    render(term, look.diagnosis, look.views, window=window, moved=moved)
    return Text.from_ansi(buffer.getvalue())
