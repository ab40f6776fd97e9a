"""`wbctl check`: every backend read side by side (wbctl.app.gather), judged in one report.

A read that fails makes unknown exactly the findings it feeds, under the ids the check
would report (each core module owns its ids): an unreachable MySQL hides nothing else, and a
Cloud Monitoring error makes `bigtable.cpu` unknown while the admin findings stand. The same
reads give the metrics of `wbctl check -o prometheus` (wbctl.core.measurements).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from wbctl.app import reads
from wbctl.app.backends import sdk_modules
from wbctl.app.gather import Read, Results, gather
from wbctl.core import bigtable, measurements, mysql, observability, parquet, queue, redis_settings, services
from wbctl.core.kube import V2_NO_BIGTABLE, Generation
from wbctl.core.measurements import Sample
from wbctl.core.model import Finding, Report
from wbctl.core.observability import ObservabilityReads
from wbctl.core.redis_settings import Desired
from wbctl.errors import BackendError
from wbctl.redact import url_without_credentials

if TYPE_CHECKING:
    from typing import Any

    from wbctl.app.session import Session

GROUPS = ("redis", "services", "parquet", "bigtable", "mysql", "queue", "observability")
# what the observability group reads besides the Kubernetes observation (check's alone)
OBSERVABILITY = Read[ObservabilityReads]("observability")
OBSERVABILITY_KINDS = ("deployments", "pods", "cr")  # the services' env, the app's pods, the CR's values


@dataclass(frozen=True)
class Judged:
    report: Report
    samples: tuple[Sample, ...] = ()  # what the judgement measured beyond its findings (the queue's numbers)


@dataclass(frozen=True)
class Section:
    """One group of findings: the reads it needs, and how it turns them into a report."""

    group: str
    target: str
    reads: tuple[Read[Any], ...]  # the reads whose failure makes the whole section unknown
    ids: Callable[[], Sequence[str]]
    judge: Callable[[Results], Judged]
    feeds: tuple[str, ...] = ()  # prefixes of every read it uses (its duration is the slowest's)
    enabled: bool = True  # False: the settings say there is nothing to judge (queue-source = none)
    # a report that stands whatever its reads answered (Bigtable on an install that has none), or None
    absent: Callable[[Results], Report | None] | None = None


@dataclass(frozen=True)
class CheckResult:
    report: Report
    samples: tuple[Sample, ...]  # the metrics of `check -o prometheus`, in exposition order


def check_all(
    session: Session, *, window: int, window_text: str, now: datetime, groups: Iterable[str] = GROUPS
) -> CheckResult:
    settings = session.settings()
    wanted = set(groups)
    desired = list(redis_settings.desired_settings(settings.redis_overrides, [], force=True))
    readers, modules = _readers(session, wanted, desired, window, now)
    timings: dict[str, float] = {}
    results = gather(readers, timeout=settings.timeout, preload_modules=modules, timings=timings)
    samples: list[Sample] = []
    findings: list[Finding] = []
    durations: dict[str, float] = {}
    for section in _sections(session, desired, window, window_text, now):
        if section.group not in wanted or not section.enabled:
            continue
        judged = _judged(section, results)
        findings += judged.report.findings
        samples += [*judged.samples, *measurements.finding_samples(section.group, judged.report)]
        feeds = section.feeds or tuple(section.reads)
        durations[section.group] = max(  # a group of two sections (the queues) took as long as the slower
            (seconds for name, seconds in timings.items() if name.startswith(feeds)),
            default=durations.get(section.group, 0.0),
        )
    samples += _observed_samples(results)
    samples += _change_samples(session, now)
    samples += measurements.run_samples(session.env.now(), durations)
    return CheckResult(Report(tuple(findings)), tuple(measurements.ordered(samples)))


CHANGES_LOOKBACK = timedelta(days=30)  # the dashboards' annotations: a month of wbctl's changes


def _change_samples(session: Session, now: datetime) -> list[Sample]:
    """The newest change of each kind in this machine's audit log (the local file: no backend
    read), for the dashboards' annotations of wbctl's own changes."""
    from wbctl.app.audit import read_changes
    from wbctl.wrapping import WBCTL_WORDS

    context = session.settings().context_label
    try:
        records = read_changes(session.audit_path(), context=context, since=now - CHANGES_LOOKBACK, until=now)
    except BackendError:
        return []  # an unreadable log: no annotations, and the check goes on
    return measurements.change_samples(records, WBCTL_WORDS.split("|"))


def _readers(
    session: Session, wanted: set[str], desired: list[Desired], window: int, now: datetime
) -> tuple[reads.Readers, list[str]]:
    """The reads the wanted groups need, and the SDK modules to import before they run."""
    from wbctl.adapters.kube import HEALTH_KINDS

    readers: reads.Readers = {}
    backends: list[str] = []
    if "redis" in wanted:
        readers[reads.REDIS] = lambda _: session.backends.redis().observe([d.key for d in desired])
        backends.append("redis")
    if wanted & {"services", "parquet", "queue"}:
        readers[reads.KUBE] = lambda _: session.backends.kube().observe((*HEALTH_KINDS, "csidrivers"))
        backends.append("kube")
    elif "observability" in wanted:
        readers[reads.KUBE] = lambda _: session.backends.kube().observe(OBSERVABILITY_KINDS)
        backends.append("kube")
    if "observability" in wanted:
        readers[OBSERVABILITY] = lambda _: session.backends.kube().observability()
    if "bigtable" in wanted:
        if reads.KUBE not in readers:  # the generation: the v2 operator's install has no Bigtable
            readers[reads.KUBE] = lambda _: session.backends.kube().observe(("cr",))
            backends.append("kube")
        # the nodes and wbctl's own raises too: the CPU is judged as the runbook's step 2 judges it
        reads.add_bigtable(readers, session, window, now, signals=(reads.BIGTABLE_CPU, reads.BIGTABLE_NODES))
        reads.add_changes(readers, session, max(window, int(bigtable.WARM_UP.total_seconds())), now)
        backends.append("bigtable")
    if "mysql" in wanted:
        readers[reads.MYSQL] = lambda _: session.backends.mysql().observe()
        backends.append("mysql")
    if "queue" in wanted:
        if session.settings()["queue-source"] != "none":
            reads.add_queue(readers, session, window, now)
        reads.add_queue(readers, session, window, now, reads.FILESTREAM_QUEUE)
    if wanted & {"bigtable", "queue"}:
        backends.append(session.settings()["metrics-source"])
    if "queue" in wanted:
        backends.append("prometheus")  # Kafka's lag is read from Prometheus whatever the source
    return readers, sdk_modules(*backends)


def _sections(session: Session, desired: list[Desired], window: int, window_text: str, now: datetime) -> list[Section]:
    settings = session.settings()
    project = f"projects/{settings['gcp-project'] or '?'}"
    namespace = f"namespace {settings['namespace']}"

    def judgement_of(found: Results, of: reads.QueueReads = reads.RUN_UPDATES_QUEUE) -> queue.Judgement | None:
        """A queue's judgement, when the queue was read (the queue sections and Bigtable's wait)."""
        address = found.get(of.address)
        if address is None or address.value is None or address.value.source == "none":
            return None
        readings = reads.queue_readings(found, address.value, of)
        return queue.judge(readings, window=window, now=now, policy=reads.policy(session, address.value, of.kind))

    def queue_judge(of: reads.QueueReads) -> Callable[[Results], Judged]:
        """A queue's findings and numbers (labelled with its name); none for a queue that is not there."""

        def judge_queue(found: Results) -> Judged:
            address, judgement = found[of.address].value, judgement_of(found, of)
            assert address is not None  # judged only once the address is known
            if judgement is None:  # no filestream queue (MySQL, or no filestream workload): nothing to judge
                return Judged(Report(()))
            remedy = f"{session.invocation()} runbook queue-backlog"
            report = queue.check(judgement, address.describe(), remedy, of.kind.name)
            return Judged(report, tuple(measurements.queue_samples(judgement, of.kind.name)))

        return judge_queue

    def judge_bigtable(found: Results) -> Judged:
        judgement = judgement_of(found)
        changes = found.get(reads.CHANGES)
        return Judged(
            bigtable.check(
                known(reads.BIGTABLE_ADMIN, found),
                reads.signal_data(found, reads.BIGTABLE_CPU),
                window_text,
                nodes=reads.signal_data(found, reads.BIGTABLE_NODES),
                changes=(changes.value or ()) if changes is not None else (),
                now=now,
                drains_by=queue.drains_by(judgement, now) if judgement is not None else None,
            )
        )

    def no_bigtable(found: Results) -> Report | None:
        kube = found.get(reads.KUBE)
        if kube is None or not kube.known or kube.value is None or kube.value.generation is not Generation.V2:
            return None
        return bigtable.absent_report(project, V2_NO_BIGTABLE)

    def judge_observability(found: Results) -> Judged:
        from wbctl.core.alerts import SILENT_RUNS  # the auditor's silence as its alert counts it

        return Judged(
            observability.check(
                known(reads.KUBE, found),
                known(OBSERVABILITY, found),
                kubectl=session.kubectl(),
                now=now,
                auditor_interval=float(settings["alerts-auditor-interval"]),
                silent_runs=SILENT_RUNS,
            )
        )

    def known(read: Read[Any], found: Results) -> Any:
        value = found[read].value
        assert value is not None  # a section is judged only when its reads are known
        return value

    return [
        Section(
            "redis",
            url_without_credentials(settings["redis-url"]),
            (reads.REDIS,),
            lambda: redis_settings.check_ids(desired),
            lambda found: Judged(redis_settings.report(known(reads.REDIS, found), desired)),
        ),
        Section(
            "services",
            namespace,
            (reads.KUBE,),
            services.check_ids,
            lambda found: Judged(
                services.check(known(reads.KUBE, found), now=now, window=window, kubectl=session.kubectl())
            ),
        ),
        Section(
            "parquet",
            namespace,
            (reads.KUBE,),
            lambda: parquet.CHECK_IDS,
            lambda found: Judged(parquet.check(known(reads.KUBE, found))),
        ),
        Section(
            "bigtable",
            project,
            (reads.BIGTABLE_ADMIN,),
            lambda: bigtable.CHECK_IDS,
            judge_bigtable,
            feeds=(reads.BIGTABLE_PREFIX,),
            absent=no_bigtable,
        ),
        Section(
            "mysql",
            url_without_credentials(settings["mysql-url"]),
            (reads.MYSQL,),
            mysql.check_ids,
            lambda found: Judged(mysql.check(known(reads.MYSQL, found))),
        ),
        Section(
            "queue",
            "the run-updates queue",
            (reads.QUEUE_ADDRESS,),
            lambda: queue.CHECK_IDS,
            queue_judge(reads.RUN_UPDATES_QUEUE),
            feeds=reads.RUN_UPDATES_QUEUE.prefixes,
            enabled=settings["queue-source"] != "none",
        ),
        Section(
            "queue",
            "the filestream queue",
            (reads.FILESTREAM_ADDRESS,),
            lambda: queue.FILESTREAM_CHECK_IDS,
            queue_judge(reads.FILESTREAM_QUEUE),
            feeds=reads.FILESTREAM_QUEUE.prefixes,
        ),
        Section(
            "observability",
            namespace,
            (reads.KUBE, OBSERVABILITY),
            lambda: observability.CHECK_IDS,
            judge_observability,
        ),
    ]


def _judged(section: Section, results: Results) -> Judged:
    """The section's judgement, or every one of its ids unknown for the first read that failed."""
    absent = section.absent(results) if section.absent is not None else None
    if absent is not None:
        return Judged(absent)
    failed = next((results[read] for read in section.reads if not results[read].known), None)
    if failed is not None:
        return Judged(Report.all_unknown(section.ids(), section.target, failed.reason))
    return section.judge(results)


def _observed_samples(results: Results) -> list[Sample]:
    """Bigtable's nodes and CPU, and the updater's replicas, from the reads that found them."""
    from wbctl.core.service_view import UPDATER, service_named

    samples: list[Sample] = []
    admin = results.get(reads.BIGTABLE_ADMIN)
    if admin is not None and admin.value is not None:
        samples += measurements.bigtable_samples(admin.value, reads.signal_data(results, reads.BIGTABLE_CPU))
    kube = results.get(reads.KUBE)
    if kube is not None and kube.value is not None:
        view = service_named(kube.value, UPDATER)
        if view is not None and view.present:
            autoscaler = view.autoscaler
            ceiling = autoscaler.max_replicas if autoscaler is not None and autoscaler.enabled else None
            samples += measurements.updater_samples(measurements.UpdaterReplicas(len(view.ready_pods), ceiling))
    return samples
