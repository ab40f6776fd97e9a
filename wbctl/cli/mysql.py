"""`wbctl mysql`: the MySQL flags W&B asks for (the guide's step 4), checked and set."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from wbctl.cli.options import DryRun, Output, Yes, group, render_check
from wbctl.cli.state import session_of
from wbctl.core import mysql
from wbctl.core.model import Plan
from wbctl.errors import UsageError
from wbctl.output import render_items

app = group("mysql", "The MySQL flags W&B asks for: check, print, tune.")

FromFile = Annotated[
    Path | None,
    typer.Option(
        "--from-file",
        metavar="FILE",
        help="Read `mysql -B -e 'SHOW GLOBAL VARIABLES'` output or "
        "`gcloud sql instances describe --format=json` instead of connecting.",
    ),
]
FORMATS = ("table", "gcloud", "terraform", "sql")


def _from_file(path: Path) -> mysql.MysqlObservation:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UsageError(f"{path}: cannot read ({getattr(exc, 'strerror', None) or exc})") from None
    return mysql.parse_file(str(path), text)


@app.command()
def check(ctx: typer.Context, from_file: FromFile = None, output: Output = None) -> None:
    """Each flag and the server version against W&B's requirements (exit 1 on a failure)."""
    observation = _from_file(from_file) if from_file else None
    session = session_of(ctx)
    session.settings(output=output)
    if observation is None:
        observation = session.backends.mysql().observe()
    render_check(session.terminal(), mysql.check(observation))


@app.command()
def flags(
    ctx: typer.Context,
    format_: Annotated[
        str, typer.Option("--format", metavar="FORMAT", help="table, gcloud, terraform or sql.")
    ] = "table",
    from_file: FromFile = None,
    output: Output = None,
) -> None:
    """The recommended flags: a table, a gcloud command, a Terraform block, or SQL."""
    if format_ not in FORMATS:
        raise UsageError(f"--format {format_}: expected one of {', '.join(FORMATS)}")
    observation = _from_file(from_file) if from_file else None
    # only a Cloud SQL document lists the flags set on the instance (a server's SHOW GLOBAL
    # VARIABLES lists every variable, which no --database-flags should carry)
    current = observation.variables if observation and observation.unset_is_default else None
    session = session_of(ctx)
    session.settings(output=output)
    term = session.terminal()
    document = mysql.flags_document(format_, current)
    if term.json_mode:  # one JSON document whatever the format: its text, notes and the flags
        term.json(document)
    elif format_ == "table":
        render_items(term, ("flag", "value", "comparison", "source"), document["flags"], document)
    else:
        term.line(document["text"])
    for note in document.get("notes", []):
        term.info(f"note: {note}")


@app.command()
def tune(ctx: typer.Context, dry_run: DryRun = False, yes: Yes = False, output: Output = None) -> None:
    """Set the failing flags on a self-managed server (SET PERSIST; MariaDB: SET GLOBAL)."""
    session = session_of(ctx)
    settings = session.settings(output=output)
    adapter = session.backends.mysql()
    observation = adapter.observe()
    mysql.refuse_cloud_sql(observation)
    if observation.flavor == "mariadb":
        session.terminal().warn("MariaDB: W&B supports MySQL 8; SET GLOBAL does not survive a restart")

    def plan() -> Plan:
        return mysql.plan_tune(adapter.observe(), settings.context_label)

    session.apply(mysql.plan_tune(observation, settings.context_label), adapter, dry_run=dry_run, yes=yes, replan=plan)
