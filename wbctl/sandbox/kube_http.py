"""The HTTP/1.1 shell around FakeKubeAPI: a request handler that reads a request, passes it to
`handle` and writes the JSON answer, counting each connection it accepts. Separate because it
is the only part of the fake that touches sockets; everything it answers is decided in
kube_serving.py.
"""

from __future__ import annotations

from http.server import BaseHTTPRequestHandler
from typing import Any

from wbctl.sandbox.kube_serving import KubeServing


def make_handler(api: KubeServing) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to `api`: ThreadingHTTPServer takes a class, not an instance."""

    class Handler(BaseHTTPRequestHandler):
        """HTTP/1.1 with keep-alive, as the client's urllib3 pool expects; JSON in, JSON out."""

        protocol_version = "HTTP/1.1"
        server_version = "FakeKubeAPI/1"

        def setup(self) -> None:
            """Once per accepted connection (keep-alive requests on it do not come back here)."""
            super().setup()
            api._connected()

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, data = api.handle(self.command, self.path, headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except ConnectionError:
                self.close_connection = True  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Silence the per-request stderr log."""

    return Handler
