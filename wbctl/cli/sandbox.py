"""`wbctl sandbox`: the embedded simulated deployment's scenarios and saved state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import typer

from wbctl.app.session import Session
from wbctl.cli.options import Output, group
from wbctl.cli.state import session_of
from wbctl.core.durations import format_duration, parse_duration
from wbctl.errors import RefusedError, UsageError
from wbctl.output import render_items

Scenario = Annotated[
    str | None,
    typer.Option("--scenario", metavar="NAME", help="The story (default: --scenario of wbctl, else queue-backlog)."),
]

MAX_ADVANCE = 7 * 86400  # a week at a time: what a command replays from the story's start stays quick

app = group("sandbox", "The embedded simulated deployment that `wbctl --sandbox ...` runs against.")


@app.command()
def scenarios(ctx: typer.Context, output: Output = None) -> None:
    """List the scenarios `--scenario` can start."""
    from wbctl.sandbox.sim.scenarios import DEFAULT_SCENARIO, SCENARIOS

    session = session_of(ctx)
    session.settings(output=output)
    items = [
        {"name": s.name, "default": s.name == DEFAULT_SCENARIO, "description": s.description}
        for s in SCENARIOS.values()
    ]
    render_items(
        session.terminal(), ("name", "default", "description"), items, {"scenarios": items}, wrap=("description",)
    )


@app.command()
def reset(ctx: typer.Context, output: Output = None) -> None:
    """Forget what earlier sandbox commands changed: every scenario starts afresh."""
    from wbctl.app.audit import mark_reset, rehearsal_path
    from wbctl.cli.options import output_format
    from wbctl.output import Terminal
    from wbctl.sandbox import sandbox_dir

    session = session_of(ctx)  # no settings: loading them would start the sandbox being reset
    directory = sandbox_dir(session.env)
    from wbctl.sandbox.sim.serve import find

    removed = sorted(path.stem for path in directory.glob("*.json") if path.stem.count(".") == 0)
    # a served sandbox saves its state when it stops, whether or not it has saved any yet
    announced = sorted(path.name.removesuffix(".serving.json") for path in directory.glob("*.serving.json"))
    served = [name for name in announced if find(directory, name, 0) is not None]
    if served:
        raise RefusedError(
            f"the sandbox {', '.join(served)} is being served (wbctl sandbox serve): stop it first; nothing reset"
        )
    from wbctl.sandbox.sim.lock import ScenarioLock

    busy = [
        path.stem for path in sorted(directory.glob("*.lock")) if ScenarioLock(directory, path.stem).held_elsewhere()
    ]
    if busy:
        raise RefusedError(
            f"the sandbox {', '.join(busy)} is in use by another wbctl command: let it finish; nothing reset"
        )
    mark_reset(rehearsal_path(directory), session.env)  # the runbook lists no change from before it
    for name in removed:
        (directory / f"{name}.json").unlink()
        (directory / f"{name}.kubeconfig").unlink(missing_ok=True)
    term = Terminal(session.env, output_format(session.env, output), session.redactor())
    if term.json_mode:
        term.json({"reset": removed})
    else:
        term.info(f"reset: {', '.join(removed)}" if removed else "nothing to reset")


def _started(ctx: typer.Context, scenario: str | None, output: str | None) -> Session:
    """The sandbox of `scenario`, started as `wbctl --sandbox --scenario NAME` would."""
    session = session_of(ctx)
    session.sandbox = True
    session.scenario = scenario or session.scenario
    session.settings(output=output)
    return session


def _status(session: Session) -> dict[str, Any]:
    from wbctl.sandbox.sim.serve import Joined

    sandbox = session.running
    assert sandbox is not None
    if isinstance(sandbox, Joined):  # another shell serves it: its process holds the story
        return {"scenario": sandbox.scenario, **sandbox.status, "served": True}
    sandbox.world.sync()
    return {"scenario": sandbox.scenario.name, **sandbox.world.summary(), "served": False}


@app.command()
def status(ctx: typer.Context, scenario: Scenario = None, output: Output = None) -> None:
    """The simulated time, where the story stands, and what rehearsals changed."""
    session = _started(ctx, scenario, output)
    document = _status(session)
    term = session.terminal()
    if term.json_mode:
        term.json(document)
        return
    if document["served"]:
        term.line("served by `wbctl sandbox serve` in another shell, as of its last tick:")
    moment = datetime.fromisoformat(document["simulated_time"])
    pace = f"{document['speed']:g}x wall time" if document["speed"] else "clock stopped (WBCTL_SANDBOX_SPEED=0)"
    term.line(
        f"scenario {document['scenario']}: simulated time {moment:%Y-%m-%d %H:%M:%S} UTC, "
        f"{pace} ({format_duration(document['story_minutes'] * 60)} into the story)"
    )
    queue = document["queue"]
    if queue:
        term.line(
            f"queue: backlog {queue['backlog']:,}, publish {queue['published_per_second']:,.0f}/s, consume "
            f"{queue['consumed_per_second']:,.0f}/s, oldest {format_duration(queue['oldest_age_seconds'])}; "
            f"Bigtable {queue['bigtable_nodes']} nodes at {queue['bigtable_cpu_percent']}% CPU; updater "
            f"{queue['updater_replicas']} replicas"
            + ("; the noisy run is discarded" if queue["noisy_run_discarded"] else "")
        )
    _story_lines(term, document.get("story"))
    term.line("changed in this rehearsal:" if document["changes"] else "nothing changed yet in this rehearsal")
    for line in document["changes"]:
        term.line(f"  {line}")


@app.command()
def advance(
    ctx: typer.Context,
    duration: Annotated[str, typer.Argument(metavar="DURATION", help="How far to move simulated time: 1m, 20m, 2h.")],
    scenario: Scenario = None,
    output: Output = None,
) -> None:
    """Move the sandbox's simulated time on at once (its clock also runs on its own, compressed)."""
    seconds = parse_duration(duration)
    if seconds > MAX_ADVANCE:
        raise UsageError(f"sandbox advance {duration}: at most {format_duration(MAX_ADVANCE)} at a time")
    session = _started(ctx, scenario, output)
    sandbox = session.running
    assert sandbox is not None
    before = _status(session).get("queue") or {}
    moment = sandbox.advance(seconds)
    after = _status(session)
    queue = after.get("queue") or {}
    document = {
        "scenario": after["scenario"],
        "simulated_time": moment.isoformat(),
        "advanced_seconds": seconds,
        "backlog_before": before.get("backlog"),
        "backlog": queue.get("backlog"),
        "oldest_age_seconds_before": before.get("oldest_age_seconds"),
        "oldest_age_seconds": queue.get("oldest_age_seconds"),
        "lost_messages": queue.get("lost_messages"),
        "story": after.get("story"),
    }
    term = session.terminal()
    if term.json_mode:
        term.json(document)
        return
    term.line(
        f"scenario {document['scenario']}: simulated time is now {moment:%Y-%m-%d %H:%M:%S} UTC "
        f"(+{format_duration(seconds)})"
    )
    if queue and before:
        lost = f"; {queue['lost_messages']:,} lost past the retention" if queue.get("lost_messages") else ""
        term.line(
            f"  backlog {before['backlog']:,} -> {queue['backlog']:,}, oldest "
            f"{format_duration(before['oldest_age_seconds'])} -> {format_duration(queue['oldest_age_seconds'])}{lost}"
        )
    _story_lines(term, after.get("story"))


def _story_lines(term: Any, story: dict[str, Any] | None) -> None:
    """Which part of the story plays and what comes next (sim/script.py)."""
    if not story:
        return
    term.line(f"story: {story['now']}")
    term.line(f"next: {story['next']}" if story["next"] else "next: nothing more is scripted; the model runs on")


@app.command()
def serve(ctx: typer.Context, scenario: Scenario = None, output: Output = None) -> None:
    """Keep the simulated deployment up until Ctrl-C, for kubectl, redis-cli, mysql and wbctl in other shells."""
    import time

    from wbctl.sandbox import sandbox_dir
    from wbctl.sandbox.sim import serve as serving
    from wbctl.sandbox.sim.scenarios import DEFAULT_SCENARIO

    session = session_of(ctx)
    name = scenario or session.scenario or DEFAULT_SCENARIO
    already = serving.find(sandbox_dir(session.env), name, 0)
    if already is not None:
        raise RefusedError(
            f"the sandbox {name} is already served by `wbctl sandbox serve` (pid "
            f"{serving.pid_of(already)}): --sandbox commands in any shell join it"
        )
    session.serving = True
    session = _started(ctx, scenario, output)
    from wbctl.sandbox import Sandbox

    sandbox = session.running
    assert isinstance(sandbox, Sandbox)  # serving starts its own sandbox, never joins one
    sandbox.serve_endpoints()  # the namespace names the served endpoints: config init's context reaches them
    term = session.terminal()
    try:  # from the announcement on, Ctrl-C ends serving (exit 0); before it, it interrupts the start (130)
        sandbox.world.sync()  # the series and the status up to now, before anyone reads them
        document = serving.announce(sandbox)
        if term.json_mode:
            term.json_line(
                {key: document[key] for key in ("scenario", "kubeconfig", "backends", "speed")}
                | {
                    "env": {
                        "KUBECONFIG": document["kubeconfig"],
                        "WBCTL_SANDBOX": "1",
                        "WBCTL_SCENARIO": document["scenario"],
                        "BIGTABLE_EMULATOR_HOST": document["backends"]["gcp-emulator-host"],
                    }
                }
            )
        else:
            for line in serving.export_lines(document):
                term.line(line)
        while True:
            time.sleep(serving.TICK)
            sandbox.world.sync()  # the story moves on while nobody asks
            if not serving.take_advance(sandbox):
                serving.announce(sandbox)
    except KeyboardInterrupt:  # the way to stop it (Ctrl-C, kill: wbctl.signals): the end of serving, exit 0
        after_echo = "\n" if session.env.stderr_isatty else ""  # the terminal echoed ^C
        term.info(f"{after_echo}stopped serving {sandbox.scenario.name!r}; its state is saved (wbctl sandbox status)")
    finally:
        serving.withdraw(sandbox)
