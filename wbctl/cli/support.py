"""`wbctl support bundle`: a redacted tar.gz of what W&B support asks for. The reads, the
masking and the archive are wbctl.app.support_bundle's; this parses, checks the output path
before anything is read, and reports."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from wbctl.cli.options import group
from wbctl.cli.state import session_of
from wbctl.core.durations import format_duration, parse_duration
from wbctl.core.support_bundle import MAX_LOG_LINES, MAX_SINCE, default_name
from wbctl.errors import ExitStatus, UsageError

app = group("support", "What W&B support asks for: a redacted debug bundle (tar.gz) to send them.")


def parse_logs(text: str) -> int:
    """--logs N: lines per container, 0 (no logs) to MAX_LOG_LINES."""
    cleaned = text.strip()
    if not cleaned.isdigit() or not cleaned.isascii():
        raise UsageError(f"--logs {text!r}: expected a whole number of lines, 0 to {MAX_LOG_LINES}")
    value = int(cleaned)
    if value > MAX_LOG_LINES:
        raise UsageError(f"--logs {value}: at most {MAX_LOG_LINES} lines per container")
    return value


def parse_since(text: str) -> int:
    seconds = parse_duration(text)
    if seconds > MAX_SINCE:
        raise UsageError(f"--since {text}: at most {format_duration(MAX_SINCE)}")
    return seconds


@app.command("bundle")
def bundle(
    ctx: typer.Context,
    since: Annotated[
        str, typer.Option("--since", metavar="DURATION", help="The window: Events, logs, check and runbook.")
    ] = "2h",
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            metavar="FILE.tar.gz",
            help="Where to write it (default: wbctl-support-<context>-<UTC time>.tar.gz here).",
        ),
    ] = None,
    logs: Annotated[
        str,
        typer.Option("--logs", metavar="N", help=f"Last N log lines per container (0: none; at most {MAX_LOG_LINES})."),
    ] = "200",
    force: Annotated[bool, typer.Option("--force", help="Replace --output if it exists.")] = False,
) -> None:
    """Write a redacted tar.gz of the deployment's state for W&B support.

    check and runbook queue-backlog as JSON, versions, the CR (credentials masked), workloads,
    HPAs, PDBs, nodes, pod statuses, Events and logs of the window, Redis's settings, MySQL's
    flags, Bigtable's clusters, config show; a MANIFEST says what each file holds and what was
    masked. No Secret is read. Exit 3 when a backend could not be read (the rest is written).
    """
    from wbctl.app.support_bundle import BundleOptions, check_output, collect, write

    seconds = parse_since(since)
    lines = parse_logs(logs)
    session = session_of(ctx)
    explicit = Path(output) if output is not None else None
    if explicit is not None:
        check_output(explicit, force=force)
    settings = session.settings()
    now = session.env.now()
    path = explicit or Path.cwd() / default_name(settings.context_label, now)
    if explicit is None:
        check_output(path, force=force)
    options = BundleOptions(seconds, since, lines, path, _runbook_document(session, since))
    manifest = collect(session, options)
    write(manifest, path)
    term = session.terminal()
    for note in manifest.unread:
        term.warn(f"{note.name}: not read: {note.reason}")
    term.info(f"wrote {path} ({len(manifest.files) + 1} files; MANIFEST lists them and what was masked)")
    term.line(str(path))
    if manifest.unread:
        raise typer.Exit(ExitStatus.BACKEND)


def _runbook_document(session: Any, since: str) -> Any:
    """The runbook's -o json document, as `wbctl runbook queue-backlog -o json` prints it."""
    from wbctl.cli.queue_backlog import _views
    from wbctl.cli.queue_backlog_view import document

    def render(look: Any) -> dict[str, Any]:
        return document(
            look.diagnosis, _views(look), context=session.settings().context_label, window=since, now=look.now
        )

    return render
