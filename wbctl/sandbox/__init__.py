"""The embedded sandbox: a simulated W&B deployment served in-process on loopback.

`wbctl --sandbox ...` starts it and points every backend setting at it, so the real adapters
run end to end over the real protocols: Redis through fakeredis's TCP server, Kubernetes
through the API fake of kube_api.py (the same one the test suite uses), holding the real
operator-wandb 0.43.8 chart's workloads, and Bigtable admin and Cloud Monitoring through the
gRPC fakes of google_api.py. Its state persists between invocations under $XDG_STATE_HOME/wbctl/sandbox/, one file per
scenario, so a rehearsal (`run discard`, then `run discarded`) behaves like the real thing;
`wbctl sandbox reset` starts a scenario afresh.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from wbctl.environment import Environment
from wbctl.errors import UsageError
from wbctl.sandbox.scenarios import NAMES, SCENARIOS, Scenario


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
    _servers: list[Any] = field(default_factory=list)
    _kube: Any = None
    _google: Any = None
    redis_url: str = ""
    kubeconfig: Path | None = None

    @property
    def state_file(self) -> Path:
        return self.directory / f"{self.scenario.name}.json"

    def start(self) -> Sandbox:
        from fakeredis import TcpFakeServer

        server = TcpFakeServer(("127.0.0.1", 0), server_type="redis")
        server.daemon_threads = True
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        self._servers.append(server)
        self.redis_url = f"redis://127.0.0.1:{server.server_address[1]}/0"
        saved = self._read_state() or {}
        samples = self.scenario.samples()
        self._load_redis(saved.get("redis"))
        self._start_kube(saved.get("kube"), samples[-1])
        self._start_google(saved.get("google"), samples)
        return self

    def _start_google(self, saved: dict[str, Any] | None, samples: list[Any]) -> None:
        from wbctl.sandbox.google_api import FakeGoogleAPIs
        from wbctl.sandbox.stories import add_bigtable, now_minute, publish

        self._google = FakeGoogleAPIs().start()
        story = self.scenario.story
        add_bigtable(self._google, NAMES, bounds=story.nodes, nodes=samples[-1].nodes,
                     cpu_target=round(story.cpu_target * 100))
        publish(self._google, NAMES, samples, now_minute(), story=story)  # the story always ends now
        if saved is not None:
            self._google.load_state(saved)  # what earlier rehearsals changed in Bigtable

    def _start_kube(self, saved: list[dict[str, Any]] | None, last: Any) -> None:
        from wbctl.sandbox.kube_api import FakeKubeAPI

        self._kube = FakeKubeAPI().start()
        self._kube.add_all(saved if saved is not None else self.scenario.kube(last))
        self.directory.mkdir(parents=True, exist_ok=True)
        self.kubeconfig = self.directory / f"{self.scenario.name}.kubeconfig"
        self.kubeconfig.unlink(missing_ok=True)
        self._kube.write_kubeconfig(self.kubeconfig, context="sandbox")

    def _kube_objects(self) -> list[dict[str, Any]]:
        from wbctl.sandbox.kube_api import RESOURCE_TYPES

        return [obj for rtype in RESOURCE_TYPES for obj in self._kube.objects(rtype.plural)]

    def settings(self) -> dict[str, Any]:
        """The values that replace the configuration's backend settings."""
        return {
            "redis-url": self.redis_url,
            "redis-ca-file": None,
            "kube-context": "sandbox",
            "namespace": "default",
            "instance": "wandb",
            "gcp-project": NAMES.project,
            "gcp-emulator-host": self._google.address,
            "bigtable-instance": None,
            "bigtable-cluster": None,
            "metrics-source": "cloud-monitoring",
            "queue-source": None,
            "queue-subscription": None,
            "queue-topic": None,
            "noisy-run-query": "",
            "read-only": False,
            **self.scenario.settings,
        }

    def _client(self) -> Any:
        import redis

        return redis.Redis.from_url(self.redis_url, decode_responses=True, socket_timeout=5)

    def _load_redis(self, keys: dict[str, Any] | None) -> None:
        client = self._client()
        try:
            if keys is None:
                for key, value in self.scenario.redis.items():
                    client.set(key, value)
            else:
                for key, (value, ttl_ms) in keys.items():
                    client.set(key, value, px=ttl_ms if ttl_ms and ttl_ms > 0 else None)
        finally:
            client.close()

    def _read_state(self) -> dict[str, Any] | None:
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return None

    def _save(self) -> None:
        client = self._client()
        try:
            keys = {key: (client.get(key), client.pttl(key)) for key in client.keys("*")}
        finally:
            client.close()
        state = {"scenario": self.scenario.name, "redis": keys, "kube": self._kube_objects(), "google": self._google.state()}
        self.directory.mkdir(parents=True, exist_ok=True)
        self.state_file.write_text(json.dumps(state))

    def stop(self) -> None:
        if not self._servers:
            return
        try:
            self._save()
        finally:
            for server in self._servers:
                server.shutdown()
                server.server_close()
            self._servers.clear()
            for fake in (self._kube, self._google):
                if fake is not None:
                    fake.stop()

    def reset(self) -> None:
        self.state_file.unlink(missing_ok=True)
