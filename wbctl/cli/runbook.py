"""`wbctl runbook`: the on-call runbooks (runbooks/*.md), listed and shown in the terminal.

`app` is a plain group with no catch-all command: a module that runs a runbook adds its own
command to it (`from wbctl.cli.runbook import app`). The runbook files are read through
`wbctl.runbooks`, imported in each command so that `wbctl --help` stays fast.
"""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import Output, group
from wbctl.cli.state import session_of
from wbctl.output import render_items

app = group("runbook", "The on-call runbooks: list them, show one (rendered on a terminal, raw Markdown in a pipe).")


def _complete_runbook(incomplete: str) -> list[tuple[str, str]]:
    from wbctl.cli.completion import complete_runbook

    return complete_runbook(incomplete)


Name = Annotated[
    str,
    typer.Argument(
        metavar="NAME",
        help="A runbook as `wbctl runbook list` names it (with or without .md).",
        show_default=False,
        autocompletion=_complete_runbook,
    ),
]


@app.command("list")
def list_runbooks(ctx: typer.Context, output: Output = None) -> None:
    """Every runbook's name and title."""
    from wbctl import runbooks

    session = session_of(ctx)
    session.settings(output=output)
    items = [{"name": book.name, "title": book.title} for book in runbooks.available()]
    render_items(session.terminal(), ("name", "title"), items, {"runbooks": items}, wrap=("title",))


@app.command()
def show(
    ctx: typer.Context,
    name: Name,
    no_pager: Annotated[
        bool, typer.Option("--no-pager", help="On a terminal, print instead of paging ($PAGER, else less -R).")
    ] = False,
    output: Output = None,
) -> None:
    """Print runbook NAME: rendered and paged on a terminal, the Markdown unchanged in a pipe or a file."""
    from wbctl import runbooks

    session = session_of(ctx)
    session.settings(output=output)
    book = runbooks.find(name)
    text = runbooks.read(book.name)
    term = session.terminal()
    if term.json_mode:
        term.json({"name": book.name, "title": book.title, "markdown": text})
    else:
        with term.paged(enabled=not no_pager):
            term.markdown(text)


# the runbook wbctl runs itself, beside the ones it shows
from wbctl.cli.queue_backlog import queue_backlog  # noqa: E402 - registered after the group exists

app.command("queue-backlog")(queue_backlog)
