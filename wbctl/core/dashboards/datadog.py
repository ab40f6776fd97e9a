"""The Datadog dashboard: the catalogue's Datadog queries as a body for the Dashboards API
(https://docs.datadoghq.com/api/latest/dashboards/#create-a-new-dashboard), on the metric names
of Datadog's Google Cloud integration (`gcp.pubsub.subscription.num_undelivered_messages`,
`gcp.bigtable.cluster.cpu_load`, ...) and its Kubernetes checks (`kubernetes_state.*`,
`kubernetes.*`).

An ordered layout of one group per runbook step; each group opens with a note that names the
step and the command, and each threshold is a marker (Datadog's horizontal line). The
`namespace` template variable selects W&B's namespace in the Kubernetes widgets.
"""

from __future__ import annotations

from typing import Any

from wbctl.core.alerts import AlertSettings
from wbctl.core.signals import Line, Signal, by_step, catalogue, step_note

TITLE = "wbctl: W&B queue backlog runbook"
MARKER = {"warning": "warning dashed", "critical": "error dashed"}


def _markers(lines: tuple[Line, ...]) -> list[dict[str, Any]]:
    return [
        {"value": f"y = {line.value:g}", "display_type": MARKER[line.severity], "label": line.label} for line in lines
    ]


def _widget(signal: Signal) -> dict[str, Any]:
    queries = [
        {"data_source": "metrics", "name": f"q{n}", "query": query.expr} for n, query in enumerate(signal.datadog, 1)
    ]
    formulas = [{"formula": f"q{n}", "alias": query.legend} for n, query in enumerate(signal.datadog, 1)]
    definition: dict[str, Any] = {
        "type": "timeseries",
        "title": signal.title,
        "show_legend": True,
        "requests": [
            {"queries": queries, "formulas": formulas, "response_format": "timeseries", "display_type": "line"}
        ],
    }
    if signal.lines:
        definition["markers"] = _markers(signal.lines)
    return {"definition": definition}


def _note(text: str) -> dict[str, Any]:
    return {
        "definition": {
            "type": "note",
            "content": text,
            "background_color": "white",
            "font_size": "14",
            "text_align": "left",
            "show_tick": False,
            "has_padding": True,
        }
    }


def render(settings: AlertSettings) -> dict[str, Any]:
    signals = [signal for signal in catalogue(settings) if signal.datadog]
    groups = []
    for step, mine in by_step(signals):
        note = step_note(settings, step, mine)
        groups.append(
            {
                "definition": {
                    "type": "group",
                    "layout_type": "ordered",
                    "title": step.heading.capitalize(),
                    "widgets": [_note(note), *(_widget(signal) for signal in mine)],
                }
            }
        )
    context = f" ({settings.context})" if settings.context else ""
    return {
        "title": f"{TITLE}{context}",
        "description": "The signals `wbctl runbook queue-backlog` judges, with the thresholds of its alerts. "
        "Made by `wbctl dashboards datadog`: regenerate it rather than edit it.",
        "layout_type": "ordered",
        "reflow_type": "auto",
        "template_variables": [
            {"name": "namespace", "prefix": "kube_namespace", "available_values": [], "defaults": [settings.namespace]}
        ],
        "widgets": groups,
    }
