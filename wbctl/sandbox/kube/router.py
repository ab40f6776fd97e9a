"""How FakeKubeAPI answers a request: the path taken apart into kind, namespace, name and RBAC
verb (`parse_route`); the request recorded and the armed faults applied (faults.py); the bearer
token checked (auth.py); then the path handed to its handler: discovery (discovery.py), pod
logs and metrics.k8s.io (telemetry.py, when the fake has a Telemetry), a read
(reads.py) answered in the form its Accept header asks for (the object, or a Table or partial
metadata: see tables.py), or a write (writes.py). Separate from the HTTP shell (http.py,
server.py) so a test can time the server's share of a request without sockets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import SplitResult, parse_qs, urlsplit

from wbctl.sandbox.kube.auth import Credentials
from wbctl.sandbox.kube.discovery import discovery_document
from wbctl.sandbox.kube.errors import ApiError, bad_request, no_such_resource
from wbctl.sandbox.kube.faults import Armed, Faults, RecordedRequest
from wbctl.sandbox.kube.reads import Query, Reads
from wbctl.sandbox.kube.store import ObjectStore
from wbctl.sandbox.kube.tables import PLAIN, View, as_view, include_object, negotiate
from wbctl.sandbox.kube.telemetry import Telemetry, group_document, is_metrics_path, metrics_answer, pod_log
from wbctl.sandbox.kube.types import RESOURCE_TYPES, Obj, Payload, ResourceType, Route
from wbctl.sandbox.kube.writes import Writes, parse_json, scale_view

LOG_CONTENT_TYPE = "text/plain"


def _verb(method: str, name: str | None, query: Query) -> str | None:
    """The RBAC verb of a request (None: a method the API server has no verb for)."""
    watch = (query.get("watch") or ["false"])[-1] in ("true", "1")
    verbs = {
        "GET": "watch" if watch else ("get" if name else "list"),
        "POST": "create",
        "PUT": "update",
        "PATCH": "patch",
        "DELETE": "delete" if name else "deletecollection",
    }
    return verbs.get(method)


def parse_route(method: str, path: str, query: Query) -> Route | None:
    """Map a resource path to its kind, namespace, name and RBAC verb (None: not a resource path)."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
        group, version, rest = "", "v1", parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    namespace: str | None = None
    if rest[0] == "namespaces" and len(rest) >= 3:
        namespace, rest = rest[1], rest[2:]
    plural, name = rest[0], rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    rtype = next((t for t in RESOURCE_TYPES if (t.group, t.version, t.plural) == (group, version, plural)), None)
    if len(rest) > 3:
        rtype = None
    resource = f"{plural}/{subresource}" if subresource else plural
    return Route(rtype, namespace, name, subresource, _verb(method, name, query), resource)


def _served_type(route: Route, armed: Armed, store: ObjectStore) -> ResourceType:
    """The route's kind, or 404 when no such resource is served at that path (a CRD not
    installed, or a version of it the CRD does not serve)."""
    rtype = route.rtype
    if rtype is None or rtype.plural in armed.missing or route.verb is None or not store.served(rtype):
        raise no_such_resource()
    if route.subresource is not None and route.subresource not in rtype.subresources:
        raise no_such_resource()
    if rtype.namespaced is False and route.namespace is not None:
        raise no_such_resource()
    if rtype.namespaced and route.namespace is None and route.name is not None:
        raise no_such_resource()
    return rtype


def _core(plural: str) -> ResourceType:
    return next(t for t in RESOURCE_TYPES if t.plural == plural and not t.group)


def _dry_run(query: Query) -> bool:
    dry_values = query.get("dryRun") or []
    for value in dry_values:
        if value != "All":
            raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
    return bool(dry_values)


def _not_allowed(verb: str | None) -> ApiError:
    return ApiError(
        405,
        "MethodNotAllowed",
        f"the server does not allow this method on the requested resource ({verb} is not served by FakeKubeAPI)",
    )


class Router:
    """Answers one request at a time, from any thread: (HTTP status, payload, Content-Type)."""

    def __init__(
        self,
        store: ObjectStore,
        faults: Faults,
        credentials: Credentials,
        *,
        port: Callable[[], int],
        stopping: threading.Event,
    ) -> None:
        self._faults = faults
        self._credentials = credentials
        self._port = port  # what /api advertises: the listening port, once started
        self._stopping = stopping  # set when the server stops: cuts a delayed response short
        self._store = store
        self._reads = Reads(store)
        self.telemetry: Telemetry | None = None  # what pods print and use (telemetry.py); None: no metrics API
        self._writes = Writes(store)

    def respond(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str, bytes]:
        """Answer one request: (HTTP status, Content-Type, body bytes)."""
        status, payload, media_type = self.answer(method, raw_path, headers, body)
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        return status, media_type, text.encode()

    def answer(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Payload, str]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        route = parse_route(method, split.path, query)
        armed = self._record(method, split, query, headers, body, route)
        if armed.delay:
            self._stopping.wait(armed.delay)
        try:
            self._credentials.authenticate(headers.get("authorization"), revoked=armed.unauthorized)
            if self.telemetry is not None and is_metrics_path(split.path):
                return 200, self._metrics(method, split.path, query), PLAIN.content_type
            if route is None:
                return 200, self._discovery(split.path.rstrip("/") or "/"), PLAIN.content_type
            if route.rtype is not None and route.rtype.plural == "pods" and route.subresource == "log":
                return 200, self._log(route, query, armed), LOG_CONTENT_TYPE
            view = PLAIN
            if route.verb in ("get", "list") and route.subresource is None:
                view = negotiate(headers.get("accept"), is_list=route.verb == "list")
            status, payload = self._serve(route, query, headers.get("content-type"), body, armed, view)
            return status, payload, view.content_type
        except ApiError as error:
            return error.code, error.body, PLAIN.content_type

    def _record(
        self,
        method: str,
        split: SplitResult,
        query: Query,
        headers: Mapping[str, str],
        body: bytes,
        route: Route | None,
    ) -> Armed:
        """Log the request; returns the faults armed as it arrived."""
        try:
            parsed_body: Any = json.loads(body) if body else None
        except ValueError:
            parsed_body = body.decode("utf-8", "replace")
        return self._faults.record(
            RecordedRequest(
                method,
                split.path,
                {k: v[-1] for k, v in query.items()},
                headers.get("content-type"),
                parsed_body,
                route.verb if route else None,
                route.resource if route else None,
                dict(headers),
            )
        )

    def _discovery(self, path: str) -> Obj:
        document = discovery_document(path, self._served(), self._port())
        if path == "/apis" and self.telemetry is not None:  # metrics-server's group, as its APIService adds it
            document["groups"] = [*document["groups"], group_document()]
        return document

    def _metrics(self, method: str, path: str, query: Query) -> Obj:
        pods, nodes = (self._reads.all(_core(plural)) for plural in ("pods", "nodes"))
        assert self.telemetry is not None
        return metrics_answer(method, path, query, pods, nodes, self.telemetry)

    def _log(self, route: Route, query: Query, armed: Armed) -> str:
        """`pods/log`: the API server's checks, then the text the kubelet would stream."""
        assert route.rtype is not None
        if route.verb != "get" or route.name is None or route.namespace is None:
            raise no_such_resource()
        armed.check_access(route, self._credentials.user)
        pod = self._reads.get(route.rtype, route.namespace, route.name)
        return pod_log(pod, query, self.telemetry)

    def _served(self) -> list[ResourceType]:
        missing = self._faults.missing()
        return [rtype for rtype in RESOURCE_TYPES if rtype.plural not in missing and self._store.served(rtype)]

    def _serve(
        self, route: Route, query: Query, content_type: str | None, body: bytes, armed: Armed, view: View = PLAIN
    ) -> tuple[int, Payload]:
        rtype = _served_type(route, armed, self._store)
        armed.check_access(route, self._credentials.user)
        dry_run = _dry_run(query)
        namespace = route.namespace or ""
        if route.verb == "list":
            return 200, self._list(rtype, route, query, armed, view)
        if route.verb == "get":
            obj = self._reads.get(rtype, namespace, route.name or "")
            if view.as_:
                return 200, as_view(view, rtype, [obj], None, include_object(query))
            return 200, scale_view(obj) if route.subresource == "scale" else obj
        if route.verb == "create" and route.name is None:
            return 201, self._writes.create(rtype, namespace, parse_json(body), dry_run)
        if route.verb in ("update", "patch", "delete") and route.name is not None:
            self._faults.run_race(route, dry_run)
        if route.verb in ("update", "patch") and route.name is not None:
            return 200, self._writes.write(
                rtype, namespace, route.name, route.subresource, route.verb, content_type, body, dry_run
            )
        if route.verb == "delete" and route.name is not None and route.subresource is None:
            return 200, self._writes.delete(rtype, namespace, route.name, dry_run)
        raise _not_allowed(route.verb)

    def _list(self, rtype: ResourceType, route: Route, query: Query, armed: Armed, view: View) -> Payload:
        """A list's page as the object (assembled from the stored texts) or as a Table or metadata."""
        metadata, page = self._reads.page(rtype, route.namespace, query, expire_continue=armed.expire_continue)
        if self._store.resource_type(rtype.plural) != rtype:  # another served version: each item converted
            items = [self._store.convert(entry.load(), rtype, None) for entry in page]
            if view.as_:
                return as_view(view, rtype, items, metadata, include_object(query))
            listing = {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List", "metadata": metadata}
            return {**listing, "items": items}
        if view.as_:
            return as_view(view, rtype, [entry.load() for entry in page], metadata, include_object(query))
        head = json.dumps(
            {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List", "metadata": metadata},
            separators=(",", ":"),
        )
        return head[:-1] + ',"items":[' + ",".join(entry.item_text for entry in page) + "]}"
