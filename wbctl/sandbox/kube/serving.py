"""How FakeKubeAPI answers a request: the path taken apart into kind, namespace, name and RBAC
verb; the request recorded; the bearer token checked and the armed faults applied; then
discovery (kube_discovery.py), get, and list (label and field selectors, pagination with
`limit` and `continue` tokens that carry the list's resourceVersion), each read answered in
the form its Accept header asks for (the object, or a Table or partial metadata: see
kube_tables.py); writes go to kube_writes.py. Separate from the HTTP handler so a test can
time the server's share of a request (`handle`, or `respond` with the content type) without
sockets.
"""

from __future__ import annotations

import base64
import copy
import json
import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wbctl.sandbox.kube.discovery import discovery_document
from wbctl.sandbox.kube.errors import ApiError, bad_request, no_such_resource
from wbctl.sandbox.kube.faults import Faults, KubeFaults, RecordedRequest
from wbctl.sandbox.kube.semantics import (
    SelectorError,
    fields_match,
    labels_match,
    parse_field_selector,
    parse_label_selector,
)
from wbctl.sandbox.kube.store import Entry
from wbctl.sandbox.kube.tables import PLAIN, View, as_view, include_object, negotiate
from wbctl.sandbox.kube.types import (
    RESOURCE_TYPES,
    Obj,
    Payload,
    ResourceType,
    Route,
)
from wbctl.sandbox.kube.writes import KubeWrites


class KubeServing(KubeWrites, KubeFaults):
    """Routing, authentication, discovery, get and list; the writes come from KubeWrites."""

    token: str  # the bearer token every request must carry; set by FakeKubeAPI
    _stopping: threading.Event  # set by FakeKubeAPI.stop(): cuts a delayed response short
    port: int  # what /api advertises (FakeKubeAPI.port)

    # --- answering a request ------------------------------------------------------------------

    def _served(self) -> list[ResourceType]:
        with self._lock:
            return [rtype for rtype in RESOURCE_TYPES if rtype.plural not in self._faults.missing]

    def _route(self, method: str, path: str, query: Mapping[str, list[str]]) -> Route | None:
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
        watch = (query.get("watch") or ["false"])[-1] in ("true", "1")
        verbs = {
            "GET": "watch" if watch else ("get" if name else "list"),
            "POST": "create",
            "PUT": "update",
            "PATCH": "patch",
            "DELETE": "delete" if name else "deletecollection",
        }
        verb = verbs.get(method)
        resource = f"{plural}/{subresource}" if subresource else plural
        return Route(rtype, namespace, name, subresource, verb, resource)

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Answer one request: (HTTP status, JSON body bytes). Tests may call it directly to
        time the server's share of a request. `headers` are keyed in lower case."""
        status, _, data = self.respond(method, raw_path, headers, body)
        return status, data

    def respond(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str, bytes]:
        """Answer one request: (HTTP status, Content-Type, body bytes); the HTTP handler is a
        thin shell on this."""
        hook = getattr(self, "on_request", None)
        if hook is not None:  # the sandbox brings its deployment up to the present first (world.py)
            hook(method)
        status, payload, media_type = self._answer(method, raw_path, headers, body)
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        return status, media_type, text.encode()

    def _answer(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Payload, str]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        content_type = headers.get("content-type")
        route = self._route(method, split.path, query)
        try:
            parsed_body: Any = json.loads(body) if body else None
        except ValueError:
            parsed_body = body.decode("utf-8", "replace")
        with self._lock:
            self._requests.append(
                RecordedRequest(
                    method,
                    split.path,
                    {k: v[-1] for k, v in query.items()},
                    content_type,
                    parsed_body,
                    route.verb if route else None,
                    route.resource if route else None,
                    dict(headers),
                )
            )
            faults = copy.deepcopy(self._faults)
        if faults.delay:
            self._stopping.wait(faults.delay)
        try:
            scheme, _, presented = (headers.get("authorization") or "").partition(" ")
            # the scheme is case-insensitive (RFC 7235; the API server's bearer authenticator
            # compares it so): the client's in-cluster loader sends `bearer TOKEN`
            if faults.unauthorized or scheme.lower() != "bearer" or presented != self.token:
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if route is None:
                return (
                    200,
                    discovery_document(split.path.rstrip("/") or "/", self._served(), self.port),
                    PLAIN.content_type,
                )
            view = PLAIN
            if route.verb in ("get", "list") and route.subresource is None:
                view = negotiate(headers.get("accept"), is_list=route.verb == "list")
            status, payload = self._serve(route, method, query, content_type, body, faults, view)
            return status, payload, view.content_type
        except ApiError as error:
            return error.code, error.body, PLAIN.content_type

    def _serve(
        self,
        route: Route,
        method: str,
        query: Mapping[str, list[str]],
        content_type: str | None,
        body: bytes,
        faults: Faults,
        view: View = PLAIN,
    ) -> tuple[int, Payload]:
        rtype = route.rtype
        if rtype is None or rtype.plural in faults.missing or route.verb is None:
            raise no_such_resource()
        if route.subresource is not None and route.subresource not in rtype.subresources:
            raise no_such_resource()
        if rtype.namespaced is False and route.namespace is not None:
            raise no_such_resource()
        if rtype.namespaced and route.namespace is None and route.name is not None:
            raise no_such_resource()
        self._check_access(route, faults)
        dry_values = query.get("dryRun") or []
        for value in dry_values:
            if value != "All":
                raise bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        dry_run = bool(dry_values)
        namespace = route.namespace or ""

        if route.verb == "list":
            metadata, page = self._select(rtype, route.namespace, query, faults)
            if view.as_:
                return 200, as_view(view, rtype, [entry.load() for entry in page], metadata, include_object(query))
            head = json.dumps(
                {"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List", "metadata": metadata},
                separators=(",", ":"),
            )
            return 200, head[:-1] + ',"items":[' + ",".join(entry.item_text for entry in page) + "]}"
        if route.verb == "get":
            obj = self._lookup(rtype, namespace, route.name or "")
            if view.as_:
                return 200, as_view(view, rtype, [obj], None, include_object(query))
            return 200, self._scale_view(obj) if route.subresource == "scale" else obj
        if route.verb == "create" and route.name is None:
            return 201, self._create(rtype, namespace, self._json(body), dry_run)
        if route.verb in ("update", "patch", "delete") and route.name is not None:
            self._run_race(route, dry_run)
        if route.verb in ("update", "patch") and route.name is not None:
            return 200, self._write(
                rtype, namespace, route.name, route.subresource, route.verb, content_type, body, dry_run
            )
        if route.verb == "delete" and route.name is not None and route.subresource is None:
            return 200, self._delete(rtype, namespace, route.name, dry_run)
        raise ApiError(
            405,
            "MethodNotAllowed",
            f"the server does not allow this method on the requested resource ({route.verb} is not served by FakeKubeAPI)",
        )

    # --- list ---------------------------------------------------------------------------------

    def _select(
        self, rtype: ResourceType, namespace: str | None, query: Mapping[str, list[str]], faults: Faults
    ) -> tuple[Obj, list[Entry]]:
        """One page of a list: its metadata (resourceVersion, continue, remainingItemCount) and entries."""

        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        try:
            label_requirements = parse_label_selector(one("labelSelector"))
            field_requirements = parse_field_selector(one("fieldSelector"), rtype.field_labels)
        except SelectorError as error:
            raise bad_request(str(error)) from None
        limit_text = one("limit")
        try:
            limit = int(limit_text) if limit_text else 0
        except ValueError:
            raise bad_request(f"limit: Invalid value: {limit_text!r}") from None
        token = one("continue")
        start_after: tuple[str, str] | None = None
        token_rv: str | None = None
        if token:
            if faults.expire_continue:
                raise ApiError(
                    410,
                    "Expired",
                    "The provided continue parameter is too old to display a consistent list result. "
                    "You can start a new list without the continue parameter.",
                )
            start_after, token_rv = self._decode_continue(token)
        with self._lock:
            list_rv = token_rv or str(self._rv)
            matched: list[tuple[tuple[str, str], Entry]] = []
            for key, entry in sorted(self._store[rtype.plural].items()):
                if namespace is not None and key[0] != namespace:
                    continue
                if start_after is not None and key <= start_after:
                    continue
                if not labels_match(label_requirements, entry.labels):
                    continue
                if not fields_match(field_requirements, entry.fields):
                    continue
                matched.append((key, entry))
        page = matched[:limit] if limit > 0 else matched
        metadata: Obj = {"resourceVersion": list_rv}
        if limit > 0 and len(matched) > limit:
            metadata["continue"] = self._encode_continue(page[-1][0], list_rv)
            if not label_requirements and not field_requirements:
                metadata["remainingItemCount"] = len(matched) - limit
        return metadata, [entry for _, entry in page]

    @staticmethod
    def _encode_continue(key: tuple[str, str], rv: str) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{key[0]}/{key[1]}"}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[tuple[str, str], str]:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            namespace, name = raw["start"].split("/", 1)
            return (namespace, name), str(int(raw["rv"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise bad_request(f"continue key is not valid: {token!r}") from None
