"""FakeKubeAPI's object store: every object kept as JSON text under its kind, namespace and
name; the global resourceVersion, bumped on every stored change and on nothing else; and the
test-side operations that arrange and inspect the state (add, get, objects, merge, remove), as
a controller or kubectl would have left it. Separate from the verbs because tests use it
directly, without HTTP, and because its invariants (a fresh resourceVersion on every write,
quantities as strings) are easiest to keep in one place.
"""

from __future__ import annotations

import copy
import json
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from wbctl.sandbox.kube.errors import not_found
from wbctl.sandbox.kube.semantics import field_value, merge_patch
from wbctl.sandbox.kube.types import RESOURCE_TYPES, Obj, ResourceType
from wbctl.sandbox.kube.validation import check_quantities


def now_timestamp() -> str:
    """Now, to the second, as the API server writes creationTimestamp."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass(frozen=True, slots=True)
class Entry:
    """One stored object, kept as its JSON text. Immutable by construction, invisible to the
    garbage collector (2,000 pods held as dicts make every full collection of the test process
    take ~100 ms), and a list answers by joining texts instead of encoding objects. Labels and
    the kind's indexed fields are kept beside it for selectors."""

    text: str
    item_text: str  # as a list item: built-in kinds drop apiVersion/kind there, like the API server
    labels: Mapping[str, str]
    fields: Mapping[str, str]

    @classmethod
    def of(cls, rtype: ResourceType, obj: Obj) -> Entry:
        text = json.dumps(obj, separators=(",", ":"))
        item_text = (
            text
            if rtype.custom
            else json.dumps({k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}, separators=(",", ":"))
        )
        labels = dict(obj["metadata"].get("labels") or {})
        return cls(text, item_text, labels, {path: field_value(obj, path) for path in rtype.field_labels})

    def load(self) -> Obj:
        return json.loads(self.text)


class KubeObjectStore:
    """The objects and the resourceVersion counter behind one re-entrant lock, which the verbs
    (kube_writes.py) hold too, so a precondition check and its write are one atomic step."""

    def __init__(self) -> None:
        self._lock = threading.RLock()
        # plural -> (namespace or "", name) -> the object as JSON text (see Entry)
        self._store: dict[str, dict[tuple[str, str], Entry]] = {rtype.plural: {} for rtype in RESOURCE_TYPES}
        self._types = {rtype.plural: rtype for rtype in RESOURCE_TYPES}
        self._rv = 1000

    # --- state, for arranging and asserting -------------------------------------------------

    def resource_type(self, resource: str) -> ResourceType:
        """Look a kind up by plural (`deployments`) or group-qualified plural (`deployments.apps`)."""
        plural = resource.split(".", 1)[0]
        try:
            return self._types[plural]
        except KeyError:
            raise KeyError(f"FakeKubeAPI serves no resource {resource!r}") from None

    def _type_of(self, obj: Mapping[str, Any]) -> ResourceType:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        for rtype in RESOURCE_TYPES:
            if rtype.api_version == api_version and rtype.kind == kind:
                return rtype
        raise ValueError(f"FakeKubeAPI serves no {api_version}/{kind}")

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion (the last write's)."""
        with self._lock:
            return str(self._rv)

    def add(self, obj: Mapping[str, Any], *, owned: bool = False) -> Obj:
        """Store an object as a controller or kubectl would have created it, or replace it.

        Fills uid and creationTimestamp when missing (kept from the stored object on replace),
        metadata.generation for kinds that track it, and always a fresh resourceVersion, so the
        global counter stays monotonic. A namespaced object without a namespace goes to
        `default`. Returns a copy of what was stored. `owned`: the caller hands over an object
        the sandbox built and this store accepted before (its cached namespace, parsed for this
        call), so it is neither copied nor checked again."""
        rtype = self._type_of(obj)
        stored = dict(obj) if owned else copy.deepcopy(dict(obj))
        metadata = stored.setdefault("metadata", {})
        name = metadata.get("name")
        if not name:
            raise ValueError("an object needs metadata.name")
        if rtype.namespaced:
            metadata.setdefault("namespace", "default")
        else:
            metadata.pop("namespace", None)
        if not owned:
            check_quantities(stored, f"{rtype.kind} {name}")
        for map_name in ("labels", "annotations"):
            if not all(isinstance(v, str) for v in (metadata.get(map_name) or {}).values()):
                raise ValueError(f"{rtype.kind} {name}: metadata.{map_name} values must be strings")
        if rtype.plural == "configmaps" and not all(isinstance(v, str) for v in (stored.get("data") or {}).values()):
            raise ValueError(f"ConfigMap {name}: data values must be strings")
        key = (metadata.get("namespace", ""), name)
        with self._lock:
            previous = self._store[rtype.plural].get(key)
            old_meta = previous.load()["metadata"] if previous else {}
            metadata.setdefault("uid", old_meta.get("uid") or str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", old_meta.get("creationTimestamp") or now_timestamp())
            if rtype.tracks_generation:
                metadata.setdefault("generation", old_meta.get("generation", 1))
            metadata.setdefault("labels", {})
            metadata["resourceVersion"] = self._next_rv()
            self._store[rtype.plural][key] = Entry.of(rtype, stored)
            return stored

    def add_all(self, objs: Iterable[Mapping[str, Any]], *, owned: bool = False) -> None:
        for obj in objs:
            self.add(obj, owned=owned)

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of the stored object, or None."""
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            entry = self._store[rtype.plural].get(key)
        return entry.load() if entry is not None else None

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a kind (in one namespace, if given), in key order."""
        rtype = self.resource_type(resource)
        with self._lock:
            items = sorted(self._store[rtype.plural].items())
        return [entry.load() for (ns, _), entry in items if namespace is None or ns == namespace]

    def merge(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> Obj:
        """Merge-patch a stored object from the test side, status included, bumping its
        resourceVersion: this is how a test plays the operator or a controller (e.g. the
        operator reverting a direct scale, or a rollout finishing)."""
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            current = self._store[rtype.plural].get(key)
            if current is None:
                raise KeyError(f"{rtype.group_resource} {namespace}/{name} not found")
            updated = merge_patch(current.load(), copy.deepcopy(dict(patch)))
            check_quantities(updated, f"{rtype.kind} {name}")
            updated["metadata"]["resourceVersion"] = self._next_rv()
            self._store[rtype.plural][key] = Entry.of(rtype, updated)
            return updated

    def remove(self, resource: str, namespace: str | None, name: str) -> bool:
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            if self._store[rtype.plural].pop(key, None) is None:
                return False
            self._next_rv()
            return True

    def _lookup(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        with self._lock:
            entry = self._store[rtype.plural].get((namespace if rtype.namespaced else "", name))
        if entry is None:
            raise not_found(rtype, name)
        return entry.load()
