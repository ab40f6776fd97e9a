"""Content negotiation for reads, and the shapes a read can be answered in besides the object
itself: a `meta.k8s.io` Table (what `kubectl get` asks for, with `Accept:
application/json;as=Table;v=v1;g=meta.k8s.io,...`), and PartialObjectMetadata(List). See
https://kubernetes.io/docs/reference/using-api/api-concepts/#receiving-resources-as-tables.

A Table carries `columnDefinitions` (printers.py: the columns the real API server has for
each kind, wide ones at priority 1) and one row per object, each row with its `cells` and, as
`includeObject` asks, `object`: the object's metadata as a PartialObjectMetadata (`Metadata`,
the default), the whole object (`Object`), or nothing (`None`). Separate from the router so the
negotiation rules and the Table's shape read in one place.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

from wbctl.sandbox.kube.errors import ApiError, bad_request
from wbctl.sandbox.kube.printers import CUSTOM, GENERIC, PRINTERS
from wbctl.sandbox.kube.types import Obj, ResourceType

_META_GROUP = "meta.k8s.io"
_META_VERSIONS = ("v1", "v1beta1")
_JSON_TYPES = ("application/json", "application/*", "*/*")


@dataclass(frozen=True)
class View:
    """How to answer a read: as the object (`as_` empty), a Table, or PartialObjectMetadata(List)."""

    as_: str = ""
    version: str = "v1"

    @property
    def content_type(self) -> str:
        if not self.as_:
            return "application/json"
        return f"application/json;as={self.as_};v={self.version};g={_META_GROUP}"


PLAIN = View()


def negotiate(accept: str | None, *, is_list: bool) -> View:
    """The first acceptable form in the Accept header, in the client's order (kubectl and the
    Python client send no q-values): JSON as the object, or as a Table or partial metadata of
    meta.k8s.io v1 or v1beta1. YAML and protobuf are not served; nothing acceptable is 406."""
    if not accept or not accept.strip():
        return PLAIN
    for media_range in accept.split(","):
        media_type, *raw_params = (part.strip() for part in media_range.split(";"))
        if media_type.lower() not in _JSON_TYPES:
            continue
        params = dict(p.split("=", 1) for p in raw_params if "=" in p)
        params.pop("q", None)
        as_ = params.get("as")
        if as_ is None:
            return PLAIN
        wanted = ("Table", "PartialObjectMetadataList" if is_list else "PartialObjectMetadata")
        if as_ in wanted and params.get("g") == _META_GROUP and params.get("v") in _META_VERSIONS:
            return View(as_, params["v"])
    raise ApiError(
        406,
        "NotAcceptable",
        "only the following media types are accepted: application/json, application/json;as=Table;v=v1;g=meta.k8s.io",
    )


def include_object(query: Mapping[str, list[str]]) -> str:
    """The `includeObject` parameter: None, Metadata (the default) or Object."""
    value = (query.get("includeObject") or ["Metadata"])[-1] or "Metadata"
    if value not in ("None", "Metadata", "Object"):
        raise bad_request(
            f'includeObject: Unsupported value: "{value}": supported values: "None", "Metadata", "Object"'
        )
    return value


def partial_metadata(obj: Obj, version: str = "v1") -> Obj:
    return {
        "kind": "PartialObjectMetadata",
        "apiVersion": f"{_META_GROUP}/{version}",
        "metadata": obj.get("metadata") or {},
    }


def as_view(
    view: View,
    rtype: ResourceType,
    objects: list[Obj],
    list_metadata: Obj | None,
    include: str = "Metadata",
    now: datetime | None = None,
) -> Obj:
    """Objects (one for a get, with `list_metadata` None; a page for a list) in a non-plain view."""
    if view.as_ != "Table":
        items = [partial_metadata(obj, view.version) for obj in objects]
        if list_metadata is None:
            return items[0]
        return {
            "kind": "PartialObjectMetadataList",
            "apiVersion": f"{_META_GROUP}/{view.version}",
            "metadata": list_metadata,
            "items": items,
        }
    return table(rtype, objects, list_metadata or {}, include=include, version=view.version, now=now)


def table(
    rtype: ResourceType,
    objects: list[Obj],
    metadata: Obj,
    *,
    include: str = "Metadata",
    version: str = "v1",
    now: datetime | None = None,
) -> Obj:
    """A meta.k8s.io Table of `objects`, with the kind's columns (all of them: the client
    hides the priority 1 ones unless asked for wide output)."""
    columns, printer = PRINTERS.get(rtype.plural) or (CUSTOM if rtype.custom else GENERIC)
    moment = now or datetime.now(UTC)
    rows: list[Obj] = []
    for obj in objects:
        cells, conditions = printer(obj, moment)
        row: Obj = {"cells": cells}
        if conditions:
            row["conditions"] = conditions
        if include == "Metadata":
            row["object"] = partial_metadata(obj, version)
        elif include == "Object":
            row["object"] = {"apiVersion": rtype.api_version, "kind": rtype.kind, **obj}
        rows.append(row)
    return {
        "kind": "Table",
        "apiVersion": f"{_META_GROUP}/{version}",
        "metadata": metadata,
        "columnDefinitions": [dict(c) for c in columns],
        "rows": rows,
    }
