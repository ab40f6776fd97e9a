"""What one invocation carries from the root options to its command: environment, settings,
terminal, audit log, and the adapters built from the settings.

Settings load on first use, so `--help` and `--version` never read the config file.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import typer

from wbctl import config
from wbctl.audit import AuditLog, audit_path
from wbctl.core.model import Plan
from wbctl.environment import Environment
from wbctl.errors import UsageError
from wbctl.mutation import Applier, MutationOptions, execute
from wbctl.output import Terminal
from wbctl.redact import Redactor

if TYPE_CHECKING:
    from wbctl.adapters.bigtable import BigtableAdapter
    from wbctl.adapters.kube import KubeAdapter
    from wbctl.adapters.monitoring import MetricsSource
    from wbctl.adapters.mysql import MysqlAdapter
    from wbctl.adapters.redis import RedisAdapter
    from wbctl.core.kube import KubeObservation
    from wbctl.sandbox import Sandbox


@dataclass
class State:
    env: Environment
    argv: list[str]
    context: str | None = None
    config_path: str | None = None
    timeout: float | None = None
    debug: bool = False
    sandbox: bool = False
    scenario: str | None = None
    _sandbox: Sandbox | None = None
    _settings: config.Settings | None = None
    _terminal: Terminal | None = None
    _closers: list[Any] = field(default_factory=list)

    @classmethod
    def of(cls, ctx: typer.Context) -> State:
        state = ctx.find_root().obj
        assert isinstance(state, State)
        return state

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
        from wbctl.sandbox.scenarios import DEFAULT_SCENARIO

        scenario = scenario_named(self.scenario or DEFAULT_SCENARIO)
        self._sandbox = Sandbox(scenario, sandbox_dir(self.env)).start()
        return scenario.name, self._sandbox.settings()

    def audit_path(self) -> Path:
        if self.sandbox:  # rehearsals stay out of the real audit trail
            from wbctl.sandbox import sandbox_dir

            return sandbox_dir(self.env) / "audit.jsonl"
        return audit_path(self.env)

    def redactor(self) -> Redactor:
        if self._settings is not None:
            return self._settings.redactor()
        return Redactor(self.env.environ.get(var) for var in config.SECRET_ENV.values())

    def terminal(self) -> Terminal:
        if self._terminal is None:
            output = self._settings["output"] if self._settings else "table"
            self._terminal = Terminal(self.env, output, self.redactor())
        return self._terminal

    def redis(self) -> RedisAdapter:
        from wbctl.adapters.redis import RedisAdapter

        settings = self.settings()
        adapter = RedisAdapter(
            settings["redis-url"],
            password=settings.secret("redis-password"),
            ca_file=settings["redis-ca-file"],
            timeout=settings.timeout,
        )
        self._closers.append(adapter)
        return adapter

    def kube(self) -> KubeAdapter:
        from wbctl.adapters.kube import KubeAdapter

        settings = self.settings()
        adapter = KubeAdapter(
            kube_context=settings["kube-context"],
            namespace=settings["namespace"],
            instance=settings["instance"],
            timeout=settings.timeout,
            kubeconfig=str(self._sandbox.kubeconfig) if self._sandbox else self.env.environ.get("KUBECONFIG"),
        )
        self._closers.append(adapter)
        return adapter

    def observe_kube(self, kinds: tuple[str, ...], *, output: str | None) -> KubeObservation:
        """One observation of the W&B instance; whatever could not be read becomes a warning."""
        self.settings(output=output)
        observation = self.kube().observe(kinds)
        for note in observation.notes:
            self.terminal().warn(note)
        return observation

    def mysql(self) -> MysqlAdapter:
        from wbctl.adapters.mysql import MysqlAdapter

        settings = self.settings()
        if self.sandbox:  # never fall through to a real server from a rehearsal
            raise UsageError("the sandbox does not simulate MySQL: use --from-file with a captured SHOW GLOBAL VARIABLES")
        adapter = MysqlAdapter(
            settings["mysql-url"],
            password=settings.secret("mysql-password"),
            ca_file=settings["mysql-ca-file"],
            timeout=settings.timeout,
        )
        self._closers.append(adapter)
        return adapter

    def _gcp_project(self) -> str:
        project = self.settings()["gcp-project"]
        if not project:
            raise UsageError("gcp-project is not set: add it to the context or set WBCTL_GCP_PROJECT")
        return project

    def bigtable(self, *, wait: bool = True) -> BigtableAdapter:
        from wbctl.adapters.bigtable import BigtableAdapter
        from wbctl.core.bigtable import default_instance

        settings = self.settings()
        adapter = BigtableAdapter(
            project=self._gcp_project(),
            instance_id=settings["bigtable-instance"] or default_instance(settings["instance"]),
            timeout=settings.timeout,
            emulator_host=settings["gcp-emulator-host"],
            endpoint=settings["gcp-bigtable-admin-endpoint"],
            wait=wait,
            progress=self.terminal().progress,
        )
        self._closers.append(adapter)
        return adapter

    def metrics(self) -> MetricsSource:
        from wbctl.adapters.monitoring import SIGNALS, CloudMonitoring, Prometheus

        settings = self.settings()
        source: MetricsSource
        if settings["metrics-source"] == "prometheus":
            queries = {name: settings[f"prometheus-query-{name}"] for name in SIGNALS if settings[f"prometheus-query-{name}"]}
            source = Prometheus(url=settings["prometheus-url"], timeout=settings.timeout, queries=queries)
        else:
            source = CloudMonitoring(
                project=self._gcp_project(),
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-monitoring-endpoint"],
            )
        self._closers.append(source)
        return source

    def apply(
        self, plan: Plan, applier: Applier, *, dry_run: bool, yes: bool, replan: Callable[[], Plan] | None = None
    ) -> bool:
        """The one mutation path (wbctl.mutation), with this invocation's settings.

        `replan` makes the plan again from a fresh read, for when the target changed between
        the diff and the write.
        """
        settings = self.settings()
        audit = AuditLog(self.audit_path(), self.env, self.redactor(), ["wbctl", *self.argv])
        return execute(
            plan,
            applier,
            options=MutationOptions(dry_run=dry_run, yes=yes),
            read_only=settings.read_only,
            term=self.terminal(),
            audit=audit,
            replan=replan,
        )

    def close(self) -> None:
        for closer in self._closers:
            try:
                closer.close()
            except Exception:  # closing is best effort: the command's outcome is already decided
                pass
        if self._sandbox is not None:
            self._sandbox.stop()
