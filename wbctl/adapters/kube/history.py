"""The Kubernetes reads of what changed (`wbctl changes`): the instance's ReplicaSets (one
label-selected list), Events by field selector (one list per selector), and the
WeightsAndBiases resource's managedFields and conditions (one GET).

Bounded whatever the namespace's size: each list is one page of at most `LIMIT` items (the
API server's `limit`), never followed by its continuations; a page that had more says so in a
note. Every request carries the connection's timeout. Separate from reading.py: `observe`
reads what runs now, this reads what happened.
"""

from __future__ import annotations

from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from typing import Any

from wbctl.adapters.kube.connection import KubeConnection, NotFound
from wbctl.adapters.kube.convert import one_line
from wbctl.core import catalog
from wbctl.core.kube import INSTANCE_LABEL
from wbctl.core.timeline import REVISION, ConditionChange, FieldWrite, KubeEvent, ResourceHistory, Revision

LIMIT = 500  # items per list: one page, whatever the namespace holds
# the Events `changes` asks for: scaling (HPA, KEDA) and pod trouble (Warnings about Pods)
EVENT_SELECTORS = (
    "involvedObject.kind=HorizontalPodAutoscaler",
    "involvedObject.kind=ScaledObject",
    "involvedObject.kind=Pod,type=Warning",
)


def _time(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")) if value else None
    except ValueError:
        return None


def _page(connection: KubeConnection, resource: str, query: list[tuple[str, str]], notes: list[str]) -> list[Any]:
    with connection.translated("list", resource):
        page = connection.request("GET", connection.path(resource), query=[("limit", str(LIMIT)), *query])
    if (page.get("metadata") or {}).get("continue"):
        selected = ", ".join(value for _, value in query) or "all"
        notes.append(f"more than {LIMIT} {resource} ({selected}): the first {LIMIT} read")
    return list(page.get("items") or [])


def revision(obj: dict[str, Any]) -> Revision | None:
    """A ReplicaSet as its Deployment's revision; None without an owner or a revision."""
    metadata = obj.get("metadata") or {}
    owner = next((o for o in metadata.get("ownerReferences") or [] if o.get("kind") == "Deployment"), None)
    number = str((metadata.get("annotations") or {}).get(REVISION, ""))
    created = _time(metadata.get("creationTimestamp"))
    if owner is None or not number.isdigit() or created is None:
        return None
    containers = ((obj.get("spec") or {}).get("template") or {}).get("spec", {}).get("containers") or []
    label = str((metadata.get("labels") or {}).get("app.kubernetes.io/name", ""))
    spec = catalog.for_label(label, "Deployment") if label else None
    return Revision(
        str(owner.get("name", "")),
        str(metadata.get("name", "")),
        int(number),
        created,
        tuple(str(c.get("image", "")) for c in containers),
        spec.name if spec else None,
    )


def event(obj: dict[str, Any]) -> KubeEvent:
    involved = obj.get("involvedObject") or {}
    count = obj.get("count")
    first = _time(obj.get("firstTimestamp")) or _time(obj.get("eventTime"))
    return KubeEvent(
        str(involved.get("kind", "")),
        str(involved.get("name", "")),
        str(obj.get("reason", "")),
        one_line(str(obj.get("message", ""))),
        str(obj.get("type", "")),
        count if isinstance(count, int) else 1,
        first,
        _time(obj.get("lastTimestamp")) or first,
        str((obj.get("source") or {}).get("component") or obj.get("reportingComponent") or ""),
    )


def resource_history(obj: dict[str, Any]) -> ResourceHistory:
    metadata = obj.get("metadata") or {}
    generation = metadata.get("generation")
    writes = tuple(
        FieldWrite(
            str(entry.get("manager", "?")),
            str(entry.get("operation", "")),
            _time(entry.get("time")),
            str(entry.get("subresource", "")),
        )
        for entry in metadata.get("managedFields") or []
        if isinstance(entry, dict)
    )
    conditions = tuple(
        ConditionChange(
            str(c.get("type", "")),
            str(c.get("status", "")),
            str(c.get("reason", "")),
            _time(c.get("lastTransitionTime")),
        )
        for c in (obj.get("status") or {}).get("conditions") or []
        if isinstance(c, dict)
    )
    return ResourceHistory(
        str(metadata.get("name", "")), generation if isinstance(generation, int) else None, writes, conditions
    )


class HistoryReader:
    """The reads above through one connection; `notes` collects what a page left out."""

    def __init__(self, connection: KubeConnection) -> None:
        self._connection = connection
        self.notes: list[str] = []

    def revisions(self) -> list[Revision]:
        """The instance's ReplicaSets (selected as the install's generation labels its pods), as revisions."""
        connection = self._connection
        value = connection.generation().instance_label(connection.namespace, connection.instance)
        selector = f"{INSTANCE_LABEL}={value}"  # v1: the CR's name; v2: the namespace
        items = _page(connection, "replicasets", [("labelSelector", selector)], self.notes)
        return [found for found in (revision(item) for item in items) if found is not None]

    def events(self, selectors: Iterable[str] = EVENT_SELECTORS) -> list[KubeEvent]:
        """The Events each field selector picks, the selectors asked side by side."""
        wanted = list(selectors)
        self._connection.client()
        with ThreadPoolExecutor(max_workers=max(1, len(wanted))) as pool:
            pages = pool.map(
                lambda selector: _page(self._connection, "events", [("fieldSelector", selector)], self.notes), wanted
            )
            return [event(item) for page in pages for item in page]

    def resource(self) -> ResourceHistory | None:
        connection = self._connection
        version = connection.generation().value  # the version the operator runs (one discovery per connection)
        try:
            with connection.translated("get", "cr", connection.instance):
                raw = connection.request("GET", connection.path("cr", connection.instance, cr_version=version))
        except NotFound:
            return None
        return resource_history(raw)
