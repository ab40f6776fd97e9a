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


def _wbctl_only(signal: Signal) -> bool:
    """A signal only wbctl's own gauges show (its verdict, its horizon, its auditor)."""
    return bool(signal.metrics) and all(name.startswith("wbctl_") for name in signal.metrics)


def notes(fmt: str, settings: AlertSettings) -> tuple[str, ...]:
    """What the dashboard leaves out, and why, for stderr."""
    _check(fmt)
    backend = _BACKEND[fmt]
    missing = [signal for signal in catalogue(settings) if not getattr(signal, backend)]
    found: list[str] = []
    judged = [signal.id for signal in missing if _wbctl_only(signal)]
    other = [signal.id for signal in missing if not _wbctl_only(signal)]
    if judged:
        found.append(
            f"{_WHERE[fmt]} has no metric of {', '.join(judged)}: wbctl's own judgement (the verdict, the "
            "horizon, the auditor) is in the Grafana dashboard only"
        )
    if other:
        where = (
            "the Grafana dashboard shows it, from the deployment's own metrics"
            if fmt != "grafana"
            else "a Google metric no exporter of the chart sends to Prometheus: the Cloud Monitoring and Datadog "
            "dashboards show it"
        )
        found.append(f"{_WHERE[fmt]} has no metric of {', '.join(other)}: {where}")
    if settings.queue_source == "kafka" and fmt != "grafana":
        found.append(f"the queue is Kafka: {_WHERE[fmt]} has no metric of it; the Grafana dashboard shows it")
    return tuple(found)
