"""`wbctl support bundle`: what W&B support asks for, read side by side and written as one
tar.gz made to be sent outside the company.

Every read is a named read of one gather (wbctl.app.gather): the check and the runbook's look
(their own app functions, not a subprocess), the Kubernetes observation, PDBs, Nodes, Events,
logs, Redis, MySQL, Bigtable. A read that fails leaves a note in the MANIFEST and its file out;
the rest is written (the command exits 3). Each file is then masked twice (by key name, then
by shape: wbctl.core.masking) and once more by the terminal's redactor of the configured
secrets, and the archive is written atomically (a temporary file in the same directory, then a
rename), readable by its owner only.

FILES is the bundle's table of contents: adding a file is one line, (name, producer, what it
holds); LEFT_OUT names what it does not hold yet.
"""

from __future__ import annotations

import io
import json
import os
import tarfile
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wbctl import __version__
from wbctl.app import reads
from wbctl.app.backends import sdk_modules
from wbctl.app.gather import Gathering, Missing, Read, Results, gather
from wbctl.core import support_bundle as shape
from wbctl.core.kube import Generation, KubeObservation
from wbctl.core.masking import mask_text
from wbctl.errors import UsageError, WbctlError

if TYPE_CHECKING:
    from wbctl.app.check import CheckResult
    from wbctl.app.queue_backlog import Round
    from wbctl.app.session import Session

CHECK = Read[Any]("support-check")
RUNBOOK = Read[Any]("support-runbook")
CHANGES = Read[Any]("support-changes")
PDBS = Read[list[dict[str, Any]]]("support-pdbs")
NODES = Read[list[dict[str, Any]]]("support-nodes")
EVENTS = Read[list[dict[str, Any]]]("support-events")
LOGS = Read[dict[str, "str | LogFailure"]]("support-logs")
REDIS = Read[Any]("support-redis")
MYSQL = Read[Any]("support-mysql")
BIGTABLE = Read[Any]("support-bigtable")
LOG_WORKERS = 4  # pods/log requests in flight at once
LOG_NOTES = 3  # container logs not read, noted one by one; past that, counted


@dataclass(frozen=True)
class LogFailure:
    """A container log that could not be read; `previous`: of a run the kubelet may no longer keep."""

    reason: str
    previous: bool = False


class NotApplicable(Exception):
    """A file that has no content on this install (Bigtable on the v2 operator's): left out, not a failure."""


@dataclass(frozen=True)
class BundleOptions:
    since: int  # seconds: Events, logs, the check's and the runbook's window
    since_text: str
    logs: int  # lines per container; 0: no logs
    output: Path
    runbook_document: Callable[[Round], dict[str, Any]]  # the runbook's -o json (the CLI's renderer)


@dataclass(frozen=True)
class Produced:
    """What a producer gives: a JSON document (masked by key, then by shape) or a text (by shape)."""

    document: Any = None
    text: str | None = None
    redacted: str = ""


@dataclass
class Collected:
    session: Session
    options: BundleOptions
    results: Results
    now: datetime

    def value(self, read: Read[Any]) -> Any:
        """A read's value; Unread (its note) when it is unknown."""
        found = self.results[read]
        if found.value is None:
            raise Unread(found.reason)
        return found.value

    def kube(self) -> KubeObservation:
        observation: KubeObservation = self.value(reads.KUBE)
        return observation


class Unread(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


# --- the producers ------------------------------------------------------------------------------


def _check(c: Collected) -> Produced:
    result: CheckResult = c.value(CHECK)
    return Produced(result.report.invoked_as(c.session.invocation()).to_json())


def _runbook(c: Collected) -> Produced:
    if c.session.settings()["queue-source"] == "none":
        raise NotApplicable("queue-source is none: this context has no queue to diagnose")
    return Produced(c.options.runbook_document(c.value(RUNBOOK)))


def _versions(c: Collected) -> Produced:
    found = c.results[reads.KUBE]
    return Produced(text=shape.versions_text(__version__, found.value, found.reason))


def _cr(c: Collected) -> Produced:
    cr = c.kube().cr
    if cr is None:
        raise Unread("; ".join(c.kube().notes) or "no WeightsAndBiases resource")
    return Produced(shape.cr_document(cr))


def _workloads(c: Collected) -> Produced:
    return Produced([shape.workload_document(w) for w in c.kube().workloads])


def _hpas(c: Collected) -> Produced:
    return Produced(shape.autoscaler_documents(c.kube()))


def _pdbs(c: Collected) -> Produced:
    return Produced([shape.pdb_document(p) for p in c.value(PDBS)])


def _nodes(c: Collected) -> Produced:
    nodes = [shape.node_document(n) for n in c.value(NODES)]
    return Produced(nodes, redacted="labels outside a safe set, addresses and provider IDs left out")


def _pods(c: Collected) -> Produced:
    from wbctl.core.service_view import map_services

    observation = c.kube()
    owner = {pod.name: view.name for view in map_services(observation) for pod in view.pods}
    pods = [shape.pod_document(pod, owner.get(pod.name)) for pod in observation.pods]
    return Produced(pods, redacted="annotations and labels outside app.kubernetes.io/ left out")


def _events(c: Collected) -> Produced:
    events = shape.event_documents(c.value(EVENTS), now=c.now, since=c.options.since)
    return Produced(events)


def _redis(c: Collected) -> Produced:
    return Produced(asdict(c.value(REDIS)))


def _mysql(c: Collected) -> Produced:
    return Produced(asdict(c.value(MYSQL)))


def _bigtable(c: Collected) -> Produced:
    found = c.results[BIGTABLE]
    if found.value is None and found.reason.startswith(_V2):
        raise NotApplicable(found.reason)
    return Produced(asdict(c.value(BIGTABLE)))


def _changes(c: Collected) -> Produced:
    document = c.value(CHANGES)
    unknown = document.get("unknown") or []
    return Produced(document, redacted=f"{len(unknown)} source(s) unreadable, named in the file" if unknown else "")


def _config(c: Collected) -> Produced:
    return Produced(settings_document(c.session))


_V2 = "not applicable: "

# the bundle's files, in the MANIFEST's order: (name, producer, what it holds). One line each.
FILES: tuple[tuple[str, Callable[[Collected], Produced], str], ...] = (
    ("check.json", _check, "wbctl check -o json over the window: every backend against the guide"),
    ("runbook-queue-backlog.json", _runbook, "wbctl runbook queue-backlog -o json: the queue's diagnosis"),
    ("versions", _versions, "wbctl's, the chart's and the server's versions, the operator generation, the images"),
    ("weightsandbiases.json", _cr, "the WeightsAndBiases resource: chart, state, conditions, values"),
    ("workloads.json", _workloads, "the W&B Deployments and CronJobs: replicas, images, resources, env"),
    ("hpas.json", _hpas, "the HorizontalPodAutoscalers and KEDA ScaledObjects: bounds, current, conditions"),
    ("pdbs.json", _pdbs, "the namespace's PodDisruptionBudgets"),
    ("nodes.json", _nodes, "the Nodes: names, capacity, allocatable, conditions"),
    ("pods.json", _pods, "the W&B pods' statuses: phase, readiness, restarts, waiting and last termination reasons"),
    ("events.json", _events, "the namespace's Events of the window, oldest first"),
    ("redis-settings.json", _redis, "Redis's guide settings (bigtablev3.filestream.*) and the discard key"),
    ("mysql-flags.json", _mysql, "MySQL's version and global variables (the flags W&B asks for)"),
    ("bigtable-clusters.json", _bigtable, "Bigtable's instance and clusters: nodes, autoscaling, storage"),
    ("changes.json", _changes, "wbctl changes -o json over the window: what changed, oldest first"),
    ("config.json", _config, "wbctl config show: the context's effective settings"),
)
# what the bundle does not hold yet, and why (a file's line moves to FILES when it lands)
LEFT_OUT: tuple[tuple[str, str], ...] = ()


def settings_document(session: Session) -> dict[str, Any]:
    """`config show -o json --origin`'s document: the settings and where each came from, secrets as ***."""
    from wbctl.app.contexts import setting_rows

    settings = session.settings()
    return {
        "context": settings.context,
        "config_file": str(settings.config_file) if settings.config_file else None,
        "settings": {row["key"]: {"value": row["value"], "origin": row["origin"]} for row in setting_rows(settings)},
    }


# --- the reads ----------------------------------------------------------------------------------


def _readers(session: Session, options: BundleOptions, now: datetime) -> reads.Readers:
    from wbctl.adapters.kube import ALL_KINDS
    from wbctl.adapters.kube.support import SupportReader
    from wbctl.app.check import check_all
    from wbctl.app.queue_backlog import Diagnoser
    from wbctl.app.timeline import changes_document
    from wbctl.core import queue

    def support() -> SupportReader:
        return SupportReader(session.backends.kube().connection)

    window = min(max(options.since, queue.MIN_WINDOW), 86400)
    readers: reads.Readers = {
        reads.KUBE: lambda _: session.backends.kube().observe(ALL_KINDS),
        CHECK: lambda _: check_all(session, window=options.since, window_text=options.since_text, now=now),
        CHANGES: lambda _: changes_document(session, options.since),
        PDBS: lambda _: support().pod_disruption_budgets(),
        NODES: lambda _: support().nodes(),
        EVENTS: lambda _: support().events(),
        LOGS: lambda gathering: _logs(session, options, gathering),
        REDIS: lambda _: _redis_read(session),
        MYSQL: lambda _: session.backends.mysql().observe(),
        BIGTABLE: lambda gathering: _bigtable_read(session, gathering),
    }
    if session.settings()["queue-source"] != "none":
        readers[RUNBOOK] = lambda _: Diagnoser(session, window).look()
    return readers


def _redis_read(session: Session) -> Any:
    from wbctl.core import redis_settings

    desired = redis_settings.desired_settings(session.settings().redis_overrides, [], force=True)
    return session.backends.redis().observe([d.key for d in desired])


def _bigtable_read(session: Session, gathering: Gathering) -> Any:
    try:
        observation = gathering.need(reads.KUBE)
    except Missing:
        observation = None
    if observation is not None and observation.generation is Generation.V2:
        raise Missing(f"{_V2}the v2 operator's install has no Bigtable")
    return session.backends.bigtable().observe()


def _logs(session: Session, options: BundleOptions, gathering: Gathering) -> dict[str, str | LogFailure]:
    """logs/<service>/<pod>.<container>[.previous].log -> the text, or why it could not be read.
    At most MAX_PODS_PER_SERVICE pods per service and MAX_CONTAINERS_PER_POD containers each,
    LOG_WORKERS requests at once."""
    from wbctl.adapters.kube.support import SupportReader
    from wbctl.core.service_view import map_services

    if options.logs == 0:
        return {}
    observation = gathering.need(reads.KUBE)
    reader = SupportReader(session.backends.kube().connection)
    wanted: list[tuple[str, str, str, bool]] = []
    for view in map_services(observation):
        if view.workload is None:
            continue
        containers = [c.name for c in view.workload.containers][: shape.MAX_CONTAINERS_PER_POD]
        for pod in shape.log_pods([p for p in view.pods if not p.job_pod] or view.pods):
            runs = (False, True) if pod.restarts else (False,)  # a restarted pod: its previous run's too
            wanted += [(view.name, pod.name, container, previous) for container in containers for previous in runs]

    def one(item: tuple[str, str, str, bool]) -> tuple[str, str | LogFailure]:
        service, pod, container, previous = item
        name = f"logs/{service}/{pod}.{container}{'.previous' if previous else ''}.log"
        try:
            text = reader.pod_log(
                pod, container, tail_lines=options.logs, since_seconds=options.since, previous=previous
            )
            return name, text
        except WbctlError as exc:  # a previous run the kubelet no longer keeps is not a failure
            return name, LogFailure(exc.message, previous)

    if not wanted:
        return {}
    with ThreadPoolExecutor(max_workers=LOG_WORKERS) as pool:
        return dict(pool.map(one, wanted))


# --- the bundle ---------------------------------------------------------------------------------


def _final(session: Session, text: str) -> tuple[str, int]:
    """The last pass over every file: credential shapes, then the configured secrets."""
    masked = mask_text(text)
    redact = session.redactor()
    final = redact(masked.text)
    return final, masked.count + (final != masked.text)


def _entry(session: Session, name: str, holds: str, produced: Produced) -> shape.FileEntry:
    words: list[str] = []
    if produced.text is not None:
        text = produced.text
    else:
        document, by_key = shape.masked(produced.document)
        if by_key != "nothing matched":
            words.append(f"by key name and URL: {by_key}")
        text = json.dumps(document, indent=2, default=str, sort_keys=False) + "\n"
    text, count = _final(session, text)
    if count:
        words.append(f"{count} credential-shaped string(s) masked")
    if produced.redacted:
        words.append(produced.redacted)
    return shape.FileEntry(name, text, holds, "; ".join(words) or "nothing")


def collect(session: Session, options: BundleOptions) -> shape.Manifest:
    """Every file and every note, read side by side."""
    settings = session.settings()
    now = session.env.now()
    modules = sdk_modules("kube", "redis", "mysql", "bigtable", "prometheus", settings["metrics-source"])
    results = gather(_readers(session, options, now), timeout=settings.timeout, depth=6, preload_modules=modules)
    manifest = shape.Manifest(settings.context_label, now, options.since, options.logs)
    collected = Collected(session, options, results, now)
    for name, producer, holds in FILES:
        try:
            manifest.files.append(_entry(session, name, holds, producer(collected)))
        except Unread as unread:
            manifest.notes.append(shape.Note(name, unread.reason))
        except NotApplicable as why:
            manifest.notes.append(shape.Note(name, str(why).removeprefix(_V2), unread=False))
    _add_logs(session, manifest, results)
    manifest.notes += [shape.Note(name, reason, unread=False) for name, reason in LEFT_OUT]
    return manifest


def _add_logs(session: Session, manifest: shape.Manifest, results: Results) -> None:
    found = results[LOGS]
    if manifest.logs == 0:
        return
    if found.value is None:
        manifest.notes.append(shape.Note("logs/", found.reason))
        return
    unread = 0
    for name, text in sorted(found.value.items()):
        if isinstance(text, LogFailure):
            if text.previous:
                manifest.notes.append(
                    shape.Note(name, f"the previous run's log is not kept: {text.reason}", unread=False)
                )
                continue
            unread += 1
            if unread <= LOG_NOTES:
                manifest.notes.append(shape.Note(name, text.reason))
            continue
        lines = text.count("\n")
        run = "previous run's" if name.endswith(".previous.log") else "container's"
        manifest.files.append(
            _entry(session, name, f"the {run} last {lines} line(s) of the window", Produced(text=text))
        )
    if unread > LOG_NOTES:  # a refused pods/log refuses them all: a few say why, one line counts the rest
        manifest.notes.append(shape.Note("logs/", f"{unread - LOG_NOTES} more container logs not read"))


def write(manifest: shape.Manifest, output: Path) -> None:
    """The tar.gz, atomically: a temporary file beside `output` (mode 0600), then a rename.
    Every file sits under one directory named after the bundle; MANIFEST first."""
    top = output.name.removesuffix(".tar.gz").removesuffix(".tgz")
    entries: list[tuple[str, str]] = [("MANIFEST", manifest.text())]
    entries += [(entry.name, entry.text) for entry in manifest.files]
    mtime = time.time()  # the file's own time (the sandbox's clock is simulated)
    descriptor, temporary = tempfile.mkstemp(dir=output.parent, prefix=f".{output.name}.", suffix=".part")
    try:
        with os.fdopen(descriptor, "wb") as raw, tarfile.open(fileobj=raw, mode="w:gz") as tar:
            for name, text in entries:
                data = text.encode()
                info = tarfile.TarInfo(f"{top}/{name}")
                info.size, info.mtime, info.mode = len(data), mtime, 0o644
                tar.addfile(info, io.BytesIO(data))
        os.replace(temporary, output)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def check_output(path: Path, *, force: bool) -> Path:
    """--output: a .tar.gz (or .tgz) in an existing, writable directory; an existing file only
    with --force (a bundle is never overwritten by accident). Checked before anything is read."""
    from wbctl.config.writer import check_target

    check_target(path, "--output")
    text = str(path)
    if not path.name.endswith((".tar.gz", ".tgz")) or path.name.startswith("."):
        raise UsageError(f"--output {text}: expected a file name ending in .tar.gz")
    if path.exists() and not force:
        raise UsageError(f"--output {text}: already exists (add --force to replace it)")
    return path


def summary(manifest: shape.Manifest) -> Mapping[str, int]:
    return {"files": len(manifest.files) + 1, "unread": len(manifest.unread)}
