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

For history (say the last 40 minutes of a lag), use `BackfilledPrometheus` instead, or the
`backfilled_prometheus` fixture factory: `openmetrics([Family(...), ...])` writes timestamped
samples, promtool turns them into TSDB blocks, and a Prometheus with no scrape targets serves
them. The recipe and its gotchas are above `find_promtool`.
"""

from __future__ import annotations

import json
import math
import re
import shutil
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support.net import free_port

SCRAPE_JOB = "pushgateway"  # job_name of the scrape config (the `job` of `up`)
SCRAPE_INTERVAL_S = 1


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


def _http(
    method: str, url: str, data: bytes | None = None, headers: dict[str, str] | None = None, timeout: float = 5
) -> tuple[int, bytes]:
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


class PrometheusAPI:
    """Prometheus's HTTP API over `self.url`, shared by `PrometheusStack` and `BackfilledPrometheus`."""

    url: str

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

    def wait_for(
        self,
        query: str,
        predicate: Callable[[list[dict]], bool] = lambda result: bool(result),
        timeout: float = 20,
        interval: float = 0.2,
    ) -> list[dict]:
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


class PrometheusStack(PrometheusAPI):
    """A pushgateway and a Prometheus scraping it. `start()` returns once `up == 1`."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.prometheus_port = free_port()
        self.pushgateway_port = free_port()
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
            [
                pushgateway_bin,
                f"--web.listen-address=127.0.0.1:{self.pushgateway_port}",
                # Debian's build defaults to /var/lib/prometheus/pushgateway.data, which would
                # restore groups from an earlier session (and fight a system pushgateway): memory only.
                "--persistence.file=",
                "--web.enable-admin-api",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "pushgateway.log").open("wb"),
        )
        self.prometheus = subprocess.Popen(
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.directory / 'data'}",
                f"--web.listen-address=127.0.0.1:{self.prometheus_port}",
                "--web.enable-admin-api",
                "--log.level=warn",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
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

    def push(self, job: str, metrics_text: str, grouping: dict[str, str] | None = None, method: str = "PUT") -> None:
        """Push text exposition format to a group. PUT replaces the whole group; POST replaces
        only the metric names it contains. Label values with `/` are not supported here.

        Always include `# TYPE name gauge`: the pushgateway answers 400 ("is not a GAUGE") when
        a name already pushed as a gauge in any group arrives untyped, and vice versa."""
        if not metrics_text.endswith("\n"):
            metrics_text += "\n"  # the text format requires a final newline
        status, body = _http(
            method, self._group_url(job, grouping), metrics_text.encode(), {"Content-Type": "text/plain; version=0.0.4"}
        )
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

    # --- Prometheus HTTP API (query, query_range, wait_for: see PrometheusAPI) -------------

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


# --- backfilled history: promtool blocks under a Prometheus with no scrape targets ------------
#
# Recipe (Prometheus/promtool 2.42, measured): write OpenMetrics text with `openmetrics()`, turn it
# into TSDB blocks with `promtool tsdb create-blocks-from openmetrics FILE DATA_DIR`, then start a
# Prometheus on DATA_DIR. Blocks whose samples are minutes old (now-40m .. now-1m) are fine: no
# flag is needed for recent blocks, because the head stays empty (no scrape targets, so no head
# sample can overlap them), and 2.42 loads even overlapping blocks without any flag (tried: two
# backfills over the same minutes, a warning in the log, both queryable), so
# `--storage.tsdb.allow-overlapping-blocks` is not passed. Blocks are opened before /-/ready
# answers 200; `start()` still waits for a query at the last sample to answer.
#
# Gotchas, all found by trying promtool 2.42:
# * a sample out of time order, or a second sample at the same millisecond, is DROPPED silently
#   (exit 0): `openmetrics()` sorts each series and refuses duplicate timestamps;
# * a sample without a timestamp, or text without the final `# EOF`, fails (promtool's output is
#   in the RuntimeError);
# * text with no samples "succeeds" with no block at all: `start()` refuses it;
# * promtool cuts blocks at 2 h boundaries (UTC, aligned to the epoch): 40 minutes of history is
#   often two blocks, which is fine;
# * retention counts back from the newest block's end, not from now; it is set to 100y here so
#   that fixed, years-old timestamps survive next to recent ones.
# * the lookback delta (5m) still applies: a query at `now` sees the last sample (now-1m).


def find_promtool() -> tuple[str, str]:
    """The paths of `prometheus` and `promtool` (both in Debian's `prometheus` package), or a clear failure."""
    prometheus = shutil.which("prometheus") or ("/usr/bin/prometheus" if Path("/usr/bin/prometheus").exists() else None)
    promtool = shutil.which("promtool") or ("/usr/bin/promtool" if Path("/usr/bin/promtool").exists() else None)
    missing = [name for name, path in (("prometheus", prometheus), ("promtool", promtool)) if not path]
    if missing:
        pytest.fail(
            f"{' and '.join(missing)} not found on PATH: the backfilled-Prometheus tests need Debian's "
            "`prometheus` package (it ships promtool), install it with `apt-get install -y prometheus`",
            pytrace=False,
        )
    return prometheus, promtool  # type: ignore[return-value]


_METRIC_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:]*")
_LABEL_NAME = re.compile(r"[a-zA-Z_][a-zA-Z0-9_]*")

Samples = Sequence[tuple[Mapping[str, str], Sequence[tuple[float, float]]]]


@dataclass(frozen=True)
class Family:
    """One metric family: `samples` is `[(labels, [(unix_seconds, value), ...]), ...]`, one item per series.

    `type` is "gauge" or "counter". A counter's family name has no `_total`: give `name` with or
    without it, the series is always called `<name>_total` (what PromQL then selects)."""

    name: str
    type: str
    help: str
    samples: Samples = field(default_factory=list)

    @property
    def family_name(self) -> str:
        if self.type == "counter" and self.name.endswith("_total"):
            return self.name[: -len("_total")]
        return self.name

    @property
    def series_name(self) -> str:
        """The `__name__` of its series in Prometheus."""
        return f"{self.family_name}_total" if self.type == "counter" else self.family_name


def _escape_label_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _escape_help(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float, counter: bool) -> str:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"sample value {value!r} is not a number")
    if counter and (math.isnan(value) or value < 0):
        raise ValueError(f"a counter's value must be a number >= 0, not {value!r}")
    if isinstance(value, int):
        return str(value)
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return repr(value)


def _timestamp_ms(timestamp: float) -> int:
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)) or not math.isfinite(timestamp):
        raise ValueError(f"timestamp {timestamp!r} is not a finite number of seconds")
    if timestamp < 0:
        raise ValueError(f"timestamp {timestamp!r} is before 1970")
    return round(timestamp * 1000)


def _format_timestamp(ms: int) -> str:
    # Seconds, to the millisecond (the TSDB's resolution); `N.123` round-trips exactly through
    # promtool 2.42 (checked on 3000 random timestamps).
    return str(ms // 1000) if ms % 1000 == 0 else f"{ms // 1000}.{ms % 1000:03d}"


def openmetrics(families: Sequence[Family]) -> str:
    """OpenMetrics text for `promtool tsdb create-blocks-from openmetrics`.

    Each family is written whole (`# HELP`, `# TYPE`, then its samples; families are never
    interleaved), every sample carries its timestamp in seconds, the samples of each series are
    sorted by time, and the text ends with `# EOF`. Raises ValueError for what promtool would
    reject or, worse, silently drop: a bad metric or label name, two families or series with the
    same name/labels, two samples of a series at the same millisecond, a negative counter."""
    lines: list[str] = []
    family_names: set[str] = set()
    series_names: set[str] = set()
    for family in families:
        if family.type not in ("gauge", "counter"):
            raise ValueError(f"{family.name}: type must be 'gauge' or 'counter', not {family.type!r}")
        name = family.family_name
        if not _METRIC_NAME.fullmatch(name):
            raise ValueError(f"{family.name!r} is not a valid metric name")
        if name in family_names or name in series_names or family.series_name in family_names | series_names:
            raise ValueError(f"{family.name}: a family or series of that name is already written")
        family_names.add(name)
        series_names.add(family.series_name)
        if family.help:
            lines.append(f"# HELP {name} {_escape_help(family.help)}")
        lines.append(f"# TYPE {name} {family.type}")
        seen_label_sets: set[tuple[tuple[str, str], ...]] = set()
        for labels, points in family.samples:
            for label in labels:
                if not _LABEL_NAME.fullmatch(label) or label.startswith("__"):
                    raise ValueError(f"{family.name}: {label!r} is not a valid label name")
            key = tuple(sorted((label, str(value)) for label, value in labels.items()))
            if key in seen_label_sets:
                raise ValueError(f"{family.name}: two series with the labels {dict(key)}")
            seen_label_sets.add(key)
            rendered = ",".join(f'{label}="{_escape_label_value(str(value))}"' for label, value in labels.items())
            prefix = f"{family.series_name}{{{rendered}}}" if rendered else family.series_name
            ordered = sorted(((_timestamp_ms(ts), value) for ts, value in points), key=lambda point: point[0])
            for (ms, _value), (next_ms, _) in zip(ordered, ordered[1:]):
                if ms == next_ms:
                    raise ValueError(f"{family.name}{dict(key)}: two samples at {_format_timestamp(ms)}")
            for ms, value in ordered:
                lines.append(f"{prefix} {_format_value(value, family.type == 'counter')} {_format_timestamp(ms)}")
    lines.append("# EOF")
    return "\n".join(lines) + "\n"


class BackfilledPrometheus(PrometheusAPI):
    """A Prometheus holding history written by promtool, with no scrape targets.

    `start()` runs `promtool tsdb create-blocks-from openmetrics` on `openmetrics_text` into
    `<directory>/data` (RuntimeError with promtool's output if it fails or writes no block),
    starts Prometheus on that data dir on a free loopback port, and returns once /-/ready answers
    and an instant query at the last backfilled sample finds series. Then `.url`, `query()`,
    `query_range()`, `wait_for()`; `min_time`/`max_time` are the first/last sample (unix seconds)
    and `blocks` the blocks' meta.json. Also a context manager (`with ... as prometheus:`).

    Recent history (now-40m .. now-1m) needs no special flag on 2.42: nothing is ever appended
    to the head (no scrape targets), so the backfilled blocks cannot collide with it (and 2.42
    loads overlapping blocks without a flag anyway). See the notes above
    `find_promtool` for promtool's gotchas."""

    def __init__(self, directory: Path, openmetrics_text: str) -> None:
        self.directory = Path(directory)
        self.openmetrics_text = openmetrics_text
        self.data_dir = self.directory / "data"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen | None = None
        self.blocks: list[dict] = []
        self.promtool_output = ""
        self.min_time: float | None = None
        self.max_time: float | None = None
        self.backfill_seconds: float | None = None
        self.startup_seconds: float | None = None  # promtool + Prometheus until the first answer

    def backfill(self, promtool: str) -> list[dict]:
        """Write the blocks; return their meta.json, oldest first."""
        self.directory.mkdir(parents=True, exist_ok=True)
        source = self.directory / "backfill.om"
        source.write_text(self.openmetrics_text)
        completed = subprocess.run(
            [promtool, "tsdb", "create-blocks-from", "openmetrics", str(source), str(self.data_dir)],
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
        )
        self.promtool_output = (completed.stdout + completed.stderr).strip()
        if completed.returncode != 0:
            raise RuntimeError(
                f"promtool tsdb create-blocks-from openmetrics {source} failed "
                f"(exit {completed.returncode}):\n{self.promtool_output}"
            )
        metas = sorted(self.data_dir.glob("*/meta.json")) if self.data_dir.exists() else []
        self.blocks = sorted((json.loads(meta.read_text()) for meta in metas), key=lambda meta: meta["minTime"])
        if not self.blocks:
            raise RuntimeError(
                f"promtool wrote no block from {source}: the OpenMetrics text has no samples\n{self.promtool_output}"
            )
        self.min_time = min(meta["minTime"] for meta in self.blocks) / 1000
        self.max_time = (max(meta["maxTime"] for meta in self.blocks) - 1) / 1000  # a block's maxTime is exclusive
        return self.blocks

    def start(self, timeout: float = 30) -> BackfilledPrometheus:
        prometheus_bin, promtool = find_promtool()
        began = time.monotonic()
        self.backfill(promtool)
        self.backfill_seconds = time.monotonic() - began
        config = self.directory / "prometheus.yml"
        config.write_text("# backfilled blocks only: nothing to scrape, no rules\nscrape_configs: []\n")
        self.process = subprocess.Popen(
            [
                prometheus_bin,
                f"--config.file={config}",
                f"--storage.tsdb.path={self.data_dir}",
                # Retention counts back from the newest block: keep years-old fixed timestamps too.
                "--storage.tsdb.retention.time=100y",
                f"--web.listen-address=127.0.0.1:{self.port}",
                "--web.enable-admin-api",
                "--log.level=info",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=(self.directory / "prometheus.log").open("wb"),
            cwd=self.directory,
        )
        try:
            self._wait_answering(time.monotonic() + timeout)
        except BaseException:
            self.stop()
            raise
        self.startup_seconds = time.monotonic() - began
        return self

    def _wait_answering(self, deadline: float) -> None:
        assert self.process is not None
        probe = 'count({__name__=~".+"})'
        ready = False
        last: object = None
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited with {self.process.returncode}:\n{self.logs()}")
            try:
                if not ready:
                    ready = _http("GET", f"{self.url}/-/ready", timeout=1)[0] == 200
                if ready:
                    last = self.query(probe, at=self.max_time)
                    if last:
                        return
            except (OSError, RuntimeError, ValueError) as exc:
                last = exc
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"prometheus at {self.url} did not answer {probe} at {self.max_time} "
                    f"(ready: {ready}, last: {last!r}):\n{self.logs()}"
                )
            time.sleep(0.05)

    def logs(self) -> str:
        path = self.directory / "prometheus.log"
        return path.read_text(errors="replace")[-4000:] if path.exists() else ""

    def stop(self) -> None:
        _stop(self.process)

    def __enter__(self) -> BackfilledPrometheus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@pytest.fixture
def backfilled_prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Callable[[str], BackfilledPrometheus]]:
    """A factory: `start(openmetrics_text)` returns a started `BackfilledPrometheus` (in about a
    quarter of a second); every one started is stopped at the end of the test."""
    find_promtool()
    started: list[BackfilledPrometheus] = []

    def start(openmetrics_text: str) -> BackfilledPrometheus:
        server = BackfilledPrometheus(tmp_path_factory.mktemp("prometheus-backfill"), openmetrics_text)
        started.append(server)
        return server.start()

    try:
        yield start
    finally:
        for server in started:
            server.stop()
