"""What the sandbox's pods print and use, from the same model the queue runs on.

`kubectl logs` and `kubectl top` are where an on-call following the guide looks next after the
HPA, so they must tell the story the metrics tell (kube/telemetry.py serves them):

- each ready flat-run-fields-updater pod logs one line a simulated minute: what it wrote (the
  model's consumption shared among the ready replicas), its rate per second against what a
  replica can write, the run it wrote most for (the noisy run while it sends, by the id the
  runbook names; the noisy run's share is the one the per-run metric serves), and the oldest
  unacked message; WARN while it writes at capacity behind a backlog. While the noisy run is
  discarded, its lines say so. Other pods log the line they started with.
- CPU: the updater's is its request times the utilisation its HPA reports (what each replica
  writes against what it can); every other container idles at a tenth of its request; a
  node's is its pods' plus the system's. Memory is steady. Deterministic on the simulated clock.

Lines are logfmt (`time=... level=... msg=...`): greppable, and readable without a JSON tool.
"""

from __future__ import annotations

import hashlib
import math
from bisect import bisect_right
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from wbctl.core.durations import format_duration
from wbctl.sandbox.sim.queue_model import Sample
from wbctl.sandbox.sim.stories import NOISY_RUN, PER_REPLICA, QUIET_RUNS

LOG_LINES = 1440  # a simulated day of a pod's lines at most: what the kubelet keeps before rotating
IDLE_SHARE = 0.1  # an idle container's CPU, as a share of its request
SYSTEM = (0.35, 1_600 * 2**20)  # what a GKE node's kubelet, runtime and daemons use (cores, bytes)
_UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12}
_CPU_UNITS = {"n": 1e-9, "u": 1e-6, "m": 1e-3}


def cores(quantity: Any, default: float) -> float:
    """A CPU quantity ("100m", "2", "250000000n") in cores."""
    text = str(quantity or "")
    if not text:
        return default
    try:
        if text[-1] in _CPU_UNITS:
            return float(text[:-1]) * _CPU_UNITS[text[-1]]
        return float(text)
    except ValueError:
        return default


def size(quantity: Any, default: int) -> int:
    """A memory quantity ("128Mi", "1Gi", "29094932Ki", "512M") in bytes."""
    text = str(quantity or "")
    for unit in sorted(_UNITS, key=len, reverse=True):
        if text.endswith(unit):
            try:
                return int(float(text[: -len(unit)]) * _UNITS[unit])
            except ValueError:
                return default
    try:
        return int(float(text)) if text else default
    except ValueError:
        return default


def _jitter(name: str) -> float:
    """A pod's own steady offset, 0.9 to 1.1: pods of one Deployment do not all read the same."""
    return 0.9 + 0.2 * (int(hashlib.sha256(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF)


def _created(pod: Mapping[str, Any]) -> datetime | None:
    text = (pod.get("metadata") or {}).get("creationTimestamp")
    try:
        return datetime.fromisoformat(str(text).replace("Z", "+00:00")) if text else None
    except ValueError:
        return None


def _running(pod: Mapping[str, Any]) -> bool:
    return (pod.get("status") or {}).get("phase") == "Running" and bool((pod.get("spec") or {}).get("nodeName"))


class WorldTelemetry:
    """kube/telemetry.py's Telemetry over a World (sim/world.py): its samples, clock and changes."""

    def __init__(self, world: Any, updater: str) -> None:
        self.world = world
        self.updater = updater  # the updater's app.kubernetes.io/name

    def now(self) -> datetime:
        moment: datetime = self.world.clock.now()
        return moment

    def _is_updater(self, pod: Mapping[str, Any]) -> bool:
        return ((pod.get("metadata") or {}).get("labels") or {}).get("app.kubernetes.io/name") == self.updater

    # --- logs -----------------------------------------------------------------------------------

    def log(self, pod: Mapping[str, Any], container: str) -> list[tuple[datetime, str]]:
        created = _created(pod) or self.world.story_start
        name = pod["metadata"]["name"]
        if not self._is_updater(pod) or container != self.updater:
            return [(created, f'time={created:%Y-%m-%dT%H:%M:%SZ} level=INFO msg="started" service={container}')]
        samples: list[Sample] = self.world.simulation.samples
        first = bisect_right([s.time for s in samples], self.world.seconds(created))  # minutes it lived through
        shown = samples[max(first, len(samples) - LOG_LINES) :]
        discards = self._discards()
        return [(self.world.moment(s.time), self._line(s, name, discards)) for s in shown if s.replicas]

    def _discards(self) -> list[tuple[float, bool]]:
        return sorted((c.at, bool(c.discard)) for c in self.world.changes if c.discard is not None)

    def _line(self, sample: Sample, pod: str, discards: Sequence[tuple[float, bool]]) -> str:
        story = self.world.story
        moment = self.world.moment(sample.time)
        per_pod = sample.consumed / sample.replicas
        noisy = max(0.0, sample.published - story.publish_base) / sample.published if sample.published else 0.0
        quiet = 0.3 * (1 - noisy)  # the busiest of the quiet runs (stories._run_updates' shares)
        top, share = (NOISY_RUN, noisy) if noisy > quiet else (QUIET_RUNS[0], quiet)
        behind = sample.backlog >= 1 and per_pod >= 0.99 * PER_REPLICA
        fields = (
            f"time={moment:%Y-%m-%dT%H:%M:%SZ} level={'WARN' if behind else 'INFO'} "
            f'msg="{"writing at capacity, behind the queue" if behind else "run updates written"}" '
            f"pod={pod} messages={round(per_pod * 60)} per_second={per_pod:.1f} capacity_per_second={PER_REPLICA:.0f} "
            f"top_run={top} top_run_updates={round(per_pod * 60 * share)} "
            f"oldest_unacked={format_duration(sample.oldest_age).replace(' ', '')}"
        )
        at = sample.time - 60
        discarded = next((d for t, d in reversed(discards) if t <= at), False)
        if discarded and story.noisy_at(at):
            fields += f" discarded_run={NOISY_RUN} discarded_by=gorilla.DiscardV2UpdatesForRun"
        return fields

    # --- usage ----------------------------------------------------------------------------------

    def usage(self, pod: Mapping[str, Any]) -> dict[str, tuple[float, int]]:
        if not _running(pod):
            return {}
        name = pod["metadata"]["name"]
        last: Sample | None = self.world.last()
        result: dict[str, tuple[float, int]] = {}
        for container in (pod.get("spec") or {}).get("containers") or []:
            requests = (container.get("resources") or {}).get("requests") or {}
            cpu_request = cores(requests.get("cpu"), 0.05)
            memory = round(size(requests.get("memory"), 64 * 2**20) * 0.6 * _jitter(name + "memory"))
            cpu = cpu_request * IDLE_SHARE * _jitter(name)
            if self._is_updater(pod) and container.get("name") == self.updater and last is not None and last.replicas:
                utilisation = min(1.0, last.consumed / (last.replicas * PER_REPLICA))
                cpu = cpu_request * utilisation * (0.5 + _jitter(name) / 2)  # within 5 % of the HPA's
            result[str(container.get("name"))] = (cpu, memory)
        return result

    def node_usage(self, node: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> tuple[float, int]:
        used = [u for pod in pods for u in self.usage(pod).values()]
        cpu = SYSTEM[0] * _jitter(node["metadata"]["name"]) + math.fsum(c for c, _ in used)
        return cpu, SYSTEM[1] + sum(m for _, m in used)
