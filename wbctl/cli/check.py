"""`wbctl check`: every check of every backend in one report."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import Output
from wbctl.cli.state import State
from wbctl.core.durations import parse_duration
from wbctl.core.model import Status
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import render_report

app = typer.Typer(name="check", add_completion=False)


@app.command(name="check")
def check(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", metavar="DURATION", help="How far back to read metrics.")] = "1h",
    fail_on: Annotated[str, typer.Option("--fail-on", metavar="LEVEL", help="fail (default) or warn: what exits 1.")] = "fail",
    output: Output = None,
) -> None:
    """Every backend against the guide: Redis, services, GCS FUSE, Bigtable, MySQL, the queue (unreachable = unknown)."""
    from wbctl.overview import check_all

    seconds = parse_duration(window)
    if fail_on not in ("fail", "warn"):
        raise UsageError(f"--fail-on {fail_on}: expected fail or warn")
    state = State.of(ctx)
    state.settings(output=output)
    report = check_all(state, window=seconds, window_text=window, now=state.env.now())
    render_report(state.terminal(), report.invoked_as(state.invocation()))
    failing = (Status.FAIL, Status.WARN) if fail_on == "warn" else (Status.FAIL,)
    if report.has(*failing):
        raise typer.Exit(ExitStatus.PROBLEMS)
