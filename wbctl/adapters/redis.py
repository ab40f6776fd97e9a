"""Redis (Memorystore) through redis-py: observe the guide's keys, apply plans atomically.

redis-py is imported on first use, not at module import, so `wbctl --help` never pays for it.
Every redis-py failure leaves this module as a `BackendError` whose one line says which of
refused / timed out / wrong password / TLS failed it was, against which host.
"""

from __future__ import annotations

import contextlib
import os
import ssl
import threading
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wbctl.core.connection_url import ConnectionURLError, parse_redis_url
from wbctl.core.model import Observed, Plan
from wbctl.core.redis_settings import DISCARD_KEY, DiscardState, RedisObservation
from wbctl.errors import BackendError, ConfigError, ConflictError, UsageError, VerificationError

if TYPE_CHECKING:
    import redis as redis_py


class RedisAdapter:
    def __init__(
        self,
        url: str,
        *,
        password: str | None,
        ca_file: str | None,
        timeout: float,
        client: redis_py.Redis | None = None,  # an already connected client (tests, the sandbox)
    ) -> None:
        self.url = url
        self.password = password
        self.ca_file = ca_file
        self.timeout = timeout
        try:
            self.parsed = parse_redis_url(url, "redis-url")
        except ConnectionURLError as exc:
            raise ConfigError(str(exc)) from None
        self.target = self.parsed.target
        self._client: redis_py.Redis | None = client
        self._client_lock = threading.Lock()

    # --- connection -------------------------------------------------------------------

    def client(self) -> redis_py.Redis:
        with self._client_lock:
            return self._client if self._client is not None else self._connect()

    def _connect(self) -> redis_py.Redis:
        if self._client is None:
            import redis as redis_py

            options = self._options()
            try:
                if self.parsed.master:
                    self._client = self._sentinel_master(options)
                else:
                    # a pool of our own, as redis-py's from_url builds it: the connection's
                    # arguments (retry_on_timeout among them) go to the connections
                    tls = options.pop("ssl", False)
                    pool = redis_py.ConnectionPool(
                        connection_class=redis_py.SSLConnection if tls else redis_py.Connection,
                        host=self.parsed.host,
                        port=self.parsed.port,
                        db=self.parsed.db,
                        **options,
                    )
                    self._client = redis_py.Redis.from_pool(pool)  # closing the client closes the pool
            except ValueError as exc:
                raise UsageError(f"invalid redis-url {self.target}: {exc}") from None
        return self._client

    def _options(self) -> dict[str, Any]:
        """redis-py's keyword arguments for a connection to the server (the master, behind a
        Sentinel): timeouts, the password, TLS. W&B's query parameters were read by
        core/connection_url.py; none of them reaches redis-py as written."""
        import redis as redis_py
        from redis.backoff import ExponentialBackoff
        from redis.retry import Retry

        options: dict[str, Any] = {
            "socket_connect_timeout": self.timeout,
            "socket_timeout": self.timeout,
            "decode_responses": True,
            # one retry on a dropped connection; a timeout is not retried (it would double the wait)
            "retry": Retry(ExponentialBackoff(cap=1.0, base=0.1), 1, (redis_py.ConnectionError,)),
            "retry_on_timeout": False,
            "health_check_interval": 0,
        }
        # the URL's password first (as redis-py's from_url had it), else WBCTL_REDIS_PASSWORD
        password = self.parsed.password or self.password
        if password:
            options["password"] = password
        if self.parsed.username:
            options["username"] = self.parsed.username
        ca_file = self._ca_file()
        if self.parsed.tls:
            options["ssl"] = True
            options["ssl_cert_reqs"] = "required"
            if ca_file:
                options["ssl_ca_certs"] = ca_file
        return options

    def _ca_file(self) -> str | None:
        """redis-ca-file when set (it wins), else the URL's caCertPath. caCertPath is where W&B's
        pods mount the CA; wbctl running elsewhere (a laptop) has no such file, and says so."""
        if self.ca_file and not self.parsed.tls:
            raise UsageError(
                f"redis-ca-file is set but redis-url {self.target} does not use TLS: "
                "use rediss:// or add ?tls=true for TLS"
            )
        if self.ca_file:
            if not os.path.isfile(self.ca_file):
                raise UsageError(f"redis-ca-file {self.ca_file}: no such file")
            return self.ca_file
        path = self.parsed.ca_path
        if path and not os.path.isfile(path):
            raise UsageError(
                f"caCertPath {path} in redis-url: no such file here (it is where W&B's pods mount the "
                "server CA): save the CA and set redis-ca-file to it"
            )
        return path

    def _sentinel_master(self, options: dict[str, Any]) -> redis_py.Redis:
        """The master a Redis Sentinel names (`?master=NAME`; the URL's host and port are the
        Sentinel's). The password goes to the master only: a Sentinel usually has none, and one
        sent to a Sentinel without a password is refused. TLS, when on, is used for both."""
        from redis.sentinel import Sentinel

        sentinel_options: dict[str, Any] = {
            "socket_connect_timeout": self.timeout,
            "socket_timeout": self.timeout,
            "decode_responses": True,
        }
        for name in ("ssl", "ssl_cert_reqs", "ssl_ca_certs"):
            if name in options:
                sentinel_options[name] = options[name]
        make_sentinel: Callable[..., Any] = Sentinel  # unannotated in redis-py
        sentinel = make_sentinel([(self.parsed.host, self.parsed.port)], sentinel_kwargs=sentinel_options)
        master_for: Callable[..., redis_py.Redis] = sentinel.master_for
        master = master_for(str(self.parsed.master), db=self.parsed.db, **options)
        return master

    @contextlib.contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        import redis as redis_py
        from redis.sentinel import MasterNotFoundError

        try:
            yield
        except redis_py.WatchError:
            raise  # handled by the caller: it is a conflict, not a failure of the backend
        except MasterNotFoundError as exc:
            raise BackendError(self._sentinel_message(exc)) from exc
        except redis_py.AuthenticationError as exc:
            raise BackendError(self._auth_message(str(exc))) from exc
        except redis_py.TimeoutError as exc:
            hint = (
                "; a server without TLS never answers a TLS handshake: use redis:// for it"
                if self.parsed.tls
                else "; check redis-url and the network path, or raise --timeout"
            )
            raise BackendError(
                f"Redis at {self.target} did not answer within {self.timeout:g}s while {doing}{hint}"
            ) from exc
        except redis_py.ConnectionError as exc:
            raise BackendError(self._connection_message(exc, doing)) from exc
        except redis_py.ResponseError as exc:
            text = str(exc)
            if text.startswith("NOPERM") or "no permissions" in text.lower():
                raise BackendError(f"Redis at {self.target} refused {doing}: permission denied ({text})") from exc
            if "AUTH" in text and "without any password configured" in text:
                raise BackendError(
                    f"Redis at {self.target} has no password set but one was given "
                    "(unset WBCTL_REDIS_PASSWORD or remove it from redis-url)"
                ) from exc
            raise BackendError(f"Redis at {self.target} answered an error while {doing}: {text}") from exc
        except redis_py.RedisError as exc:
            raise BackendError(f"Redis at {self.target} failed while {doing}: {exc}") from exc

    def _auth_message(self, text: str) -> str:
        # redis-py 8 words both cases alike ("auth:AuthenticationError"): tell them apart by
        # whether a password was sent at all
        if not (self.password or self.parsed.password) or "noauth" in text.lower():
            return f"Redis at {self.target} requires a password: set WBCTL_REDIS_PASSWORD (or put it in redis-url)"
        return f"Redis at {self.target} refused the password (check WBCTL_REDIS_PASSWORD or the password in redis-url)"

    def _sentinel_message(self, exc: Exception) -> str:
        """The Sentinel answered without the master (a wrong master=), or no Sentinel answered."""
        sentinel = f"redis://{self.parsed.host}:{self.parsed.port}"
        text = str(exc).lower()
        if " : " not in text:  # redis-py lists the Sentinels it could not ask after " : "
            return (
                f"the Redis Sentinel at {sentinel} knows no master named {self.parsed.master!r} "
                "(or none it considers up): check master= in redis-url"
            )
        # each Sentinel's entry ends in " - <its error>" (redis-py 8: "network:ConnectionError")
        error = text.rpartition(" - ")[2]
        if "timeout" in error or "timed out" in error:
            reason = f"it did not answer within {self.timeout:g}s"
        elif "auth" in error:
            reason = "it requires a password (wbctl sends the URL's password to the master only)"
        elif "refused" in error or "connectionerror" in error:
            reason = "cannot connect (is redis-url right and the Sentinel up?)"
        else:
            reason = "it did not answer"
        return f"cannot ask the Redis Sentinel at {sentinel} for master {self.parsed.master!r}: {reason}"

    def _connection_message(self, exc: Exception, doing: str) -> str:
        chain = _exception_chain(exc)
        text = " ".join(str(e) for e in chain).lower()
        if any(isinstance(e, ssl.SSLCertVerificationError) for e in chain) or "certificate verify failed" in text:
            hint = (
                "set redis-ca-file to the server's CA certificate (Memorystore: the instance's server CA)"
                if not self.ca_file
                else f"the server's certificate is not signed by the CA in {self.ca_file}"
            )
            return f"TLS handshake with Redis at {self.target} failed: certificate verify failed; {hint}"
        if any(isinstance(e, ssl.SSLError) for e in chain) or "ssl" in text or "tls" in text:
            return (
                f"TLS handshake with Redis at {self.target} failed ({_first_line(chain)}); "
                "is the port a TLS port, and TLS (rediss:// or ?tls=true) only for a TLS server?"
            )
        if any(isinstance(e, ConnectionRefusedError) for e in chain) or "connection refused" in text:
            return (
                f"cannot connect to Redis at {self.target}: connection refused (is redis-url right and the server up?)"
            )
        if "name or service not known" in text or "nodename nor servname" in text or "name resolution" in text:
            return f"cannot connect to Redis at {self.target}: the host name does not resolve"
        if "timed out" in text or "timeout" in text:
            return f"Redis at {self.target} did not answer within {self.timeout:g}s while {doing}"
        if "closed by server" in text or "connection reset" in text:
            return (
                f"Redis at {self.target} closed the connection while {doing} "
                "(a TLS port reached without TLS? use rediss:// or ?tls=true, and redis-ca-file)"
            )
        return f"cannot connect to Redis at {self.target}: {_first_line(chain)}"

    # --- observations -----------------------------------------------------------------

    def observe(self, keys: Sequence[str]) -> RedisObservation:
        """The keys' values and the discard state, in one round trip."""
        with self._translated("reading settings"):
            pipe = self.client().pipeline(transaction=False)
            pipe.mget(list(keys) + [DISCARD_KEY])
            pipe.pttl(DISCARD_KEY)
            values, ttl = pipe.execute()
        current = dict(zip(keys, values[:-1]))
        return RedisObservation(self.target, current, _discard_state(values[-1], ttl), self.server_version())

    def server_version(self) -> Observed[str]:
        """`redis_version` from `INFO server`, or why it is not known.

        A server may refuse INFO (an ACL, a renamed command) while it serves the keys, as managed
        Redis refuses CONFIG: that leaves the version unknown with the server's answer as the
        reason, never the whole read failed."""
        try:
            with self._translated("reading INFO server"):
                info: dict[str, Any] = self.client().info("server")
        except BackendError as exc:
            return Observed.unknown(str(exc))
        version = info.get("redis_version")
        if version is None or str(version) == "":
            return Observed.unknown(f"Redis at {self.target} answered INFO server without redis_version")
        return Observed(str(version))

    def discard_state(self) -> DiscardState:
        with self._translated(f"reading {DISCARD_KEY}"):
            pipe = self.client().pipeline(transaction=False)
            pipe.get(DISCARD_KEY)
            pipe.pttl(DISCARD_KEY)
            value, ttl = pipe.execute()
        return _discard_state(value, ttl)

    # --- changes ----------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        """Write the plan in one MULTI/EXEC, guarded by WATCH on its keys (compare-and-set).

        If any key no longer holds the plan's `before` value, nothing is written: the diff the
        operator confirmed is stale, and someone else has changed the key.
        """
        import redis as redis_py

        keys = [change.key for change in plan.changes]
        with self._translated("writing"):
            with self.client().pipeline(transaction=True) as pipe:
                try:
                    watch: Callable[..., object] = pipe.watch  # unannotated in redis-py
                    watch(*keys)
                    current = pipe.mget(keys)
                    for change, value in zip(plan.changes, current):
                        if value != change.before:
                            raise ConflictError(
                                f"{change.key} changed since the diff was shown (now {value!r}, "
                                f"was {change.before!r}): nothing written; re-run to see a fresh diff"
                            )
                    pipe.multi()
                    for change in plan.changes:
                        if change.after is None:
                            pipe.delete(change.key)
                        else:
                            ttl = change.expiry.after if change.expiry else None
                            pipe.set(change.key, change.after, ex=ttl)
                    pipe.execute()
                except redis_py.WatchError:
                    raise ConflictError(
                        f"{', '.join(keys)} changed while writing: nothing written; re-run to see a fresh diff"
                    ) from None

    def read_back(self, plan: Plan) -> None:
        keys = [change.key for change in plan.changes]
        with self._translated("reading back"):
            values = self.client().mget(keys)
        for change, value in zip(plan.changes, values):
            if value != change.after:
                raise VerificationError(
                    f"read-back of {change.key} on Redis at {self.target} shows {value!r}, "
                    f"not {change.after!r}: another writer may have changed it"
                )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


def _discard_state(value: str | None, pttl: int) -> DiscardState:
    """PTTL, in whole seconds rounded up: a key with 400 ms left still expires (it reads 1 s,
    not "no expiry", which TTL's 0 would have suggested); -1 is no expiry, -2 no key."""
    if value is None:
        return DiscardState(None, None)
    return DiscardState(value, -(-pttl // 1000) if pttl and pttl > 0 else None)


def _exception_chain(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and current not in chain:
        chain.append(current)
        current = current.__cause__ or current.__context__
    return chain


def _first_line(chain: Sequence[BaseException]) -> str:
    for exc in chain:
        text = str(exc).strip()
        if text:
            return text.splitlines()[0]
    return type(chain[0]).__name__
