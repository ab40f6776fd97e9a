"""A real MariaDB for the MySQL adapter and `wbctl mysql check|tune` tests.

The Debian package `mariadb-server` (10.11; `apt-get install -y mariadb-server`) provides
`mariadb-install-db` and `mariadbd`. `MariaDBServer.start()` creates a fresh data directory,
starts `mariadbd` as a plain subprocess (no systemd) on a free loopback port with TLS, creates
the database `wandb_local` and the user `wandb` (`@127.0.0.1` and `@localhost`, password
`PASSWORD`; `--skip-name-resolve`, so TCP logins are `wandb@127.0.0.1`), and then sets W&B's recommended flags so that exactly `WRONG_FLAGS` are wrong.

Flag layout after `start()` / `reset_flags()`, relative to the recommended flags (docs/sources.md, "MySQL"):

- `WRONG_FLAGS`: set wrong on purpose with `SET GLOBAL` (all dynamic, so `mysql tune` can fix
  them with `SET GLOBAL` and a second check passes).
- `RIGHT_FLAGS`: dynamic flags set to the recommended value with `SET GLOBAL`.
- `STARTUP_FLAGS`: read-only in MariaDB (`SET GLOBAL` fails with error 1238); given the
  recommended value on the `mariadbd` command line so they pass.
- `MISSING_FLAGS`: MariaDB 10.11 has no such variable (`SET GLOBAL` fails with error 1193, and
  `SHOW GLOBAL VARIABLES` does not list it).

MariaDB prints some values its own way: `long_query_time` is `10.000000`, booleans are
`ON`/`OFF`, enums upper case (`ROW`, `MINIMAL`). `wbctl` must compare them as MySQL means them.

The server is shared by the whole session: a test that changes a global variable calls
`reset_flags()` afterwards (or uses the function fixture `mariadb`, which does).
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pymysql
import pytest

from tests.support.net import free_port

APT_HINT = "apt-get install -y mariadb-server"
DATABASE = "wandb_local"
USER = "wandb"
PASSWORD = "wandb-S3cret-pw"

# Recommended value (as SHOW GLOBAL VARIABLES prints it when it is right) of every recommended flag (docs/sources.md, "MySQL").
RECOMMENDED_FLAGS: dict[str, str] = {
    "binlog_format": "ROW",
    "binlog_row_image": "MINIMAL",
    "binlog_row_value_options": "PARTIAL_JSON",
    "innodb_autoinc_lock_mode": "2",
    "innodb_flush_log_at_trx_commit": "1",
    "innodb_lru_scan_depth": "100",
    "innodb_online_alter_log_max_size": "268435456",
    "innodb_print_all_deadlocks": "OFF",
    "local_infile": "ON",
    "long_query_time": "1",
    "max_execution_time": "60000",
    "max_prepared_stmt_count": "1048576",
    "skip_show_database": "ON",
    "slow_query_log": "ON",
    "sort_buffer_size": "67108864",
    "sync_binlog": "1",
}

# Wrong on purpose (value given to SET GLOBAL; all are dynamic in MariaDB 10.11).
WRONG_FLAGS: dict[str, str] = {
    "sort_buffer_size": "262144",
    "innodb_online_alter_log_max_size": "134217728",
    "max_prepared_stmt_count": "16382",
    "long_query_time": "10",  # SHOW GLOBAL VARIABLES prints 10.000000
    "innodb_lru_scan_depth": "1024",
}

# Dynamic flags put at the recommended value, so that only WRONG_FLAGS fail.
RIGHT_FLAGS: dict[str, str] = {
    "binlog_format": "ROW",  # MariaDB default MIXED
    "binlog_row_image": "MINIMAL",  # default FULL
    "innodb_flush_log_at_trx_commit": "1",  # default 1
    "innodb_print_all_deadlocks": "OFF",  # default OFF
    "local_infile": "ON",  # default ON
    "slow_query_log": "ON",  # default OFF
    "sync_binlog": "1",  # default 0
}

# Read-only in MariaDB 10.11: only settable on the command line / config file.
STARTUP_FLAGS: dict[str, str] = {
    "innodb_autoinc_lock_mode": "2",  # default 1
    "skip_show_database": "ON",  # default OFF
}
_STARTUP_ARGS = ["--innodb-autoinc-lock-mode=2", "--skip-show-database"]

# Not a MariaDB 10.11 variable at all (max_statement_time, in seconds, is MariaDB's analogue of
# max_execution_time).
MISSING_FLAGS: tuple[str, ...] = ("binlog_row_value_options", "max_execution_time")


def find_binaries() -> tuple[str, str]:
    """The paths of `mariadbd` and `mariadb-install-db`, or a clear failure (never a skip)."""
    mariadbd = shutil.which("mariadbd") or next(
        (p for p in ("/usr/sbin/mariadbd", "/usr/sbin/mysqld") if Path(p).exists()), None
    )
    install_db = shutil.which("mariadb-install-db") or next(
        (p for p in ("/usr/bin/mariadb-install-db", "/usr/bin/mysql_install_db") if Path(p).exists()), None
    )
    missing = [name for name, path in (("mariadbd", mariadbd), ("mariadb-install-db", install_db)) if not path]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found: the MariaDB integration tests need the Debian "
            f"package, install it with `{APT_HINT}`",
            pytrace=False,
        )
    return mariadbd, install_db  # type: ignore[return-value]


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def _sql_literal(value: str) -> str:
    try:
        float(value)
        return value
    except ValueError:
        return value if value in ("ON", "OFF") else "'" + value.replace("'", "''") + "'"


class MariaDBServer:
    """One mariadbd on 127.0.0.1:`port` and on `socket`, with its data in a temporary directory."""

    def __init__(self, directory: Path | None = None, tls: bool = True) -> None:
        # The unix socket path must stay under ~100 characters: keep it in a short /tmp dir.
        self._own_dir = directory is None
        self.directory = Path(directory or tempfile.mkdtemp(prefix="mdb", dir="/tmp"))
        self.datadir = self.directory / "data"
        self.socket = str(self.directory / "mysqld.sock")
        self.log_file = self.directory / "mariadbd.log"
        self.port = 0
        self.password = PASSWORD
        self.user = USER
        self.database = DATABASE
        self.tls = tls
        self.ca_file: str | None = None  # CA that signed the server certificate (CN/SAN 127.0.0.1)
        self.other_ca_file: str | None = None  # an unrelated CA: verification against it fails
        self.version = ""
        self.startup_seconds = 0.0
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        """`mysql://wandb@127.0.0.1:PORT/wandb_local` (no password: see `password`)."""
        return f"mysql://{self.user}@127.0.0.1:{self.port}/{self.database}"

    @property
    def url_with_password(self) -> str:
        return f"mysql://{self.user}:{self.password}@127.0.0.1:{self.port}/{self.database}"

    def _make_tls(self) -> list[str]:
        tls = self.directory / "tls"
        tls.mkdir(exist_ok=True)
        ca_key, ca_crt = tls / "ca.key", tls / "ca.crt"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(ca_key),
            "-out",
            str(ca_crt),
            "-days",
            "2",
            "-subj",
            "/CN=wbctl-test-mariadb-ca",
        )
        other_key, other_crt = tls / "other-ca.key", tls / "other-ca.crt"
        _openssl(
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            str(other_key),
            "-out",
            str(other_crt),
            "-days",
            "2",
            "-subj",
            "/CN=unrelated-ca",
        )
        key, csr, crt, ext = tls / "server.key", tls / "server.csr", tls / "server.crt", tls / "san.ext"
        ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        _openssl(
            "req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1"
        )
        _openssl(
            "x509",
            "-req",
            "-in",
            str(csr),
            "-CA",
            str(ca_crt),
            "-CAkey",
            str(ca_key),
            "-CAcreateserial",
            "-out",
            str(crt),
            "-days",
            "2",
            "-extfile",
            str(ext),
        )
        self.ca_file, self.other_ca_file = str(ca_crt), str(other_crt)
        return [f"--ssl-ca={ca_crt}", f"--ssl-cert={crt}", f"--ssl-key={key}"]

    def start(self, timeout: float = 30) -> MariaDBServer:
        began = time.monotonic()
        mariadbd, install_db = find_binaries()
        self.datadir.mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                install_db,
                "--no-defaults",
                f"--datadir={self.datadir}",
                "--user=root",
                "--auth-root-authentication-method=normal",
                "--skip-test-db",
            ],
            capture_output=True,
            text=True,
            timeout=120,
        )
        if result.returncode != 0:
            pytest.fail(
                f"mariadb-install-db failed ({result.returncode}):\n{result.stdout}\n{result.stderr}", pytrace=False
            )
        tls_args = self._make_tls() if self.tls else []
        # --port=0 does not pick a free port: choose one, retry if someone took it meanwhile.
        for _attempt in range(3):
            self.port = free_port()
            log = open(self.log_file, "ab")
            self.process = subprocess.Popen(
                [
                    mariadbd,
                    "--no-defaults",
                    f"--datadir={self.datadir}",
                    f"--socket={self.socket}",
                    f"--port={self.port}",
                    "--bind-address=127.0.0.1",
                    "--user=root",
                    "--skip-log-bin",
                    "--innodb-buffer-pool-size=64M",
                    "--innodb-log-file-size=4M",
                    "--skip-name-resolve",
                    f"--log-error={self.log_file}",
                    *_STARTUP_ARGS,
                    *tls_args,
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
            )
            log.close()
            if self._wait_ready(timeout):
                break
            self.stop()
        else:
            pytest.fail(
                f"mariadbd did not start; log {self.log_file}:\n{self.log_file.read_text()[-3000:]}", pytrace=False
            )
        with self.root_connection() as conn, conn.cursor() as cur:
            cur.execute("SELECT VERSION()")
            self.version = cur.fetchone()[0]
            cur.execute(f"CREATE DATABASE IF NOT EXISTS {self.database}")
            for host in ("127.0.0.1", "localhost"):
                cur.execute(f"CREATE USER IF NOT EXISTS '{self.user}'@'{host}' IDENTIFIED BY %s", (self.password,))
                cur.execute(f"GRANT ALL PRIVILEGES ON {self.database}.* TO '{self.user}'@'{host}'")
                # SET GLOBAL: SUPER covers every variable here in 10.11 (BINLOG ADMIN for binlog_*).
                cur.execute(f"GRANT SUPER, BINLOG ADMIN ON *.* TO '{self.user}'@'{host}'")
            cur.execute("FLUSH PRIVILEGES")
        self.reset_flags()
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process is None or self.process.poll() is not None:
                return False
            try:
                self.root_connection(connect_timeout=1).close()
                return True
            except pymysql.err.OperationalError:
                time.sleep(0.05)
        return False

    def root_connection(self, **kwargs: Any) -> pymysql.connections.Connection:
        """PyMySQL as root (no password) over the unix socket, autocommit on."""
        kwargs.setdefault("connect_timeout", 5)
        return pymysql.connect(unix_socket=self.socket, user="root", autocommit=True, **kwargs)

    def connect(self, password: str | None = None, **kwargs: Any) -> pymysql.connections.Connection:
        """PyMySQL as `wandb` over TCP to 127.0.0.1:`port`."""
        kwargs.setdefault("connect_timeout", 5)
        return pymysql.connect(
            host="127.0.0.1",
            port=self.port,
            user=self.user,
            password=self.password if password is None else password,
            database=self.database,
            autocommit=True,
            **kwargs,
        )

    def global_variables(self, names: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
        with self.root_connection() as conn, conn.cursor() as cur:
            cur.execute("SHOW GLOBAL VARIABLES")
            rows = dict(cur.fetchall())
        return rows if names is None else {n: rows[n] for n in names if n in rows}

    def set_global(self, name: str, value: str) -> None:
        with self.root_connection() as conn, conn.cursor() as cur:
            cur.execute(f"SET GLOBAL {name} = {_sql_literal(value)}")

    @contextlib.contextmanager
    def user_with(self, name: str, grants: tuple[str, ...] = ()) -> Iterator[str]:
        """A user `name`@127.0.0.1 (password `PASSWORD`) holding only `grants` (e.g.
        `("BINLOG ADMIN",)`: it may SET GLOBAL binlog_* but nothing that needs SUPER), as a
        `mysql://name@127.0.0.1:PORT/` URL without a database; dropped afterwards."""
        with self.root_connection() as conn, conn.cursor() as cur:
            cur.execute(f"CREATE USER '{name}'@'127.0.0.1' IDENTIFIED BY %s", (self.password,))
            for grant in grants:
                cur.execute(f"GRANT {grant} ON *.* TO '{name}'@'127.0.0.1'")
        try:
            yield f"mysql://{name}@127.0.0.1:{self.port}/"
        finally:
            with self.root_connection() as conn, conn.cursor() as cur:
                cur.execute(f"DROP USER IF EXISTS '{name}'@'127.0.0.1'")

    def reset_flags(self) -> None:
        """Put RIGHT_FLAGS right and WRONG_FLAGS wrong again (one connection, a few ms)."""
        with self.root_connection() as conn, conn.cursor() as cur:
            for name, value in {**RIGHT_FLAGS, **WRONG_FLAGS}.items():
                cur.execute(f"SET GLOBAL {name} = {_sql_literal(value)}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)

    def cleanup(self) -> None:
        self.stop()
        if self._own_dir:
            shutil.rmtree(self.directory, ignore_errors=True)


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDBServer]:
    """One real MariaDB for the whole session (flags as in this module's docstring).

    Its data directory and socket live in a short /tmp directory, not under `tmp_path_factory`'s
    base: a unix socket path must stay under 100 characters. Removed at the end of the session.
    """
    del tmp_path_factory
    server = MariaDBServer()
    try:
        server.start()
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def mariadb(mariadb_server: MariaDBServer) -> Iterator[MariaDBServer]:
    """The session MariaDB, with its flags put back (`reset_flags`) after the test."""
    yield mariadb_server
    mariadb_server.reset_flags()
