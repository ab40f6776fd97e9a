"""FakeKubeAPI's read verbs: get, and list with label and field selectors and pagination by
`limit` and `continue` tokens that carry the list's resourceVersion (410 Expired when the
faults say the token is too old). Separate from the router, which only decides the shape an
answer takes (the object, a Table, partial metadata: see tables.py), and from the writes.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping

from wbctl.sandbox.kube.errors import ApiError, bad_request
from wbctl.sandbox.kube.semantics import (
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from wbctl.sandbox.kube.store import Entry, Key, ObjectStore
from wbctl.sandbox.kube.types import Obj, ResourceType

Query = Mapping[str, list[str]]


def _one(query: Query, name: str) -> str | None:
    values = query.get(name)
    return values[-1] if values else None


def _limit(query: Query) -> int:
    limit_text = _one(query, "limit")
    try:
        return int(limit_text) if limit_text else 0
    except ValueError:
        raise bad_request(f"limit: Invalid value: {limit_text!r}") from None


def encode_continue(key: Key, rv: str) -> str:
    raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{key[0]}/{key[1]}"}).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(token: str) -> tuple[Key, str]:
    try:
        raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
        namespace, name = raw["start"].split("/", 1)
        return (namespace, name), str(int(raw["rv"]))
    except (ValueError, KeyError, TypeError, AttributeError):
        raise bad_request(f"continue key is not valid: {token!r}") from None


def _expired() -> ApiError:
    return ApiError(
        410,
        "Expired",
        "The provided continue parameter is too old to display a consistent list result. "
        "You can start a new list without the continue parameter.",
    )


class Reads:
    """get and list over the store."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def get(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        return self._store.lookup(rtype, namespace, name)

    def all(self, rtype: ResourceType) -> list[Obj]:
        """Every object of a kind, in key order (what metrics.k8s.io derives its answers from)."""
        return [entry.load() for _, entry in self._store.snapshot(rtype)[1]]

    def page(
        self, rtype: ResourceType, namespace: str | None, query: Query, *, expire_continue: bool
    ) -> tuple[Obj, list[Entry]]:
        """One page of a list: its metadata (resourceVersion, continue, remainingItemCount) and entries."""
        try:
            labels = parse_label_selector(_one(query, "labelSelector"))
            fields = parse_field_selector(_one(query, "fieldSelector"), rtype.field_labels)
        except SelectorError as error:
            raise bad_request(str(error)) from None
        limit = _limit(query)
        token = _one(query, "continue")
        start_after: Key | None = None
        token_rv: str | None = None
        if token:
            if expire_continue:
                raise _expired()
            start_after, token_rv = decode_continue(token)
        current_rv, items = self._store.snapshot(rtype)
        list_rv = token_rv or current_rv
        matched = [
            (key, entry)
            for key, entry in items
            if (namespace is None or key[0] == namespace)
            and (start_after is None or key > start_after)
            and labels_match(labels, entry.labels)
            and fields_match(fields, entry.fields)
        ]
        page = matched[:limit] if limit > 0 else matched
        metadata: Obj = {"resourceVersion": list_rv}
        if limit > 0 and len(matched) > limit:
            metadata["continue"] = encode_continue(page[-1][0], list_rv)
            if not labels and not fields:
                metadata["remainingItemCount"] = len(matched) - limit
        return metadata, [entry for _, entry in page]
