"""`wbctl config`: the effective settings and where each came from; the file's contexts,
switching between them (as kubectl does), and a new context read from the cluster."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.completion import complete_context
from wbctl.cli.options import DryRun, Output, Yes, group, output_format
from wbctl.cli.state import session_of
from wbctl.output import Terminal, render_items, show

app = group("config", "wbctl's configuration: the effective settings, the contexts, a context from the cluster.")


@app.command("show")
def show_config(
    ctx: typer.Context,
    origin: Annotated[bool, typer.Option("--origin", help="Also say where each value came from.")] = False,
    output: Output = None,
) -> None:
    """Print the effective settings of the current context, secrets masked."""
    from wbctl.app.locate import unset

    session = session_of(ctx)
    settings = session.settings(output=output)
    if unset(settings):  # what the WeightsAndBiases resource says, as the commands would use it
        located = session.backends.locate()
        if located.unread is not None:
            session.terminal().warn(
                f"{', '.join(unset(settings))}: not read from the WeightsAndBiases resource: {located.unread}"
            )
    from wbctl.app.contexts import setting_rows

    rows = setting_rows(settings)
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


@app.command("get-contexts")
def get_contexts(ctx: typer.Context, output: Output = None) -> None:
    """List the config file's contexts; * marks the one commands use now."""
    from wbctl.app import contexts
    from wbctl.config import read_file

    session = session_of(ctx)
    file = read_file(session.env, session.config_path)
    rows = contexts.rows(file, session.env, session.context)
    term = Terminal(session.env, output_format(session.env, output), session.redactor())
    document = {
        "config_file": str(file.path),
        "current-context": file.current,
        "contexts": rows,
    }
    table = [{**row, "current": "*" if row["current"] else ""} for row in rows]
    render_items(term, ("current", "name", "namespace", "instance", "kube-context", "read-only"), table, document)


@app.command("use-context")
def use_context(
    ctx: typer.Context,
    name: Annotated[str, typer.Argument(metavar="NAME", autocompletion=complete_context, show_default=False)],
) -> None:
    """Make NAME the file's current-context; only that line of the file changes."""
    from wbctl.app import contexts
    from wbctl.config import read_file

    session = session_of(ctx)
    file = read_file(session.env, session.config_path)
    contexts.use_context(file, name)
    session.terminal().info(f"switched to context {name!r} ({file.path})")


@app.command("init")
def init(
    ctx: typer.Context,
    name: Annotated[
        str | None,
        typer.Option("--context", metavar="NAME", help="Name of the new context (default: the resource's name)."),
    ] = None,
    kube_context: Annotated[
        str | None,
        typer.Option("--kube-context", metavar="K", help="Kubeconfig context to read (default: its current one)."),
    ] = None,
    namespace: Annotated[
        str | None,
        typer.Option("--namespace", "-n", metavar="N", help="Namespace of the resource (default: every namespace)."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace a context of that name.")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Write a context read from the cluster: the WeightsAndBiases resource and its workloads.

    A diff first, then confirmation (--yes for scripts). Secrets are never copied: the
    settings still to fill, and how, are said and written as comments."""
    from wbctl.app import config_init
    from wbctl.app.mutation import confirm_or_refuse
    from wbctl.config import read_file
    from wbctl.config.writer import write_atomically
    from wbctl.errors import UsageError

    session = session_of(ctx)
    if session.sandbox:  # the rehearsal's settings are not a cluster's, and the file is the real one
        raise UsageError(
            "config init reads a real cluster, not --sandbox: to read the sandbox, run `wbctl sandbox serve` "
            "and config init with the KUBECONFIG it prints, without WBCTL_SANDBOX: nothing was written"
        )
    if name is not None and not name.strip():
        raise UsageError("--context: a context name cannot be empty: nothing was written")
    term = Terminal(session.env, output_format(session.env, output), session.redactor())
    file = read_file(session.env, session.config_path)  # a broken file stops before the cluster is asked
    where = config_init.target(session.env, kube_context=kube_context, namespace=namespace, timeout=session.timeout)
    with term.progress("reading the WeightsAndBiases resource and its workloads"):
        derived = config_init.discover(session.env, where)
    change = config_init.file_change(file, name, derived, force=force)
    say = term.info if term.json_mode else term.line
    found = derived.found
    generation = f", generation {found.generation}" if found.generation is not None else ""
    resource = found.resource
    made_by = (
        f"the v2 operator, server {resource.server_version or '?'}"
        if resource.generation.value == "v2"
        else f"chart {resource.chart_version or '?'}"
    )
    say(f"found weightsandbiases {found.label} ({made_by}{generation})")
    for key, value in derived.values.items():
        say(f"  {key} = {value}    ({derived.origins[key]})")
    say(change.diff(str(file.path)).rstrip("\n"))
    for how in derived.to_fill.values():
        say(f"still to fill: {how}")
    document = {
        "context": change.name,
        "config_file": str(file.path),
        "resource": derived.found.label,
        "chart": derived.found.resource.chart_version,
        "generation": derived.found.generation,
        "values": derived.values,
        "origins": derived.origins,
        "to_fill": derived.to_fill,
        "written": False,
    }
    if dry_run:
        if term.json_mode:
            term.json(document)
        return
    confirm_or_refuse(term, f"Write context {change.name!r} to {file.path}?", yes=yes, unchanged="nothing was written")
    write_atomically(file.path, change.after)
    document["written"] = True
    if term.json_mode:
        term.json(document)
    else:
        term.info(f"wrote context {change.name!r} to {file.path}; use it with: wbctl config use-context {change.name}")
