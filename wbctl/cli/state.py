"""What one invocation carries from the root options to its command: environment, settings,
terminal, audit log, and the adapters built from the settings.

Settings load on first use, so `--help` and `--version` never read the config file. Each
adapter is built once per invocation and shared (a `--watch` loop reuses its connections),
under a lock, since `check` and the runbook read from several threads at once.
"""

from __future__ import annotations

import shlex
import threading
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer

from wbctl import config
from wbctl.app.audit import AuditLog, audit_path
from wbctl.app.mutation import Applier, MutationOptions, execute
from wbctl.core.model import Plan
from wbctl.environment import Environment
from wbctl.errors import UsageError
from wbctl.output import Terminal
from wbctl.redact import Redactor

if TYPE_CHECKING:
    from wbctl.adapters.google.bigtable import BigtableAdapter
    from wbctl.adapters.kube import KubeAdapter
    from wbctl.adapters.metrics import MetricsSource
    from wbctl.adapters.mysql import MysqlAdapter
    from wbctl.adapters.redis import RedisAdapter
    from wbctl.core.kube import KubeObservation
    from wbctl.sandbox import Sandbox

A = TypeVar("A")

# the modules each backend's adapter imports on first use: imported up front, in one thread,
# before reads run side by side (wbctl.app.gather.preload)
SDK_MODULES: dict[str, tuple[str, ...]] = {
    "redis": ("redis", "redis.backoff", "redis.retry"),
    "kube": ("kubernetes.client", "kubernetes.config", "kubernetes.client.exceptions", "urllib3.util.retry"),
    "google": ("grpc", "google.auth", "google.auth.exceptions", "google.api_core.exceptions"),
    "bigtable": (
        "google.cloud.bigtable_admin_v2",
        "google.cloud.bigtable_admin_v2.services.bigtable_instance_admin.transports",
    ),
    "monitoring": ("google.cloud.monitoring_v3", "google.cloud.monitoring_v3.services.metric_service.transports"),
    "prometheus": ("urllib3",),
    "mysql": ("pymysql",),
}


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
class State:
    env: Environment
    argv: list[str]
    context: str | None = None
    config_path: str | None = None
    timeout: float | None = None
    debug: bool = False
    sandbox: bool = False
    serving: bool = False  # `sandbox serve`: this process keeps the sandbox up for others
    scenario: str | None = None
    _sandbox: Sandbox | None = None
    _settings: config.Settings | None = None
    _terminal: Terminal | None = None
    _closers: list[Any] = field(default_factory=list)
    _adapters: dict[Hashable, Any] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

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
        from wbctl.sandbox.sim.scenarios import DEFAULT_SCENARIO
        from wbctl.sandbox.sim.serve import find

        scenario = scenario_named(self.scenario or DEFAULT_SCENARIO)
        directory, speed = sandbox_dir(self.env), sandbox_speed(self.env.environ)
        joined = None if self.serving else find(directory, scenario.name, speed)  # `sandbox serve` in another shell
        if joined is not None:
            self._sandbox, clock = joined, joined.clock  # type: ignore[assignment]
        else:
            self._sandbox = Sandbox(scenario, directory, speed=speed, tls=self.serving).start()
            clock = self._sandbox.world.clock
        # the rehearsal runs on the sandbox's simulated clock: queries, ages, expiries, audit times
        self.env.now = clock.now
        self.env.sleep = clock.sleep
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

    def _cached(self, key: Hashable, build: Callable[[], A]) -> A:
        """The adapter under `key`, built on first use and closed with the invocation."""
        with self._lock:
            if key not in self._adapters:
                adapter = build()
                self._adapters[key] = adapter
                self._closers.append(adapter)
            return self._adapters[key]

    def redis(self) -> RedisAdapter:
        from wbctl.adapters.redis import RedisAdapter

        settings = self.settings()
        return self._cached(
            "redis",
            lambda: RedisAdapter(
                settings["redis-url"],
                password=settings.secret("redis-password"),
                ca_file=settings["redis-ca-file"],
                timeout=settings.timeout,
            ),
        )

    def kube(self) -> KubeAdapter:
        from wbctl.adapters.kube import KubeAdapter

        settings = self.settings()
        return self._cached(
            "kube",
            lambda: KubeAdapter(
                kube_context=settings["kube-context"],
                namespace=settings["namespace"],
                instance=settings["instance"],
                timeout=settings.timeout,
                kubeconfig=str(self._sandbox.kubeconfig) if self._sandbox else self.env.environ.get("KUBECONFIG"),
                environ=self.env.environ,
            ),
        )

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
        return self._cached(
            "mysql",
            lambda: MysqlAdapter(
                settings["mysql-url"],
                password=settings.secret("mysql-password"),
                ca_file=settings["mysql-ca-file"],
                timeout=settings.timeout,
            ),
        )

    def _gcp_project(self) -> str:
        project = self.settings()["gcp-project"]
        if not project:
            raise UsageError("gcp-project is not set: add it to the context or set WBCTL_GCP_PROJECT")
        return project

    def bigtable(self, *, wait: bool = True) -> BigtableAdapter:
        from wbctl.adapters.google.bigtable import BigtableAdapter
        from wbctl.core.bigtable import default_instance

        settings = self.settings()
        project = self._gcp_project()
        progress = self.terminal().progress
        return self._cached(
            ("bigtable", wait),
            lambda: BigtableAdapter(
                project=project,
                instance_id=settings["bigtable-instance"] or default_instance(settings["instance"]),
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-bigtable-admin-endpoint"],
                wait=wait,
                progress=progress,
            ),
        )

    def metrics(self, kind: str | None = None) -> MetricsSource:
        """The metrics source `kind` names ("cloud-monitoring" or "prometheus"); default the
        `metrics-source` setting. Bigtable's and the queue's sources are chosen apart: a
        bufstream install on Google Cloud reads its lag from Prometheus."""
        from wbctl.adapters.metrics import SIGNALS, CloudMonitoring, Prometheus

        settings = self.settings()
        kind = kind or settings["metrics-source"]
        if kind == "prometheus":
            queries = {
                name: settings[f"prometheus-query-{name}"]
                for name in SIGNALS
                if settings.values.get(f"prometheus-query-{name}") and settings[f"prometheus-query-{name}"]
            }
            return self._cached(
                "prometheus",
                lambda: Prometheus(url=settings["prometheus-url"], timeout=settings.timeout, queries=queries),
            )
        project = self._gcp_project()
        return self._cached(
            "cloud-monitoring",
            lambda: CloudMonitoring(
                project=project,
                timeout=settings.timeout,
                emulator_host=settings["gcp-emulator-host"],
                endpoint=settings["gcp-monitoring-endpoint"],
            ),
        )

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

    def apply(
        self, plan: Plan, applier: Applier, *, dry_run: bool, yes: bool, replan: Callable[[], Plan] | None = None
    ) -> bool:
        """The one mutation path (wbctl.app.mutation), with this invocation's settings.

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
        for closer in reversed(self._closers):
            try:
                closer.close()
            except Exception:  # closing is best effort: the command's outcome is already decided
                pass
        if self._sandbox is not None:
            self._sandbox.stop()
