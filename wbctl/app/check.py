"""`wbctl check`: every backend read side by side (wbctl.app.gather), judged in one report.

A read that fails makes unknown exactly the findings it feeds, under the ids the check
would report (each core module owns its ids): an unreachable MySQL hides nothing else, and a
Cloud Monitoring error makes `bigtable.cpu` unknown while the admin findings stand. The same
reads give the metrics of `wbctl check -o prometheus` (wbctl.core.measurements).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wbctl.app import reads as readings
from wbctl.app.gather import Reader, gather
from wbctl.core import (
    bigtable,
    measurements,
    mysql,
    parquet,
    queue,
    redis_settings,
    services,
)
from wbctl.core.measurements import Sample
from wbctl.core.model import Finding, Observed, Report, Status
from wbctl.redact import url_without_credentials

if TYPE_CHECKING:
    from wbctl.cli.state import State

GROUPS = ("redis", "services", "parquet", "bigtable", "mysql", "queue")


def unknown(ids: Iterable[str], target: str, reason: str) -> Report:
    return Report(tuple(Finding(check_id, Status.UNKNOWN, target, None, None, reason) for check_id in ids))


@dataclass(frozen=True)
class Section:
    """One group of findings: the reads it needs, and how it turns them into a report."""

    group: str
    target: str
    reads: tuple[str, ...]  # gather names whose failure makes the whole section unknown
    ids: Callable[[], list[str] | tuple[str, ...]]
    judge: Callable[[Mapping[str, Observed[Any]]], Report]
    feeds: tuple[str, ...] = ()  # prefixes of every gather name it reads (its duration is the slowest's)


@dataclass(frozen=True)
class CheckResult:
    report: Report
    samples: tuple[Sample, ...]  # the metrics of `check -o prometheus`, in exposition order


def check_all(
    state: State, *, window: int, window_text: str, now: datetime, groups: Iterable[str] = GROUPS
) -> CheckResult:
    from wbctl.adapters.kube import ALL_KINDS
    from wbctl.cli.state import SDK_MODULES

    settings = state.settings()
    wanted = set(groups)
    desired = list(redis_settings.desired_settings(settings.redis_overrides, [], force=True))
    readers: dict[str, Reader] = {}
    modules: list[str] = []
    if "redis" in wanted:
        readers["redis"] = lambda _: state.redis().observe([d.key for d in desired])
        modules += SDK_MODULES["redis"]
    if wanted & {"services", "parquet", "queue"}:
        readers["kube"] = lambda _: state.kube().observe((*ALL_KINDS, "csidrivers"))
        modules += SDK_MODULES["kube"]
    if "bigtable" in wanted:
        readings.add_bigtable(readers, state, window, now, signals=("bigtable-cpu",))
        modules += SDK_MODULES["google"] + SDK_MODULES["bigtable"]
    if "mysql" in wanted:
        readers["mysql"] = lambda _: state.mysql().observe()
        modules += SDK_MODULES["mysql"]
    queued = "queue" in wanted and settings["queue-source"] != "none"
    if queued:
        readings.add_queue(readers, state, window, now)
    if "bigtable" in wanted or queued:
        kind = settings["metrics-source"]
        modules += (
            SDK_MODULES["prometheus"] if kind == "prometheus" else SDK_MODULES["google"] + SDK_MODULES["monitoring"]
        )
    if queued:
        modules += SDK_MODULES["prometheus"]
    timings: dict[str, float] = {}
    results = gather(readers, timeout=settings.timeout, preload_modules=modules, timings=timings)

    project = f"projects/{settings['gcp-project'] or '?'}"
    namespace = f"namespace {settings['namespace']}"

    samples: list[Sample] = []

    def judge_queue(found: Mapping[str, Observed[Any]]) -> Report:
        address = found["queue-address"].value
        judgement = queue.judge(
            readings.queue_readings(found, address), window=window, now=now, policy=readings.policy(state, address)
        )
        samples.extend(measurements.queue_samples(judgement))
        return queue.check(judgement, address.describe(), f"{state.invocation()} runbook queue-backlog")

    sections = [
        Section(
            "redis",
            url_without_credentials(settings["redis-url"]),
            ("redis",),
            lambda: redis_settings.check_ids(desired),
            lambda found: redis_settings.report(found["redis"].value, desired),
        ),
        Section(
            "services", namespace, ("kube",), services.check_ids, lambda found: services.check(found["kube"].value)
        ),
        Section(
            "parquet", namespace, ("kube",), lambda: parquet.CHECK_IDS, lambda found: parquet.check(found["kube"].value)
        ),
        Section(
            "bigtable",
            project,
            ("bigtable-admin",),
            lambda: bigtable.CHECK_IDS,
            lambda found: bigtable.check(
                found["bigtable-admin"].value,
                readings.signal_data(found.get("bigtable-cpu"), "bigtable-cpu"),
                window_text,
            ),
            feeds=("bigtable-",),
        ),
        Section(
            "mysql",
            url_without_credentials(settings["mysql-url"]),
            ("mysql",),
            mysql.check_ids,
            lambda found: mysql.check(found["mysql"].value),
        ),
        Section(
            "queue",
            "the run-updates queue",
            ("queue-address",),
            lambda: queue.CHECK_IDS,
            judge_queue,
            feeds=("queue-address", "pubsub-", "kafka-"),
        ),
    ]
    reports = []
    durations: dict[str, float] = {}
    for section in sections:
        if section.group not in wanted or (section.group == "queue" and not queued):
            continue
        failed = next((results[name] for name in section.reads if not results[name].known), None)
        if failed is not None:
            report = unknown(section.ids(), section.target, failed.reason)
        else:
            report = section.judge(results)
        reports.append(report)
        samples.extend(measurements.finding_samples(section.group, report))
        feeds = section.feeds or section.reads
        durations[section.group] = max(
            (seconds for name, seconds in timings.items() if name.startswith(feeds)), default=0.0
        )
    samples.extend(_observed_samples(results))
    samples.extend(measurements.run_samples(state.env.now(), durations))
    report = Report(tuple(finding for report in reports for finding in report.findings))
    return CheckResult(report, tuple(measurements.ordered(samples)))


def _observed_samples(results: Mapping[str, Observed[Any]]) -> list[Sample]:
    """Bigtable's nodes and CPU, and the updater's replicas, from the reads that found them."""
    from wbctl.core.service_view import UPDATER, service_named

    samples: list[Sample] = []
    admin = results.get("bigtable-admin")
    if admin is not None and admin.known:
        samples += measurements.bigtable_samples(
            admin.value, readings.signal_data(results.get("bigtable-cpu"), "bigtable-cpu")
        )
    kube = results.get("kube")
    if kube is not None and kube.known:
        view = service_named(kube.value, UPDATER)
        if view is not None and view.present:
            autoscaler = view.autoscaler
            ceiling = autoscaler.max_replicas if autoscaler is not None and autoscaler.enabled else None
            samples += measurements.updater_samples(measurements.UpdaterReplicas(len(view.ready_pods), ceiling))
    return samples
