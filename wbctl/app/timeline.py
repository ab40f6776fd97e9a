"""What changed, on one time axis: the reads behind `wbctl changes` and the runbook's "what
changed before the rise" (one piece serves both), side by side and each bounded; the merging
and the words are core/timeline.py's.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta
from typing import Any

from wbctl.app import reads
from wbctl.app.gather import Gathering, Missing, Read, Results
from wbctl.app.session import Session
from wbctl.core import timeline
from wbctl.core.kube import Generation
from wbctl.core.timeline import KubeEvent, NodeCount, ResourceHistory, Revision, Sources

REVISIONS = Read[list[Revision]]("kube-revisions")
EVENTS = Read[list[KubeEvent]]("kube-events")
RESOURCE_HISTORY = Read[ResourceHistory]("kube-resource-history")
HISTORY_NOTES = Read[list[str]]("kube-history-notes")


def add_history(readers: reads.Readers, session: Session) -> None:
    """The Kubernetes reads of what happened (adapters/kube/history.py): ReplicaSets, Events by
    field selector, the resource's managedFields; each a read of its own, side by side."""
    from wbctl.adapters.kube.history import HistoryReader

    holder: dict[str, HistoryReader] = {}

    def reader() -> HistoryReader:
        if "reader" not in holder:
            holder["reader"] = HistoryReader(session.backends.kube().connection)
        return holder["reader"]

    lock = threading.Lock()

    def reader_ready() -> HistoryReader:  # built once, by whichever read runs first
        with lock:
            return reader()

    readers[REVISIONS] = lambda _: reader_ready().revisions()
    readers[EVENTS] = lambda _: reader_ready().events()
    readers[RESOURCE_HISTORY] = lambda _: reader_ready().resource() or ResourceHistory("", None)

    def notes(gathering: Gathering) -> list[str]:
        for read in (REVISIONS, EVENTS, RESOURCE_HISTORY):
            try:
                gathering.need(read)
            except Missing:
                pass
        return list(reader_ready().notes)

    readers[HISTORY_NOTES] = notes


def sources(results: Results, now: datetime, rise_began: datetime | None) -> Sources:
    """What the reads found as the timeline's sources; an unreadable one is a note."""
    found = Sources(now=now, rise_began=rise_began)

    def value(read: str, words: str) -> Any:
        result = results.get(read)
        if result is None:
            return None
        if not result.known:
            found.notes.append(f"{words}: {result.reason}")
        return result.value

    found.audit = value(reads.CHANGES, "wbctl's audit log") or ()
    resource = value(RESOURCE_HISTORY, "the WeightsAndBiases resource")
    found.resource = resource if resource is not None and resource.name else None
    found.revisions = value(REVISIONS, "ReplicaSets (rollouts)") or ()
    found.events = value(EVENTS, "Events (scaling, pod trouble)") or ()
    kube = results.get(reads.KUBE)
    v2 = kube is not None and kube.value is not None and kube.value.generation is Generation.V2
    nodes = None if v2 else value(reads.BIGTABLE_NODES, "Bigtable's node count")  # v2 runs no Bigtable
    if nodes is not None and nodes.series is not None:
        found.nodes = [NodeCount(s.labels.get("cluster", "?"), tuple(s.points)) for s in nodes.series]
    elif nodes is not None and not nodes.no_data:
        found.notes.append(f"Bigtable's node count: {nodes.reason}")
    found.discard = value(reads.DISCARD, "the discard key")
    observation = value(reads.KUBE, "the pods' statuses")
    found.pods = tuple(observation.pods) if observation is not None else ()
    found.notes += value(HISTORY_NOTES, "Kubernetes") or []
    return found


def _rise(session: Session, results: Results, window: int, now: datetime) -> datetime | None:
    from wbctl.core import queue

    address = results[reads.QUEUE_ADDRESS].value
    if address is None:
        return None
    judgement = queue.judge(
        reads.queue_readings(results, address), window=window, now=now, policy=reads.policy(session, address)
    )
    return judgement.rise_began


def parse_service(text: str | None) -> str | None:
    """--service: a service of the guide's, with or without `wandb-`; its full name."""
    from wbctl.core import catalog

    return None if text is None else catalog.resolve(text).name


def changes_document(session: Session, since: int, service: str | None = None) -> dict[str, Any]:
    """What changed in the last `since` seconds (on the signals' clock), oldest first, as the
    JSON `wbctl changes -o json` prints; `service` (a guide name, `wandb-` optional) keeps one
    service's changes. Every source read side by side, each request bounded (a page, a timeout)."""
    from wbctl.app.backends import sdk_modules
    from wbctl.app.gather import gather

    wanted = parse_service(service)
    now = session.env.now()
    readers: reads.Readers = {
        # the updater's queue address; the pods' statuses (an OOM kill leaves no Pod Event)
        reads.KUBE: lambda _: session.backends.kube().observe(("deployments", "pods")),
        reads.DISCARD: lambda _: session.backends.redis().discard_state(),
    }
    reads.add_changes(readers, session, since, now)
    add_history(readers, session)
    reads.add_queue(readers, session, since, now)
    readers[reads.BIGTABLE_NODES] = reads.signal_reader(session, reads.BIGTABLE_NODES, since, now)
    metrics = session.settings()["metrics-source"]
    results = gather(
        readers,
        timeout=session.settings().timeout,
        preload_modules=sdk_modules("kube", "redis", "bigtable", "prometheus", metrics),
    )
    found = sources(results, now, _rise(session, results, since, now))
    start = now - timedelta(seconds=since)
    listed = timeline.timeline(found, since=start, service=wanted)
    return timeline.document(listed, since=start, now=now, notes=found.notes)


def in_window(results: Results, now: datetime, window: int, rise_began: datetime | None) -> list[timeline.Happening]:
    """The window's changes from a gather that ran `add_history` (the runbook's): the same
    sources and merge `changes_document` uses. The window reaches back at least
    `timeline.RISE_LOOKBACK` before the rise: a rollout forty minutes before a rise that began
    twenty-five minutes ago explains it, whatever the runbook's window."""
    since = now - timedelta(seconds=window)
    if rise_began is not None:
        since = min(since, rise_began - timeline.RISE_LOOKBACK)
    return timeline.timeline(sources(results, now, rise_began), since=since)
