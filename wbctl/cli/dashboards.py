"""`wbctl dashboards`: dashboards of the runbook's signals for Grafana, Datadog and Cloud
Monitoring (docs/dashboards.md), and `apply cloud-monitoring` to create or update the last.

The render commands read the context's settings only: no backend is contacted (a test opens a
listening socket for every backend and sees no connection), so a dashboard is made anywhere.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import DryRun, Output, Yes, group
from wbctl.cli.state import session_of

app = group(
    "dashboards",
    "Dashboards of the runbook's signals: Grafana, Datadog, Cloud Monitoring JSON; apply the last.",
)
apply_app = group("apply", "Create or update a dashboard where it runs: diff first, then confirm, audit.")
app.add_typer(apply_app, name="apply")

Out = Annotated[
    str | None,
    typer.Option(
        "--out", metavar="FILE", help="Write the JSON to FILE (atomically: replaced whole) instead of stdout."
    ),
]


def _render(ctx: typer.Context, fmt: str, out: str | None) -> None:
    from wbctl.app import dashboards

    path = dashboards.check_out(out) if out is not None else None  # bad input: refused before anything else
    session = session_of(ctx)
    session.settings()
    term = session.terminal()
    rendered = dashboards.render(session, fmt)
    if path is None:
        term.json(rendered.document)
    else:
        dashboards.write_out(path, dashboards.document_text(session, rendered.document))
        term.info(f"wrote {path}")
    for note in rendered.notes:
        term.info(f"note: {note}")


@app.command()
def grafana(ctx: typer.Context, out: Out = None) -> None:
    """A Grafana dashboard (schema 39: a datasource and a context variable, no __inputs), for provisioning."""
    _render(ctx, "grafana", out)


@app.command()
def datadog(ctx: typer.Context, out: Out = None) -> None:
    """A Datadog dashboard (its API's JSON) on Datadog's Google Cloud and Kubernetes metric names."""
    _render(ctx, "datadog", out)


@app.command("cloud-monitoring")
def cloud_monitoring(ctx: typer.Context, out: Out = None) -> None:
    """A Cloud Monitoring dashboard (the Dashboards API's JSON, a mosaic layout) on Google's metric types."""
    _render(ctx, "cloud-monitoring", out)


@apply_app.command("cloud-monitoring")
def apply_cloud_monitoring(
    ctx: typer.Context, dry_run: DryRun = False, yes: Yes = False, output: Output = None
) -> None:
    """Create or update this context's Cloud Monitoring dashboard: the diff, confirm, write, read back, audit."""
    from wbctl.app import dashboards

    session = session_of(ctx)
    session.settings(output=output)
    dashboards.apply_cloud_monitoring(session, dry_run=dry_run, yes=yes)
