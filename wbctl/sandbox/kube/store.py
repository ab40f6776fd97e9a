"""FakeKubeAPI's object store: every object kept as JSON text under its kind, namespace and
name; the global resourceVersion, bumped on every stored change and on nothing else; and the
test-side operations that arrange and inspect the state (add, get, objects, merge, remove), as
a controller or kubectl would have left it. Separate from the verbs because tests use it
directly, without HTTP, and because its invariants (a fresh resourceVersion on every write,
quantities as strings) are easiest to keep in one place.

The verbs (reads.py, writes.py) and the faults (faults.py) hold the store's one re-entrant
`lock` too, so a precondition check and its write are one atomic step; they change the state
only through `commit` and `discard`, which keep the resourceVersion counter honest.
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
from wbctl.sandbox.kube.versions import Versions

Key = tuple[str, str]  # (namespace or "" for a cluster-scoped kind, name)


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


def _check_string_maps(rtype: ResourceType, name: str, obj: Obj) -> None:
    """Labels, annotations and ConfigMap data hold strings: fail at `add`, as decoding would."""
    metadata = obj["metadata"]
    for map_name in ("labels", "annotations"):
        if not all(isinstance(v, str) for v in (metadata.get(map_name) or {}).values()):
            raise ValueError(f"{rtype.kind} {name}: metadata.{map_name} values must be strings")
    if rtype.plural == "configmaps" and not all(isinstance(v, str) for v in (obj.get("data") or {}).values()):
        raise ValueError(f"ConfigMap {name}: data values must be strings")


class ObjectStore:
    """The objects and the resourceVersion counter behind one re-entrant lock."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        # plural -> (namespace or "", name) -> the object as JSON text (see Entry)
        self._entries: dict[str, dict[Key, Entry]] = {rtype.plural: {} for rtype in RESOURCE_TYPES}
        self._types: dict[str, ResourceType] = {}
        for rtype in RESOURCE_TYPES:
            self._types.setdefault(rtype.plural, rtype)
        # the kinds served at several versions (versions.py); the CRD of the chart's operator
        # serves WeightsAndBiases at v1 alone until a test or scenario installs the v2 operator's
        self._versions: dict[str, Versions] = {"weightsandbiases": Versions(("v1",), "v1")}
        self._rv = 1000

    # --- kinds and keys -----------------------------------------------------------------------

    def resource_type(self, resource: str) -> ResourceType:
        """Look a kind up by plural (`deployments`) or group-qualified plural (`deployments.apps`):
        a kind served at several versions answers its storage version."""
        plural = resource.split(".", 1)[0]
        try:
            rtype = self._types[plural]
        except KeyError:
            raise KeyError(f"FakeKubeAPI serves no resource {resource!r}") from None
        versions = self._versions.get(plural)
        return rtype if versions is None else self._at(rtype, versions.storage)

    @staticmethod
    def _at(rtype: ResourceType, version: str) -> ResourceType:
        return next(t for t in RESOURCE_TYPES if (t.group, t.plural, t.version) == (rtype.group, rtype.plural, version))

    # --- versions (versions.py) ---------------------------------------------------------------

    def set_versions(self, plural: str, versions: Versions) -> None:
        """Serve a kind at `versions.served`, stored at `versions.storage` (a CRD upgrade: the
        objects already stored are converted to the new storage version)."""
        with self.lock:
            self._versions[plural] = versions
            rtype = self.resource_type(plural)
            for key, entry in list(self._entries[plural].items()):
                obj = entry.load()
                if obj.get("apiVersion") != rtype.api_version:
                    self.commit(rtype, key, self.convert(obj, rtype, None))

    def served(self, rtype: ResourceType) -> bool:
        """Whether the API server answers at this kind's group and version."""
        versions = self._versions.get(rtype.plural)
        return versions is None or versions.serves(rtype.version)

    def served_versions(self, plural: str) -> tuple[str, ...] | None:
        versions = self._versions.get(plural)
        return None if versions is None else versions.served

    def convert(self, obj: Obj, rtype: ResourceType, stored: Obj | None) -> Obj:
        """`obj` at `rtype`'s version, as the conversion webhook answers (`stored`: the object
        a write replaces, so a conversion to the storage version keeps what the other version
        cannot say)."""
        if obj.get("apiVersion") == rtype.api_version:
            return obj
        versions = self._versions.get(rtype.plural)
        if versions is None or versions.convert is None:
            raise ValueError(f"FakeKubeAPI cannot convert {obj.get('apiVersion')} {rtype.kind} to {rtype.api_version}")
        return versions.convert(obj, rtype.api_version, stored)

    @staticmethod
    def type_of(obj: Mapping[str, Any]) -> ResourceType:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        for rtype in RESOURCE_TYPES:
            if rtype.api_version == api_version and rtype.kind == kind:
                return rtype
        raise ValueError(f"FakeKubeAPI serves no {api_version}/{kind}")

    @staticmethod
    def key(rtype: ResourceType, namespace: str | None, name: str) -> Key:
        return ((namespace or "") if rtype.namespaced else "", name)

    # --- the primitives the verbs build on (callers hold `lock` across check and change) ------

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion (the last write's)."""
        with self.lock:
            return str(self._rv)

    def next_rv(self) -> str:
        """Bump the global resourceVersion: every stored change takes a fresh one."""
        with self.lock:
            self._rv += 1
            return str(self._rv)

    def lookup(self, rtype: ResourceType, namespace: str | None, name: str) -> Obj:
        """A copy of the stored object, or the API server's 404."""
        with self.lock:
            entry = self._entries[rtype.plural].get(self.key(rtype, namespace, name))
        if entry is None:
            raise not_found(rtype, name)
        return self.convert(entry.load(), rtype, None)

    def contains(self, rtype: ResourceType, key: Key) -> bool:
        with self.lock:
            return key in self._entries[rtype.plural]

    def commit(self, rtype: ResourceType, key: Key, obj: Obj) -> None:
        """Store `obj` under `key` with a fresh metadata.resourceVersion (set in `obj` too), at
        the kind's storage version (converted when `rtype` is another served version)."""
        with self.lock:
            obj["metadata"]["resourceVersion"] = self.next_rv()
            storage = self.resource_type(rtype.plural)
            if storage.api_version != rtype.api_version:
                previous = self._entries[rtype.plural].get(key)
                stored = self.convert(copy.deepcopy(obj), storage, previous.load() if previous else None)
                stored["metadata"]["resourceVersion"] = obj["metadata"]["resourceVersion"]
                self._entries[rtype.plural][key] = Entry.of(storage, stored)
                return
            self._entries[rtype.plural][key] = Entry.of(rtype, obj)

    def discard(self, rtype: ResourceType, key: Key) -> bool:
        """Drop the object under `key`, bumping the resourceVersion; False when there was none."""
        with self.lock:
            if self._entries[rtype.plural].pop(key, None) is None:
                return False
            self.next_rv()
            return True

    def snapshot(self, rtype: ResourceType) -> tuple[str, list[tuple[Key, Entry]]]:
        """The current resourceVersion and every entry of a kind in key order, taken at once."""
        with self.lock:
            return str(self._rv), sorted(self._entries[rtype.plural].items())

    # --- state, for arranging and asserting -------------------------------------------------

    def add(self, obj: Mapping[str, Any], *, owned: bool = False) -> Obj:
        """Store an object as a controller or kubectl would have created it, or replace it.

        Fills uid and creationTimestamp when missing (kept from the stored object on replace),
        metadata.generation for kinds that track it, and always a fresh resourceVersion, so the
        global counter stays monotonic. A namespaced object without a namespace goes to
        `default`. Returns a copy of what was stored. `owned`: the caller hands over an object
        the sandbox built and this store accepted before (its cached namespace, parsed for this
        call), so it is neither copied nor checked again."""
        rtype = self.type_of(obj)
        stored = dict(obj) if owned else copy.deepcopy(dict(obj))
        storage = self.resource_type(rtype.plural)
        if storage.api_version != rtype.api_version:  # written at another served version
            stored = self.convert(stored, storage, None)
            rtype = storage
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
        _check_string_maps(rtype, name, stored)
        key = (metadata.get("namespace", ""), name)
        with self.lock:
            previous = self._entries[rtype.plural].get(key)
            old_meta = previous.load()["metadata"] if previous else {}
            metadata.setdefault("uid", old_meta.get("uid") or str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", old_meta.get("creationTimestamp") or now_timestamp())
            if rtype.tracks_generation:
                metadata.setdefault("generation", old_meta.get("generation", 1))
            metadata.setdefault("labels", {})
            self.commit(rtype, key, stored)
            return stored

    def add_all(self, objs: Iterable[Mapping[str, Any]], *, owned: bool = False) -> None:
        for obj in objs:
            self.add(obj, owned=owned)

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of the stored object, or None."""
        rtype = self.resource_type(resource)
        with self.lock:
            entry = self._entries[rtype.plural].get(self.key(rtype, namespace, name))
        return entry.load() if entry is not None else None

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a kind (in one namespace, if given), in key order."""
        rtype = self.resource_type(resource)
        _, items = self.snapshot(rtype)
        return [entry.load() for (ns, _), entry in items if namespace is None or ns == namespace]

    def merge(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> Obj:
        """Merge-patch a stored object from the test side, status included, bumping its
        resourceVersion: this is how a test plays the operator or a controller (e.g. the
        operator reverting a direct scale, or a rollout finishing)."""
        rtype = self.resource_type(resource)
        key = self.key(rtype, namespace, name)
        with self.lock:
            current = self._entries[rtype.plural].get(key)
            if current is None:
                raise KeyError(f"{rtype.group_resource} {namespace}/{name} not found")
            updated = merge_patch(current.load(), copy.deepcopy(dict(patch)))
            check_quantities(updated, f"{rtype.kind} {name}")
            self.commit(rtype, key, updated)
            return updated

    def remove(self, resource: str, namespace: str | None, name: str) -> bool:
        rtype = self.resource_type(resource)
        return self.discard(rtype, self.key(rtype, namespace, name))
