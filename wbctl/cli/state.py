"""The Session of the running command, as the root callback left it on Typer's context.

The Session itself (wbctl.app.session) knows nothing of Typer; this is the one place that
reaches it through a Typer context, so a command is `session = session_of(ctx)`, then parse,
call, render.
"""

from __future__ import annotations

import typer

from wbctl.app.session import Session


def session_of(ctx: typer.Context) -> Session:
    session = ctx.find_root().obj
    assert isinstance(session, Session)
    return session
