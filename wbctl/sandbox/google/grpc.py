"""The gRPC shell of the Google fakes: one `grpc.server` on 127.0.0.1 (port 0) serving the
methods of the service objects registered with it (Bigtable admin, Cloud Monitoring); every
call recorded (method, request, invocation metadata, and the client connection it came on) and
put through the armed faults (fail with any status, for the next n calls or until reset; hang;
latency) before the service's implementation runs under that service's lock. Separate from the
services so the Bigtable and Monitoring modules hold only what their APIs answer.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent import futures
from dataclasses import dataclass
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Protocol, Self

import grpc

from wbctl.sandbox.google.errors import InvalidArgument


@dataclass(frozen=True)
class Method:
    """One unary method a service serves, by its short name ("GetInstance", "ListTimeSeries")."""

    service: str  # the gRPC service, e.g. "google.bigtable.admin.v2.BigtableInstanceAdmin"
    deserialize: Callable[[bytes], Any]  # the request's
    serialize: Callable[[Any], bytes]  # the response's
    implementation: Callable[[Any], Any]  # request -> response; raises Abort or InvalidArgument
    denied: Callable[[Any], str]  # request -> the real API's PERMISSION_DENIED wording


class FakeService(Protocol):
    """What the shell needs of a service object: its methods, and the lock over its state that
    each implementation runs under (the service's own state methods take it too)."""

    @property
    def lock(self) -> threading.RLock: ...

    def methods(self) -> Mapping[str, Method]: ...


class Abort(Exception):
    """A gRPC status an implementation answers with (NOT_FOUND, INVALID_ARGUMENT, ...)."""

    def __init__(self, code: grpc.StatusCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def invalid_argument(message: str) -> Abort:
    """INVALID_ARGUMENT with the real API's wording, for a request the fake cannot parse."""
    return Abort(grpc.StatusCode.INVALID_ARGUMENT, message)


def as_utc(moment: datetime) -> datetime:
    """A plain datetime in UTC; one without tzinfo is taken to be UTC already. proto-plus hands
    out its own datetime subclass, whose every arithmetic result goes through its __new__: the
    fakes' loops over a day of points would spend most of their time there."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    if type(utc) is datetime:
        return utc
    return datetime(utc.year, utc.month, utc.day, utc.hour, utc.minute, utc.second, utc.microsecond, tzinfo=UTC)


@dataclass
class _Fault:
    code: grpc.StatusCode
    message: str | None
    times: int | None  # None: until reset_faults
    after: int = 0  # calls answered normally before the fault begins


def _default_message(code: grpc.StatusCode) -> str:
    """The real API's wording for a status a fault answers with (PERMISSION_DENIED aside: the
    service's method words that one)."""
    if code == grpc.StatusCode.UNAVAILABLE:
        return "The service is currently unavailable."
    if code == grpc.StatusCode.UNAUTHENTICATED:
        return (
            "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie "
            "or other valid authentication credential."
        )
    if code == grpc.StatusCode.RESOURCE_EXHAUSTED:
        return "Quota exceeded for quota metric 'Read requests' of service."
    if code == grpc.StatusCode.DEADLINE_EXCEEDED:
        return "Deadline exceeded."
    return f"{code.name.replace('_', ' ').capitalize()}."


@dataclass(frozen=True)
class _Registered:
    method: Method
    lock: threading.RLock  # its service's


@dataclass(frozen=True)
class _Admitted:
    """What the faults make of one call, decided under the server's lock."""

    hang: bool
    delay: float
    fault: _Fault | None


class GrpcServer:
    """The server, the call log and the faults, over the services registered with it."""

    #: called (outside any lock) before each call is served: the sandbox brings its simulated
    #: deployment up to the present there (new metric points, Bigtable's node count)
    on_call: Callable[[str], None] | None

    def __init__(self, services: Sequence[FakeService], *, max_workers: int = 16) -> None:
        self._methods: dict[str, _Registered] = {}
        for service in services:
            for name, method in service.methods().items():
                if name in self._methods:
                    raise ValueError(f"two services serve {name!r}")
                self._methods[name] = _Registered(method, service.lock)
        self._lock = threading.RLock()
        self._stopping = threading.Event()
        self._server: grpc.Server | None = None
        self._port = 0
        self._max_workers = max_workers
        self.on_call = None
        self.calls: list[tuple[str, Any]] = []
        self.metadata: list[tuple[str, tuple[tuple[str, str], ...]]] = []  # (method, invocation metadata)
        self._faults: dict[str, _Fault] = {}
        self._hangs: set[str] = set()
        self._latency: dict[str, float] = {}
        self._latency_all = 0.0
        self._peers: set[str] = set()  # gRPC peers ("ipv4:127.0.0.1:54321"): one per client connection
        self._new_peers = 0  # peers first seen since start or reset_calls()

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> Self:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self._max_workers, thread_name_prefix="fake-google-api")
        )
        server.add_generic_rpc_handlers(self._handlers())
        self._port = server.add_insecure_port("127.0.0.1:0")
        if not self._port:
            raise RuntimeError("could not bind a loopback port for the Google API fake")
        self._stopping.clear()
        server.start()
        self._server = server
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases hung handlers
        if self._server is not None:
            self._server.stop(grace=0.2).wait(2)
            self._server = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @property
    def port(self) -> int:
        return self._port

    @property
    def address(self) -> str:
        """`127.0.0.1:PORT`: what WBCTL_GCP_EMULATOR_HOST is set to, and what grpc.insecure_channel takes."""
        return f"127.0.0.1:{self._port}"

    # -- calls and faults -----------------------------------------------------------------------

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for name, _ in self.calls if method is None or name == method)

    def requests(self, method: str) -> list[Any]:
        with self._lock:
            return [request for name, request in self.calls if name == method]

    def connections(self) -> int:
        """How many client connections opened since start or reset_calls() have called: a client
        that keeps its channel open between rounds adds none after the first (the Kubernetes
        fake counts the same way). gRPC shares one connection between open channels with the
        same target and options, so a fresh channel is not always a fresh connection."""
        with self._lock:
            return self._new_peers

    def reset_calls(self) -> None:
        with self._lock:
            self.calls.clear()
            self.metadata.clear()
            self._new_peers = 0

    def fail(
        self,
        method: str,
        code: grpc.StatusCode,
        message: str | None = None,
        *,
        times: int | None = None,
        after: int = 0,
    ) -> None:
        """Answer `method` with `code`. Without a message, the real API's wording for that code
        (PERMISSION_DENIED names the IAM permission and the resource). `times`: only the next n calls;
        `after`: let that many calls through first (a write that fails on its second cluster)."""
        self._check_method(method)
        with self._lock:
            self._faults[method] = _Fault(code, message, times, after)

    def hang(self, method: str) -> None:
        """Never answer `method` (until the client's deadline cancels the call, or stop())."""
        self._check_method(method)
        with self._lock:
            self._hangs.add(method)

    def latency(self, method: str, seconds: float) -> None:
        """Answer `method` only after `seconds` (e.g. 0.3 on ListTimeSeries); it overrides latency_all."""
        self._check_method(method)
        with self._lock:
            self._latency[method] = seconds

    def latency_all(self, seconds: float) -> None:
        """Answer every method only after `seconds` (the benchmark's 300 ms round trip); 0 turns it off."""
        with self._lock:
            self._latency_all = max(0.0, seconds)

    def reset_faults(self) -> None:
        with self._lock:
            self._faults.clear()
            self._hangs.clear()
            self._latency.clear()
            self._latency_all = 0.0

    def _check_method(self, method: str) -> None:
        if method not in self._methods:
            raise ValueError(f"unknown method {method!r} (known: {', '.join(self._methods)})")

    # -- gRPC plumbing --------------------------------------------------------------------------

    def _handlers(self) -> list[grpc.GenericRpcHandler]:
        by_service: dict[str, dict[str, grpc.RpcMethodHandler]] = {}
        for name, registered in self._methods.items():
            method = registered.method
            by_service.setdefault(method.service, {})[name] = grpc.unary_unary_rpc_method_handler(
                self._handler(name, registered),
                request_deserializer=method.deserialize,
                response_serializer=method.serialize,
            )
        return [grpc.method_handlers_generic_handler(service, methods) for service, methods in by_service.items()]

    def _handler(self, name: str, registered: _Registered) -> Callable[[Any, grpc.ServicerContext], Any]:
        method = registered.method

        def handler(request: Any, context: grpc.ServicerContext) -> Any:
            if self.on_call is not None:
                self.on_call(name)
            admitted = self._admit(name, request, context)
            if admitted.hang:
                while context.is_active() and not self._stopping.wait(0.05):
                    pass
                context.abort(grpc.StatusCode.UNAVAILABLE, "server shutting down")
            if admitted.delay:  # outside the lock: concurrent calls wait side by side, as on a real network
                until = time.monotonic() + admitted.delay
                while (left := until - time.monotonic()) > 0 and context.is_active():
                    self._stopping.wait(min(left, 0.05))
            if (fault := admitted.fault) is not None:
                if fault.message:
                    message = fault.message
                elif fault.code == grpc.StatusCode.PERMISSION_DENIED:
                    message = method.denied(request)
                else:
                    message = _default_message(fault.code)
                context.abort(fault.code, message)
            try:
                with registered.lock:
                    return method.implementation(request)
            except Abort as abort:
                context.abort(abort.code, abort.message)
            except InvalidArgument as exc:
                context.abort(grpc.StatusCode.INVALID_ARGUMENT, str(exc))

        return handler

    def _admit(self, name: str, request: Any, context: grpc.ServicerContext) -> _Admitted:
        """Record the call (request, metadata, connection) and take what the faults say of it."""
        with self._lock:
            self.calls.append((name, request))
            self.metadata.append((name, tuple((m.key, str(m.value)) for m in context.invocation_metadata())))
            if (peer := context.peer()) not in self._peers:
                self._peers.add(peer)
                self._new_peers += 1
            fault = self._faults.get(name)
            if fault is not None and fault.after > 0:
                fault.after -= 1
                fault = None
            elif fault is not None and fault.times is not None:
                fault.times -= 1
                if fault.times <= 0:
                    del self._faults[name]
            return _Admitted(name in self._hangs, self._latency.get(name, self._latency_all), fault)
