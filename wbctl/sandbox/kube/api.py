"""FakeKubeAPI: an in-process Kubernetes API server over real HTTP (or HTTPS) on loopback.

It serves the sandbox (`wbctl --sandbox`) and the test suite alike, so rehearsals and tests
run the real adapter and the real client against the same semantics. Why a fake of our own: no real API server can run here, and the one packaged emulator (kmock)
has no label selectors, pagination, resourceVersion counter, dry run or scale subresource, and
needs an asyncio test plugin. wbctl's Kubernetes adapter uses the official `kubernetes` client,
whose generated pydantic models validate every response; so this fake speaks the wire protocol
the client expects (paths, query parameters, PATCH content types, Status bodies) and returns
complete objects, and tests drive it only through that client via `write_kubeconfig`. With
`tls=True` it serves HTTPS under a CA made at start, and the real kubectl works against it too
(get with server-side Tables, describe, scale, the CR by its short name `wandb`).

What it implements, with the API server's semantics (see kube_semantics.py for the pure parts):
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
categories (legacy documents only: no aggregated discovery, no OpenAPI). Failure
injection: forbid, unauthorized, delay (held outside the lock, so concurrent requests wait side
by side), without_resource (CRD absent), expire_continue_tokens, conflict_next (another writer
wins the race). `connections()` counts the TCP connections accepted: a client that keeps its
connection alive between rounds opens none after the first. Not implemented: watch (405, so
`kubectl get -w` fails), server-side apply, /openapi (so no `kubectl explain`), pods/log, the
/status subresource endpoints, admission and controllers (scaling a Deployment changes
spec.replicas, not status or pods: use `merge` to play the controller).

Where the parts live (this module keeps the server's lifecycle and the kubeconfig, and
re-exports the public names): kube_types.py (the served kinds, routes), kube_errors.py
(Status bodies), kube_validation.py (decoding and validation), kube_store.py (objects and
resourceVersions), kube_faults.py (request log, failure injection), kube_writes.py (create,
update, patch, scale, delete), kube_serving.py (routing, get, list), kube_discovery.py,
kube_tables.py (content negotiation, Tables) with kube_printers.py and kube_columns.py (the
columns and cells per kind), kube_http.py (the HTTP server and handler), kube_tls.py (the
certificates); kube_semantics.py holds the pure selectors and patches.
"""

from __future__ import annotations

import base64
import threading
from http.server import ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING

import yaml

from wbctl.sandbox.kube.errors import ApiError, FieldError, status_body
from wbctl.sandbox.kube.faults import RecordedRequest
from wbctl.sandbox.kube.http import make_server
from wbctl.sandbox.kube.serving import KubeServing
from wbctl.sandbox.kube.types import (
    RESOURCE_TYPES,
    VERSION_INFO,
    Obj,
    Payload,
    ResourceType,
)

if TYPE_CHECKING:
    from wbctl.sandbox.kube.tls import ServerCertificates

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


class FakeKubeAPI(KubeServing):
    """An in-process Kubernetes API server for tests; see the module docstring for its scope.

    Typical use::

        with FakeKubeAPI() as api:
            api.add_all(chart_043())
            kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
            ...  # run wbctl with KUBECONFIG=kubeconfig
            assert api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3
    """

    def __init__(self, *, user: str = "test", token: str = "fake-token", tls: bool = False) -> None:
        """`tls=True` serves HTTPS with a CA and server certificate made at start (see
        kube_tls.py), which the kubeconfig carries: needed by the real kubectl, which sends no
        bearer token over plain HTTP. Plain HTTP stays the default (quicker to start)."""
        super().__init__()  # the store, the request log, the faults
        self.user = user
        self.token = token
        self.tls = tls
        self._certificates: ServerCertificates | None = None
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeKubeAPI:
        """Listen on a free loopback port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        context = None
        if self.tls:
            if self._certificates is None:  # kept across stop/start, so a written kubeconfig stays valid
                # imported here: cryptography takes ~35 ms to import, and only TLS needs it
                from wbctl.sandbox.kube.tls import make_certificates

                self._certificates = make_certificates()
            context = self._certificates.server_context()
        server = make_server(self, context)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-kube-api", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed responses still in flight are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKubeAPI is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"{'https' if self.tls else 'http'}://127.0.0.1:{self.port}"

    @property
    def ca_pem(self) -> bytes:
        """The PEM of the CA that signed this server's certificate (TLS only, once started)."""
        if self._certificates is None:
            raise RuntimeError("FakeKubeAPI has no certificate: it serves plain HTTP or is not started")
        return self._certificates.ca_pem

    def write_kubeconfig(
        self, path: str | Path, context: str = "fake", namespace: str = "default", *, make_current: bool = True
    ) -> Path:
        """Write (or add a context to) a kubeconfig pointing at this server, with a bearer token
        and, over TLS, the CA as `certificate-authority-data` (kubectl and the Python client
        both verify the server then); over HTTP, `insecure-skip-tls-verify` as before.

        An existing file keeps its other clusters, users and contexts, so one file can hold
        several contexts (e.g. two fakes standing for two clusters)."""
        path = Path(path)
        config: Obj = {
            "apiVersion": "v1",
            "kind": "Config",
            "preferences": {},
            "clusters": [],
            "users": [],
            "contexts": [],
        }
        if path.exists():
            config.update(yaml.safe_load(path.read_text()) or {})

        def upsert(section: str, entry: Obj) -> None:
            entries = [e for e in config.get(section) or [] if e.get("name") != entry["name"]]
            config[section] = [*entries, entry]

        cluster: Obj = {"server": self.url}
        if self.tls:
            cluster["certificate-authority-data"] = base64.b64encode(self.ca_pem).decode()
        else:
            cluster["insecure-skip-tls-verify"] = True
        upsert("clusters", {"name": f"{context}-cluster", "cluster": cluster})
        upsert("users", {"name": f"{context}-user", "user": {"token": self.token}})
        upsert(
            "contexts",
            {
                "name": context,
                "context": {"cluster": f"{context}-cluster", "user": f"{context}-user", "namespace": namespace},
            },
        )
        if make_current or not config.get("current-context"):
            config["current-context"] = context
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path
