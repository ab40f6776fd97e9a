"""`wbctl check`: every check of every backend in one report."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from wbctl.cli.options import Output
from wbctl.cli.state import State
from wbctl.core.durations import parse_duration
from wbctl.core.model import Report, Status
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import render_report

app = typer.Typer(name="check", add_completion=False)


def parse_groups(text: str | None) -> tuple[str, ...]:
    """`--only redis,bigtable`: known group names, each once, in the report's order."""
    from wbctl.overview import GROUPS

    if text is None:
        return GROUPS
    wanted = [part.strip() for part in text.split(",")]
    unknown = [part for part in wanted if part not in GROUPS]
    if not text.strip() or unknown or "" in wanted:
        shown = ", ".join(repr(part) for part in unknown) if unknown else repr(text)
        raise UsageError(f"--only {shown}: expected a comma-separated list of {', '.join(GROUPS)}")
    return tuple(group for group in GROUPS if group in wanted)


def exit_status(report: Report, *, fail_on: str, exit_zero: bool) -> ExitStatus:
    """1 when a finding fails (or warns, with --fail-on warn), else 3 when any is unknown (a
    gate must not go green with nothing checked), else 0; --exit-zero reports only."""
    if exit_zero:
        return ExitStatus.SUCCESS
    failing = (Status.FAIL, Status.WARN) if fail_on == "warn" else (Status.FAIL,)
    if report.has(*failing):
        return ExitStatus.PROBLEMS
    if report.has(Status.UNKNOWN):
        return ExitStatus.BACKEND
    return ExitStatus.SUCCESS


@app.command(name="check")
def check(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", metavar="DURATION", help="How far back to read metrics.")] = "1h",
    fail_on: Annotated[str, typer.Option("--fail-on", metavar="LEVEL", help="fail (default) or warn: what exits 1.")] = "fail",
    only: Annotated[Optional[str], typer.Option("--only", metavar="GROUP,...",
                                                help="Check only these groups: redis, services, parquet, bigtable, mysql, queue.")] = None,
    exit_zero: Annotated[bool, typer.Option("--exit-zero", help="Exit 0 whatever is found (report-only jobs).")] = False,
    output: Output = None,
) -> None:
    """Every backend against the guide: Redis, services, GCS FUSE, Bigtable, MySQL, the queue.

    Exit 1 when a finding fails (or warns, with --fail-on warn), else 3 when any is unknown, else 0.
    """
    from wbctl.overview import check_all

    seconds = parse_duration(window)
    if fail_on not in ("fail", "warn"):
        raise UsageError(f"--fail-on {fail_on}: expected fail or warn")
    groups = parse_groups(only)
    state = State.of(ctx)
    state.settings(output=output)
    report = check_all(state, window=seconds, window_text=window, now=state.env.now(), groups=groups)
    render_report(state.terminal(), report.invoked_as(state.invocation()))
    status = exit_status(report, fail_on=fail_on, exit_zero=exit_zero)
    if status:
        raise typer.Exit(status)
