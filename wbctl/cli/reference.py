"""The CLI reference (docs/cli.md), generated from the Typer app so it cannot drift.

Regenerate with `python -m wbctl.cli.reference > docs/cli.md`; a test fails when the file
is stale.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import typer


def _commands(command: Any, path: list[str]) -> Iterator[tuple[list[str], Any]]:
    yield path, command
    if hasattr(command, "list_commands"):
        for name in command.list_commands(None):
            yield from _commands(command.get_command(None, name), [*path, name])


def _option_line(param: Any) -> str:
    names = ", ".join(f"`{name}`" for name in [*param.opts, *param.secondary_opts])
    if getattr(param, "is_flag", False):
        value = ""
    else:
        value = f" {param.metavar or param.name.upper()}"
    multiple = " (repeatable)" if getattr(param, "multiple", False) else ""
    return f"- {names}{value}{multiple}: {param.help or ''}".rstrip()


def _usage(path: list[str], command: Any) -> str:
    pieces = ["wbctl", *path[1:]]
    if any(p.param_type_name == "option" for p in command.params):
        pieces.append("[OPTIONS]")
    for param in command.params:
        if param.param_type_name == "argument":
            metavar = param.metavar or param.name.upper()
            pieces.append(metavar if param.required or metavar.startswith("[") else f"[{metavar}]")
    if hasattr(command, "list_commands"):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def render() -> str:
    from wbctl.cli import app

    lines = ["# CLI reference", "", "Generated from the Typer app by `python -m wbctl.cli.reference`; do not edit.", ""]
    for path, command in _commands(typer.main.get_command(app), ["wbctl"]):
        title = " ".join(path)
        lines += [f"## `{title}`", "", (command.help or "").strip(), "", "```", _usage(path, command), "```", ""]
        arguments = [p for p in command.params if p.param_type_name == "argument"]
        options = [p for p in command.params if p.param_type_name == "option"]
        if arguments:
            lines += ["Arguments:", ""]
            lines += [f"- `{p.metavar or p.name.upper()}`: {getattr(p, 'help', '') or ''}".rstrip() for p in arguments]
            lines.append("")
        if options:
            lines += ["Options:", ""]
            lines += [_option_line(p) for p in options]
            lines.append("")
        if hasattr(command, "list_commands"):
            lines += ["Commands: " + ", ".join(f"`{name}`" for name in command.list_commands(None)), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
