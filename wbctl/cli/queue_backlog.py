"""`wbctl runbook queue-backlog`: is the queue backing up, why, and what to do - now, or as
it goes (`--watch`), and with `--fix` the capacity the diagnosis asks for, in one diff.

The look and the fix are wbctl.app.queue_backlog's; this parses, renders and loops."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wbctl.app.mutation import Outcome
from wbctl.app.queue_backlog import Diagnoser, Round
from wbctl.app.queue_backlog import fix as apply_fix
from wbctl.app.session import Session
from wbctl.cli.options import DryRun, Output, Yes
from wbctl.cli.queue_backlog_frame import frame
from wbctl.cli.queue_backlog_view import document, render, series_views
from wbctl.cli.state import session_of
from wbctl.core import queue
from wbctl.core.durations import format_duration, parse_duration
from wbctl.core.queue import Verdict
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import Terminal

MAX_WINDOW = 86400


def _views(look: Round) -> list[dict[str, Any]]:
    return series_views(look.diagnosis, look.bigtable_cpu, look.bigtable_nodes, look.updater)


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
    session = session_of(ctx)
    settings = session.settings(output=output)
    if settings["queue-source"] == "none":
        raise UsageError("queue-source is none: this context has no queue to diagnose (unset queue-source)")
    term = session.terminal()
    diagnoser = Diagnoser(session, seconds)
    look = diagnoser.look()
    outcome, note = (None, "")
    if fix:
        if not term.json_mode:
            render(term, look.diagnosis, _views(look), window=window)
        outcome, note = apply_fix(session, look.diagnosis, dry_run=dry_run, yes=yes)
        if not watch:
            _finish(session, look, window, outcome, note, fix=True, shown=True)
            return
    if not watch:
        _finish(session, look, window, None, "", fix=False, shown=False)
        return
    if note:
        term.info(note)
    _watch(session, diagnoser, look, window, pause, until_clear=until_clear, outcome=outcome, fix=fix)


def _finish(
    session: Session, look: Round, window: str, outcome: Outcome | None, note: str, *, fix: bool, shown: bool
) -> None:
    term = session.terminal()
    if term.json_mode:
        term.json(
            document(
                look.diagnosis,
                _views(look),
                context=session.settings().context_label,
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
        render(term, look.diagnosis, _views(look), window=window)
    if outcome is not None and outcome.error is not None:
        raise typer.Exit(ExitStatus.BACKEND)
    raise typer.Exit(look.diagnosis.exit_status)


def render_failure(term: Terminal, outcome: Outcome) -> None:
    from wbctl.cli.queue_backlog_view import outcome_line

    term.error(outcome_line(outcome))


def _watch(
    session: Session,
    diagnoser: Diagnoser,
    look: Round,
    window: str,
    pause: int,
    *,
    until_clear: bool,
    outcome: Outcome | None,
    fix: bool,
) -> None:
    """Redraw every `pause` seconds: rich Live on a terminal (the frame of
    cli/queue_backlog_frame.py, fitted to the terminal's size), a JSON document per line with
    -o json, the table again (with a time stamp) otherwise. Ctrl-C ends it (130)."""
    term = session.terminal()
    live = None
    if not term.json_mode and term.out.is_terminal:
        from rich.live import Live

        live = Live(console=term.out, auto_refresh=False, transient=False)
        live.start()
    try:
        first = True
        while True:
            moved = diagnoser.moved()
            if term.json_mode:
                doc = document(
                    look.diagnosis,
                    _views(look),
                    context=session.settings().context_label,
                    window=window,
                    now=look.now,
                    outcome=outcome if first else None,
                    fix_requested=fix and first,
                    moved=moved,
                )
                term.json_line(doc)
            elif live is not None:
                live.update(frame(session, look, window, moved, pause), refresh=True)
            else:
                term.line(f"--- {look.now:%Y-%m-%d %H:%M:%S} UTC (every {format_duration(pause)}; Ctrl-C to stop)")
                render(term, look.diagnosis, _views(look), window=window, moved=moved)
                term.line("")
            first = False
            if until_clear and look.diagnosis.judgement.verdict is Verdict.NONE:
                raise typer.Exit(ExitStatus.SUCCESS)
            session.env.sleep(pause)
            look = diagnoser.look()
    finally:
        if live is not None:
            live.stop()
