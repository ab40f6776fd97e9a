"""One invocation's hold on a deployment: its environment, settings, terminal, adapters, the
sandbox it may run against, and the one mutation path with its audit log.

The CLI builds a Session from the root options and every command works through it; nothing here
knows Typer, so the orchestration (wbctl.app) can be driven the same way by tests. Settings load
on first use, so `--help` and `--version` never read the config file, and `--sandbox` starts the
sandbox only then: its settings replace the configuration's, so a rehearsal cannot reach a real
deployment.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wbctl import config
from wbctl.app.audit import AuditLog, audit_path, rehearsal_path
from wbctl.app.backends import Backends
from wbctl.app.mutation import Applier, MutationOptions, execute
from wbctl.core.model import Plan
from wbctl.environment import Environment
from wbctl.errors import UsageError
from wbctl.output import Terminal
from wbctl.redact import Redactor

if TYPE_CHECKING:
    from wbctl.core.kube import KubeObservation
    from wbctl.sandbox import Sandbox
    from wbctl.sandbox.sim.serve import Joined


def sandbox_speed(environ: Any) -> float:
    """WBCTL_SANDBOX_SPEED: simulated seconds per wall second (default 60; 0 stops the clock)."""
    from wbctl.sandbox.sim.clock import DEFAULT_SPEED

    text = environ.get("WBCTL_SANDBOX_SPEED", "").strip()
    if not text:
        return DEFAULT_SPEED
    try:
        speed = float(text)
    except ValueError:
        speed = -1.0
    if not 0 <= speed <= 3600:
        raise UsageError(
            f"WBCTL_SANDBOX_SPEED={text!r}: expected simulated seconds per wall second, 0 to 3600 (0 stops the clock)"
        )
    return speed


@dataclass
class Session:
    env: Environment
    argv: list[str]
    context: str | None = None
    config_path: str | None = None
    timeout: str | None = None  # the --timeout flag's text; the settings parse and bound it
    debug: bool = False
    sandbox: bool = False
    serving: bool = False  # `sandbox serve`: this process keeps the sandbox up for others
    scenario: str | None = None
    running: Sandbox | Joined | None = None  # the sandbox started (or joined) for this invocation
    _settings: config.Settings | None = None
    _terminal: Terminal | None = None
    _backends: Backends | None = field(default=None, repr=False)

    def settings(self, *, output: str | None = None) -> config.Settings:
        if self._settings is None:
            self._settings = config.load(
                self.env,
                flags={"timeout": self.timeout, "output": output},
                context=self.context,
                config_path=self.config_path,
                sandbox=self._start_sandbox() if self.sandbox else None,
            )
        return self._settings

    def _start_sandbox(self) -> tuple[str, dict[str, Any]]:
        from wbctl.sandbox import Sandbox, sandbox_dir, scenario_named
        from wbctl.sandbox.sim.scenarios import DEFAULT_SCENARIO
        from wbctl.sandbox.sim.serve import find

        scenario = scenario_named(self.scenario or DEFAULT_SCENARIO)
        directory, speed = sandbox_dir(self.env), sandbox_speed(self.env.environ)
        joined = None if self.serving else find(directory, scenario.name, speed)  # `sandbox serve` in another shell
        if joined is not None:
            self.running, clock = joined, joined.clock
        else:
            started = Sandbox(scenario, directory, speed=speed, tls=self.serving).start()
            self.running, clock = started, started.world.clock
        # the rehearsal runs on the sandbox's simulated clock: queries, ages, expiries, audit times
        self.env.now = clock.now
        self.env.sleep = clock.sleep
        return scenario.name, self.running.settings()

    @property
    def backends(self) -> Backends:
        if self._backends is None:
            settings = self.settings()
            kubeconfig = self.running.kubeconfig if self.running is not None else None
            self._backends = Backends(
                settings,
                kubeconfig=str(kubeconfig) if kubeconfig else self.env.environ.get("KUBECONFIG"),
                environ=self.env.environ,
                progress=self.terminal().progress,
                warn=self.terminal().warn,
            )
        return self._backends

    def audit_path(self) -> Path:
        if self.sandbox:  # rehearsals stay out of the real audit trail
            from wbctl.sandbox import sandbox_dir

            return rehearsal_path(sandbox_dir(self.env))
        return audit_path(self.env)

    def audit_log(self) -> AuditLog:
        return AuditLog(self.audit_path(), self.env, self.redactor(), ["wbctl", *self.argv])

    def redactor(self) -> Redactor:
        if self._settings is not None:
            return self._settings.redactor()
        return Redactor(self.env.environ.get(var) for var in config.SECRET_ENV.values())

    def terminal(self) -> Terminal:
        if self._terminal is None:
            output = self._settings["output"] if self._settings else "table"
            self._terminal = Terminal(self.env, output, self.redactor())
        return self._terminal

    def observe_kube(self, kinds: tuple[str, ...], *, output: str | None) -> KubeObservation:
        """One observation of the W&B instance; whatever could not be read becomes a warning."""
        self.settings(output=output)
        observation = self.backends.kube().observe(kinds)
        for note in observation.notes:
            self.terminal().warn(note)
        return observation

    def invocation(self) -> str:
        """`wbctl` with the global options that reach this deployment again when a printed
        command is pasted: the sandbox and its scenario, or the config file and context."""
        words = ["wbctl"]
        if self.sandbox:
            words.append("--sandbox")
            if self.scenario:
                words += ["--scenario", self.scenario]
            return shlex.join(words)
        if self.config_path:
            words += ["--config", self.config_path]
        context = self._settings.context if self._settings is not None else self.context
        if context:
            words += ["--context", context]
        return shlex.join(words)

    def kubectl(self) -> str:
        """`kubectl` with the options that reach the same cluster and namespace when pasted."""
        settings = self.settings()
        words = ["kubectl"]
        kubeconfig = self.running.kubeconfig if self.running is not None else None
        if kubeconfig is not None:
            words += ["--kubeconfig", str(kubeconfig)]
        if settings["kube-context"]:
            words += ["--context", settings["kube-context"]]
        words += ["-n", settings["namespace"]]
        return shlex.join(words)

    def apply(
        self, plan: Plan, applier: Applier, *, dry_run: bool, yes: bool, replan: Callable[[], Plan] | None = None
    ) -> bool:
        """The one mutation path (wbctl.app.mutation), with this invocation's settings.

        `replan` makes the plan again from a fresh read, for when the target changed between
        the diff and the write.
        """
        settings = self.settings()
        return execute(
            plan,
            applier,
            options=MutationOptions(dry_run=dry_run, yes=yes),
            read_only=settings.read_only,
            term=self.terminal(),
            audit=self.audit_log(),
            replan=replan,
        )

    def close(self) -> None:
        if self._backends is not None:
            self._backends.close()
        if self.running is not None:
            self.running.stop()
