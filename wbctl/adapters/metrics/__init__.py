"""Metrics behind one interface, from Cloud Monitoring or Prometheus.

Each signal comes back as a short series over a window: Cloud Monitoring aligns (and, for a
signal read as a sum of rates, reduces) on the server; Prometheus answers `query_range`.
By default a window gets about 30 points; the runbook asks for 60 s steps, ending at the last
whole minute, with the partial last bucket dropped (Pub/Sub points arrive 1-3 minutes late).
Signals are fetched concurrently. A signal with no data is unknown, never zero
(`SignalData.no_data` says the source answered with nothing; the judge decides what that means).

Where the parts live (this package re-exports the public names): signals.py (Signal, SIGNALS,
MetricsSource and the rules both sources share), cloud_monitoring.py (CloudMonitoring),
prometheus.py (Prometheus).
"""

from __future__ import annotations

from wbctl.adapters.metrics.cloud_monitoring import CloudMonitoring
from wbctl.adapters.metrics.prometheus import Prometheus
from wbctl.adapters.metrics.signals import (
    NOISY_RUN_WINDOW,
    POINTS_PER_WINDOW,
    SIGNALS,
    MetricsSource,
    Signal,
)

__all__ = [
    "NOISY_RUN_WINDOW",
    "POINTS_PER_WINDOW",
    "SIGNALS",
    "CloudMonitoring",
    "MetricsSource",
    "Prometheus",
    "Signal",
]
