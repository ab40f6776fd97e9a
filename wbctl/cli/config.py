"""`wbctl config`: the effective settings and where each came from."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wbctl.cli.options import Output, group
from wbctl.cli.state import session_of
from wbctl.output import render_items, show
from wbctl.redact import MASK

app = group("config", "Show wbctl's effective configuration.")


@app.command("show")
def show_config(
    ctx: typer.Context,
    origin: Annotated[bool, typer.Option("--origin", help="Also say where each value came from.")] = False,
    output: Output = None,
) -> None:
    """Print the effective settings of the current context, secrets masked."""
    session = session_of(ctx)
    settings = session.settings(output=output)
    rows: list[dict[str, Any]] = [
        {"key": name, "value": setting.value, "origin": setting.origin} for name, setting in settings.values.items()
    ]
    rows += [{"key": name, "value": MASK, "origin": setting.origin} for name, setting in settings.secrets.items()]
    rows += [
        {"key": f"redis.settings.{key}", "value": setting.value, "origin": setting.origin}
        for key, setting in settings.redis_settings.items()
    ]
    values = {
        row["key"]: ({"value": row["value"], "origin": row["origin"]} if origin else row["value"]) for row in rows
    }
    document = {
        "context": settings.context,
        "config_file": str(settings.config_file) if settings.config_file else None,
        "settings": values,
    }
    term = session.terminal()
    if not term.json_mode:
        term.line(f"context: {show(settings.context)}    config file: {show(document['config_file'])}")
    render_items(
        term, ("key", "value", "origin") if origin else ("key", "value"), rows, document, wrap=("value", "origin")
    )
