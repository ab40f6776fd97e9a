"""`wbctl check`: every backend's findings in one report.

A backend that cannot be read makes its findings `unknown` with the reason; it never hides
the other backends' findings. The ids stay the same as the per-backend checks, so a script
reading the aggregate report finds `redis.<key>` or `services.wandb-api.replicas` either way.
"""

from __future__ import annotations

from collections.abc import Iterable

from wbctl.core import catalog, mysql
from wbctl.core.model import Finding, Report, Status
from wbctl.core.redis_settings import DISCARD_KEY, Desired


def expected_ids(section: str, desired: Iterable[Desired] = ()) -> list[str]:
    """The check ids a section reports when its backend answers."""
    if section == "redis":
        return [f"redis.{item.key}" for item in desired] + [f"redis.{DISCARD_KEY}"]
    if section == "services":
        ids: list[str] = []
        for spec in catalog.CATALOG:
            ids.append(f"services.{spec.name}.present")
            if spec.min_replicas >= 3:
                ids += [f"services.{spec.name}.replicas", f"services.{spec.name}.spread"]
            if spec.autoscale:
                ids.append(f"services.{spec.name}.autoscaling")
            if spec.single_instance:
                ids.append(f"services.{spec.name}.single-instance")
        return ids
    if section == "parquet":
        return ["parquet.fuse", "parquet.csi-driver", "versions.operator-chart", "versions.server"]
    if section == "bigtable":
        return ["bigtable.autoscaling", "bigtable.min-nodes", "bigtable.cpu"]
    if section == "mysql":
        return ["mysql.version"] + [f"mysql.{flag.name}" for flag in mysql.FLAGS]
    raise ValueError(section)


def unreachable(section: str, target: str, reason: str, desired: Iterable[Desired] = ()) -> Report:
    return Report(tuple(Finding(check, Status.UNKNOWN, target, None, None, reason) for check in expected_ids(section, desired)))


def combine(reports: Iterable[Report]) -> Report:
    return Report(tuple(finding for report in reports for finding in report.findings))

