"""The Cloud Monitoring dashboard: the catalogue's Google queries as a Dashboards API resource
(https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards) in a
`mosaicLayout`, on the Google metric types (`pubsub.googleapis.com/subscription/...`,
`bigtable.googleapis.com/cluster/cpu_load`, Kubernetes container metrics, ...).

One text tile per runbook step names the step and the command; each chart draws its signal's
thresholds (`thresholds`: Cloud Monitoring's horizontal lines). No `name` and no `etag`: the
API sets those, and `wbctl dashboards apply cloud-monitoring` names it `dashboard_id`.
"""

from __future__ import annotations

import re
from typing import Any

from wbctl.core.alerts import AlertSettings
from wbctl.core.dashboard_ids import context_id
from wbctl.core.signals import GoogleQuery, Line, Signal, by_step, catalogue, step_note

TITLE = "wbctl: W&B queue backlog runbook"
COLUMNS = 48  # the mosaic's width (the API's maximum)
COLOR = {"warning": "YELLOW", "critical": "RED"}
_ID_UNSAFE = re.compile(r"[^a-z0-9-]+")
_ID_MAX = 63


def dashboard_id(settings: AlertSettings) -> str:
    """`wbctl-runbook`, or `wbctl-runbook-<context>`: the dashboard's id under projects/<p>/dashboards/."""
    return context_id("wbctl-runbook", settings.context, _ID_UNSAFE, _ID_MAX, lower=True)


def _aggregation(query: GoogleQuery) -> dict[str, Any]:
    aggregation: dict[str, Any] = {"alignmentPeriod": f"{query.period}s", "perSeriesAligner": query.aligner}
    if query.reducer:
        aggregation["crossSeriesReducer"] = query.reducer
        if query.group_by:
            aggregation["groupByFields"] = list(query.group_by)
    return aggregation


def _data_set(query: GoogleQuery, project: str | None) -> dict[str, Any]:
    return {
        "timeSeriesQuery": {
            "timeSeriesFilter": {"filter": query.filter(project), "aggregation": _aggregation(query)},
        },
        "plotType": "LINE",
        "legendTemplate": query.legend,
        "minAlignmentPeriod": f"{query.period}s",
    }


def _thresholds(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [
        {"label": line.label, "value": line.value, "color": COLOR[line.severity], "direction": "ABOVE"}
        for line in lines
    ]


def _chart(signal: Signal, project: str | None) -> dict[str, Any]:
    chart: dict[str, Any] = {
        "dataSets": [_data_set(query, project) for query in signal.google],
        "timeshiftDuration": "0s",
        "yAxis": {"label": signal.unit, "scale": "LINEAR"},
    }
    if signal.lines:
        chart["thresholds"] = _thresholds(signal.lines)
    return {"title": signal.title, "xyChart": chart}


def render(settings: AlertSettings) -> dict[str, Any]:
    signals = [signal for signal in catalogue(settings) if signal.google]
    tiles: list[dict[str, Any]] = []
    y = 0
    half = COLUMNS // 2
    for step, mine in by_step(signals):
        text = step_note(settings, step, mine)
        tiles.append(
            {
                "xPos": 0,
                "yPos": y,
                "width": COLUMNS,
                "height": 4,
                "widget": {"title": step.heading.capitalize(), "text": {"content": text, "format": "MARKDOWN"}},
            }
        )
        y += 4
        for index, signal in enumerate(mine):
            tiles.append(
                {
                    "xPos": (index % 2) * half,
                    "yPos": y + (index // 2) * 16,
                    "width": half,
                    "height": 16,
                    "widget": _chart(signal, settings.project),
                }
            )
        y += ((len(mine) + 1) // 2) * 16
    context = f" ({settings.context})" if settings.context else ""
    return {
        "displayName": f"{TITLE}{context}",
        "mosaicLayout": {"columns": COLUMNS, "tiles": tiles},
        "labels": {"wbctl": ""},
    }
