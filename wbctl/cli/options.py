"""Options and small helpers shared by many commands, declared once so they never drift."""

from __future__ import annotations

from typing import Annotated, Optional

import typer

from wbctl.core.model import Report, Status
from wbctl.errors import ExitStatus
from wbctl.output import Terminal, render_report

Output = Annotated[
    Optional[str],
    typer.Option("--output", "-o", metavar="FORMAT", help="Output format: table or json (default: WBCTL_OUTPUT, the config, else table).", show_default=False),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show the diff and stop; change nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")]


def group(name: str, help: str) -> typer.Typer:
    """A command group that stays a group even while it holds a single command."""

    def callback() -> None:
        pass

    callback.__doc__ = help
    return typer.Typer(name=name, help=help, callback=callback, no_args_is_help=True, add_completion=False)


def render_check(term: Terminal, report: Report) -> None:
    """Render a check's report; exit 1 when any finding fails (warnings pass)."""
    render_report(term, report)
    if report.has(Status.FAIL):
        raise typer.Exit(ExitStatus.PROBLEMS)
