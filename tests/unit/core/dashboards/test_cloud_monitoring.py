"""The Cloud Monitoring dashboard through Google's own Dashboard type (google-cloud-monitoring-
dashboards), parsed strictly: an unknown field or a wrong enum value fails."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import pytest
from google.cloud.monitoring_dashboard_v1.types import Dashboard
from google.protobuf.json_format import ParseError

from tests.support.alert_settings import DEFAULT, VARIANTS
from wbctl.core import alerts
from wbctl.core.dashboards import cloud_monitoring


def strict(document: dict) -> Dashboard:
    return Dashboard.from_json(json.dumps(document), ignore_unknown_fields=False)


def test_the_dashboard_parses_strictly(settings: alerts.AlertSettings) -> None:
    board = strict(cloud_monitoring.render(settings))
    assert board.mosaic_layout.columns == cloud_monitoring.COLUMNS
    assert not board.name and not board.etag  # the API sets them
    for tile in board.mosaic_layout.tiles:
        assert tile.x_pos + tile.width <= cloud_monitoring.COLUMNS


def test_strict_parsing_refuses_an_unknown_field() -> None:
    document = cloud_monitoring.render(DEFAULT)
    document["mosaicLayout"]["tiles"][1]["widget"]["xyChart"]["dataSetz"] = []
    with pytest.raises(ParseError, match="dataSetz"):
        strict(document)


def test_tiles_do_not_overlap(settings: alerts.AlertSettings) -> None:
    cells: set[tuple[int, int]] = set()
    for tile in cloud_monitoring.render(settings)["mosaicLayout"]["tiles"]:
        mine = {
            (x, y)
            for x in range(tile["xPos"], tile["xPos"] + tile["width"])
            for y in range(tile["yPos"], tile["yPos"] + tile["height"])
        }
        assert not cells & mine
        cells |= mine


def test_google_metric_types_filters_and_thresholds() -> None:
    board = cloud_monitoring.render(DEFAULT)
    charts = {t["widget"]["title"]: t["widget"] for t in board["mosaicLayout"]["tiles"] if "xyChart" in t["widget"]}
    backlog = charts["Run-updates queue: backlog"]["xyChart"]
    [data] = backlog["dataSets"]
    assert data["timeSeriesQuery"]["timeSeriesFilter"]["filter"] == (
        'metric.type = "pubsub.googleapis.com/subscription/num_undelivered_messages" AND '
        'resource.type = "pubsub_subscription" AND resource.labels.project_id = "my-project" AND '
        'resource.labels.subscription_id = "wandb-flat-run-fields-updater"'
    )
    assert backlog["thresholds"] == [
        {"label": "the allowed backlog", "value": 2500, "color": "YELLOW", "direction": "ABOVE"}
    ]
    age = charts["Filestream queue: oldest unacked message"]["xyChart"]
    assert "oldest_unacked_message_age" in age["dataSets"][0]["timeSeriesQuery"]["timeSeriesFilter"]["filter"]
    cpu = charts["Bigtable: CPU against its target"]["xyChart"]
    assert cpu["thresholds"][0]["value"] == alerts.GUIDE_CPU_TARGET


def test_text_tiles_name_the_steps_and_commands() -> None:
    board = cloud_monitoring.render(VARIANTS["context"])
    texts = [t["widget"]["text"]["content"] for t in board["mosaicLayout"]["tiles"] if "text" in t["widget"]]
    assert texts and all("`wbctl --context prod " in text for text in texts)


def test_dashboard_id_is_valid_and_per_context() -> None:
    assert cloud_monitoring.dashboard_id(DEFAULT) == "wbctl-runbook"
    assert cloud_monitoring.dashboard_id(VARIANTS["context"]) == "wbctl-runbook-prod"
    long = cloud_monitoring.dashboard_id(replace(DEFAULT, context="GKE_Proj/US-East1/" + "x" * 80))
    assert re.fullmatch(r"[a-z0-9-]{1,63}", long) and not long.endswith("-")
