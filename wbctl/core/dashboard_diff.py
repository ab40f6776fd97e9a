"""What `wbctl dashboards apply cloud-monitoring` would change: the live dashboard against the
rendered one, as a Plan of Changes (the one mutation path's diff, docs/design.md).

Both sides are the Dashboards API's Dashboard JSON in one canonical form (camelCase, defaults
left out: the adapter passes each through the library's own `Dashboard` message), without the
`name` and `etag` the server owns. The diff is read by a person before saying yes, so it is
laid out the way a dashboard is seen: the dashboard's own fields (displayName, labels, the
mosaic's columns, its filters), then one tile at a time, by its title: a tile added or removed
is one line, a tile changed is one line per JSON path that differs inside it
(`tile "Backlog": xyChart.dataSets[0].timeSeriesQuery.timeSeriesFilter.filter`). Tiles are
matched by title, not by position, so moving the tiles around reads as what it is (their
xPos/yPos changed), not as every tile replaced. A field only the live dashboard has, inside
an object both have, is not a change: the API fills in fields of its own, and a diff on them
would never go away (hashicorp/terraform-provider-google's `removeComputedKeys`, in
`resource_monitoring_dashboard.go`, drops them the same way); a tile only the live one has is
a tile removed. Reference: the REST resource
https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards (docs/sources.md).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from wbctl.core.model import Change, Plan

SERVER_FIELDS = ("name", "etag")  # set by the server (and by wbctl for the call), never part of the diff
_LAYOUT = "mosaicLayout"
MAX_VALUE = 160  # a value longer than this is shown shortened in the diff (the audit keeps the same text)


@dataclass(frozen=True)
class DashboardObservation:
    """One dashboard as the API holds it: its resource name, the etag an update must send back
    (optimistic concurrency: a stale one is refused), and its canonical JSON (None: it does not
    exist yet, the apply creates it)."""

    name: str  # projects/<project>/dashboards/<id>
    etag: str
    document: dict[str, Any] | None

    @property
    def exists(self) -> bool:
        return self.document is not None


def differences(observed: DashboardObservation, desired: Mapping[str, Any]) -> tuple[Change, ...]:
    """What still differs between a dashboard read back and the one written (the read-back's
    test: the same rule as the diff, so a field the API added is no difference)."""
    return plan(observed, desired, "").changes


def without_server_fields(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document minus what the server owns (name, etag): what the diff compares."""
    return {key: value for key, value in document.items() if key not in SERVER_FIELDS}


def plan(observed: DashboardObservation, desired: Mapping[str, Any], context: str) -> Plan:
    """The changes that make the live dashboard the rendered one: none when they already match
    (a second apply), every field and tile when it does not exist yet."""
    before = without_server_fields(observed.document or {})
    after = without_server_fields(desired)
    changes = tuple(_changes(observed.name, before, after, exists=observed.exists))
    tiles = _tiles(after)
    if not observed.exists:
        summary = f"Create the dashboard {_title(after)} ({len(tiles)} tiles)"
    else:
        tiles_touched = len({c.key.split(":", 1)[0] for c in changes if c.key.startswith("tile ")})
        fields = sum(1 for c in changes if not c.key.startswith("tile "))
        summary = f"Update the dashboard {_title(after)}: {tiles_touched} tile(s) and {fields} other field(s) change"
    return Plan(
        context=context,
        target=observed.name,
        changes=changes,
        summary=summary,
        nothing_to_do=f"no changes: the dashboard {observed.name} already is the rendered one",
    )


def _title(document: Mapping[str, Any]) -> str:
    return repr(str(document.get("displayName", "")))


def _changes(target: str, before: Mapping[str, Any], after: Mapping[str, Any], *, exists: bool) -> Iterator[Change]:
    """The dashboard's own fields first (everything but the tiles), then the tiles by title."""
    for path, old, new in _leaves(_frame(before), _frame(after), "", present=exists):
        yield Change(target, path, _shown(old), _shown(new))
    old_tiles, new_tiles = _tiles(before), _tiles(after)
    for title in [*new_tiles, *(t for t in old_tiles if t not in new_tiles)]:
        old, new = old_tiles.get(title), new_tiles.get(title)
        key = f"tile {json.dumps(title)}"
        if old is None and new is not None:
            yield Change(target, key, None, f"added: {_place(new)}")
        elif new is None and old is not None:
            yield Change(target, key, f"{_place(old)}", None)
        elif old is not None and new is not None:
            for path, was, becomes in _leaves(old, new, "", present=True):
                yield Change(target, f"{key}: {path}", _shown(was), _shown(becomes))


def _frame(document: Mapping[str, Any]) -> dict[str, Any]:
    """The document without its tiles (they are compared one by one)."""
    frame = dict(document)
    layout = frame.get(_LAYOUT)
    if isinstance(layout, Mapping):
        frame[_LAYOUT] = {key: value for key, value in layout.items() if key != "tiles"}
        if not frame[_LAYOUT]:
            del frame[_LAYOUT]
    return frame


def _tiles(document: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The mosaic's tiles by their widget's title; a repeated title gets ` (2)`, ` (3)`... and an
    untitled tile its place in the list, so every tile has a key of its own."""
    layout = document.get(_LAYOUT)
    tiles = layout.get("tiles", []) if isinstance(layout, Mapping) else []
    found: dict[str, dict[str, Any]] = {}
    for index, tile in enumerate(tiles):
        widget = tile.get("widget", {}) if isinstance(tile, Mapping) else {}
        title = str(widget.get("title") or f"untitled tile {index + 1}")
        key, repeat = title, 1
        while key in found:
            repeat += 1
            key = f"{title} ({repeat})"
        found[key] = dict(tile)
    return found


def _place(tile: Mapping[str, Any]) -> str:
    """Where a tile sits on the mosaic and what it draws, in a few words."""
    widget = tile.get("widget", {})
    kind = next((key for key in widget if key != "title"), "empty") if isinstance(widget, Mapping) else "empty"
    return f"{kind} at ({tile.get('xPos', 0)}, {tile.get('yPos', 0)}), {tile.get('width', 0)}x{tile.get('height', 0)}"


def _leaves(before: Any, after: Any, path: str, *, present: bool) -> Iterator[tuple[str, Any, Any]]:
    """Each JSON path whose value differs: objects key by key, lists of one length item by
    item, anything else (a list that grew or shrank, a value) whole. An absent object or list
    is None; an absent scalar in an object both sides have (`present`) its type's zero
    (_or_default); in an object only one side has, None (a dashboard created reads as new)."""
    if before == after:
        return
    if isinstance(before, Mapping | None) and isinstance(
        after, Mapping | None
    ):  # an object added or removed: its fields
        old, new = before or {}, after or {}
        both = present and before is not None and after is not None
        # a key only the live object has is the API's own addition (a default it fills in),
        # not a change: Terraform's google_monitoring_dashboard ignores them the same way
        dropped = [] if before is not None and after is not None else [k for k in old if k not in new]
        for key in [*new, *dropped]:
            yield from _leaves(old.get(key), new.get(key), f"{path}.{key}" if path else str(key), present=both)
        return
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            yield from _leaves(old, new, f"{path}[{index}]", present=present)
        return
    if not present:
        yield path or "(document)", before, after
        return
    yield path or "(document)", _or_default(before, after), _or_default(after, before)


def _or_default(value: Any, other: Any) -> Any:
    """An absent scalar as proto3 reads it, the zero of the other side's type: the canonical
    form leaves a 0 threshold out, and the diff should say 0 -> 777, not (unset) -> 777."""
    if value is not None or other is None:
        return value
    if isinstance(other, bool):
        return False
    if isinstance(other, int | float):
        return type(other)(0)
    if isinstance(other, str):
        return ""
    return None


def _shown(value: Any) -> Any:
    """A value as the diff shows it: text and numbers as they are, anything bigger as compact
    JSON; either shortened past MAX_VALUE characters (the whole is in the rendered document)."""
    if value is None or isinstance(value, bool | int | float):
        return value
    text = value if isinstance(value, str) else json.dumps(value, separators=(",", ":"), sort_keys=True)
    return text if len(text) <= MAX_VALUE else text[: MAX_VALUE - 1] + "…"
