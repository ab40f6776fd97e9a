"""The sandbox's deployment as it lives: the queue model, the clock, and the fakes kept in step.

Before each call a fake serves, `sync` brings everything up to the simulated present:
1. what engineers changed is read back from the fakes - the updater's HPA bounds or fixed
   replicas (after the operator has applied the WeightsAndBiases resource), Bigtable's
   autoscaling limits, whether the noisy run is discarded in Redis - and becomes a `Change`
   of the model, logged with its time (the log is what the sandbox saves);
2. the model (queue_model.Simulation) advances to now;
3. its samples are served: Pub/Sub and Bigtable metrics (Pub/Sub's two minutes late), the
   cluster's node count, and through the operator the updater's replicas, pods and HPA status.

So `services autoscale`, `bigtable autoscale` and `run discard` change what the next
`runbook queue-backlog` sees, the way they would in a real deployment.
"""

from __future__ import annotations

import threading
from bisect import bisect_right
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from wbctl.core import catalog, service_view
from wbctl.sandbox.sim.clock import SimClock
from wbctl.sandbox.sim.queue_model import STEP, Change, Sample, Simulation, Story
from wbctl.sandbox.sim.script import act
from wbctl.sandbox.sim.stories import (
    NOISY_RUN,
    PER_REPLICA,
    PUBSUB_DELAY,
    Names,
    publish_bigtable,
    publish_pubsub,
)

DISCARD_KEY = "gorilla.DiscardV2UpdatesForRun"
OPERATOR_PERIOD = timedelta(minutes=1)
UPDATER = catalog.resolve(service_view.UPDATER).short  # "flat-run-fields-updater": the chart's name for it
FILESTREAM = catalog.resolve("wandb-filestream").short  # "filestream"


@dataclass
class World:
    story: Story
    names: Names
    clock: SimClock
    story_start: datetime
    changes: list[Change] = field(default_factory=list)
    history: list[str] = field(default_factory=list)  # what engineers changed, in words (sandbox status)
    google: Any = None
    kube: Any = None  # a FakeKubeAPI, once its objects are loaded
    redis: Any = None  # a redis-py client of the sandbox's Redis (the sandbox closes it)
    reconcile: Callable[..., list[str]] | None = None  # the operator (operator.reconcile)
    namespace: str = "default"
    v2: bool = False  # the v2 operator runs it: the updater's Deployment and HPA are named after the app
    _simulation: Simulation | None = None
    _pubsub_next: int = 0  # the first sample not yet published to Pub/Sub's series
    _bigtable_next: int = 0  # ... to Bigtable's
    _operated: tuple[datetime, str] | None = None  # when the operator last reconciled, and the resource's version then
    reconciled_version: str | None = None  # the resource's version the operator last applied (the load's, at first)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # --- time ---------------------------------------------------------------------------------

    def seconds(self, moment: datetime) -> float:
        return (moment - self.story_start).total_seconds()

    def moment(self, seconds: float) -> datetime:
        return self.story_start + timedelta(seconds=seconds)

    @property
    def simulation(self) -> Simulation:
        if self._simulation is None:  # replay the log: deterministic from the story and the changes
            simulation = Simulation(self.story)
            for change in sorted(self.changes, key=lambda c: c.at):
                simulation.advance(change.at)
                simulation.apply(change)
            self._simulation = simulation
        return self._simulation

    def last(self) -> Sample | None:
        samples = self.simulation.samples
        return samples[-1] if samples else None

    def sample_at(self, moment: datetime) -> Sample | None:
        """The newest sample at or before `moment` (None: the story had not begun), read under
        the lock `sync` holds: a server thread may be adding samples meanwhile."""
        with self._lock:
            samples = self.simulation.samples
            index = bisect_right(samples, self.seconds(moment), key=lambda sample: sample.time)
            return samples[index - 1] if index else None

    # --- keeping in step ------------------------------------------------------------------------

    def sync(self, *_: Any) -> None:
        with self._lock:
            now = self.clock.now()
            at = self.seconds(now)
            self._read_bigtable(at)
            self._read_discard(at)
            operate = self.kube is not None and self._operator_due(now)
            if operate:
                if self.reconciled_version != self.cr_version():  # new bounds first, then read them
                    self._reconcile(now, None)
                self._read_updater(at)
                self._read_filestream(at)
            self.simulation.advance(at)
            self._publish(now)
            self._write_bigtable()
            if operate:
                self._reconcile(now, self.last())
                self._operated = (now, self.reconciled_version or "")
            if self.kube is not None:
                self._run_auditor(now)

    def _run_auditor(self, now: datetime) -> None:
        """wbctl's auditor CronJob, where the scenario has one, has run at every tick of its
        schedule (kube/objects/observability.py `auditor_ran`), so its freshness follows the clock."""
        from wbctl.core.deploy import NAME
        from wbctl.sandbox.kube.objects.observability import auditor_ran

        cronjob = self.kube.get("cronjobs", self.namespace, NAME)
        status = auditor_ran(cronjob, now) if cronjob is not None else None
        if status is not None and any((cronjob.get("status") or {}).get(k) != v for k, v in status.items()):
            self.kube.merge("cronjobs", self.namespace, NAME, {"status": status})

    def cr_version(self) -> str:
        cr = self.kube.get("weightsandbiases", self.namespace, self.names.install)
        return "" if cr is None else str(cr["metadata"].get("resourceVersion", ""))

    def _operator_due(self, now: datetime) -> bool:
        """The operator reconciles when the WeightsAndBiases resource changed, and once a
        simulated minute: a direct write (`--via deployment`) stands until then, and is read
        back, as on a real cluster, before the operator undoes it."""
        if self._operated is None:
            return True
        at, version = self._operated
        return version != self.cr_version() or now - at >= OPERATOR_PERIOD

    def _change(self, change: Change, words: str) -> None:
        self.simulation.advance(change.at)
        self.simulation.apply(change)
        self.changes.append(change)
        self.history.append(f"{self.moment(change.at):%Y-%m-%d %H:%M} {words}")

    def _read_bigtable(self, at: float) -> None:
        if self.google is None or self.v2:  # the v2 operator's install has no Bigtable
            return
        cluster = self.google.cluster(self.names.project, self.names.instance, self.names.cluster)
        scaling = cluster["autoscaling"]
        bounds = (scaling["min"], scaling["max"]) if scaling else (cluster["serve_nodes"], cluster["serve_nodes"])
        current = self.simulation.node_bounds
        if tuple(bounds) != tuple(current):
            words = (
                f"Bigtable autoscaling {current[0]}-{current[1]} -> {bounds[0]}-{bounds[1]} nodes"
                if scaling
                else f"Bigtable fixed at {bounds[0]} nodes (autoscaling off)"
            )
            self._change(Change(at=at, nodes=(int(bounds[0]), int(bounds[1]))), words)

    def _write_bigtable(self) -> None:
        last = self.last()
        if self.google is not None and last is not None and not self.v2:
            self.google.set_serve_nodes(self.names.project, self.names.instance, self.names.cluster, last.nodes)

    def _read_discard(self, at: float) -> None:
        if self.redis is None:
            return
        discarded = self.redis.get(DISCARD_KEY) == NOISY_RUN
        if discarded != self.simulation.discarded:
            words = f"run {NOISY_RUN} discarded" if discarded else f"run {NOISY_RUN} restored"
            self._change(Change(at=at, discard=discarded), words)

    @property
    def updater_hpa(self) -> str:
        """The updater's HPA: `<instance>-<svc>` (the chart's) or the app's name (the v2 operator's)."""
        return UPDATER if self.v2 else f"{self.names.install}-{UPDATER}"

    def _read_updater(self, at: float) -> None:
        hpa = self.kube.get("horizontalpodautoscalers", self.namespace, self.updater_hpa)
        simulation = self.simulation
        if hpa is not None:
            spec = hpa.get("spec") or {}
            bounds = (int(spec.get("minReplicas") or 1), int(spec.get("maxReplicas") or 1))
            if simulation.hpa != bounds:
                before = f"{simulation.hpa[0]}-{simulation.hpa[1]}" if simulation.hpa else "none"
                self._change(
                    Change(at=at, hpa=bounds), f"updater autoscaling {before} -> {bounds[0]}-{bounds[1]} replicas"
                )
            return
        deployment = next(
            (
                d
                for d in self.kube.objects("deployments", self.namespace)
                if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == UPDATER
                or (self.v2 and d["metadata"]["name"] == UPDATER)
            ),
            None,
        )
        if deployment is None:
            return
        replicas = int((deployment.get("spec") or {}).get("replicas") or 0)
        if simulation.hpa is not None or replicas != simulation.fixed:
            self._change(Change(at=at, replicas=replicas), f"updater fixed at {replicas} replicas (no autoscaling)")

    def _read_filestream(self, at: float) -> None:
        """Filestream's replicas as its Deployment holds them (the operator clamps them to the
        HPA's bounds): more of them consume more of its own subscription (sim/filestream.py)."""
        deployment = next(
            (
                d
                for d in self.kube.objects("deployments", self.namespace)
                if (d["metadata"].get("labels") or {}).get("app.kubernetes.io/name") == FILESTREAM
            ),
            None,
        )
        if deployment is None:
            return
        replicas = int((deployment.get("spec") or {}).get("replicas") or 0)
        known = [c.filestream_replicas for c in self.changes if c.filestream_replicas is not None]
        before = known[-1] if known else self.story.filestream.replicas
        if replicas != before:
            self._change(Change(at=at, filestream_replicas=replicas), f"filestream {before} -> {replicas} replicas")

    def _reconcile(self, now: datetime, last: Sample | None) -> None:
        if self.reconcile is None:
            return
        desired = {UPDATER: last.wanted_replicas} if last is not None and last.hpa is not None else None
        self.reconcile(
            self.kube, namespace=self.namespace, instance=self.names.install, now=now, desired_replicas=desired
        )
        self.reconciled_version = self.cr_version()
        if last is not None:
            self._hpa_cpu(last)

    def _hpa_cpu(self, last: Sample) -> None:
        """The updater's CPU as its HPA reports it: what each replica writes against what it can."""
        name = self.updater_hpa
        hpa = self.kube.get("horizontalpodautoscalers", self.namespace, name)
        if hpa is None or not last.replicas:
            return
        cpu = min(100, round(100 * last.consumed / (last.replicas * PER_REPLICA)))
        metrics = [
            {
                "type": "Resource",
                "resource": {"name": "cpu", "current": {"averageUtilization": cpu, "averageValue": f"{cpu * 10}m"}},
            }
        ]
        if (hpa.get("status") or {}).get("currentMetrics") != metrics:
            self.kube.merge("horizontalpodautoscalers", self.namespace, name, {"status": {"currentMetrics": metrics}})

    def _publish(self, now: datetime) -> None:
        """The samples not yet served, from where the last call stopped: a week of the story
        is ~10,000 samples, and every call a fake serves syncs, so none walks them all again."""
        if self.google is None or self.v2:  # v2: no Pub/Sub, no Bigtable (its queue is Kafka)
            return
        samples = self.simulation.samples
        pubsub = self._unpublished(samples, self._pubsub_next, now - PUBSUB_DELAY)
        bigtable = self._unpublished(samples, self._bigtable_next, now)
        if pubsub:
            filestream = [(c.at, c.filestream_replicas) for c in self.changes if c.filestream_replicas is not None]
            publish_pubsub(self.google, self.names, pubsub, self.story, filestream)
            self._pubsub_next += len(pubsub)
        if bigtable:
            publish_bigtable(self.google, self.names, bigtable)
            self._bigtable_next += len(bigtable)

    def _unpublished(self, samples: list[Sample], start: int, until: datetime) -> list[tuple[datetime, Sample]]:
        pairs = []
        for sample in samples[start:]:
            moment = self.moment(sample.time)
            if moment > until:
                break
            pairs.append((moment, sample))
        return pairs

    # --- what `sandbox status` says -------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        last = self.last()
        now = self.clock.now()
        elapsed = self.seconds(now)
        return {
            "simulated_time": now.isoformat(),
            "speed": self.clock.speed,
            "story_began": self.story_start.isoformat(),
            "story_minutes": int(elapsed // STEP),
            "story": act(self.story, self.story_start, now, last, self.simulation.discarded).to_json(),
            "queue": None
            if last is None
            else {
                "backlog": round(last.backlog),
                "published_per_second": last.published,
                "consumed_per_second": last.consumed,
                "oldest_age_seconds": round(last.oldest_age),
                "bigtable_nodes": last.nodes,
                "bigtable_cpu_percent": round(100 * last.cpu),
                "updater_replicas": last.replicas,
                "noisy_run_discarded": self.simulation.discarded,
                "lost_messages": round(last.lost),
            },
            "changes": list(self.history),
        }
