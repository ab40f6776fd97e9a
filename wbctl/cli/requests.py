"""The tail every mutating command shares: check the request, load the settings, apply it.

A request is checked before anything is read, so bad input is refused with nothing touched;
when the settings fill in part of it (Bigtable's cluster from `bigtable-cluster`), the request as
filled in is checked again, since the setting was never typed on this command line.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import typer

from wbctl.app import changes
from wbctl.cli.state import session_of
from wbctl.config import Settings

R = TypeVar("R")


def apply_request(
    ctx: typer.Context,
    request: R,
    *,
    output: str | None,
    dry_run: bool,
    yes: bool,
    wait: bool = True,
    completed: Callable[[R, Settings], R] | None = None,
) -> None:
    """Validate, then plan, diff, confirm, apply, read back and audit (wbctl.app.changes)."""
    checked: Any = request
    checked.validate()
    session = session_of(ctx)
    settings = session.settings(output=output)
    if completed is not None:
        filled = completed(request, settings)
        if filled != request:
            checked = filled
            checked.validate()
    changes.run(session, checked, dry_run=dry_run, yes=yes, wait=wait)
