"""A Prometheus HTTP API fake: `GET /api/v1/query_range` and `GET /api/v1/query` over one
metric's series, answered in Prometheus's JSON (resultType matrix / vector), on loopback.

Why: a v2 install's queue is Kafka (bufstream), whose lag wbctl reads from Prometheus only
(wbctl/adapters/metrics/signals.py). Without this the `operator-v2` sandbox would query the
default prometheus-url, 127.0.0.1:9090: connection refused, or worse a real Prometheus there.

The PromQL understood is what wbctl sends by default, and no more: a selector of the metric
with `label="value"` matchers, bare, in `sum(...)` or in `sum by (label, ...) (...)`. Anything
else, or a bad parameter, is answered as Prometheus answers a query it cannot run: HTTP 400,
`{"status":"error","errorType":"bad_data","error":...}` (the messages are Prometheus's own,
web/api/v1/api.go). A selector matching no series gives an empty result, as Prometheus does.

The numbers come from a `Source` (the sandbox's: sim/kafka.py): the series' label sets, and
the values of all of them at a moment (the newest sample at or before it). Evaluation follows
Prometheus: a `query_range` is evaluated at start, start + step, ... up to end; at each moment
a series' value is its newest sample within the 5-minute lookback, else it has none there.
"""

from __future__ import annotations

import json
import math
import re
import threading
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Protocol

LOOKBACK = 300.0  # Prometheus's default --query.lookback-delta (5m)
MAX_POINTS = 11_000  # Prometheus's limit of points per series in one query_range

_NAME = r"[A-Za-z_:][A-Za-z0-9_:]*"
_LABEL = r"[A-Za-z_][A-Za-z0-9_]*"
_MATCHER = re.compile(rf'\s*({_LABEL})\s*=\s*"((?:[^"\\]|\\.)*)"\s*(?:,|$)', re.DOTALL)
_SELECTOR = re.compile(rf'\s*({_NAME})\s*(?:\{{((?:[^{{}}"]|"(?:[^"\\]|\\.)*")*)\}})?\s*', re.DOTALL)
_SUM = re.compile(rf"\s*sum\s*(?:by\s*\(\s*({_LABEL}(?:\s*,\s*{_LABEL})*)\s*\)\s*)?\((.*)\)\s*", re.DOTALL)
_ESCAPE = re.compile(r"\\(.)", re.DOTALL)
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r"}
_DURATION = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")
_UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}


class Source(Protocol):
    """What the fake serves: one metric's series and their values over time."""

    metric: str

    def sync(self) -> None:
        """Bring the values up to now (called before every query)."""

    def now(self) -> float:
        """The present, in unix seconds: an instant query's default time."""

    def series(self) -> Sequence[Mapping[str, str]]:
        """Every series' labels (without __name__), in a fixed order."""

    def at(self, moment: float) -> tuple[float, Sequence[float]] | None:
        """The newest sample at or before `moment`: its time and every series' value (in
        `series()` order); None when there is none."""


class BadData(ValueError):
    """A query or parameter Prometheus would refuse with errorType bad_data."""


@dataclass(frozen=True)
class Query:
    """A parsed query: the selector's matchers, and the aggregation (None: the bare selector)."""

    matchers: Mapping[str, str]
    by: tuple[str, ...] | None  # sum by these labels (() : sum of everything); None: no sum


def parse_query(text: str, metric: str) -> Query:
    """The subset of PromQL wbctl's default Kafka signals use; BadData for anything else."""
    by: tuple[str, ...] | None = None
    inner = text
    summed = _SUM.fullmatch(text)
    if summed:
        by = tuple(label.strip() for label in summed.group(1).split(",")) if summed.group(1) else ()
        inner = summed.group(2)
    selector = _SELECTOR.fullmatch(inner)
    if selector is None:
        raise BadData(
            f'invalid parameter "query": the sandbox\'s Prometheus answers only {metric}, '
            f"bare, in sum(...) or in sum by (...) (...): {text[:200]!r}"
        )
    if selector.group(1) != metric:
        raise BadData(
            f'invalid parameter "query": the sandbox\'s Prometheus holds only {metric}, not {selector.group(1)}'
        )
    matchers: dict[str, str] = {}
    body, position = selector.group(2) or "", 0
    while body[position:].strip():
        matched = _MATCHER.match(body, position)
        if matched is None:
            raise BadData(f'invalid parameter "query": only label="value" matchers are understood here: {body!r}')
        matchers[matched.group(1)] = _ESCAPE.sub(lambda m: _ESCAPES.get(m.group(1), m.group(1)), matched.group(2))
        position = matched.end()
    return Query(matchers, by)


def parse_time(text: str, name: str) -> float:
    """A unix timestamp or an RFC 3339 time, as Prometheus takes them."""
    try:
        value = float(text)
        if math.isfinite(value):
            return value
    except ValueError:
        try:
            moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
            if moment.tzinfo is not None:  # RFC 3339 names its offset; a local time would be a guess
                return moment.timestamp()
        except ValueError:
            pass
    raise BadData(f'invalid parameter "{name}": cannot parse "{text}" to a valid timestamp')


def parse_step(text: str) -> float:
    """A step in seconds, or a Prometheus duration (`1m`, `1h30m`)."""
    try:
        value = float(text)
    except ValueError:
        if not text or _DURATION.sub("", text):
            raise BadData(f'invalid parameter "step": cannot parse "{text}" to a valid duration') from None
        value = sum(int(n) * _UNITS[unit] for n, unit in _DURATION.findall(text))
    if not math.isfinite(value) or value <= 0:
        raise BadData(
            'invalid parameter "step": zero or negative query resolution step widths are not accepted. '
            "Try a positive integer"
        )
    return value


def _number(value: float) -> str:
    """A sample value as Prometheus writes it (strconv 'f', -1: no exponent, no trailing .0)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value == int(value) else repr(value)


def _stamp(moment: float) -> float | int:
    return int(moment) if moment == int(moment) else round(moment, 3)


class Evaluator:
    """Queries evaluated over a Source, as Prometheus evaluates them."""

    def __init__(self, source: Source) -> None:
        self.source = source

    def _groups(self, query: Query) -> tuple[list[dict[str, str]], list[list[int]]]:
        """The result's label sets, and for each the indexes of the series it sums."""
        chosen = [
            (index, labels)
            for index, labels in enumerate(self.source.series())
            if all(labels.get(key, "") == value for key, value in query.matchers.items())
        ]
        if query.by is None:
            metric = self.source.metric
            return [{"__name__": metric, **labels} for _, labels in chosen], [[index] for index, _ in chosen]
        groups: dict[tuple[str, ...], list[int]] = {}
        for index, labels in chosen:
            groups.setdefault(tuple(labels.get(label, "") for label in query.by), []).append(index)
        result = [{k: v for k, v in zip(query.by, key) if v} for key in groups]
        return result, list(groups.values())

    def _values(self, moment: float, members: list[list[int]]) -> list[float] | None:
        sample = self.source.at(moment)
        if sample is None or moment - sample[0] > LOOKBACK:
            return None
        values = sample[1]
        return [math.fsum(values[i] for i in indexes) for indexes in members]

    def instant(self, text: str, moment: float) -> dict[str, Any]:
        labels, members = self._groups(parse_query(text, self.source.metric))
        values = self._values(moment, members) if members else None
        result = [
            {"metric": label, "value": [_stamp(moment), _number(value)]} for label, value in zip(labels, values or [])
        ]
        return {"resultType": "vector", "result": result}

    def range(self, text: str, start: float, end: float, step: float) -> dict[str, Any]:
        query = parse_query(text, self.source.metric)
        if end < start:
            raise BadData('invalid parameter "end": end timestamp must not be before start time')
        if (end - start) / step > MAX_POINTS:
            raise BadData(
                "exceeded maximum resolution of 11,000 points per timeseries. "
                "Try decreasing the query resolution (?step=XX)"
            )
        labels, members = self._groups(query)
        points: list[list[list[Any]]] = [[] for _ in labels]
        count = int((end - start) // step) + 1 if members else 0
        for k in range(count):
            moment = start + k * step
            values = self._values(moment, members)
            for series, value in zip(points, values or []):
                series.append([_stamp(moment), _number(value)])
        result = [{"metric": label, "values": values} for label, values in zip(labels, points) if values]
        return {"resultType": "matrix", "result": result}


class FakePrometheus:
    """The fake's server: `start()` listens on a free loopback port (`url`), `stop()` ends it."""

    def __init__(self, source: Source) -> None:
        self.evaluator = Evaluator(source)
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        assert self._server is not None, "not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def answer(self, path: str, params: Mapping[str, str]) -> tuple[int, dict[str, Any]]:
        """(HTTP status, JSON body) for a GET of `path` with its query parameters."""
        source = self.evaluator.source
        try:
            if "query" not in params:
                raise BadData('invalid parameter "query": unknown position: parse error: no expression found in input')
            source.sync()
            if path == "/api/v1/query":
                moment = parse_time(params["time"], "time") if params.get("time") else source.now()
                data = self.evaluator.instant(params["query"], moment)
            else:
                data = self.evaluator.range(
                    params["query"],
                    parse_time(params.get("start", ""), "start"),
                    parse_time(params.get("end", ""), "end"),
                    parse_step(params.get("step", "")),
                )
        except BadData as exc:
            return 400, {"status": "error", "errorType": "bad_data", "error": str(exc)}
        return 200, {"status": "success", "data": data}

    def start(self) -> FakePrometheus:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                target = urllib.parse.urlsplit(self.path)
                if target.path not in ("/api/v1/query", "/api/v1/query_range"):
                    self._send(404, b"404 page not found\n", "text/plain; charset=utf-8")
                    return
                params = {k: v[-1] for k, v in urllib.parse.parse_qs(target.query, keep_blank_values=True).items()}
                status, body = fake.answer(target.path, params)
                self._send(status, json.dumps(body, separators=(",", ":")).encode(), "application/json")

            def _send(self, status: int, body: bytes, kind: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_: Any) -> None:  # no access log on the user's terminal
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.01}, name="sandbox-prometheus", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None
