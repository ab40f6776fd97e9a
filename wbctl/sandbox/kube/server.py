"""FakeKubeAPI's lifecycle as a listening server: a free loopback port served from a daemon
thread (http.py), HTTPS under a CA made at the first start when `tls` is on (tls.py; kept
across stop and start, so a kubeconfig written once stays valid), and the `stopping` event
that cuts delayed responses short. Separate from the router, which decides the answers and
never sees a socket, and from the kubeconfig, which only reads `url` and `ca_pem`.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import TYPE_CHECKING

from wbctl.sandbox.kube.http import Respond, make_server

if TYPE_CHECKING:
    from wbctl.sandbox.kube.tls import ServerCertificates


class Listener:
    """Starts and stops the HTTP(S) server answering with `respond`."""

    def __init__(self, respond: Respond, connected: Callable[[], None], *, tls: bool = False) -> None:
        self.tls = tls
        self.stopping = threading.Event()
        self._respond = respond
        self._connected = connected
        self._certificates: ServerCertificates | None = None
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Listen on a free loopback port and serve from a daemon thread (no-op when serving)."""
        if self._server is not None:
            return
        self.stopping.clear()
        context = None
        if self.tls:
            if self._certificates is None:  # kept across stop/start, so a written kubeconfig stays valid
                # imported here: cryptography takes ~35 ms to import, and only TLS needs it
                from wbctl.sandbox.kube.tls import make_certificates

                self._certificates = make_certificates()
            context = self._certificates.server_context()
        server = make_server(self._respond, self._connected, context)
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-kube-api", daemon=True
        )
        self._thread.start()

    def stop(self) -> None:
        """Stop serving; delayed responses still in flight are cut short."""
        self.stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

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
