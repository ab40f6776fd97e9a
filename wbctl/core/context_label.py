"""The `context` label of wbctl's metrics, alone in a module so that the alerts and dashboards
(settings only, quick to start) name it without importing the exporter (core/measurements.py)."""

UNNAMED_CONTEXT = "default"  # the `context` label of a check run without a named context
