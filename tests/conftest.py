"""Shared fixtures: an isolated environment (HOME, XDG dirs, NO_COLOR, COLUMNS, no WBCTL_*),
real redis-servers on free loopback ports (plain, with a password, with TLS), and a runner
that starts `wbctl` as a subprocess the way an operator or a script would.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.mariadb import mariadb, mariadb_server  # noqa: F401 - one real MariaDB for the session
from tests.prometheus import backfilled_prometheus, prometheus_stack  # noqa: F401 - real Prometheus servers (fixtures)

REDIS_PASSWORD = "s3cr3t-Pa55-word"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(autouse=True)
def isolated_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own HOME and XDG dirs, no colour, a fixed width, and no WBCTL_*."""
    home = tmp_path / "home"
    home.mkdir()
    for name in list(os.environ):
        if name.startswith("WBCTL_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("XDG_STATE_HOME", str(home / ".local" / "state"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.setenv("COLUMNS", "200")
    return home


# --- real redis-servers -----------------------------------------------------------------


@dataclass
class RedisServer:
    url: str
    port: int
    process: subprocess.Popen[bytes]
    password: str | None = None
    ca_file: str | None = None

    def client(self):  # redis-py, for arranging and asserting server state
        import redis

        options = {"decode_responses": True, "socket_timeout": 5}
        if self.ca_file:
            options["ssl_ca_certs"] = self.ca_file
        return redis.Redis.from_url(self.url, password=self.password, **options)


def _start_redis(tmp: Path, name: str, extra: list[str], url_scheme: str = "redis") -> RedisServer:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run .ci/run (it installs it with apt)")
    port = free_port()
    port_args = ["--port", str(port)] if url_scheme == "redis" else ["--port", "0", "--tls-port", str(port)]
    log = tmp / f"{name}.log"
    process = subprocess.Popen(
        [binary, *port_args, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--logfile", str(log), *extra],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.2):
                break
        except OSError:
            if process.poll() is not None:
                pytest.fail(f"redis-server {name} exited: {log.read_text() if log.exists() else ''}")
            time.sleep(0.02)
    return RedisServer(f"{url_scheme}://127.0.0.1:{port}/0", port, process)


def _openssl(*args: str) -> None:
    subprocess.run(["openssl", *args], check=True, capture_output=True)


def make_ca(directory: Path, name: str) -> tuple[Path, Path]:
    key, cert = directory / f"{name}.key", directory / f"{name}.crt"
    _openssl(
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-keyout",
        str(key),
        "-out",
        str(cert),
        "-days",
        "2",
        "-subj",
        f"/CN={name}",
    )
    return key, cert


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA."""
    directory = tmp_path_factory.mktemp("tls")
    ca_key, ca_cert = make_ca(directory, "test-ca")
    _, other_ca = make_ca(directory, "other-ca")
    key, csr, cert = directory / "server.key", directory / "server.csr", directory / "server.crt"
    ext = directory / "san.ext"
    ext.write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    _openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key), "-out", str(csr), "-subj", "/CN=127.0.0.1")
    _openssl(
        "x509",
        "-req",
        "-in",
        str(csr),
        "-CA",
        str(ca_cert),
        "-CAkey",
        str(ca_key),
        "-CAcreateserial",
        "-out",
        str(cert),
        "-days",
        "2",
        "-extfile",
        str(ext),
    )
    return {"ca": ca_cert, "other_ca": other_ca, "cert": cert, "key": key}


@pytest.fixture(scope="session")
def redis_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = _start_redis(tmp_path_factory.mktemp("redis-plain"), "plain", [])
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="session")
def redis_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = _start_redis(tmp_path_factory.mktemp("redis-auth"), "auth", ["--requirepass", REDIS_PASSWORD])
    server.password = REDIS_PASSWORD
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="session")
def redis_tls(tmp_path_factory: pytest.TempPathFactory, tls_material: dict[str, Path]) -> Iterator[RedisServer]:
    extra = [
        "--tls-cert-file",
        str(tls_material["cert"]),
        "--tls-key-file",
        str(tls_material["key"]),
        "--tls-ca-cert-file",
        str(tls_material["ca"]),
        "--tls-auth-clients",
        "no",
        "--requirepass",
        REDIS_PASSWORD,
    ]
    server = _start_redis(tmp_path_factory.mktemp("redis-tls"), "tls", extra, url_scheme="rediss")
    server.password = REDIS_PASSWORD
    server.ca_file = str(tls_material["ca"])
    yield server
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture
def redis_server(redis_plain: RedisServer) -> RedisServer:
    """The plain server, emptied for this test."""
    client = redis_plain.client()
    client.flushall()
    client.config_resetstat()
    return redis_plain


# --- running the CLI --------------------------------------------------------------------


@dataclass
class Result:
    returncode: int
    stdout: str
    stderr: str

    def json(self):
        return json.loads(self.stdout)


class Wbctl:
    """Runs `python -m wbctl` as a subprocess: no terminal, no stdin, a clean environment."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env

    def __call__(self, *args: str, env: dict[str, str] | None = None, timeout: float = 60) -> Result:
        completed = subprocess.run(
            [sys.executable, "-m", "wbctl", *args],
            env={**self.env, **(env or {})},
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        return Result(completed.returncode, completed.stdout, completed.stderr)


@pytest.fixture
def wbctl(isolated_env: Path) -> Wbctl:
    return Wbctl(dict(os.environ))


@pytest.fixture
def audit_log(isolated_env: Path) -> Path:
    return isolated_env / ".local" / "state" / "wbctl" / "audit.jsonl"


def read_audit(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
