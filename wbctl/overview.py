"""`wbctl check`: every backend read side by side (wbctl.gather), judged in one report.

A read that fails makes unknown exactly the findings it feeds, under the ids the check
would report (each core module owns its ids): an unreachable MySQL hides nothing else, and a
Cloud Monitoring error makes `bigtable.cpu` unknown while the admin findings stand.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from wbctl import readings
from wbctl.core import bigtable, mysql, parquet, queue, redis_settings, services
from wbctl.core.model import Finding, Observed, Report, Status
from wbctl.gather import Reader, gather
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


def check_all(state: State, *, window: int, window_text: str, now: datetime, groups: Iterable[str] = GROUPS) -> Report:
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
        modules += SDK_MODULES["prometheus"] if kind == "prometheus" else SDK_MODULES["google"] + SDK_MODULES["monitoring"]
    if queued:
        modules += SDK_MODULES["prometheus"]
    results = gather(readers, timeout=settings.timeout, preload_modules=modules)

    project = f"projects/{settings['gcp-project'] or '?'}"
    namespace = f"namespace {settings['namespace']}"

    def judge_queue(found: Mapping[str, Observed[Any]]) -> Report:
        address = found["queue-address"].value
        judgement = queue.judge(readings.queue_readings(found, address), window=window, now=now,
                                policy=readings.policy(state, address))
        return queue.check(judgement, address.describe(), f"{state.invocation()} runbook queue-backlog")

    sections = [
        Section("redis", url_without_credentials(settings["redis-url"]), ("redis",),
                lambda: redis_settings.check_ids(desired), lambda found: redis_settings.report(found["redis"].value, desired)),
        Section("services", namespace, ("kube",), services.check_ids, lambda found: services.check(found["kube"].value)),
        Section("parquet", namespace, ("kube",), lambda: parquet.CHECK_IDS, lambda found: parquet.check(found["kube"].value)),
        Section("bigtable", project, ("bigtable-admin",), lambda: bigtable.CHECK_IDS,
                lambda found: bigtable.check(found["bigtable-admin"].value,
                                             readings.signal_data(found.get("bigtable-cpu"), "bigtable-cpu"), window_text)),
        Section("mysql", url_without_credentials(settings["mysql-url"]), ("mysql",), mysql.check_ids,
                lambda found: mysql.check(found["mysql"].value)),
        Section("queue", "the run-updates queue", ("queue-address",), lambda: queue.CHECK_IDS, judge_queue),
    ]
    reports = []
    for section in sections:
        if section.group not in wanted or (section.group == "queue" and not queued):
            continue
        failed = next((results[name] for name in section.reads if not results[name].known), None)
        if failed is not None:
            reports.append(unknown(section.ids(), section.target, failed.reason))
        else:
            reports.append(section.judge(results))
    return Report(tuple(finding for report in reports for finding in report.findings))
