"""`wbctl sandbox`: the embedded simulated deployment's scenarios and saved state."""

from __future__ import annotations

import typer

from wbctl.cli.options import Output, group
from wbctl.cli.state import State
from wbctl.output import render_items

app = group("sandbox", "The embedded simulated deployment that `wbctl --sandbox ...` runs against.")


@app.command()
def scenarios(ctx: typer.Context, output: Output = None) -> None:
    """List the scenarios `--scenario` can start."""
    from wbctl.sandbox.scenarios import DEFAULT_SCENARIO, SCENARIOS

    state = State.of(ctx)
    state.settings(output=output)
    items = [
        {"name": s.name, "default": s.name == DEFAULT_SCENARIO, "description": s.description} for s in SCENARIOS.values()
    ]
    render_items(state.terminal(), ("name", "default", "description"), items, {"scenarios": items}, wrap=("description",))


@app.command()
def reset(ctx: typer.Context, output: Output = None) -> None:
    """Forget what earlier sandbox commands changed: every scenario starts afresh."""
    from wbctl.cli.options import output_format
    from wbctl.output import Terminal
    from wbctl.sandbox import sandbox_dir

    state = State.of(ctx)  # no settings: loading them would start the sandbox being reset
    directory = sandbox_dir(state.env)
    removed = sorted(path.stem for path in directory.glob("*.json"))
    for name in removed:
        (directory / f"{name}.json").unlink()
        (directory / f"{name}.kubeconfig").unlink(missing_ok=True)
    term = Terminal(state.env, output_format(state.env, output), state.redactor())
    if term.json_mode:
        term.json({"reset": removed})
    else:
        term.info(f"reset: {', '.join(removed)}" if removed else "nothing to reset")
