"""MySQL / Cloud SQL / MariaDB through PyMySQL: read the global variables, set the failing ones.

One round trip reads everything (`SHOW GLOBAL VARIABLES` holds `version` too). PyMySQL is
imported on first use; every failure leaves as one line naming the server. A PyMySQL connection
is not thread-safe and a gather reads side by side (`support bundle` runs `check` beside its own
MySQL read), so one lock holds each statement's round trip: two at once on one socket interleave
their packets ("Packet sequence number wrong").
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Iterator
from typing import Any

from wbctl.adapters import tls_files
from wbctl.core import mysql_tls
from wbctl.core.connection_url import ConnectionURLError, parse_mysql_url
from wbctl.core.model import Change, Plan
from wbctl.core.mysql import BY_NAME, MysqlObservation, flavor_of, satisfies
from wbctl.errors import BackendError, ConfigError, PartialWriteError, UsageError, VerificationError


class MysqlAdapter:
    def __init__(
        self,
        url: str,
        *,
        password: str | None,
        ca_file: str | None,
        timeout: float,
        tls: str | None = None,
        warn: Callable[[str], Any] | None = None,
    ) -> None:
        self.url = url
        self.tls_mode = tls  # the mysql-tls setting (None: the URL's tls=, else the CA and the host)
        self.tls_choice: mysql_tls.TlsChoice | None = None
        self._warn = warn
        try:
            self.parsed = parse_mysql_url(url, "mysql-url")
        except ConnectionURLError as exc:
            raise ConfigError(str(exc)) from None
        self.target = self.parsed.target
        self.host = self.parsed.host or "127.0.0.1"
        self.port = self.parsed.port
        self.user = self.parsed.username or "wandb"
        self.password = self.parsed.password or password
        self.database = self.parsed.database
        self.ca_file = ca_file
        self.timeout = timeout
        self._connection: Any = None
        self._lock = threading.RLock()  # the one connection's: see the module's docstring
        self.flavor = "mysql"

    def connection(self) -> Any:
        with self._lock:
            return self._connected()

    def _connected(self) -> Any:
        if self._connection is None:
            import pymysql

            seconds = max(1, round(self.timeout))
            tls = self._tls()
            with self._translated("connecting"):
                self._connection = pymysql.connect(
                    host=self.host,
                    port=self.port,
                    user=self.user,
                    password=self.password or "",
                    database=self.database,
                    connect_timeout=seconds,
                    read_timeout=seconds,
                    write_timeout=seconds,
                    autocommit=True,
                    **tls,
                )
            if self.tls_choice is not None and self.tls_choice.unverified and self._warn is not None:
                self._warn(mysql_tls.unverified_warning(self.target, self.tls_choice))
        return self._connection

    def _tls(self) -> dict[str, Any]:
        """PyMySQL's TLS arguments for the mode wbctl.core.mysql_tls chooses (mysql-tls, else the
        URL's `tls=`, else the CA and the host), with the files checked first: mysql-ca-file
        wins over the URL's ssl-ca. Any SSLContext makes TLS required (PyMySQL refuses a server
        without it); `ssl_disabled` makes it off."""
        import ssl

        ca = self._ca()
        cert, key = self.parsed.cert_path, self.parsed.key_path
        if bool(cert) != bool(key):
            raise UsageError(f"mysql-url {self.target}: ssl-cert and ssl-key go together: give both or neither")
        self.tls_choice = mysql_tls.choose(self.tls_mode, self.parsed.tls, has_ca=ca is not None, host=self.host)
        if self.tls_choice.mode == mysql_tls.OFF:
            return {"ssl_disabled": True}
        if cert and key:
            tls_files.client_pair(cert, key, "ssl-cert in mysql-url", "ssl-key in mysql-url")
        context = ssl.create_default_context(cafile=ca)
        context.check_hostname = self.tls_choice.check_hostname
        if self.tls_choice.unverified:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if cert and key:
            context.load_cert_chain(cert, key)
        return {"ssl": context}

    def _ca(self) -> str | None:
        if self.ca_file:
            return tls_files.ca_file(self.ca_file, "mysql-ca-file")
        path = self.parsed.ca_path
        if path and not os.path.exists(path):
            raise UsageError(
                f"ssl-ca {path} in mysql-url: no such file (W&B's paths are inside its pods: copy the file here)"
            )
        return tls_files.ca_file(path, "ssl-ca in mysql-url") if path else None

    @contextlib.contextmanager
    def _translated(self, doing: str) -> Iterator[None]:
        import pymysql

        try:
            yield
        except pymysql.err.MySQLError as exc:
            raise self._error(exc, doing) from None

    def _error(self, exc: Exception, doing: str) -> BackendError:
        """The one line a PyMySQL error becomes, naming the server and what was being done."""
        import pymysql

        if not isinstance(exc, pymysql.err.OperationalError):
            return BackendError(f"MySQL at {self.target} failed while {doing}: {exc}")
        code, message = (exc.args + (None, ""))[:2]
        text = str(message)
        if code == 1045:
            return BackendError(
                f"MySQL at {self.target} refused the login of {self.user} (check WBCTL_MYSQL_PASSWORD or the password in mysql-url)"
            )
        if code in (1227, 1142):
            return BackendError(f"MySQL at {self.target} refused {doing}: {self.user} lacks the privilege ({text})")
        lowered = text.lower()
        if "ssl" in lowered or "certificate" in lowered or "tls" in lowered:
            return BackendError(f"TLS with MySQL at {self.target} failed while {doing}: {text}; check mysql-ca-file")
        if "timed out" in lowered:
            return BackendError(f"MySQL at {self.target} did not answer within {self.timeout:g}s while {doing}")
        if "refused" in lowered:
            return BackendError(f"cannot connect to MySQL at {self.target}: connection refused")
        if "name or service not known" in lowered or "nodename nor servname" in lowered or "getaddrinfo" in lowered:
            return BackendError(f"cannot connect to MySQL at {self.target}: the host name does not resolve")
        return BackendError(f"MySQL at {self.target} failed while {doing}: ({code}) {text}")

    def observe(self) -> MysqlObservation:
        with self._lock, self._translated("reading the global variables"), self.connection().cursor() as cursor:
            cursor.execute("SHOW GLOBAL VARIABLES")
            variables = {str(name).lower(): str(value) for name, value in cursor.fetchall()}
        version = variables.get("version")
        self.flavor = flavor_of(version, variables)
        return MysqlObservation(self.target, version, self.flavor, variables)

    def apply(self, plan: Plan) -> None:
        """One SET statement per change, in the plan's order. MySQL runs each on its own (SET
        PERSIST / SET GLOBAL are not transactional), so when one fails the earlier ones stay
        made: PartialWriteError names what was applied and what was not."""
        import pymysql

        verb = "SET GLOBAL" if self.flavor == "mariadb" else "SET PERSIST"
        for change in plan.changes:  # names come from the flag table only: never from input
            if change.key not in BY_NAME:
                raise UsageError(f"refusing to set unknown variable {change.key!r}")
        applied: list[Change] = []
        with self._lock:
            with self._translated("connecting"):
                cursor = self.connection().cursor()
            with cursor:
                for index, change in enumerate(plan.changes):
                    value = str(change.after)
                    literal = (
                        value
                        if value.isdigit()
                        else ("ON" if value.upper() == "ON" else "OFF" if value.upper() == "OFF" else None)
                    )
                    try:
                        if literal is not None:
                            cursor.execute(f"{verb} {change.key} = {literal}")
                        else:
                            cursor.execute(f"{verb} {change.key} = %s", (value,))
                    except pymysql.err.MySQLError as exc:
                        cause = self._error(exc, f"{verb} {change.key} = {literal or repr(value)}").message
                        rest = plan.changes[index + 1 :]
                        if _refused_by_server(exc):
                            raise PartialWriteError(cause, applied, (change, *rest)) from None
                        raise PartialWriteError(cause, applied, rest, unknown=(change,)) from None
                    applied.append(change)

    def read_back(self, plan: Plan) -> bool:
        variables = self.observe().variables
        for change in plan.changes:
            flag = BY_NAME[change.key]
            found = variables.get(change.key)
            if found is None or not satisfies(flag, found):
                raise VerificationError(
                    f"read-back of {change.key} on MySQL at {self.target} shows {found!r}, not {change.after!r}"
                )
        return True

    def close(self) -> None:
        with self._lock:
            if self._connection is not None:
                with contextlib.suppress(Exception):
                    self._connection.close()


def _refused_by_server(exc: Exception) -> bool:
    """True when the server answered the statement with an error (so did not run it); False
    when the client lost the answer (codes 2000-2999: connection lost, timed out), so whether
    it ran is not known."""
    code = exc.args[0] if exc.args else None
    return isinstance(code, int) and code >= 1000 and not 2000 <= code < 3000
