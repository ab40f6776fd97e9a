"""The embedded sandbox: a simulated W&B deployment served in-process on loopback.

`wbctl --sandbox ...` starts it and points every backend setting at it, so the real adapters
run end to end over the real protocols: Redis through fakeredis's TCP server (redis.py),
Kubernetes through the API fake of kube/api.py (the same one the test suite uses) holding the
real operator-wandb 0.43.8 chart's workloads (kube/objects/) and an operator that applies the
WeightsAndBiases resource (sim/operator.py), Bigtable admin and Cloud Monitoring through the
gRPC fakes of google/api.py, MySQL over its wire protocol (mysql/server.py), and for a v2
install (whose queue is Kafka) Prometheus's HTTP API (prometheus.py). A story's queue
moves as a deterministic model (sim/queue_model.py) on a compressed simulated clock
(sim/clock.py), kept in step with the fakes by sim/world.py.

What a rehearsal changes (the clock's anchor, the changes the model saw, Redis keys, the
resource's values, Bigtable's limits, MySQL's variables) persists under
$XDG_STATE_HOME/wbctl/sandbox/, one small file per scenario, written only when something
changed; `wbctl sandbox reset` starts a scenario afresh.
"""

from __future__ import annotations

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from wbctl.environment import Environment
from wbctl.errors import UsageError
from wbctl.sandbox.sim.clock import SimClock
from wbctl.sandbox.sim.scenarios import NAMES, SCENARIOS, Scenario

STATE_VERSION = 3  # 3: the saved CR values carry W&B Terraform's GCP globals (bigtable, cloudProvider, bucket)
READY_AFTER = timedelta(seconds=30)


def sandbox_dir(env: Environment) -> Path:
    return env.xdg_dir("XDG_STATE_HOME", ".local/state") / "wbctl" / "sandbox"


def scenario_named(name: str) -> Scenario:
    if name not in SCENARIOS:
        raise UsageError(f"unknown sandbox scenario {name!r} (known: {', '.join(SCENARIOS)})")
    return SCENARIOS[name]


@dataclass
class Sandbox:
    scenario: Scenario
    directory: Path
    speed: float = 60.0
    tls: bool = False  # the Kubernetes API over HTTPS (kubectl sends its token only over TLS)
    served: bool = False  # `sandbox serve`: the namespace names the served endpoints (serve_endpoints)
    redis_url: str = ""
    kubeconfig: Path | None = None
    world: Any = None
    _servers: list[Any] = field(default_factory=list)
    _kube: Any = None
    _google: Any = None
    _mysql: Any = None
    _prometheus: Any = None  # v2 only: the Kafka lag's Prometheus (sim/kafka.py's numbers)
    _redis: Any = None  # one redis-py client of the sandbox's Redis, for the sandbox's own reads
    _lock: Any = None  # the scenario's ScenarioLock, held from start to stop
    _saved: dict[str, Any] = field(default_factory=dict)
    _clock_json: dict[str, object] = field(default_factory=dict)
    _kube_lock: threading.Lock = field(default_factory=threading.Lock)
    _chart_values: dict[str, Any] | None = None  # the resource's values before serving pointed them here

    @property
    def state_file(self) -> Path:
        return self.directory / f"{self.scenario.name}.json"

    # --- starting -------------------------------------------------------------------------------

    def start(self) -> Sandbox:
        """Every server at once (each on a free loopback port); the Kubernetes objects only when
        the first Kubernetes request comes. The servers' modules are imported first, one after
        another: four threads importing at once contend for the import lock and the GIL, and
        made `wbctl --sandbox check` ~250 ms slower than this (bench/sandbox_overhead.py)."""
        from wbctl.sandbox.sim.lock import ScenarioLock

        self._lock = ScenarioLock(self.directory, self.scenario.name).acquire()
        try:
            return self._start()
        except BaseException:
            self.stop()
            raise

    def _start(self) -> Sandbox:
        import wbctl.sandbox.google.api
        import wbctl.sandbox.kube.api
        import wbctl.sandbox.mysql.server
        import wbctl.sandbox.prometheus
        import wbctl.sandbox.redis  # noqa: F401 - the servers' modules, imported one after another
        from wbctl.sandbox.sim.telemetry import WorldTelemetry
        from wbctl.sandbox.sim.world import UPDATER, World

        saved = self._read_state()
        fresh = saved is None or saved.get("version") != STATE_VERSION or saved.get("scenario") != self.scenario.name
        self._saved = {} if fresh else saved  # type: ignore[assignment]
        clock = SimClock.starting_now(self.speed) if fresh else SimClock.from_json(self._saved["clock"], self.speed)
        story_start = (
            clock.sim_anchor - timedelta(seconds=self.scenario.length)
            if fresh
            else datetime.fromisoformat(self._saved["story_start"])
        )
        with ThreadPoolExecutor(max_workers=4) as pool:
            redis = pool.submit(self._start_redis, clock)
            kube = pool.submit(self._start_kube)
            google = pool.submit(self._start_google)
            mysql = pool.submit(self._start_mysql)
            redis.result(), kube.result(), google.result(), mysql.result()
        from wbctl.sandbox.sim.queue_model import Change

        self._redis = self._client()
        self.world = World(
            self.scenario.story,
            NAMES,
            clock,
            story_start,
            changes=[Change.from_json(c) for c in self._saved.get("changes", [])],
            history=list(self._saved.get("history", [])),
            google=self._google,
            redis=self._redis,
            v2=self.scenario.operator == "v2",
        )
        if self.world.v2:  # its queue is Kafka: the lag's Prometheus, once the world it reads exists
            self._start_prometheus()
        if fresh:
            self._saved = {
                "version": STATE_VERSION,
                "scenario": self.scenario.name,
                "story_start": story_start.isoformat(),
            }
        self._clock_json = clock.to_json()
        self._load_redis()
        self._kube.telemetry = WorldTelemetry(self.world, UPDATER)  # kubectl logs and top, from the model
        self._google.on_call = self.world.sync
        self._kube.on_request = self._kube_request
        return self

    def _start_redis(self, clock: SimClock) -> None:
        from wbctl.sandbox import redis as sandbox_redis

        server = sandbox_redis.start_redis(lambda: clock.now().timestamp())
        self._servers.append(server)
        self.redis_url = sandbox_redis.url(server)

    def _start_kube(self) -> None:
        from wbctl.sandbox.kube.api import FakeKubeAPI

        self._kube = (FakeKubeAPI(tls=True) if self.tls else FakeKubeAPI()).start()
        self.directory.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.directory / f"{self.scenario.name}.kubeconfig"
        self.kubeconfig.unlink(missing_ok=True)
        self._kube.write_kubeconfig(self.kubeconfig, context="sandbox")
        if self.scenario.operator == "v2":  # the v2 operator's CRD: v1 and v2 served, v2 stored
            from wbctl.sandbox.kube.objects.operator_v2 import VERSIONS

            self._kube.serve_versions("weightsandbiases", VERSIONS)

    def _start_google(self) -> None:
        from wbctl.sandbox.google.api import FakeGoogleAPIs
        from wbctl.sandbox.sim.stories import add_bigtable

        self._google = FakeGoogleAPIs().start()
        story = self.scenario.story
        if self.scenario.operator != "v2":  # the v2 operator's install has no Bigtable (nor Pub/Sub)
            add_bigtable(
                self._google,
                NAMES,
                bounds=story.nodes,
                nodes=story.start_nodes,
                cpu_target=round(story.cpu_target * 100),
            )
        if self._saved.get("google") is not None:
            self._google.load_state(self._saved["google"])  # what earlier rehearsals changed in Bigtable

    def _start_mysql(self) -> None:
        from wbctl.sandbox.mysql.server import start_mysql

        self._mysql = start_mysql(self.scenario.mysql, self._saved.get("mysql"))

    def _start_prometheus(self) -> None:
        from wbctl.sandbox.prometheus import FakePrometheus
        from wbctl.sandbox.sim.kafka import KafkaLag

        self._prometheus = FakePrometheus(KafkaLag(self.world)).start()

    def serve_endpoints(self) -> None:
        """From now on the namespace names this sandbox's own endpoints (kube/objects/served.py),
        so `config init` against the served kubeconfig writes a context that reaches them all.
        Before the first Kubernetes request, which loads the namespace."""
        with self._kube_lock:
            if self.world.kube is not None:
                raise RuntimeError("serve_endpoints after the namespace was loaded")
            self.served = True

    def _kube_request(self, *_: Any) -> None:
        """The first Kubernetes request loads the namespace; every one brings it up to date."""
        with self._kube_lock:
            if self.world.kube is None:
                self._load_kube()
        self.world.sync()

    def _load_kube(self) -> None:
        """The scenario's namespace (built once, then cached), the resource's saved values,
        and what the operator makes of them: pods of earlier rehearsals are up and ready."""
        from wbctl.sandbox.sim import operator, operator_v2

        v2 = self.scenario.operator == "v2"
        objects, cached = self._objects()
        values = self._saved.get("cr_applications" if v2 else "cr_values")
        for obj in objects:
            if obj["kind"] == "WeightsAndBiases" and values is not None:
                if v2:
                    obj["spec"]["wandb"]["applications"] = values
                else:
                    obj["spec"]["values"] = values
        if self.served and not v2:  # the v2 namespace keeps its own addresses (Kafka, ClickHouse)
            objects = self._pointed_here(objects)
        self._kube.add_all(objects, owned=cached)  # from the cache: checked when it was built
        now = self.world.clock.now()
        reconcile = operator_v2.reconcile if v2 else operator.reconcile
        self.world.kube, self.world.reconcile, self.world.v2 = self._kube, reconcile, v2
        reconcile(self._kube, namespace="default", instance=NAMES.install, now=now - READY_AFTER - timedelta(seconds=1))
        self.world.reconciled_version = self.world.cr_version()

    def _pointed_here(self, objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
        from wbctl.sandbox.kube.objects.served import Endpoints, point_at

        cr = next(obj for obj in objects if obj["kind"] == "WeightsAndBiases")
        self._chart_values = json.loads(json.dumps(cr["spec"].get("values") or {}))
        endpoints = Endpoints.of(self.settings(), project=NAMES.project, bigtable_instance=NAMES.instance)
        return point_at(objects, endpoints, instance=NAMES.install, namespace="default")

    def _objects(self) -> tuple[list[dict[str, Any]], bool]:
        """The scenario's initial objects, and whether they come from the cache: the chart's
        YAML is parsed once per scenario and the result kept as JSON beside the state (deleting
        it costs one rebuild). The cache names what it was built from, so an edited fixture or
        another wbctl rebuilds it."""
        cache = self.directory / f"{self.scenario.name}.objects.json"
        source = _fixtures_fingerprint()
        try:
            cached = json.loads(cache.read_text())
            if cached.get("source") == source:
                return cached["objects"], True
        except (OSError, ValueError, AttributeError):
            pass
        objects = self.scenario.kube(self.scenario.samples()[-1])
        try:
            cache.write_text(json.dumps({"source": source, "objects": objects}))
        except OSError:
            pass
        return objects, False

    # --- what the commands see ------------------------------------------------------------------

    def bigtable_location(self) -> dict[str, str]:
        """The project and instance its Bigtable admin serves, as `cbt -project -instance` take them."""
        return {"project": NAMES.project, "instance": NAMES.instance}

    def settings(self) -> dict[str, Any]:
        """The values that replace the configuration's backend settings."""
        return {
            "redis-url": self.redis_url,
            "redis-ca-file": None,
            "kube-context": "sandbox",
            "namespace": "default",
            "instance": NAMES.install,
            "gcp-project": NAMES.project,
            "gcp-emulator-host": self._google.address,
            # what its CR says too; named, so no command reads the CR for it (v2: none, as the CR says)
            "bigtable-instance": None if self.scenario.operator == "v2" else NAMES.instance,
            "bigtable-cluster": None,
            "metrics-source": "cloud-monitoring",
            "queue-source": None,
            "queue-subscription": None,
            "queue-topic": None,
            "noisy-run-query": "",
            "mysql-url": self._mysql.url,
            "mysql-ca-file": None,
            "read-only": False,
            **(self._prometheus_settings() if self._prometheus is not None else {}),
            **self.scenario.settings,
        }

    def _prometheus_settings(self) -> dict[str, Any]:
        """v2: every metric from the sandbox's Prometheus, with wbctl's default PromQL (none
        configured elsewhere applies), so nothing reaches the default 127.0.0.1:9090."""
        from wbctl.config.keys import KEYS

        queries = {key: None for key in KEYS if key.startswith("prometheus-query-")}
        return {"metrics-source": "prometheus", "prometheus-url": self._prometheus.url, **queries}

    # --- Redis keys, their expiry in simulated time -----------------------------------------------

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=5)

    def _load_redis(self) -> None:
        """The scenario's keys, or those saved with their absolute simulated expiry; a key whose
        expiry passed while the sandbox was not running stays gone."""
        saved = self._saved.get("redis")
        now = self.world.clock.now()
        pipe = self._redis.pipeline(transaction=False)
        if saved is None:
            for key, value in self.scenario.redis.items():
                pipe.set(key, value)
        for key, (value, expires) in (saved or {}).items():
            at = datetime.fromisoformat(expires) if expires is not None else None
            if at is None or at > now:
                pipe.set(key, value, pxat=round(at.timestamp() * 1000) if at is not None else None)
        pipe.execute()

    def _redis_state(self) -> dict[str, Any]:
        """Each key with its absolute expiry in simulated time (the Redis's clock is simulated)."""
        keys = sorted(self._redis.keys("*"))
        pipe = self._redis.pipeline(transaction=False)
        for key in keys:
            pipe.get(key)
            pipe.pexpiretime(key)
        answers = pipe.execute()
        return {
            key: [value, datetime.fromtimestamp(at / 1000, UTC).isoformat() if at >= 0 else None]
            for key, value, at in zip(keys, answers[::2], answers[1::2])
            if value is not None
        }

    # --- saving and stopping --------------------------------------------------------------------

    def _read_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _state(self) -> dict[str, Any]:
        world = self.world
        state = dict(self._saved)
        state["clock"] = self._clock_json
        state["changes"] = [change.to_json() for change in world.changes]
        state["history"] = list(world.history)
        state["redis"] = self._redis_state()
        state["google"] = self._google.state()
        state["mysql"] = self._mysql.variables()
        if world.kube is not None:
            cr = self._kube.get("weightsandbiases", "default", NAMES.install)
            if self.scenario.operator == "v2":
                state["cr_applications"] = ((cr or {}).get("spec") or {}).get("wandb", {}).get("applications")
                return state
            state["cr_values"] = cr["spec"].get("values") if cr else None
            if state["cr_values"] is not None and self._chart_values is not None:
                from wbctl.sandbox.kube.objects.served import chart_values

                state["cr_values"] = chart_values(state["cr_values"], self._chart_values)  # not the ports
        return state

    def _save(self) -> None:
        state = self._state()
        if state == self._saved:
            return  # a command that changed nothing leaves the file alone
        self.directory.mkdir(parents=True, exist_ok=True)
        temporary = self.state_file.with_suffix(".tmp")
        temporary.write_text(json.dumps(state))
        temporary.replace(self.state_file)
        self._saved = state

    def advance(self, seconds: float) -> datetime:
        """`wbctl sandbox advance`: simulated time moves on at once (and is saved)."""
        moment = self.world.clock.advance(seconds)
        self._clock_json = self.world.clock.to_json()
        self.world.sync()
        return moment

    def stop(self) -> None:
        """Save, then every server down side by side (each waits for its loop to notice), then
        the scenario's lock released. Also after a start that failed midway."""
        try:
            if self.world is not None:
                self._save()
        finally:
            if self._redis is not None:
                self._redis.close()
                self._redis = None
            stops = [server_stop(server) for server in self._servers]
            fakes = (self._kube, self._google, self._mysql, self._prometheus)
            stops += [fake.stop for fake in fakes if fake is not None]
            if stops:
                with ThreadPoolExecutor(max_workers=len(stops)) as pool:
                    for done in [pool.submit(stop) for stop in stops]:
                        done.result()
            self._servers.clear()
            self._kube = self._google = self._mysql = self._prometheus = None
            self.world = None
            if self._lock is not None:
                self._lock.release()
                self._lock = None


def _fixtures_fingerprint() -> str:
    """wbctl's version and the size and time of every file the namespace is built from."""
    from wbctl import __version__

    here = Path(__file__).parent
    objects = here / "kube" / "objects"
    files = sorted(
        [
            *objects.glob("*.py"),
            here / "sim" / "scenarios.py",
            here / "sim" / "stories.py",
            *(path for path in objects.glob("data/**/*") if path.is_file()),
        ]
    )
    stamps = [f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}" for path in files if (stat := path.stat())]
    return f"{__version__} " + ",".join(stamps)


def server_stop(server: Any) -> Any:
    """A socketserver's shutdown and close, as one call."""

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return stop
