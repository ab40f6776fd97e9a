"""The `wbctl` command: root options, lazily loaded command groups, and the one error boundary.

Groups are imported only when invoked (or completed), like poetry's command loader: `wbctl
--version` and `wbctl --help` load this module and Typer, nothing else. Every help page is
Click's plain formatter (the root's over the GROUPS table): one style, and no rich_utils. `main` is the only place that turns exceptions into exit statuses and one-line messages.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
from collections.abc import MutableMapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

import typer
from typer.core import TyperGroup

from wbctl import __version__
from wbctl.environment import Environment
from wbctl.errors import ExitStatus, UsageError, WbctlError
from wbctl.signals import SigtermAsInterrupt

# group name -> (module holding `app`, the line `wbctl --help` lists for it). The line is
# here so that listing the groups imports none of them; a test checks it against each
# group's own help. Add a group here when its first real command lands.
GROUPS: dict[str, tuple[str, str]] = {
    "alerts": (
        "wbctl.cli.alerts",
        "Alerting rules that point at the runbook: Prometheus rules or Cloud Monitoring policies.",
    ),
    "bigtable": ("wbctl.cli.bigtable", "Bigtable, the hot metric storage: status, check, autoscale, scale."),
    "changes": (
        "wbctl.cli.changes",
        "What changed, oldest first: wbctl's changes, the resource, rollouts, scaling, pod trouble, the queue.",
    ),
    "check": (
        "wbctl.cli.check",
        "Every backend against the guide: Redis, services, GCS FUSE, Bigtable, MySQL, the queue.",
    ),
    "config": (
        "wbctl.cli.config",
        "wbctl's configuration: the effective settings, the contexts, a context from the cluster.",
    ),
    "dashboards": (
        "wbctl.cli.dashboards",
        "Dashboards of the runbook's signals: Grafana, Datadog, Cloud Monitoring JSON; apply the last.",
    ),
    "deploy": (
        "wbctl.cli.deploy",
        "Manifests for the cluster: the auditor (check on a schedule, pushed to Prometheus), the Grafana dashboard.",
    ),
    "mysql": ("wbctl.cli.mysql", "The MySQL flags W&B asks for: check, print, tune."),
    "parquet": ("wbctl.cli.parquet", "Parquet export: its workloads and GCS FUSE (the guide's 'Enable GCS FUSE')."),
    "redis": (
        "wbctl.cli.redis",
        "The guide's Redis settings: bigtablev3.filestream.* chunk size, parallelization, write cache.",
    ),
    "run": ("wbctl.cli.run", "Discard or restore one run's metric updates (gorilla.DiscardV2UpdatesForRun)."),
    "runbook": (
        "wbctl.cli.runbook",
        "The on-call runbooks: list them, show one (rendered on a terminal, raw Markdown in a pipe).",
    ),
    "support": ("wbctl.cli.support", "What W&B support asks for: a redacted debug bundle (tar.gz) to send them."),
    "sandbox": ("wbctl.cli.sandbox", "The embedded simulated deployment that `wbctl --sandbox ...` runs against."),
    "services": (
        "wbctl.cli.services",
        "The guide's W&B services on Kubernetes: list, status, check, scale, autoscale.",
    ),
}

SHELLS = ("bash", "zsh", "fish", "powershell", "pwsh")


class LazyGroup(TyperGroup):
    def list_commands(self, ctx: Any) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(GROUPS))

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        if cmd_name in GROUPS and cmd_name not in self.commands:
            module = importlib.import_module(GROUPS[cmd_name][0])
            command = typer.main.get_command(module.app)
            command.name = cmd_name
            _plain(command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: Any, formatter: Any) -> None:
        """The listing from GROUPS: `wbctl --help` imports no command module."""
        rows = []
        for name in self.list_commands(ctx):
            if name in GROUPS:
                rows.append((name, GROUPS[name][1]))
            elif not self.commands[name].hidden:
                rows.append((name, self.commands[name].get_short_help_str(limit=200)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def _main_shell_completion(
        self, ctx_args: MutableMapping[str, Any], prog_name: str, complete_var: str | None = None
    ) -> None:
        """`_WBCTL_COMPLETE=complete_bash` (Typer's order, what --show-completion's script sets)
        or `bash_complete` (Click's); a failure completes nothing and never prints a traceback."""
        complete_var = complete_var or f"_{prog_name}_COMPLETE".replace("-", "_").upper()
        instruction = os.environ.get(complete_var)
        if not instruction:
            return
        first, _, rest = instruction.partition("_")
        if first in SHELLS:
            instruction = f"{rest}_{first}"
        from typer.completion import shell_complete

        try:
            status = shell_complete(self, ctx_args, prog_name, complete_var, instruction)
        except Exception:  # noqa: BLE001 - completion must stay silent in the operator's shell
            status = 1
        sys.exit(status)


def _plain(command: Any) -> None:
    """Every help page in the root's style, Click's plain one: a group's module would otherwise
    bring Typer's rich boxes (and rich_utils' import time) to its own pages."""
    command.rich_markup_mode = None
    for sub in getattr(command, "commands", {}).values():
        _plain(sub)


app = typer.Typer(
    cls=LazyGroup,
    name="wbctl",
    help="Operate a self-managed W&B NextGen deployment: check it against the scaling guide, "
    "tune it, and run the runbook, safely.",
    no_args_is_help=True,
    rich_markup_mode=None,  # the root's help in Click's plain format: no rich_utils, no markdown at start-up
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)


def _print_version(ctx: typer.Context, value: bool) -> None:
    if value:  # to the invocation's stdout (its Environment), not the process's sys.stdout
        invocation = ctx.obj
        stdout = invocation.env.stdout if isinstance(invocation, Invocation) else sys.stdout
        stdout.write(f"wbctl {__version__}\n")
        raise typer.Exit()


def _complete_context(ctx: typer.Context, incomplete: str) -> list[str]:
    from wbctl.cli.completion import complete_context  # when completing: `--help` imports no wbctl.cli module

    return complete_context(ctx, incomplete)


def _complete_scenario(incomplete: str) -> list[tuple[str, str]]:
    from wbctl.cli.completion import complete_scenario

    return complete_scenario(incomplete)


@app.callback()
def root(
    ctx: typer.Context,
    context: Annotated[
        str | None,
        typer.Option(
            "--context",
            metavar="NAME",
            autocompletion=_complete_context,
            help="Config context to use (env WBCTL_CONTEXT).",
        ),
    ] = None,
    config: Annotated[
        str | None,
        typer.Option(
            "--config", metavar="FILE", help="Config file (env WBCTL_CONFIG; default ~/.config/wbctl/config.toml)."
        ),
    ] = None,
    timeout: Annotated[
        str | None,
        typer.Option(
            "--timeout",
            metavar="SECONDS",
            help="Seconds allowed for each backend call (env WBCTL_TIMEOUT; default 10).",
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show the traceback of a failure.")] = False,
    sandbox: Annotated[
        bool, typer.Option("--sandbox", help="Run against the embedded simulated deployment (env WBCTL_SANDBOX=1).")
    ] = False,
    scenario: Annotated[
        str | None,
        typer.Option(
            "--scenario",
            metavar="NAME",
            autocompletion=_complete_scenario,
            help="Sandbox story: healthy, filestream-backlog, misconfigured, queue-backlog (env WBCTL_SCENARIO).",
        ),
    ] = None,
    version: Annotated[
        bool,
        typer.Option("--version", "-V", callback=_print_version, is_eager=True, help="Print the version and exit."),
    ] = False,
) -> None:
    from wbctl.app.session import Session  # here, not at import: --help and --version never need it

    invocation = ctx.obj
    assert isinstance(invocation, Invocation)
    session = invocation.session = Session(env=invocation.env, argv=invocation.argv, debug=debug or invocation.debug)
    ctx.obj = session  # the command's context inherits it (wbctl.cli.state.session_of)
    session.context, session.config_path, session.timeout = context, config, timeout
    session.sandbox = sandbox or _switch(session.env.environ, "WBCTL_SANDBOX")
    session.scenario = scenario or session.env.environ.get("WBCTL_SCENARIO") or None
    if session.scenario and not session.sandbox:  # a rehearsal's scenario must never reach the real deployment
        origin = "--scenario" if scenario else "WBCTL_SCENARIO"
        raise UsageError(f"{origin} only applies with --sandbox (or WBCTL_SANDBOX=1): nothing was run")


# --- the error boundary ---------------------------------------------------------------


@dataclass
class Invocation:
    """What `main` knows before the root options are parsed; the root callback adds the Session."""

    env: Environment
    argv: list[str]
    debug: bool
    session: Any = None  # wbctl.app.session.Session, once the root callback ran

    def reporter(self) -> Any:
        if self.session is None:  # a failure before the root callback (usage): a Session only to report it
            from wbctl.app.session import Session

            self.session = Session(env=self.env, argv=self.argv, debug=self.debug)
        return self.session


_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[@-Z\\-_]")  # colours, cursor moves: not text on the line


class _Cursor:
    """Whether the terminal's cursor is at the start of a line, from what wbctl wrote to it."""

    def __init__(self) -> None:
        self.at_line_start = True

    def wrote(self, text: str) -> None:
        visible = _ESCAPES.sub("", text)
        if visible:
            self.at_line_start = visible[-1] in "\r\n"


class _TerminalStream:
    """A terminal stream that tells `_Cursor` what was written; everything else passes through."""

    def __init__(self, stream: Any, cursor: _Cursor) -> None:
        self._stream = stream
        self._cursor = cursor

    def write(self, text: str) -> int:
        written = self._stream.write(text)
        self._cursor.wrote(text)
        return written

    def __getattr__(self, name: str) -> Any:
        return getattr(self._stream, name)


def _process_environment() -> tuple[Environment, _Cursor]:
    """The real process's Environment; its terminal streams track the cursor (for Ctrl-C)."""
    env = Environment()
    cursor = _Cursor()
    if env.stdout_isatty:
        env.stdout = _TerminalStream(env.stdout, cursor)  # type: ignore[assignment]
    if env.stderr_isatty:
        env.stderr = _TerminalStream(env.stderr, cursor)  # type: ignore[assignment]
    return env, cursor


def _switch(environ: Any, name: str) -> bool:
    """A boolean variable: true or false in their usual spellings, anything else is bad input.
    A misspelt `WBCTL_SANDBOX=ture` must not send a rehearsal to the real deployment."""
    from wbctl.config.keys import parse_bool

    try:
        return parse_bool(environ.get(name, ""))
    except ValueError:
        pass
    raise UsageError(f"{name}={environ[name]!r}: expected true or false (1, yes, on / 0, no, off): nothing was run")


def _usage_line(exc: Any) -> str:
    message = exc.format_message()
    ctx = getattr(exc, "ctx", None)
    hint = f" (see '{ctx.command_path} --help')" if ctx is not None else ""
    return f"{message}{hint}"


def main(argv: Sequence[str] | None = None, env: Environment | None = None) -> int:
    """Run wbctl; return its exit status. The single error boundary of the CLI."""
    cursor = None
    if env is None:
        env, cursor = _process_environment()
    args = list(sys.argv[1:] if argv is None else argv)
    invocation = Invocation(env=env, argv=args, debug="--debug" in args)
    sigterm = SigtermAsInterrupt.install()
    try:
        command = typer.main.get_command(app)
        result = command.main(args=args, prog_name="wbctl", standalone_mode=False, obj=invocation)
        status = int(result) if isinstance(result, int) else ExitStatus.SUCCESS
        if status == ExitStatus.INTERRUPTED:  # Typer turns Ctrl-C into this status itself
            return _interrupted(env, cursor, sigterm)
        try:
            env.stdout.flush()
        except BrokenPipeError:  # the command had finished: its own status stands
            _silence_stdout(env)
        return status
    except WbctlError as exc:
        _report(invocation, exc, exc.message)
        return exc.exit_status
    except typer.TyperException as exc:  # Click's usage errors: bad option, missing argument
        if type(exc).__name__ == "NoArgsIsHelpError":  # `wbctl` or a group alone: its help, exit 2
            help_text = exc.format_message()
            if help_text.strip():  # Click's formatter returns it; Typer's rich one has printed it
                env.stdout.write(help_text + "\n")
            return ExitStatus.USAGE
        _report(invocation, exc, _usage_line(exc))
        return int(getattr(exc, "exit_code", ExitStatus.USAGE))
    except (KeyboardInterrupt, typer.Abort):  # Ctrl-C or SIGTERM (Typer wraps either in Abort)
        return _interrupted(env, cursor, sigterm)
    except SystemExit as exc:
        # Typer turns a write to a closed pipe into sys.exit(1); completion and
        # --install-completion / --show-completion end with sys.exit too
        if isinstance(exc.__context__, BrokenPipeError):
            return _closed_pipe(env)
        return exc.code if isinstance(exc.code, int) else (ExitStatus.SUCCESS if exc.code is None else ExitStatus.USAGE)
    except BrokenPipeError:
        return _closed_pipe(env)
    except Exception as exc:  # a bug: still one line, and the traceback with --debug
        _report(invocation, exc, f"internal error: {type(exc).__name__}: {exc} (re-run with --debug and report it)")
        return ExitStatus.INTERNAL
    finally:
        try:
            if invocation.session is not None:
                invocation.session.close()  # the sandbox saved and its lock released, after a kill too
        finally:
            sigterm.restore()


def _report(invocation: Invocation, exc: BaseException, message: str) -> None:
    state = invocation.reporter()
    try:
        term = state.terminal()
        if invocation.debug or state.debug:
            import traceback

            text = "".join(traceback.format_exception(exc))
            state.env.stderr.write(term.redact(text))
        term.error(message)
    except BrokenPipeError:  # stderr's reader has gone too: nobody is left to tell
        _silence(state.env.stderr)


def _interrupted(env: Environment, cursor: _Cursor | None, sigterm: SigtermAsInterrupt) -> int:
    """`wbctl: interrupted` (130), or after a kill `wbctl: terminated` (143), on a line of its
    own: after a prompt (`[y/N]: `) or the `^C` the terminal echoed, the cursor is mid-line."""
    word, status = (
        ("terminated", ExitStatus.TERMINATED) if sigterm.received else ("interrupted", ExitStatus.INTERRUPTED)
    )
    newline = (
        "\n" if env.stderr_isatty and (cursor is None or not cursor.at_line_start or _echoes_ctrl_c(env.stderr)) else ""
    )
    try:
        env.stderr.write(f"{newline}wbctl: {word}\n")
        env.stderr.flush()
    except BrokenPipeError:
        _silence(env.stderr)
    return status


def _echoes_ctrl_c(stream: Any) -> bool:
    """Whether the terminal prints a typed Ctrl-C as `^C` (ECHO and ECHOCTL, the default)."""
    try:
        import termios

        lflag = termios.tcgetattr(stream.fileno())[3]
        return bool(lflag & termios.ECHO and lflag & getattr(termios, "ECHOCTL", 0))
    except Exception:  # noqa: BLE001 - not a terminal, or no termios: assume it does not
        return False


def _closed_pipe(env: Environment) -> int:
    """stdout's reader left (`wbctl ... | head -1`): stop quietly, like any tool SIGPIPE stops.
    No message, no traceback, and 141 (128 + SIGPIPE, what the shell shows for such a tool):
    the command did not finish, so its own status is unknown. See docs/exit-codes.md."""
    _silence_stdout(env)
    return ExitStatus.CLOSED_PIPE


def _silence_stdout(env: Environment) -> None:
    """Point stdout (and stderr when it is the same pipe, `2>&1`) at /dev/null, as the Python
    docs advise: the interpreter's last flush then finds nothing to complain about."""
    same = False
    try:
        same = os.path.sameopenfile(env.stdout.fileno(), env.stderr.fileno())
    except (AttributeError, OSError, ValueError):
        pass
    _silence(env.stdout)
    if same:
        _silence(env.stderr)


def _silence(stream: Any) -> None:
    try:
        fd = stream.fileno()
    except (AttributeError, OSError, ValueError):  # not a real file (tests): nothing to flush at exit
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def run() -> None:
    """Console-script entry point."""
    sys.exit(main())
