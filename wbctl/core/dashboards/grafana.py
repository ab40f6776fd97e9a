"""The Grafana dashboard: the catalogue's Prometheus queries as a dashboard JSON model
(https://grafana.com/docs/grafana/latest/dashboards/build-dashboards/view-dashboard-json-model/).

What users of generated dashboards keep asking for, and this gives:
- provisioning without an import step: the data source is a `datasource` variable (type
  datasource, Prometheus), never `__inputs` / `${DS_PROMETHEUS}`, which only the import dialog
  fills in; a file provisioned or loaded by the sidecar works as it is;
- a `context` variable from the label the auditor pushes (`label_values(..., context)`), so one
  Grafana shows several deployments; a `namespace` text box for the deployment's own metrics;
- current panels only (timeseries, stat, table: no Angular `graph`), schemaVersion 39 as W&B's
  own dashboards (wandb/operator `deploy/telemetry/dashboards/*.json`);
- no job names: wbctl's gauges are selected by `context`, the rest by metric name;
- thresholds drawn as lines, each the number its alert compares with;
- every panel's description names its runbook step and the command to run;
- wbctl's own audited changes as annotations, from the auditor's
  `wbctl_audit_last_change_timestamp_seconds` (its value is the change's time).
"""

from __future__ import annotations

import re
from typing import Any

from wbctl.core.alerts import AlertSettings
from wbctl.core.context_label import UNNAMED_CONTEXT
from wbctl.core.dashboard_ids import context_id
from wbctl.core.signals import CHANGES_QUERY, Line, Signal, by_step, catalogue, command

UID = "wbctl-runbook"  # the dashboard's uid without a context; a context's adds its name
FILENAME = "wbctl-runbook.json"  # its file name where a file is needed (the sidecar's ConfigMap key)
SCHEMA_VERSION = 39
TITLE = "wbctl: W&B queue backlog runbook"
DATASOURCE = {"type": "prometheus", "uid": "${datasource}"}
COLORS = {"warning": "orange", "critical": "red"}
_UID_UNSAFE = re.compile(r"[^a-zA-Z0-9_-]+")
_UID_MAX = 40  # Grafana refuses longer uids


def uid(settings: AlertSettings) -> str:
    """`wbctl-runbook`, or `wbctl-runbook-<context>`: one dashboard per context's thresholds."""
    return context_id(UID, settings.context, _UID_UNSAFE, _UID_MAX)


def _thresholds(lines: tuple[Line, ...]) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    steps += [{"color": COLORS[line.severity], "value": line.value} for line in sorted(lines, key=lambda x: x.value)]
    return {"mode": "absolute", "steps": steps}


def _panel(signal: Signal, index: int, settings: AlertSettings, grid: dict[str, int]) -> dict[str, Any]:
    targets: list[dict[str, Any]] = [
        {"datasource": DATASOURCE, "expr": query.expr, "legendFormat": query.legend, "refId": chr(ord("A") + n)}
        for n, query in enumerate(signal.prometheus)
    ]
    defaults: dict[str, Any] = {"unit": signal.unit, "thresholds": _thresholds(signal.lines)}
    panel: dict[str, Any] = {
        "id": index,
        "type": signal.kind,
        "title": signal.title,
        "description": signal.description(command(settings, signal.step)),
        "datasource": DATASOURCE,
        "gridPos": grid,
        "targets": targets,
        "fieldConfig": {"defaults": defaults, "overrides": []},
    }
    if signal.kind == "timeseries":
        mode = "line" if signal.lines else "off"
        defaults["custom"] = {"drawStyle": "line", "lineWidth": 1, "fillOpacity": 10, "thresholdsStyle": {"mode": mode}}
        panel["options"] = {"legend": {"displayMode": "list", "placement": "bottom", "showLegend": True}}
    elif signal.kind == "stat":
        panel["options"] = {
            "reduceOptions": {"calcs": ["lastNotNull"], "fields": "", "values": False},
            "textMode": "value_and_name",
            "colorMode": "background" if signal.lines else "none",
            "graphMode": "none",
        }
    else:  # table: one row per series, its labels as columns
        for target in targets:
            target.update(instant=True, format="table")
        panel["options"] = {"showHeader": True}
        panel["transformations"] = [{"id": "organize", "options": {"excludeByName": {"Time": True}}}]
    return panel


def _panels(settings: AlertSettings) -> list[dict[str, Any]]:
    """The panels in the runbook's order, two timeseries or four stats to a row of 24 columns."""
    signals = [signal for signal in catalogue(settings) if signal.prometheus]
    ordered = [signal for _, mine in by_step(signals) for signal in mine]
    panels: list[dict[str, Any]] = []
    x = y = 0
    row_height = 0
    for index, signal in enumerate(ordered, start=1):
        width, height = (6, 5) if signal.kind == "stat" else (12, 8)
        if signal.kind == "table":
            width = 24
        if x + width > 24:
            x, y, row_height = 0, y + row_height, 0
        panels.append(_panel(signal, index, settings, {"h": height, "w": width, "x": x, "y": y}))
        x += width
        row_height = max(row_height, height)
    return panels


def _variables(settings: AlertSettings) -> list[dict[str, Any]]:
    context = settings.context or UNNAMED_CONTEXT
    contexts = "label_values(wbctl_check_last_run_timestamp_seconds, context)"
    return [
        {
            "name": "datasource",
            "label": "Prometheus",
            "type": "datasource",
            "query": "prometheus",
            "current": {},
            "hide": 0,
            "refresh": 1,
            "regex": "",
        },
        {
            "name": "context",
            "label": "wbctl context",
            "type": "query",
            "datasource": DATASOURCE,
            "definition": contexts,
            "query": {"query": contexts, "refId": "context"},
            "current": {"text": context, "value": context},
            "refresh": 2,
            "includeAll": False,
            "multi": False,
            "sort": 1,
            "hide": 0,
        },
        {
            "name": "namespace",
            "label": "W&B namespace",
            "type": "textbox",
            "query": settings.namespace,
            "current": {"text": settings.namespace, "value": settings.namespace},
            "hide": 0,
        },
    ]


def _annotations() -> list[dict[str, Any]]:
    return [
        {
            "builtIn": 1,
            "datasource": {"type": "grafana", "uid": "-- Grafana --"},
            "enable": True,
            "hide": True,
            "iconColor": "rgba(0, 211, 255, 1)",
            "name": "Annotations & Alerts",
            "type": "dashboard",
        },
        {
            "datasource": DATASOURCE,
            "enable": True,
            "hide": False,
            "iconColor": "purple",
            "name": "wbctl changes",
            "expr": CHANGES_QUERY,
            "step": "60s",
            "titleFormat": "wbctl {{kind}}",
            "textFormat": "an audited change made with wbctl (`wbctl changes` lists it)",
            "tagKeys": "kind",
            "useValueForTime": True,
        },
    ]


def render(settings: AlertSettings) -> dict[str, Any]:
    context = f" ({settings.context})" if settings.context else ""
    return {
        "uid": uid(settings),
        "title": f"{TITLE}{context}",
        "description": "The signals `wbctl runbook queue-backlog` judges, with the thresholds of its alerts. "
        "Made by `wbctl dashboards grafana`: regenerate it rather than edit it (docs/dashboards.md).",
        "tags": ["wbctl", "wandb"],
        "schemaVersion": SCHEMA_VERSION,
        "version": 1,
        "editable": True,
        "graphTooltip": 1,
        "time": {"from": "now-6h", "to": "now"},
        "refresh": "1m",
        "timezone": "utc",
        "templating": {"list": _variables(settings)},
        "annotations": {"list": _annotations()},
        "links": [],
        "panels": _panels(settings),
    }
