"""`wbctl alerts`: alerting rules that point at the runbook (docs/alerts/README.md).

The thresholds and names come from the context's settings alone: printing the rules reads no
backend, so they can be made on a laptop and applied wherever the alerts run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.app.alert_settings import alert_settings
from wbctl.cli.options import Output, group
from wbctl.cli.state import session_of
from wbctl.core import alerts
from wbctl.errors import UsageError

app = group("alerts", "Alerting rules that point at the runbook: Prometheus rules or Cloud Monitoring policies.")


@app.command()
def rules(
    ctx: typer.Context,
    format_: Annotated[
        str,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="prometheus (a rule file) or gcp (Cloud Monitoring alert policies, JSON).",
        ),
    ] = "prometheus",
    policy: Annotated[
        str | None,
        typer.Option("--policy", metavar="NAME", help="gcp: print this one policy (what --policy-from-file takes)."),
    ] = None,
    output: Output = None,
) -> None:
    """The alerts with this context's thresholds: a Prometheus rule file, or Cloud Monitoring policies."""
    if format_ not in alerts.FORMATS:
        raise UsageError(f"--format {format_}: expected one of {', '.join(alerts.FORMATS)}")
    session = session_of(ctx)
    session.settings(output=output)
    term = session.terminal()
    document = alerts.document(format_, alert_settings(session), policy)
    if term.json_mode:
        term.json(document)
    else:
        term.line(document["text"].rstrip("\n"))
    for note in document["notes"]:
        term.info(f"note: {note}")
