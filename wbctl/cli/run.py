"""`wbctl run`: stop one noisy run from starving the others (the runbook's last step), reversibly."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import DryRun, Output, Yes, group
from wbctl.cli.requests import apply_request
from wbctl.cli.state import session_of
from wbctl.core import discard
from wbctl.core.durations import format_duration, parse_duration
from wbctl.core.model import Plan
from wbctl.core.redis_settings import DISCARD_KEY

app = group("run", f"Discard or restore one run's metric updates ({DISCARD_KEY}).")


@app.command("discard")
def discard_run(
    ctx: typer.Context,
    run_id: Annotated[str, typer.Argument(metavar="RUN_ID", help="The W&B run id whose metric updates to drop.")],
    ttl: Annotated[
        str | None,
        typer.Option("--ttl", metavar="DURATION", help="Expire after 30m, 2h, 1d...: processing resumes by itself."),
    ] = None,
    replace: Annotated[bool, typer.Option("--replace", help="Replace the run that is being discarded now.")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Drop RUN_ID's metric updates until restored (or until --ttl runs out)."""
    discard.validate_run_id(run_id)
    ttl_seconds = parse_duration(ttl) if ttl is not None else None
    request = discard.DiscardRequest(run_id, ttl_seconds, replace)
    apply_request(ctx, request, output=output, dry_run=dry_run, yes=yes)


@app.command()
def discarded(ctx: typer.Context, output: Output = None) -> None:
    """Which run is discarded now, and for how long."""
    session = session_of(ctx)
    session.settings(output=output)
    adapter = session.backends.redis()
    current = adapter.discard_state()
    term = session.terminal()
    if term.json_mode:
        term.json(
            {"key": DISCARD_KEY, "target": adapter.target, "run": current.run_id, "ttl_seconds": current.ttl_seconds}
        )
    elif current.run_id is None:
        term.line("none: no run is discarded")
    else:
        expiry = f"expires in {format_duration(current.ttl_seconds)}" if current.ttl_seconds else "no expiry"
        term.line(f"{current.run_id}  ({expiry}; restore with: wbctl run restore {current.run_id})")


@app.command()
def restore(
    ctx: typer.Context,
    run_id: Annotated[
        str | None, typer.Argument(metavar="[RUN_ID]", help="Only restore if this run is the one discarded.")
    ] = None,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Process the discarded run's metric updates again (removes the key)."""
    if run_id is not None:
        discard.validate_run_id(run_id)
    session = session_of(ctx)
    settings = session.settings(output=output)
    adapter = session.backends.redis()

    def plan() -> Plan:
        return discard.plan_restore(
            adapter.discard_state(), run_id, context=settings.context_label, target=adapter.target
        )

    session.apply(plan(), adapter, dry_run=dry_run, yes=yes, replan=plan)
