"""The Datadog dashboard through datadog-api-client's own models. That library accepts a widget it
does not know silently (an UnparsedObject where a model should be), so the result is walked and
any unparsed part fails the test; a test proves the walk finds one."""

from __future__ import annotations

from typing import Any

import pytest
from datadog_api_client import Configuration
from datadog_api_client.model_utils import ModelComposed, OpenApiModel, UnparsedObject, validate_and_convert_types
from datadog_api_client.v1.model.dashboard import Dashboard

from tests.support.alert_settings import DEFAULT, VARIANTS
from wbctl.core import alerts
from wbctl.core.dashboards import datadog


def parsed(document: dict[str, Any]) -> Dashboard:
    return validate_and_convert_types(document, (Dashboard,), ["dashboard"], True, True, Configuration())


def unparsed(node: Any, path: str = "$") -> list[str]:
    found = []
    if isinstance(node, UnparsedObject) or (isinstance(node, OpenApiModel) and node._unparsed):
        found.append(path)
    if isinstance(node, ModelComposed):
        for instance in node._composed_instances:
            found += unparsed(instance, f"{path}<{type(instance).__name__}>")
    elif isinstance(node, OpenApiModel):
        for key, value in node._data_store.items():
            found += unparsed(value, f"{path}.{key}")
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += unparsed(value, f"{path}[{index}]")
    return found


def test_the_dashboard_is_valid_with_nothing_unparsed(settings: alerts.AlertSettings) -> None:
    board = parsed(datadog.render(settings))
    assert unparsed(board) == []
    kinds = {type(group.definition.get_oneof_instance()).__name__ for group in board.widgets}
    assert kinds == {"GroupWidgetDefinition"}


def test_the_walk_finds_an_unknown_widget() -> None:
    document = datadog.render(DEFAULT)
    document["widgets"].append({"definition": {"type": "graph-from-2015", "title": "x"}})
    assert unparsed(parsed(document))


@pytest.mark.parametrize("layout", [7, "sideways"])
def test_a_wrong_value_is_found_unparsed(layout: object) -> None:
    document = datadog.render(DEFAULT)
    document["layout_type"] = layout
    assert unparsed(parsed(document)) == ["$", "$.layout_type"]


def test_gcp_integration_metric_names_and_markers() -> None:
    board = datadog.render(DEFAULT)
    queries = [
        q["query"]
        for group in board["widgets"]
        for widget in group["definition"]["widgets"]
        for request in widget["definition"].get("requests", [])
        for q in request["queries"]
    ]
    assert (
        "max:gcp.pubsub.subscription.num_undelivered_messages{subscription_id:wandb-flat-run-fields-updater}" in queries
    )
    assert "max:gcp.pubsub.subscription.oldest_unacked_message_age{subscription_id:wandb-filestream-gorilla}" in queries
    assert "max:gcp.bigtable.cluster.cpu_load{instance:wandb-bigtable} by {cluster}" in queries
    assert all(q.split(":", 1)[1].startswith(("gcp.", "kubernetes", "trace.")) for q in queries)
    age = next(
        w["definition"]
        for g in board["widgets"]
        for w in g["definition"]["widgets"]
        if w["definition"].get("title") == "Run-updates queue: oldest unacked message"
    )
    assert {"value": "y = 302400", "display_type": "warning dashed", "label": "3d 12h: half the retention"} in age[
        "markers"
    ]


def test_each_group_opens_with_its_step_and_command() -> None:
    board = datadog.render(VARIANTS["context"])
    for group in board["widgets"]:
        note = group["definition"]["widgets"][0]["definition"]
        assert note["type"] == "note" and "`wbctl --context prod " in note["content"]
