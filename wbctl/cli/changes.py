"""`wbctl changes`: what changed, on one time axis (wbctl/app/timeline.py reads, core/timeline.py merges)."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import Output, complete_service
from wbctl.cli.state import session_of
from wbctl.core import timeline
from wbctl.core.durations import parse_duration
from wbctl.errors import ExitStatus

app = typer.Typer(name="changes", add_completion=False)


@app.command(name="changes")
def changes(
    ctx: typer.Context,
    since: Annotated[str, typer.Option("--since", metavar="DURATION", help="How far back to look.")] = "2h",
    service: Annotated[
        str | None,
        typer.Option(
            "--service",
            metavar="SERVICE",
            help="Only this service's changes (wandb- optional).",
            autocompletion=complete_service,
        ),
    ] = None,
    output: Output = None,
) -> None:
    """What changed, oldest first: wbctl's changes, the resource, rollouts, scaling, pod trouble, the queue.

    Sources: wbctl's own audit log (this context), the WeightsAndBiases resource, rollouts
    (ReplicaSet revisions), scaling (HPA and KEDA Events), pod trouble (Warning Events),
    Bigtable's node count, the discard key, and when the queue began to rise.

    Exit 3 when a source could not be read (the rest is listed, each unread source named).
    """
    from wbctl.app.timeline import changes_document, parse_service

    seconds = parse_duration(since)
    parse_service(service)  # a bad name is refused before any backend is asked
    session = session_of(ctx)
    session.settings(output=output)
    document = changes_document(session, seconds, service)
    term = session.terminal()
    if term.json_mode:
        term.json(document)
    else:
        for item in document["changes"]:
            term.line(timeline.line(item))
        if not document["changes"]:
            term.line(f"no changes since {document['since']}")
        for note in document["unknown"]:
            term.info(f"unknown: {note}")
    if document["unknown"]:
        raise typer.Exit(ExitStatus.BACKEND)
