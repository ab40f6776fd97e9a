"""core/dashboard_diff.py: the live dashboard against the rendered one, as the Plan an operator
reads before saying yes (pure: plain dicts in the Dashboards API's JSON form)."""

from __future__ import annotations

import copy
from typing import Any

from wbctl.core.dashboard_diff import MAX_VALUE, DashboardObservation, plan, without_server_fields

NAME = "projects/p/dashboards/wbctl-prod"


def tile(
    title: str, *, x: int = 0, y: int = 0, query: str = 'metric.type="a"', threshold: float = 10
) -> dict[str, Any]:
    return {
        "xPos": x,
        "yPos": y,
        "width": 24,
        "height": 16,
        "widget": {
            "title": title,
            "xyChart": {
                "dataSets": [{"timeSeriesQuery": {"timeSeriesFilter": {"filter": query}}}],
                "thresholds": [{"value": threshold}],
            },
        },
    }


def doc(*tiles: dict[str, Any], title: str = "wbctl: prod") -> dict[str, Any]:
    return {"displayName": title, "mosaicLayout": {"columns": 48, "tiles": list(tiles)}, "labels": {"wbctl": ""}}


def live(document: dict[str, Any] | None) -> DashboardObservation:
    return DashboardObservation(NAME, "etag-1", document)


def keys(document_plan: Any) -> list[str]:
    return [change.key for change in document_plan.changes]


def test_a_missing_dashboard_is_created_field_by_field_and_tile_by_tile() -> None:
    made = plan(live(None), doc(tile("Backlog"), tile("CPU", x=24)), "prod")
    assert made.target == NAME and made.context == "prod"
    assert keys(made) == ["displayName", "mosaicLayout.columns", "labels.wbctl", 'tile "Backlog"', 'tile "CPU"']
    assert [c.before for c in made.changes] == [None] * 5  # new: nothing before, not zeros
    assert made.changes[1].after == 48
    assert made.changes[3].after == "added: xyChart at (0, 0), 24x16"
    assert made.changes[4].after == "added: xyChart at (24, 0), 24x16"
    assert made.summary == "Create the dashboard 'wbctl: prod' (2 tiles)"


def test_the_same_dashboard_is_no_change_whatever_the_server_adds() -> None:
    rendered = doc(tile("Backlog"))
    served = {**copy.deepcopy(rendered), "name": NAME, "etag": "abc"}
    made = plan(live(served), rendered, "prod")
    assert made.empty and made.nothing_to_do.startswith("no changes: the dashboard projects/p/dashboards/wbctl-prod")
    assert without_server_fields(served) == rendered


def test_fields_the_api_adds_are_not_changes_but_a_tile_it_has_alone_is_removed() -> None:
    rendered = doc(tile("Backlog"))
    served = copy.deepcopy(rendered)
    served["dashboardFilters"] = [{"labelKey": "zone"}]
    served["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["yAxis"] = {"scale": "LINEAR"}
    served["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["dataSets"][0]["plotType"] = "LINE"
    assert plan(live(served), rendered, "prod").empty
    served["mosaicLayout"]["tiles"].append(tile("Added by hand", y=16))
    assert [(c.key, c.after) for c in plan(live(served), rendered, "prod").changes] == [('tile "Added by hand"', None)]


def test_a_changed_tile_shows_each_json_path_that_differs() -> None:
    before = doc(tile("Backlog"), tile("CPU", x=24))
    after = doc(tile("Backlog", threshold=20, query='metric.type="b"'), tile("CPU", x=24))
    made = plan(live(before), after, "prod")
    assert [(c.key, c.before, c.after) for c in made.changes] == [
        (
            'tile "Backlog": widget.xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter',
            'metric.type="a"',
            'metric.type="b"',
        ),
        ('tile "Backlog": widget.xyChart.thresholds[0].value', 10, 20),
    ]
    assert made.summary == "Update the dashboard 'wbctl: prod': 1 tile(s) and 0 other field(s) change"


def test_an_absent_number_reads_as_proto3_reads_it() -> None:
    zero = doc(tile("Backlog"))
    del zero["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["thresholds"][0]["value"]  # 0: left out of the JSON
    made = plan(live(zero), doc(tile("Backlog", threshold=777)), "prod")
    assert [(c.key, c.before, c.after) for c in made.changes] == [
        ('tile "Backlog": widget.xyChart.thresholds[0].value', 0, 777)
    ]


def test_moved_tiles_are_moves_not_replacements() -> None:
    made = plan(live(doc(tile("A"), tile("B", x=24))), doc(tile("B"), tile("A", x=24)), "prod")
    assert sorted((c.key, c.before, c.after) for c in made.changes) == [
        ('tile "A": xPos', 0, 24),
        ('tile "B": xPos', 24, 0),
    ]


def test_tiles_added_and_removed_and_the_dashboards_own_fields() -> None:
    made = plan(live(doc(tile("Old"), tile("Kept"), title="before")), doc(tile("Kept"), tile("New", y=16)), "prod")
    assert [(c.key, c.before, c.after) for c in made.changes] == [
        ("displayName", "before", "wbctl: prod"),
        ('tile "New"', None, "added: xyChart at (0, 16), 24x16"),
        ('tile "Old"', "xyChart at (0, 0), 24x16", None),
    ]


def test_repeated_and_missing_titles_each_get_a_key() -> None:
    untitled = tile("")
    made = plan(live(None), doc(tile("Same"), tile("Same", x=24), untitled), "prod")
    assert keys(made)[-3:] == ['tile "Same"', 'tile "Same (2)"', 'tile "untitled tile 3"']


def test_a_long_value_is_shortened_and_a_list_that_grew_is_shown_whole() -> None:
    long_query = "metric.type=" + "x" * 400
    made = plan(live(doc(tile("A"))), doc(tile("A", query=long_query)), "prod")
    shown = made.changes[0].after
    assert len(shown) == MAX_VALUE and shown.endswith("…")
    grown = doc(tile("A"))
    grown["mosaicLayout"]["tiles"][0]["widget"]["xyChart"]["thresholds"].append({"value": 99})
    change = plan(live(doc(tile("A"))), grown, "prod").changes[0]
    assert change.key == 'tile "A": widget.xyChart.thresholds'
    assert change.before == '[{"value":10}]' and change.after == '[{"value":10},{"value":99}]'
