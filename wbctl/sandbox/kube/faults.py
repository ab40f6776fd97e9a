"""FakeKubeAPI's request log and failure injection: every request as the fake saw it (and the
TCP connections accepted), and the faults a test arms: 403 per verb and resource, 401 for
everything, a delay, a kind whose CRD is absent, expired continue tokens, another writer
winning a race (`conflict_next`). Separate from routing so a test's arrangement of failures
reads in one place; the router only records requests here, takes a copy of what is armed
(`Armed`, one per request) and lets a race run (`run_race`).

It shares the store's lock, so a request is recorded and the faults it meets are copied in one
step, and a race's write and the request it precedes cannot interleave with another writer.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from wbctl.sandbox.kube.errors import ApiError
from wbctl.sandbox.kube.store import ObjectStore
from wbctl.sandbox.kube.types import Obj, Route


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it, for asserting what (and how much) a command asked."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    verb: str | None  # get, list, watch, create, update, patch, delete; None for discovery
    resource: str | None  # plural, with "/scale" for the subresource; None for discovery
    headers: Mapping[str, str] = field(default_factory=dict)  # keyed in lower case: accept, authorization, ...


@dataclass
class _Race:
    """A concurrent writer that lands just before a matching request."""

    verb: str
    resource: str
    namespace: str | None
    remaining: int
    change: Mapping[str, Any]
    on_dry_run: bool

    def matches(self, route: Route, dry_run: bool) -> bool:
        return (
            self.remaining > 0
            and self.verb == route.verb
            and self.resource == route.resource
            and self.namespace in (None, route.namespace)
            and (self.on_dry_run or not dry_run)
        )


@dataclass
class Armed:
    """What a test armed; the router reads a copy per request."""

    forbidden: set[tuple[str, str, str | None]] = field(default_factory=set)
    races: list[_Race] = field(default_factory=list)
    unauthorized: bool = False
    delay: float = 0.0
    missing: set[str] = field(default_factory=set)
    expire_continue: bool = False

    def check_access(self, route: Route, user: str) -> None:
        """403, in the API server's words, when `route` is forbidden to `user`."""
        assert route.rtype is not None and route.verb is not None
        for verb, resource, namespace in self.forbidden:
            if verb in (route.verb, "*") and resource == route.resource and namespace in (None, route.namespace):
                rtype = route.rtype
                subject = f'{rtype.group_resource} "{route.name}"' if route.name else rtype.group_resource
                scope = f'in the namespace "{route.namespace}"' if route.namespace else "at the cluster scope"
                details: Obj = {"group": rtype.group, "kind": rtype.plural}
                if route.name:
                    details = {"name": route.name, **details}
                raise ApiError(
                    403,
                    "Forbidden",
                    f'{subject} is forbidden: User "{user}" cannot {route.verb} resource '
                    f'"{route.resource}" in API group "{rtype.group}" {scope}',
                    details,
                )


class Faults:
    """The request log and the armed faults, beside the store (a race writes through it)."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store
        self._lock = store.lock
        self._requests: list[RecordedRequest] = []
        self._connections = 0  # TCP connections accepted since start or reset_requests()
        self._armed = Armed()

    # --- request log ------------------------------------------------------------------------

    def record(self, request: RecordedRequest) -> Armed:
        """Log a request; returns a copy of the faults armed as it arrived."""
        with self._lock:
            self._requests.append(request)
            return copy.deepcopy(self._armed)

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since start or the last reset_requests(), in order."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._connections = 0

    def connections(self) -> int:
        """TCP connections accepted since start or reset_requests(): the client's urllib3 pool
        keeps one alive between requests, so a reused ApiClient adds none."""
        with self._lock:
            return self._connections

    def connected(self) -> None:
        with self._lock:
            self._connections += 1

    def count(self, verb: str | None = None, resource: str | None = None, *, method: str | None = None) -> int:
        """How many recorded requests match, e.g. count("list", "pods"); discovery counts too
        when no filter is given."""
        return sum(
            1
            for r in self.requests
            if (verb is None or r.verb == verb)
            and (resource is None or r.resource == resource)
            and (method is None or r.method == method)
        )

    # --- failure injection ------------------------------------------------------------------

    def missing(self) -> set[str]:
        """The plurals served as absent (without_resource)."""
        with self._lock:
            return set(self._armed.missing)

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 to `verb` (get, list, create, update, patch, delete or "*") on a resource
        (plural, or `deployments/scale` for the subresource, which RBAC grants separately) in
        one namespace or, with None, everywhere."""
        with self._lock:
            self._armed.forbidden.add((verb, resource, namespace))

    def unauthorized(self, enabled: bool = True) -> None:
        """Answer every request with 401 (an expired or revoked credential)."""
        with self._lock:
            self._armed.unauthorized = enabled

    def delay(self, seconds: float) -> None:
        """Hold every response for `seconds` (0 turns it off): for timeout tests."""
        with self._lock:
            self._armed.delay = max(0.0, seconds)

    def without_resource(self, resource: str) -> None:
        """Stop serving a kind, as a cluster without its CRD (KEDA absent): 404 on every path
        of it, and gone from discovery."""
        with self._lock:
            self._armed.missing.add(self._store.resource_type(resource).plural)

    def expire_continue_tokens(self, enabled: bool = True) -> None:
        """Answer 410 Expired to any list that passes a continue token (a compacted etcd)."""
        with self._lock:
            self._armed.expire_continue = enabled

    def conflict_next(
        self,
        verb: str,
        resource: str,
        namespace: str | None = None,
        *,
        times: int = 1,
        change: Mapping[str, Any] | None = None,
        on_dry_run: bool = False,
    ) -> None:
        """Let another writer (the operator, a colleague) win the race: just before each of the
        next `times` matching requests (verb `patch`/`update`/`delete` on a plural or
        `deployments/scale`), the target object is written first, merge-patched with `change`
        or, without one, only given a new resourceVersion. A request that carries the
        resourceVersion it read then gets a real 409; one without a precondition still succeeds.
        Dry-run requests do not trigger it unless `on_dry_run`."""
        with self._lock:
            self._armed.races.append(_Race(verb, resource, namespace, times, dict(change or {}), on_dry_run))

    def run_race(self, route: Route, dry_run: bool) -> None:
        """Let the first armed race matching `route` write its object, if it exists."""
        with self._lock:
            race = next((race for race in self._armed.races if race.matches(route, dry_run)), None)
            if race is None:
                return
            race.remaining -= 1
            assert route.rtype is not None and route.name is not None
            if self._store.get(route.rtype.plural, route.namespace, route.name) is not None:
                self._store.merge(route.rtype.plural, route.namespace, route.name, race.change)

    def reset_faults(self) -> None:
        with self._lock:
            self._armed = Armed()
