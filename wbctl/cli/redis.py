"""`wbctl redis`: the guide's three Redis settings (step 6), shown and tuned."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import DryRun, Output, Yes, group, render_check
from wbctl.cli.state import session_of
from wbctl.core import redis_settings
from wbctl.core.model import Plan, Report
from wbctl.output import render_report

app = group("redis", "The guide's Redis settings: bigtablev3.filestream.* chunk size, parallelization, write cache.")


@app.command()
def show(ctx: typer.Context, output: Output = None) -> None:
    """Each recommended setting, the server's version and the discard key: current value, recommended value, status."""
    session = session_of(ctx)
    settings = session.settings(output=output)
    desired = redis_settings.desired_settings(settings.redis_overrides, [], force=True)
    observation = session.backends.redis().observe([item.key for item in desired])
    render_report(session.terminal(), redis_settings.report(observation, desired))


@app.command()
def tune(
    ctx: typer.Context,
    check: Annotated[bool, typer.Option("--check", help="Only compare: exit 1 on drift, 0 when all match.")] = False,
    assignments: Annotated[
        list[str],
        typer.Option("--set", metavar="KEY=VALUE", help="Set KEY to VALUE instead of (or besides) the recommendation."),
    ] = [],  # noqa: B006 - Typer reads the default, never mutates it
    force: Annotated[
        bool, typer.Option("--force", help="Allow --set of keys beyond the guide's three (and outside bigtablev3.).")
    ] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Apply the guide's Redis settings: diff first, then one MULTI/EXEC, read back, audit."""
    parsed = [redis_settings.parse_assignment(text) for text in assignments]
    session = session_of(ctx)
    settings = session.settings(output=output)
    desired = redis_settings.desired_settings(settings.redis_overrides, parsed, force=force)
    adapter = session.backends.redis()
    observation = adapter.observe([item.key for item in desired])
    if check:
        render_check(session.terminal(), Report(redis_settings.setting_findings(observation, desired)))
        return
    keys = [item.key for item in desired]

    def replan() -> Plan:
        return redis_settings.tune_plan(adapter.observe(keys), desired, settings.context_label)

    plan = redis_settings.tune_plan(observation, desired, settings.context_label)
    session.apply(plan, adapter, dry_run=dry_run, yes=yes, replan=replan)
