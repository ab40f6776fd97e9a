"""Shared fixtures, declared once: an isolated environment (HOME, XDG dirs, NO_COLOR, COLUMNS,
no WBCTL_*); the two ways to run wbctl (`wbctl` in this process, `wbctl_process` as a real
`python -m wbctl`, see tests/support/cli.py); real redis-servers, MariaDB and Prometheus
started once per pytest-xdist worker on ports from the OS; and the in-process Kubernetes and
Google API fakes from wbctl.sandbox, one per test.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from tests.support.cli import InProcess, Subprocess, threads_ended, wbctl_threads
from tests.support.mariadb import mariadb, mariadb_server  # noqa: F401 - one real MariaDB for the session
from tests.support.prometheus import backfilled_prometheus, prometheus_stack  # noqa: F401 - real Prometheus servers
from tests.support.redis import REDIS_PASSWORD, RedisServer, make_tls_material, start_redis
from wbctl.sandbox.google.api import FakeGoogleAPIs
from wbctl.sandbox.kube.api import FakeKubeAPI

# hypothesis's per-example deadline (200 ms) measures the machine as much as the code: on the
# suite's three workers over two cores an example of a pure parser took longer. The examples and
# their shrinking stay; only the timer goes (a test that must be fast is a bench/ benchmark).
settings.register_profile("wbctl", deadline=None)
settings.load_profile("wbctl")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The `slow` tests first (the order within each group kept): pytest-xdist hands them out
    before the short ones, so no worker starts a minute-long test at the end of the run."""
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)


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


@pytest.fixture(autouse=True)
def no_threads_left() -> Iterator[None]:
    """wbctl ran in this process: by the end of the test (its fakes closed) every thread wbctl
    started has ended. A read it gave up on may outlive its command until its socket times out."""
    before = wbctl_threads()
    yield
    left = threads_ended(before, grace=10.0)
    assert not left, f"wbctl left threads running: {left}"


# --- running the CLI --------------------------------------------------------------------


@pytest.fixture
def wbctl(isolated_env: Path) -> InProcess:
    """`wbctl ...` in this process: `main(argv, env)` with string streams and this test's variables."""
    return InProcess(dict(os.environ))


@pytest.fixture
def wbctl_process(isolated_env: Path) -> Subprocess:
    """`python -m wbctl ...` as a real process: for signals, ttys, pipes, start-up, isolation."""
    return Subprocess(dict(os.environ))


@pytest.fixture
def audit_log(isolated_env: Path) -> Path:
    return isolated_env / ".local" / "state" / "wbctl" / "audit.jsonl"


# --- the API fakes (in-process servers driven by the real client libraries) --------------


@pytest.fixture
def kube_api() -> Iterator[FakeKubeAPI]:
    """An empty fake Kubernetes API over plain HTTP."""
    with FakeKubeAPI() as api:
        yield api


@pytest.fixture
def kube_api_tls() -> Iterator[FakeKubeAPI]:
    """An empty fake Kubernetes API over HTTPS (its own CA in the kubeconfig it writes)."""
    with FakeKubeAPI(tls=True) as api:
        yield api


@pytest.fixture
def google_api() -> Iterator[FakeGoogleAPIs]:
    """An empty fake of the Google APIs (Bigtable admin, Cloud Monitoring) over plaintext gRPC."""
    with FakeGoogleAPIs() as api:
        yield api


# --- real redis-servers (one of each per worker) ----------------------------------------


@pytest.fixture(scope="session")
def tls_material(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A CA, a server certificate for 127.0.0.1 signed by it, and an unrelated second CA."""
    return make_tls_material(tmp_path_factory.mktemp("tls"))


def _stop(server: RedisServer) -> None:
    server.process.terminate()
    server.process.wait(10)


@pytest.fixture(scope="session")
def redis_plain(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis-plain"), "plain", [])
    yield server
    _stop(server)


@pytest.fixture(scope="session")
def redis_auth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = start_redis(tmp_path_factory.mktemp("redis-auth"), "auth", ["--requirepass", REDIS_PASSWORD])
    server.password = REDIS_PASSWORD
    yield server
    _stop(server)


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
    server = start_redis(tmp_path_factory.mktemp("redis-tls"), "tls", extra, url_scheme="rediss")
    server.password = REDIS_PASSWORD
    server.ca_file = str(tls_material["ca"])
    yield server
    _stop(server)


@pytest.fixture
def redis_server(redis_plain: RedisServer) -> RedisServer:
    """The plain server, emptied for this test."""
    client = redis_plain.client()
    client.flushall()
    client.config_resetstat()
    return redis_plain
