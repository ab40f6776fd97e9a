"""Options and small helpers shared by many commands, declared once so they never drift."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wbctl.core.model import Report, Status
from wbctl.errors import ExitStatus
from wbctl.output import Terminal, render_report

Output = Annotated[
    str | None,
    typer.Option(
        "--output",
        "-o",
        metavar="FORMAT",
        help="Output format: table or json (default: WBCTL_OUTPUT, the config, else table).",
        show_default=False,
    ),
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show the diff and stop; change nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Apply without asking for confirmation.")]


def complete_service(incomplete: str) -> list[tuple[str, str]]:
    """Shell completion of SERVICE: the guide's services as it writes them (wandb-api) and
    short (api), each with its role. From the catalog: no cluster is asked while typing."""
    from wbctl.core.catalog import CATALOG

    names = [(spec.name, spec.role) for spec in CATALOG] + [(spec.short, spec.role) for spec in CATALOG]
    return sorted(item for item in names if item[0].startswith(incomplete))


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


def output_format(env: Any, flag: str | None) -> str:
    """-o, else WBCTL_OUTPUT, else table: for the few commands that must not load settings."""
    from wbctl.errors import UsageError
    from wbctl.output import FORMATS

    value = flag or env.environ.get("WBCTL_OUTPUT") or "table"
    if value not in FORMATS:
        origin = "-o" if flag else "WBCTL_OUTPUT"
        raise UsageError(f"{origin} {value}: expected one of {', '.join(FORMATS)}")
    return value
