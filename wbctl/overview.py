"""Reading every backend at once for `wbctl check`, each failure contained to its own findings.

Like mutation.py, this is orchestration shared by the CLI: it runs the backends' reads side by
side and turns a backend's failure (unreachable, refused, not configured) into `unknown`
findings with the reason, so one dead backend never hides the others.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from wbctl.core import aggregate
from wbctl.core.model import Report
from wbctl.core.redis_settings import Desired
from wbctl.errors import WbctlError


@dataclass(frozen=True)
class Section:
    names: tuple[str, ...]  # the aggregate sections this read feeds (kubernetes feeds services and parquet)
    target: str  # named in the unknown findings when the read fails
    read: Callable[[], list[Report]]


def check_all(sections: list[Section], desired: list[Desired]) -> Report:
    def run(section: Section) -> list[Report]:
        try:
            return section.read()
        except WbctlError as exc:
            return [aggregate.unreachable(name, section.target, exc.message, desired) for name in section.names]

    with ThreadPoolExecutor(max_workers=len(sections)) as pool:
        results = list(pool.map(run, sections))
    return aggregate.combine(report for reports in results for report in reports)
