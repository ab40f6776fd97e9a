"""Real redis-servers on ports from the OS (plain, with a password, with TLS) and the TLS
material they use: a CA, a server certificate for 127.0.0.1 signed by it, and another CA."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.net import free_port

REDIS_PASSWORD = "s3cr3t-Pa55-word"


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


def start_redis(tmp: Path, name: str, extra: list[str], url_scheme: str = "redis") -> RedisServer:
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


def make_tls_material(directory: Path) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA."""
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


# --- a real Redis Sentinel in front of a real redis-server ------------------------------


@dataclass
class SentinelServer:
    """`redis-server <conf> --sentinel` watching one master under `master_name`."""

    port: int
    process: subprocess.Popen[bytes]
    master_name: str
    master: RedisServer

    def url(self, password: str | None = None, query: str = "") -> str:
        """W&B's Sentinel form: the Sentinel's host and port, `?master=NAME`, the master's password."""
        auth = f":{password}@" if password else ""
        return f"redis://{auth}127.0.0.1:{self.port}?master={self.master_name}{query}"


def start_sentinel(
    tmp: Path, name: str, master: RedisServer, master_name: str = "gorilla", tls: dict[str, Path] | None = None
) -> SentinelServer:
    """A Sentinel (redis-server's own --sentinel mode; it rewrites its config file, so the file
    is its own) monitoring `master`, with the master's password as `auth-pass` when it has one.
    With `tls` (make_tls_material's files) it listens on TLS only and reaches the master over
    TLS (`tls-replication yes`). Returns once the Sentinel names the master."""
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.fail("redis-server is not installed: run .ci/run (it installs it with apt)")
    port = free_port()
    log = tmp / f"{name}.log"
    conf = tmp / f"{name}.conf"
    lines = [
        *([f"port {port}"] if tls is None else ["port 0", f"tls-port {port}"]),
        "bind 127.0.0.1",
        f"logfile {log}",
        f"dir {tmp}",
        f"sentinel monitor {master_name} 127.0.0.1 {master.port} 1",
        f"sentinel down-after-milliseconds {master_name} 60000",
    ]
    if master.password:
        lines.append(f"sentinel auth-pass {master_name} {master.password}")
    if tls is not None:
        lines += [
            f"tls-cert-file {tls['cert']}",
            f"tls-key-file {tls['key']}",
            f"tls-ca-cert-file {tls['ca']}",
            "tls-auth-clients no",
            "tls-replication yes",
        ]
    conf.write_text("\n".join(lines) + "\n")
    process = subprocess.Popen([binary, str(conf), "--sentinel"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    import redis

    deadline = time.monotonic() + 10
    while True:
        try:
            options = {"ssl": True, "ssl_ca_certs": str(tls["ca"])} if tls is not None else {}
            answer = redis.Redis(port=port, socket_timeout=0.5, decode_responses=True, **options).execute_command(
                "SENTINEL", "get-master-addr-by-name", master_name
            )
            if answer:
                break
        except redis.RedisError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            process.terminate()
            pytest.fail(f"redis sentinel {name} did not start: {log.read_text() if log.exists() else ''}")
        time.sleep(0.05)
    return SentinelServer(port, process, master_name, master)
