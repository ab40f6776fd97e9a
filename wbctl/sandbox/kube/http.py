"""The HTTP/1.1 shell around FakeKubeAPI: a threading server (TLS when given an SSLContext) and a
request handler that reads a request, passes it to `respond` and writes the answer with its
content type, reporting each connection it accepts. Separate because it is the only part of the
fake that touches sockets; everything it answers is decided in router.py, and server.py starts
and stops it.

With TLS, the handshake happens in the connection's own thread (the listening socket stays
plain and each accepted socket is wrapped without handshaking): a client that stalls or
rejects the certificate holds up only its own connection, not the accept loop.
"""

from __future__ import annotations

import socket
import ssl
import sys
from collections.abc import Callable, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

#: (method, path with query, headers keyed in lower case, body) -> (status, Content-Type, body)
Respond = Callable[[str, str, Mapping[str, str], bytes], tuple[int, str, bytes]]


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], handler: type[BaseHTTPRequestHandler], ssl_context: ssl.SSLContext | None
    ) -> None:
        self.ssl_context = ssl_context
        super().__init__(address, handler)

    def get_request(self) -> tuple[socket.socket, Any]:
        sock, address = super().get_request()
        if self.ssl_context is not None:
            sock = self.ssl_context.wrap_socket(sock, server_side=True, do_handshake_on_connect=False)
        return sock, address

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client that hangs up mid-handshake or mid-request is no server error: stay quiet;
        anything else is a bug in the fake, printed as the base class prints it."""
        if not isinstance(sys.exc_info()[1], (ssl.SSLError, ConnectionError, TimeoutError)):
            super().handle_error(request, client_address)


def make_server(
    respond: Respond, connected: Callable[[], None], ssl_context: ssl.SSLContext | None = None
) -> ThreadingHTTPServer:
    """A server on a free loopback port answering with `respond` and calling `connected` on each
    accepted connection, over TLS if `ssl_context` is given."""
    return _Server(("127.0.0.1", 0), make_handler(respond, connected), ssl_context)


def make_handler(respond: Respond, connected: Callable[[], None]) -> type[BaseHTTPRequestHandler]:
    """A handler class bound to `respond`: ThreadingHTTPServer takes a class, not an instance."""

    class Handler(BaseHTTPRequestHandler):
        """HTTP/1.1 with keep-alive, as the client's urllib3 pool expects; JSON in, JSON out."""

        protocol_version = "HTTP/1.1"
        server_version = "FakeKubeAPI/1"
        disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms wait on a delayed ACK

        def setup(self) -> None:
            """Once per accepted connection (keep-alive requests on it do not come back here)."""
            super().setup()
            connected()

        def handle(self) -> None:
            try:
                if isinstance(self.request, ssl.SSLSocket):
                    self.request.do_handshake()
                super().handle()
            except (ssl.SSLError, ConnectionError, TimeoutError):
                self.close_connection = True  # a client that rejected our certificate, or hung up

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, content_type, data = respond(self.command, self.path, headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except ConnectionError:
                self.close_connection = True  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Silence the per-request stderr log."""

    return Handler
