"""`wbctl sandbox serve`: the simulated deployment kept up in the foreground, for kubectl,
redis-cli and the mysql client beside wbctl, and for `--sandbox` commands in other shells.

The serving process writes `<scenario>.serving.json` beside the sandbox's state: its process
id, the backends' addresses and the clock's anchor. A `--sandbox` command for that scenario
finds it and joins (`Joined`): it uses those backends instead of starting its own, and the
same simulated clock, so every shell rehearses one deployment. The file goes when the
server stops (Ctrl-C); a file left by a process that no longer runs is ignored.

`wbctl sandbox advance` from another shell cannot move the server's clock directly: it leaves
`<scenario>.advance.json` and waits for the server to take it (within a second).
"""

from __future__ import annotations

import json
import os
import socket
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from wbctl.errors import BackendError
from wbctl.sandbox.sim.clock import SimClock

TICK = 1.0  # wall seconds between the server's own syncs (series grow, pods become ready)


def serving_file(directory: Path, scenario: str) -> Path:
    return directory / f"{scenario}.serving.json"


def advance_file(directory: Path, scenario: str) -> Path:
    return directory / f"{scenario}.advance.json"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _listening(url: str) -> bool:
    host, _, port = url.split("//", 1)[-1].split("/", 1)[0].rpartition(":")
    try:
        with socket.create_connection((host, int(port)), timeout=0.5):
            return True
    except (OSError, ValueError):
        return False


@dataclass
class Joined:
    """A `--sandbox` command's view of a sandbox another process serves."""

    scenario: str
    directory: Path
    backends: dict[str, Any]
    kubeconfig: Path
    clock: SimClock
    status: dict[str, Any]  # the server's `sandbox status`, as of its last tick

    def settings(self) -> dict[str, Any]:
        return dict(self.backends)

    def advance(self, seconds: float) -> Any:
        request = {"id": uuid.uuid4().hex, "seconds": seconds}
        path = advance_file(self.directory, self.scenario)
        path.write_text(json.dumps(request))
        deadline = time.monotonic() + 5
        while path.exists():
            if time.monotonic() > deadline:
                path.unlink(missing_ok=True)
                raise BackendError(f"the sandbox serving {self.scenario} did not take the advance within 5 s")
            time.sleep(0.05)
        joined = find(self.directory, self.scenario, self.clock.speed)
        if joined is not None:  # the server's clock and status after it took the advance
            self.clock, self.status = joined.clock, joined.status
        return self.clock.now()

    def stop(self) -> None:
        """The server owns the state; a joined command leaves it alone."""


def find(directory: Path, scenario: str, speed: float) -> Joined | None:
    """The sandbox a live `sandbox serve` keeps up for `scenario`, if any."""
    try:
        data = json.loads(serving_file(directory, scenario).read_text())
    except (OSError, ValueError):
        return None
    if not _alive(int(data.get("pid", -1))) or not _listening(data["backends"]["redis-url"]):
        return None
    clock = SimClock.from_json(data["clock"], float(data.get("speed", speed)))
    return Joined(scenario, directory, data["backends"], Path(data["kubeconfig"]), clock, data.get("status", {}))


def pid_of(joined: Joined) -> str:
    try:
        return str(json.loads(serving_file(joined.directory, joined.scenario).read_text())["pid"])
    except (OSError, ValueError, KeyError):
        return "?"


def announce(sandbox: Any) -> dict[str, Any]:
    """Write the serving file; return what it says (also what `serve -o json` prints). The
    server rewrites it each tick, so `sandbox status` in another shell sees the story move."""
    document = {
        "pid": os.getpid(),
        "scenario": sandbox.scenario.name,
        "kubeconfig": str(sandbox.kubeconfig),
        "backends": sandbox.settings(),
        "bigtable": sandbox.bigtable_location(),
        "clock": sandbox.world.clock.to_json(),
        "speed": sandbox.world.clock.speed,
        "status": sandbox.world.summary(),
    }
    path = serving_file(sandbox.directory, sandbox.scenario.name)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document))
    temporary.replace(path)
    return document


def take_advance(sandbox: Any) -> bool:
    """Apply an advance another shell asked for; True when one was taken."""
    path = advance_file(sandbox.directory, sandbox.scenario.name)
    try:
        request = json.loads(path.read_text())
    except (OSError, ValueError):
        return False
    sandbox.advance(float(request.get("seconds", 0)))
    announce(sandbox)  # the new clock anchor, for joined commands
    path.unlink(missing_ok=True)
    return True


def export_lines(document: dict[str, Any]) -> list[str]:
    backends = document["backends"]
    redis_port = backends["redis-url"].rsplit(":", 1)[1].split("/", 1)[0]
    mysql_port = backends["mysql-url"].rsplit(":", 1)[1].split("/", 1)[0]
    scenario = document["scenario"]
    bigtable = document.get("bigtable") or {}
    return [
        f"# the sandbox {scenario!r} runs until Ctrl-C (its state is saved then); in another shell:",
        f"export KUBECONFIG={document['kubeconfig']}",
        f"export WBCTL_SANDBOX=1 WBCTL_SCENARIO={scenario}",
        f"export BIGTABLE_EMULATOR_HOST={backends['gcp-emulator-host']}",
        "# kubectl get deploy,hpa,pods,wandb -o wide",
        f"# cbt -project {bigtable.get('project')} -instance {bigtable.get('instance')} ls    (Google's Bigtable CLI)",
        f"# redis-cli -p {redis_port} get gorilla.DiscardV2UpdatesForRun",
        f"# mysql -h 127.0.0.1 -P {mysql_port} -u wandb wandb_local -e \"SHOW GLOBAL VARIABLES LIKE 'binlog%'\"",
        *(
            [
                f"# curl -s '{backends['prometheus-url']}/api/v1/query?query=sum(bufstream_kafka_consumer_group_offset_lag)'"
            ]
            if backends.get("metrics-source") == "prometheus"  # the v2 install: its Kafka lag's Prometheus
            else []
        ),
        "# wbctl runbook queue-backlog    (joins this sandbox)",
    ]


def withdraw(sandbox: Any) -> None:
    serving_file(sandbox.directory, sandbox.scenario.name).unlink(missing_ok=True)
    advance_file(sandbox.directory, sandbox.scenario.name).unlink(missing_ok=True)
