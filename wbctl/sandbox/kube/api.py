"""FakeKubeAPI: an in-process Kubernetes API server over real HTTP (or HTTPS) on loopback.

It serves the sandbox (`wbctl --sandbox`) and the test suite alike, so rehearsals and tests
run the real adapter and the real client against the same semantics. Why a fake of our own: no
real API server can run here, and the one packaged emulator (kmock) has no label selectors,
pagination, resourceVersion counter, dry run or scale subresource, and needs an asyncio test
plugin. wbctl's Kubernetes adapter uses the official `kubernetes` client,
whose generated pydantic models validate every response; so this fake speaks the wire protocol
the client expects (paths, query parameters, PATCH content types, Status bodies) and returns
complete objects, and tests drive it only through that client via `write_kubeconfig`. With
`tls=True` it serves HTTPS under a CA made at start, and the real kubectl works against it too
(get with server-side Tables, describe, scale, the CR by its short name `wandb`).

What it implements, with the API server's semantics (see semantics.py for the pure parts):
get/list/create/update(PUT)/patch/delete on the kinds in RESOURCE_TYPES; label selectors and the
field selectors each kind indexes; pagination with `limit`/`continue`; a global resourceVersion
bumped on every write (a no-op write bumps nothing); optimistic concurrency (409 when a PUT or
PATCH carries a stale metadata.resourceVersion); merge, strategic-merge and JSON patch (and 415
for strategic merge on a custom resource, as a real server answers); `dryRun=All`; the
deployments/scale subresource (autoscaling/v1 Scale); status owned by a status subresource
(writes to the main resource leave `status` alone); 401, 403, 404, 409, 410, 415 and 422 Status
bodies; bearer-token authentication; ConfigMaps (whose `data` must hold strings); reads as
`meta.k8s.io` Tables with the real API server's columns per kind, or as PartialObjectMetadata,
as the Accept header asks (406 for protobuf or YAML alone); discovery with short names and
categories (legacy documents only: no aggregated discovery, no OpenAPI); pods/log and the
metrics.k8s.io API (`kubectl logs`, `kubectl top`) from a `telemetry` its owner sets
(telemetry.py: the sandbox's comes from its queue model). Failure
injection: forbid, unauthorized, delay (held outside the lock, so concurrent requests wait side
by side), without_resource (CRD absent), expire_continue_tokens, conflict_next (another writer
wins the race). `connections()` counts the TCP connections accepted: a client that keeps its
connection alive between rounds opens none after the first. Not implemented: watch (405, so
`kubectl get -w` fails), server-side apply, /openapi (so no `kubectl explain`), the
/status subresource endpoints, admission and controllers (scaling a Deployment changes
spec.replicas, not status or pods: use `merge` to play the controller).

How it is put together: FakeKubeAPI composes four parts and keeps the public interface tests
and the sandbox use, delegating to them: the store (store.py: objects, resourceVersions, the
test-side add/get/objects/merge/remove, validation on write from validation.py), the faults
(faults.py: the request log, failure injection, races), the router (router.py: a request's path
mapped to discovery.py, reads.py or writes.py, the answer shaped by tables.py with printers.py
and columns.py, the bearer token checked by auth.py) and the HTTP shell (server.py: start and
stop, TLS from tls.py; http.py: the socket server and handler); kubeconfig.py writes the file
a client connects with. types.py holds the served kinds and routes, errors.py the Status
bodies, semantics.py the pure selectors and patches. The parts are composed, not inherited:
each holds only what it needs of the others (the store's lock, a callable for the port), so
none reaches into another's attributes and each reads, and types, on its own.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import Any

from wbctl.sandbox.kube import kubeconfig
from wbctl.sandbox.kube.auth import Credentials
from wbctl.sandbox.kube.errors import ApiError, FieldError, status_body
from wbctl.sandbox.kube.faults import Faults, RecordedRequest
from wbctl.sandbox.kube.router import Router
from wbctl.sandbox.kube.server import Listener
from wbctl.sandbox.kube.store import ObjectStore
from wbctl.sandbox.kube.telemetry import Telemetry
from wbctl.sandbox.kube.types import (
    RESOURCE_TYPES,
    VERSION_INFO,
    Obj,
    Payload,
    ResourceType,
)
from wbctl.sandbox.kube.versions import Versions

__all__ = [
    "RESOURCE_TYPES",
    "VERSION_INFO",
    "ApiError",
    "FakeKubeAPI",
    "FieldError",
    "Obj",
    "Payload",
    "RecordedRequest",
    "ResourceType",
    "status_body",
]


class FakeKubeAPI:
    """An in-process Kubernetes API server for tests; see the module docstring for its scope.

    Typical use::

        with FakeKubeAPI() as api:
            api.add_all(chart_043())
            kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
            ...  # run wbctl with KUBECONFIG=kubeconfig
            assert api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3
    """

    #: Called with the HTTP method before each request is answered: the sandbox brings its
    #: deployment up to the present first (sandbox.py, sim/world.py).
    on_request: Callable[[str], None] | None = None

    def __init__(self, *, user: str = "test", token: str = "fake-token", tls: bool = False) -> None:
        """`tls=True` serves HTTPS with a CA and server certificate made at start (see
        tls.py), which the kubeconfig carries: needed by the real kubectl, which sends no
        bearer token over plain HTTP. Plain HTTP stays the default (quicker to start)."""
        self.store = ObjectStore()
        self.faults = Faults(self.store)
        self.credentials = Credentials(user, token)
        self.listener = Listener(self.respond, self.faults.connected, tls=tls)
        self.router = Router(
            self.store, self.faults, self.credentials, port=lambda: self.port, stopping=self.listener.stopping
        )

    # --- who it serves ------------------------------------------------------------------------

    @property
    def user(self) -> str:
        """The user 403 messages name."""
        return self.credentials.user

    @user.setter
    def user(self, value: str) -> None:
        self.credentials.user = value

    @property
    def token(self) -> str:
        """The bearer token every request must carry (a test may rotate it)."""
        return self.credentials.token

    @token.setter
    def token(self, value: str) -> None:
        self.credentials.token = value

    @property
    def tls(self) -> bool:
        return self.listener.tls

    @tls.setter
    def tls(self, value: bool) -> None:
        self.listener.tls = value

    @property
    def telemetry(self) -> Telemetry | None:
        """What the pods print (`pods/log`) and use (metrics.k8s.io); None: empty logs, no metrics API."""
        return self.router.telemetry

    @telemetry.setter
    def telemetry(self, value: Telemetry | None) -> None:
        self.router.telemetry = value

    # --- lifecycle (server.py) ------------------------------------------------------------------

    def start(self) -> FakeKubeAPI:
        """Listen on a free loopback port and serve from a daemon thread."""
        self.listener.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed responses still in flight are cut short."""
        self.listener.stop()

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self.listener.port

    @property
    def url(self) -> str:
        return self.listener.url

    @property
    def ca_pem(self) -> bytes:
        """The PEM of the CA that signed this server's certificate (TLS only, once started)."""
        return self.listener.ca_pem

    def write_kubeconfig(
        self, path: str | Path, context: str = "fake", namespace: str = "default", *, make_current: bool = True
    ) -> Path:
        """Write (or add a context to) a kubeconfig pointing at this server, with a bearer token
        and, over TLS, the CA as `certificate-authority-data` (kubectl and the Python client
        both verify the server then); over HTTP, `insecure-skip-tls-verify` as before.

        An existing file keeps its other clusters, users and contexts, so one file can hold
        several contexts (e.g. two fakes standing for two clusters)."""
        return kubeconfig.write_kubeconfig(
            path,
            server=self.url,
            token=self.token,
            ca_pem=self.ca_pem if self.tls else None,
            context=context,
            namespace=namespace,
            make_current=make_current,
        )

    # --- answering a request (router.py) --------------------------------------------------------

    def respond(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, str, bytes]:
        """Answer one request: (HTTP status, Content-Type, body bytes); the HTTP handler is a
        thin shell on this. `headers` are keyed in lower case."""
        hook = self.on_request
        if hook is not None:
            hook(method)
        return self.router.respond(method, raw_path, headers, body)

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Answer one request: (HTTP status, JSON body bytes). Tests may call it directly to
        time the server's share of a request. `headers` are keyed in lower case."""
        status, _, data = self.respond(method, raw_path, headers, body)
        return status, data

    # --- state, for arranging and asserting (store.py) ------------------------------------------

    def resource_type(self, resource: str) -> ResourceType:
        """Look a kind up by plural (`deployments`) or group-qualified plural (`deployments.apps`)."""
        return self.store.resource_type(resource)

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion (the last write's)."""
        return self.store.resource_version

    def serve_versions(self, plural: str, versions: Versions) -> None:
        """Serve a custom resource at several versions, stored at one (see versions.py): e.g.
        WeightsAndBiases as the v2 operator's CRD serves it (objects/operator_v2.py)."""
        self.store.set_versions(plural, versions)

    def add(self, obj: Mapping[str, Any], *, owned: bool = False) -> Obj:
        """Store an object as a controller or kubectl would have created it (see ObjectStore.add)."""
        return self.store.add(obj, owned=owned)

    def add_all(self, objs: Iterable[Mapping[str, Any]], *, owned: bool = False) -> None:
        self.store.add_all(objs, owned=owned)

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of the stored object, or None."""
        return self.store.get(resource, namespace, name)

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a kind (in one namespace, if given), in key order."""
        return self.store.objects(resource, namespace)

    def merge(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> Obj:
        """Merge-patch a stored object from the test side, status included (see ObjectStore.merge)."""
        return self.store.merge(resource, namespace, name, patch)

    def remove(self, resource: str, namespace: str | None, name: str) -> bool:
        return self.store.remove(resource, namespace, name)

    # --- the request log and failure injection (faults.py) --------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since start or the last reset_requests(), in order."""
        return self.faults.requests

    def reset_requests(self) -> None:
        self.faults.reset_requests()

    def connections(self) -> int:
        """TCP connections accepted since start or reset_requests()."""
        return self.faults.connections()

    def count(self, verb: str | None = None, resource: str | None = None, *, method: str | None = None) -> int:
        """How many recorded requests match, e.g. count("list", "pods")."""
        return self.faults.count(verb, resource, method=method)

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 to `verb` on a resource (see Faults.forbid)."""
        self.faults.forbid(verb, resource, namespace)

    def unauthorized(self, enabled: bool = True) -> None:
        """Answer every request with 401 (an expired or revoked credential)."""
        self.faults.unauthorized(enabled)

    def delay(self, seconds: float) -> None:
        """Hold every response for `seconds` (0 turns it off): for timeout tests."""
        self.faults.delay(seconds)

    def without_resource(self, resource: str) -> None:
        """Stop serving a kind, as a cluster without its CRD (KEDA absent)."""
        self.faults.without_resource(resource)

    def expire_continue_tokens(self, enabled: bool = True) -> None:
        """Answer 410 Expired to any list that passes a continue token (a compacted etcd)."""
        self.faults.expire_continue_tokens(enabled)

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
        """Let another writer win the race before the next matching requests (see Faults.conflict_next)."""
        self.faults.conflict_next(verb, resource, namespace, times=times, change=change, on_dry_run=on_dry_run)

    def reset_faults(self) -> None:
        self.faults.reset_faults()
