"""`wbctl check`: every check of every backend in one report."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from wbctl.app.session import Session
from wbctl.cli.state import session_of
from wbctl.core.durations import parse_duration
from wbctl.core.model import Report, Status
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import render_report

if TYPE_CHECKING:
    from wbctl.core.measurements import Sample

app = typer.Typer(name="check", add_completion=False)
EXPOSITIONS = ("prometheus", "openmetrics")


def parse_push_url(text: str) -> str:
    """--push: `user:password@` is basic auth here (never printed)."""
    from wbctl.core.push_url import parse_push_url as parse

    return parse(text, "--push", credentials=True)


def parse_textfile(text: str) -> Path:
    """--textfile: a `.prom` file in an existing, writable directory (node-exporter's textfile
    collector reads only `*.prom`); checked before any backend is read."""
    import os

    if any(not char.isprintable() for char in text):
        raise UsageError(f"--textfile {text!r}: the path holds an invisible character")
    path = Path(text)
    if not text.strip() or path.suffix != ".prom" or path.name.startswith("."):
        raise UsageError(
            f"--textfile {text!r}: expected a file name ending in .prom (what node-exporter's textfile collector reads)"
        )
    directory = path.parent
    if not directory.is_dir():
        raise UsageError(f"--textfile {text}: the directory {directory} does not exist")
    if not os.access(directory, os.W_OK):
        raise UsageError(f"--textfile {text}: the directory {directory} is not writable")
    if path.is_dir():
        raise UsageError(f"--textfile {text}: is a directory")
    return path


def parse_groups(text: str | None) -> tuple[str, ...]:
    """`--only redis,bigtable`: known group names, each once, in the report's order."""
    from wbctl.app.check import GROUPS

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
    fail_on: Annotated[
        str, typer.Option("--fail-on", metavar="LEVEL", help="fail (default) or warn: what exits 1.")
    ] = "fail",
    only: Annotated[
        str | None,
        typer.Option(
            "--only",
            metavar="GROUP,...",
            help="Check only these groups: redis, services, parquet, bigtable, mysql, queue, observability.",
        ),
    ] = None,
    exit_zero: Annotated[
        bool, typer.Option("--exit-zero", help="Exit 0 whatever is found (report-only jobs).")
    ] = False,
    push: Annotated[
        str | None,
        typer.Option(
            "--push", metavar="URL", help="Push the metrics to this Pushgateway (job wbctl, grouped by context)."
        ),
    ] = None,
    textfile: Annotated[
        str | None,
        typer.Option(
            "--textfile", metavar="PATH", help="Write the metrics to this .prom file (atomically) for node-exporter."
        ),
    ] = None,
    output: Annotated[
        str | None,
        typer.Option(
            "--output",
            "-o",
            metavar="FORMAT",
            show_default=False,
            help="table, json, prometheus or openmetrics (default: WBCTL_OUTPUT, the config, else table).",
        ),
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List the ok checks too (the table folds them into their area).")
    ] = False,
) -> None:
    """Every backend against the guide: Redis, services, GCS FUSE, Bigtable, MySQL, the queue.

    Exit 1 when a finding fails (or warns, with --fail-on warn), else 3 when any is unknown, else 0.
    -o prometheus prints the findings and the runbook's numbers as metrics (docs/output.md);
    --push and --textfile send them on instead (and print one line on stderr).
    """
    from wbctl.app.check import check_all

    seconds = parse_duration(window)
    if fail_on not in ("fail", "warn"):
        raise UsageError(f"--fail-on {fail_on}: expected fail or warn")
    groups = parse_groups(only)
    push_url = parse_push_url(push) if push is not None else None
    textfile_path = parse_textfile(textfile) if textfile is not None else None
    exporting = push_url is not None or textfile_path is not None
    if output is not None and output not in ("table", "json", *EXPOSITIONS):
        raise UsageError(f"-o {output}: expected one of table, json, {', '.join(EXPOSITIONS)}")
    if exporting and output not in (None, "prometheus"):
        raise UsageError(
            f"-o {output}: --push and --textfile send the Prometheus text format; leave -o out or use -o prometheus"
        )
    exposition = output if output in EXPOSITIONS else ("prometheus" if exporting else None)
    session = session_of(ctx)
    session.settings(output=None if exposition else output)
    result = check_all(session, window=seconds, window_text=window, now=session.env.now(), groups=groups)
    report = result.report
    if exposition is None:
        render_report(session.terminal(), report.invoked_as(session.invocation()), grouped=True, verbose=verbose)
    else:
        export(session, result.samples, openmetrics=exposition == "openmetrics", push=push_url, textfile=textfile_path)
    status = exit_status(report, fail_on=fail_on, exit_zero=exit_zero)
    if status:
        raise typer.Exit(status)


def export(
    session: Session, samples: Sequence[Sample], *, openmetrics: bool, push: str | None, textfile: Path | None
) -> None:
    """The metrics to stdout, or to the Pushgateway and/or the textfile with a line each on stderr."""
    from wbctl.adapters import prometheus_export

    term = session.terminal()
    if push is None and textfile is None:
        term.data(prometheus_export.exposition(samples, openmetrics=openmetrics))
        return
    from wbctl.core.measurements import UNNAMED_CONTEXT, labelled

    settings = session.settings()
    context = settings.context or UNNAMED_CONTEXT
    if textfile is not None:  # the same `context` label the Pushgateway's grouping gives, for the same rules
        prometheus_export.write_textfile(str(textfile), labelled(samples, context=context))
        term.info(f'wrote {len(samples)} series to {textfile} with context="{context}"')
    if push is not None:
        where = prometheus_export.push(push, samples, context=context, timeout=settings.timeout)
        term.info(f"pushed {len(samples)} series to {where}")
