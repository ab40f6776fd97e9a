"""The `wbctl` command: root options, lazily loaded command groups, and the one error boundary.

Groups are imported only when invoked (or when help lists them), like poetry's command
loader: `wbctl --version` loads this module and Typer, nothing else. `main` is the only place
that turns exceptions into exit statuses and one-line messages.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Sequence
from typing import Annotated, Any, Optional

import typer
from typer.core import TyperGroup

from wbctl import __version__
from wbctl.environment import Environment
from wbctl.errors import ExitStatus, UsageError, WbctlError

# group name -> module holding `app`; add a group here when its first real command lands
GROUPS: dict[str, str] = {
    "bigtable": "wbctl.cli.bigtable",
    "check": "wbctl.cli.check",
    "config": "wbctl.cli.config",
    "mysql": "wbctl.cli.mysql",
    "parquet": "wbctl.cli.parquet",
    "redis": "wbctl.cli.redis",
    "run": "wbctl.cli.run",
    "runbook": "wbctl.cli.runbook",
    "sandbox": "wbctl.cli.sandbox",
    "services": "wbctl.cli.services",
}


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(GROUPS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS and cmd_name not in self.commands:
            module = importlib.import_module(GROUPS[cmd_name])
            command = typer.main.get_command(module.app)
            command.name = cmd_name
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)


app = typer.Typer(
    cls=LazyGroup,
    name="wbctl",
    help="Operate a self-managed W&B NextGen deployment: check it against the scaling guide, "
    "tune it, and run the runbook, safely.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"wbctl {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    ctx: typer.Context,
    context: Annotated[Optional[str], typer.Option("--context", metavar="NAME", help="Config context to use (env WBCTL_CONTEXT).")] = None,
    config: Annotated[
        Optional[str], typer.Option("--config", metavar="FILE", help="Config file (env WBCTL_CONFIG; default ~/.config/wbctl/config.toml).")
    ] = None,
    timeout: Annotated[
        Optional[str], typer.Option("--timeout", metavar="SECONDS", help="Seconds allowed for each backend call (env WBCTL_TIMEOUT; default 10).")
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of a failure.")] = False,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Run against the embedded simulated deployment (env WBCTL_SANDBOX=1).")
    ] = False,
    scenario: Annotated[
        Optional[str],
        typer.Option("--scenario", metavar="NAME", help="Sandbox story: healthy, misconfigured, queue-backlog (env WBCTL_SCENARIO)."),
    ] = None,
    version: Annotated[
        bool, typer.Option("--version", callback=_print_version, is_eager=True, help="Print the version and exit.")
    ] = False,
) -> None:
    from wbctl.cli.state import State

    state = ctx.obj
    assert isinstance(state, State)
    state.context, state.config_path, state.timeout, state.debug = context, config, timeout, debug
    state.sandbox = sandbox or state.env.environ.get("WBCTL_SANDBOX", "").lower() in {"1", "true", "yes", "on"}
    state.scenario = scenario or state.env.environ.get("WBCTL_SCENARIO") or None
    if scenario and not state.sandbox:
        raise UsageError("--scenario only applies with --sandbox")


def _usage_line(exc: Any) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"{message}{hint}"


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run wbctl; return its exit status. The single error boundary of the CLI."""
    from wbctl.cli.state import State

    env = env or Environment()
    args = list(sys.argv[1:] if argv is None else argv)
    state = State(env=env, argv=args, debug="--debug" in args)
    command = typer.main.get_command(app)
    try:
        result = command.main(args=args, prog_name="wbctl", standalone_mode=False, obj=state)
        if result == ExitStatus.INTERRUPTED:  # Typer turns Ctrl-C into this status itself
            env.stderr.write("wbctl: interrupted\n")
        return int(result) if isinstance(result, int) else ExitStatus.SUCCESS
    except WbctlError as exc:
        _report(state, exc, exc.message)
        return exc.exit_status
    except typer.TyperException as exc:  # Click's usage errors: bad option, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":  # Typer has printed the help already
            return ExitStatus.USAGE
        _report(state, exc, _usage_line(exc))
        return int(getattr(exc, "exit_code", ExitStatus.USAGE))
    except (KeyboardInterrupt, typer.Abort):
        env.stderr.write("wbctl: interrupted\n")
        return ExitStatus.INTERRUPTED
    except BrokenPipeError:
        return ExitStatus.PROBLEMS
    except Exception as exc:  # a bug: still one line, and the traceback with --debug
        _report(state, exc, f"internal error: {type(exc).__name__}: {exc} (re-run with --debug and report it)")
        return ExitStatus.PROBLEMS
    finally:
        state.close()


def _report(state: Any, exc: BaseException, message: str) -> None:
    term = state.terminal()
    if state.debug:
        import traceback

        text = "".join(traceback.format_exception(exc))
        state.env.stderr.write(term.redact(text))
    term.error(message)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
