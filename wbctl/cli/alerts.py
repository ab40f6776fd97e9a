"""`wbctl alerts`: alerting rules that point at the runbook (docs/alerts/README.md).

The thresholds and names come from the context's settings alone: printing the rules reads no
backend, so they can be made on a laptop and applied wherever the alerts run.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.app.session import Session
from wbctl.cli.options import Output, group
from wbctl.cli.state import session_of
from wbctl.core import alerts, queue_source
from wbctl.errors import UsageError

app = group("alerts", "Alerting rules that point at the runbook: Prometheus rules or Cloud Monitoring policies.")


def alert_settings(session: Session) -> alerts.AlertSettings:
    """The settings the alerts take: the queues' names as wbctl derives them without a cluster
    (the config, else W&B's Terraform names; the filestream's with Pub/Sub only), the retention
    as the runbook judges it."""
    from wbctl.app import reads

    settings = session.settings()
    bigtable_instance = session.backends.bigtable_instance()  # first: it may fill gcp-project from the resource
    address = reads.resolved(session, None)
    filestream = reads.resolved(session, None, queue_source.FILESTREAM)
    policy = reads.policy(session, address)
    return alerts.AlertSettings(
        context=settings.context,
        queue_source=address.source,
        queue=alerts.queue_words(address),
        subscription=address.subscription,
        project=settings["gcp-project"],
        bigtable_instance=bigtable_instance,
        retention=policy.retention,
        allowed_backlog=policy.allowed_backlog,
        allowed_age=policy.allowed_age,
        auditor_interval=float(settings["alerts-auditor-interval"]),
        runbook_url=settings["alerts-runbook-url"],
        filestream_subscription=filestream.subscription if filestream.source == "pubsub" else None,
    )


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
