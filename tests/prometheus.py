"""A real Prometheus scraping a real pushgateway, for the Prometheus source of the metrics adapter.

Both are the Debian binaries (`apt-get install prometheus prometheus-pushgateway`), started as
plain subprocesses on free loopback ports, with their data in a temporary directory. Prometheus
scrapes the pushgateway every second with `honor_labels: true`, so a pushed series keeps the
`job` (and grouping labels) it was pushed with.

Prometheus only has samples from the moments it scraped: history cannot be backfilled by
pushing. A test pushes a value, waits until it has been scraped a few times
(`wait_for_samples`), optionally pushes another value, and then reads the window back with
`query_range` over the last minute at a 1 s step. The pushgateway keeps a pushed value until it
is replaced or deleted, so every scrape sees it again: use a job name of your own per test (or
`delete`/`wipe`), since the stack is shared by the whole session.
"""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

SCRAPE_JOB = "pushgateway"  # job_name of the scrape config (the `job` of `up`)
SCRAPE_INTERVAL_S = 1


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def find_binaries() -> tuple[str, str]:
    """The paths of `prometheus` and `prometheus-pushgateway`, or a clear failure."""
    prometheus = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    pushgateway = shutil.which("prometheus-pushgateway") or shutil.which("pushgateway")
    missing = [name for name, path in (("prometheus", prometheus), ("prometheus-pushgateway", pushgateway)) if not path]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on PATH: the Prometheus integration tests need the "
            "Debian packages, install them with `apt-get install -y prometheus prometheus-pushgateway`",
            pytrace=False,
        )
    return prometheus, pushgateway  # type: ignore[return-value]


def _http(method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None,
          timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def _stop(process: subprocess.Popen | None, timeout: float = 10) -> None:
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


class PrometheusStack:
    """A pushgateway and a Prometheus scraping it. `start()` returns once `up == 1`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.prometheus_port = _free_port()
        self.pushgateway_port = _free_port()
        self.url = f"http://127.0.0.1:{self.prometheus_port}"
        self.pushgateway_url = f"http://127.0.0.1:{self.pushgateway_port}"
        self.prometheus: subprocess.Popen | None = None
        self.pushgateway: subprocess.Popen | None = None
        self.startup_seconds: float | None = None

    # --- lifecycle ---------------------------------------------------------------------

    def start(self, timeout: float = 30) -> PrometheusStack:
        prometheus_bin, pushgateway_bin = find_binaries()
        began = time.monotonic()
        self.directory.mkdir(parents=True, exist_ok=True)
        config = self.directory / "prometheus.yml"
        config.write_text(
            "global:\n"
            f"  scrape_interval: {SCRAPE_INTERVAL_S}s\n"
            f"  scrape_timeout: {SCRAPE_INTERVAL_S}s\n"
            f"  evaluation_interval: {SCRAPE_INTERVAL_S}s\n"
            "scrape_configs:\n"
            f"  - job_name: {SCRAPE_JOB}\n"
            "    honor_labels: true\n"
            "    static_configs:\n"
            f"      - targets: ['127.0.0.1:{self.pushgateway_port}']\n"
        )
        self.pushgateway = subprocess.Popen(
            [pushgateway_bin, f"--web.listen-address=127.0.0.1:{self.pushgateway_port}",
             # Debian's build defaults to /var/lib/prometheus/pushgateway.data, which would
             # restore groups from an earlier session (and fight a system pushgateway): memory only.
             "--persistence.file=",
             "--web.enable-admin-api", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.directory / "pushgateway.log").open("wb"),
        )
        self.prometheus = subprocess.Popen(
            [prometheus_bin, f"--config.file={config}",
             f"--storage.tsdb.path={self.directory / 'data'}",
             f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
             "--web.enable-admin-api", "--log.level=warn"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=(self.directory / "prometheus.log").open("wb"),
            cwd=self.directory,
        )
        try:
            deadline = time.monotonic() + timeout
            self._wait_ready(self.pushgateway_url, self.pushgateway, "pushgateway", deadline)
            self._wait_ready(self.url, self.prometheus, "prometheus", deadline)
            # A fresh Prometheus hands static targets to the scrape loop only after its
            # discovery manager's first 5 s tick: wait for the first successful scrape.
            self.wait_for(f'up{{job="{SCRAPE_JOB}"}} == 1', timeout=max(1.0, deadline - time.monotonic()))
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_ready(self, base: str, process: subprocess.Popen, name: str, deadline: float) -> None:
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"{name} exited with {process.returncode}:\n{self.logs(name)}")
            try:
                if _http("GET", f"{base}/-/ready", timeout=1)[0] == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{name} at {base} not ready:\n{self.logs(name)}")
            time.sleep(0.05)

    def logs(self, name: str) -> str:
        path = self.directory / f"{name}.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        _stop(self.prometheus)
        _stop(self.pushgateway)

    def __enter__(self) -> PrometheusStack:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # --- pushgateway -------------------------------------------------------------------

    def _group_url(self, job: str, grouping: dict[str, str] | None) -> str:
        parts = ["metrics", "job", urllib.parse.quote(job, safe="")]
        for label, value in (grouping or {}).items():
            parts += [label, urllib.parse.quote(str(value), safe="")]
        return f"{self.pushgateway_url}/{'/'.join(parts)}"

    def push(self, job: str, metrics_text: str, grouping: dict[str, str] | None = None,
             method: str = "PUT") -> None:
        """Push text exposition format to a group. PUT replaces the whole group; POST replaces
        only the metric names it contains. Label values with `/` are not supported here.

        Always include `# TYPE name gauge`: the pushgateway answers 400 ("is not a GAUGE") when
        a name already pushed as a gauge in any group arrives untyped, and vice versa."""
        if not metrics_text.endswith("\n"):
            metrics_text += "\n"  # the text format requires a final newline
        status, body = _http(method, self._group_url(job, grouping), metrics_text.encode(),
                             {"Content-Type": "text/plain; version=0.0.4"})
        if status not in (200, 202):
            raise RuntimeError(f"pushgateway refused the push ({status}): {body.decode(errors='replace')}")

    def delete(self, job: str, grouping: dict[str, str] | None = None) -> None:
        """Delete a group: its series go stale in Prometheus at the next scrape."""
        status, body = _http("DELETE", self._group_url(job, grouping))
        if status not in (200, 202):
            raise RuntimeError(f"pushgateway refused the delete ({status}): {body.decode(errors='replace')}")

    def wipe(self) -> None:
        """Delete every group on the pushgateway."""
        status, body = _http("PUT", f"{self.pushgateway_url}/api/v1/admin/wipe")
        if status not in (200, 202):
            raise RuntimeError(f"pushgateway refused the wipe ({status}): {body.decode(errors='replace')}")

    # --- Prometheus HTTP API -----------------------------------------------------------

    def _api(self, path: str, params: dict[str, Any]) -> Any:
        status, body = _http("GET", f"{self.url}{path}?{urllib.parse.urlencode(params)}")
        payload = json.loads(body)
        if status != 200 or payload.get("status") != "success":
            raise RuntimeError(f"{path} {params} -> {status}: {payload}")
        return payload["data"]["result"]

    def query(self, query: str, at: float | None = None) -> list[dict]:
        """/api/v1/query: the instant vector's result list."""
        return self._api("/api/v1/query", {"query": query, **({"time": at} if at is not None else {})})

    def query_range(self, query: str, start: float, end: float, step: float = 1) -> list[dict]:
        """/api/v1/query_range: the matrix result list (each item has `metric` and `values`)."""
        return self._api("/api/v1/query_range", {"query": query, "start": start, "end": end, "step": step})

    def wait_for(self, query: str, predicate: Callable[[list[dict]], bool] = lambda result: bool(result),
                 timeout: float = 20, interval: float = 0.2) -> list[dict]:
        """Poll /api/v1/query until `predicate(result)` holds; return that result."""
        deadline = time.monotonic() + timeout
        result: list[dict] = []
        while True:
            try:
                result = self.query(query)
                if predicate(result):
                    return result
            except (OSError, RuntimeError, ValueError):
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{query!r} did not satisfy the predicate within {timeout}s; last result: {result}")
            time.sleep(interval)

    def wait_for_samples(self, selector: str, count: int = 3, timeout: float = 20) -> list[dict]:
        """Wait until Prometheus holds at least `count` scraped samples of `selector` in the last minute."""
        return self.wait_for(f"count_over_time({selector}[1m]) >= {count}", timeout=timeout)


@pytest.fixture(scope="session")
def prometheus_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PrometheusStack]:
    """A started Prometheus + pushgateway shared by the session (`.url`, `.pushgateway_url`)."""
    find_binaries()
    stack = PrometheusStack(tmp_path_factory.mktemp("prometheus")).start()
    try:
        yield stack
    finally:
        stack.stop()
