"""The dashboards of the runbook's signals, one renderer per vendor, all from one catalogue
(wbctl.core.signals): a panel, the alert about it and the line drawn at its threshold come from
the same settings. Pure: rendering reads the context's settings only, never a backend.
"""

from __future__ import annotations

from typing import Any

from wbctl.core.alerts import AlertSettings
from wbctl.core.dashboards import cloud_monitoring, datadog, grafana
from wbctl.core.signals import Signal, catalogue
from wbctl.errors import UsageError

FORMATS = ("grafana", "datadog", "cloud-monitoring")
_BACKEND = {"grafana": "prometheus", "datadog": "datadog", "cloud-monitoring": "google"}
_WHERE = {"grafana": "Prometheus", "datadog": "Datadog", "cloud-monitoring": "Cloud Monitoring"}


def _check(fmt: str) -> None:
    if fmt not in FORMATS:
        raise UsageError(f"unknown dashboard format {fmt!r}: expected one of {', '.join(FORMATS)}")


def render(fmt: str, settings: AlertSettings) -> dict[str, Any]:
    """The dashboard document of one vendor, for this context's thresholds."""
    _check(fmt)
    if fmt == "grafana":
        return grafana.render(settings)
    if fmt == "datadog":
        return datadog.render(settings)
    return cloud_monitoring.render(settings)


def shown(fmt: str, settings: AlertSettings) -> tuple[Signal, ...]:
    """The signals this format has a query for (the others are named by `notes`)."""
    _check(fmt)
    backend = _BACKEND[fmt]
    return tuple(signal for signal in catalogue(settings) if getattr(signal, backend))


def notes(fmt: str, settings: AlertSettings) -> tuple[str, ...]:
    """What the dashboard leaves out, and why, for stderr."""
    _check(fmt)
    backend = _BACKEND[fmt]
    missing = [signal.id for signal in catalogue(settings) if not getattr(signal, backend)]
    found: list[str] = []
    if missing:
        found.append(
            f"{_WHERE[fmt]} has no metric of {', '.join(missing)}: "
            + (
                "wbctl's own judgement (the verdict, the horizon, the auditor) is in the Grafana dashboard only"
                if fmt != "grafana"
                else "Google's metric only: the Cloud Monitoring and Datadog dashboards show it"
            )
        )
    if settings.queue_source == "kafka" and fmt != "grafana":
        found.append(f"the queue is Kafka: {_WHERE[fmt]} has no metric of it; the Grafana dashboard shows it")
    return tuple(found)
