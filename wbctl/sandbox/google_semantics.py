"""The pure parts of the Google API fakes (google_api.py): no gRPC, no protobuf.

- Cloud Monitoring's filter language, the subset wbctl needs: `SELECTOR OP VALUE` terms joined
  by AND (and `NOT term`, parentheses), where SELECTOR is `project`, `metric.type`,
  `resource.type`, `metric.labels.KEY` / `metric.label.KEY`, `resource.labels.KEY` /
  `resource.label.KEY`; OP is `=`, `!=` or `:` (has substring); VALUE a quoted string or
  `one_of("a", "b")`, `starts_with("a")`, `ends_with("a")`, `has_substring("a")`,
  `monitoring.regex.full_match("re")`. OR is refused (INVALID_ARGUMENT), as is a filter that does
  not name exactly one metric type with `metric.type = "..."` (the real API needs one).
- ListTimeSeries' interval (start, end] and aggregation: per-series alignment over periods
  counted back from the interval's end time, then cross-series reduction grouped by
  `group_by_fields`. Metric kinds as Google defines them: a GAUGE point is an instant's value,
  a DELTA point counts what happened in the sample period ending at it (Pub/Sub's *_count
  metrics), a CUMULATIVE point counts since the series began. ALIGN_RATE and ALIGN_DELTA turn
  counts into a rate (a GAUGE of DOUBLE) or a count per alignment period (a DELTA); each aligner
  is refused on the kinds the real API refuses it on.
- Bigtable's rules for PartialUpdateCluster: the update mask paths and the autoscaling limits
  (CPU target 10-80 %, max <= 10 x min, min >= 1, storage target per node by storage type).
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

Number = int | float


class InvalidArgument(ValueError):
    """Becomes grpc.StatusCode.INVALID_ARGUMENT with this message."""


# ---------------------------------------------------------------------------------------------
# Time series
# ---------------------------------------------------------------------------------------------


@dataclass
class Series:
    project: str
    metric_type: str
    resource_type: str
    resource_labels: dict[str, str]
    metric_labels: dict[str, str] = field(default_factory=dict)
    value_type: str = "DOUBLE"  # or "INT64"
    points: list[tuple[datetime, Number]] = field(default_factory=list)  # any order
    metric_kind: str = "GAUGE"  # or "DELTA", "CUMULATIVE" (METRIC_KINDS)
    sample_period: int = 60  # seconds a DELTA point covers (an aligned DELTA: the alignment period)
    start_time: datetime | None = None  # CUMULATIVE: when the count began

    def identity(self) -> tuple[Any, ...]:
        return (self.project, self.metric_type, self.resource_type,
                tuple(sorted(self.resource_labels.items())), tuple(sorted(self.metric_labels.items())))

    def point_start(self, end: datetime) -> datetime:
        """The interval start the real API reports for a point ending at `end`: a GAUGE point is
        an instant, a DELTA point covers its sample period, a CUMULATIVE one counts since the start."""
        if self.metric_kind == "DELTA":
            return end - timedelta(seconds=self.sample_period)
        if self.metric_kind == "CUMULATIVE" and self.start_time is not None:
            return self.start_time
        return end


METRIC_KINDS = ("GAUGE", "DELTA", "CUMULATIVE")


# ---------------------------------------------------------------------------------------------
# Filter language
# ---------------------------------------------------------------------------------------------

_TOKEN = re.compile(r"""
    \s*(?:
      (?P<string>"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*')
    | (?P<op>!=|=|:|\(|\)|,)
    | (?P<word>[A-Za-z_][A-Za-z0-9_.\-/]*)
    )""", re.VERBOSE)

Predicate = Callable[[Series], bool]


def _tokenize(text: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    pos = 0
    text = text.rstrip()
    while pos < len(text):
        match = _TOKEN.match(text, pos)
        if not match or match.end() == pos:
            raise InvalidArgument(f"Could not parse filter {text!r}: unexpected character at position {pos}.")
        pos = match.end()
        kind = match.lastgroup or ""
        value = match.group(kind)
        if kind == "string":
            value = re.sub(r"\\(.)", r"\1", value[1:-1])
        tokens.append((kind, value))
    return tokens


def _selector_value(selector: str, series: Series) -> str | None:
    if selector == "project":
        return series.project
    if selector == "metric.type":
        return series.metric_type
    if selector == "resource.type":
        return series.resource_type
    for prefix, labels in (("metric.labels.", series.metric_labels), ("metric.label.", series.metric_labels),
                           ("resource.labels.", series.resource_labels), ("resource.label.", series.resource_labels)):
        if selector.startswith(prefix):
            return labels.get(selector[len(prefix):])
    raise AssertionError(selector)


def _valid_selector(selector: str) -> bool:
    if selector in ("project", "metric.type", "resource.type"):
        return True
    return bool(re.fullmatch(r"(metric|resource)\.labels?\.[A-Za-z_][A-Za-z0-9_]*", selector))


@dataclass
class _Parser:
    tokens: list[tuple[str, str]]
    text: str
    pos: int = 0
    metric_types: list[str] = field(default_factory=list)

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self, kind: str | None = None, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (kind and token[0] != kind) or (value is not None and token[1] != value):
            want = value or kind or "a token"
            got = "the end" if token is None else repr(token[1])
            raise InvalidArgument(f"Could not parse filter {self.text!r}: expected {want}, found {got}.")
        self.pos += 1
        return token

    def expression(self) -> Predicate:
        terms = [self.term()]
        while (token := self.peek()) is not None and token != ("op", ")"):
            if token == ("word", "OR"):
                raise InvalidArgument(f"Filter {self.text!r}: OR is not supported by this fake.")
            if token == ("word", "AND"):
                self.pos += 1
            terms.append(self.term())  # juxtaposition means AND too
        return lambda series: all(term(series) for term in terms)

    def term(self) -> Predicate:
        token = self.peek()
        if token == ("word", "NOT"):
            self.pos += 1
            inner = self.term()
            return lambda series: not inner(series)
        if token == ("op", "("):
            self.pos += 1
            inner = self.expression()
            self.take("op", ")")
            return inner
        selector = self.take("word")[1]
        if not _valid_selector(selector):
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unknown selector {selector!r}.")
        op = self.take("op")[1]
        if op not in ("=", "!=", ":"):
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unexpected {op!r} after {selector}.")
        match = self.value(op)
        if selector == "metric.type" and op == "=":
            self.metric_types.append(selector)

        def predicate(series: Series) -> bool:
            value = _selector_value(selector, series)
            hit = value is not None and match(value)
            return not hit if op == "!=" else hit

        return predicate

    def value(self, op: str) -> Callable[[str], bool]:
        kind, text = self.take()
        if kind == "string":
            if op == ":":
                return lambda value: text in value
            return lambda value: value == text
        if kind != "word":
            raise InvalidArgument(f"Could not parse filter {self.text!r}: expected a value, found {text!r}.")
        self.take("op", "(")
        args = [self.take("string")[1]]
        while self.peek() == ("op", ","):
            self.pos += 1
            args.append(self.take("string")[1])
        self.take("op", ")")
        functions: dict[str, Callable[[str], bool]] = {
            "one_of": lambda value: value in args,
            "starts_with": lambda value: value.startswith(args[0]),
            "ends_with": lambda value: value.endswith(args[0]),
            "has_substring": lambda value: args[0] in value,
            "monitoring.regex.full_match": lambda value: re.fullmatch(args[0], value) is not None,
        }
        if text not in functions:
            raise InvalidArgument(f"Could not parse filter {self.text!r}: unknown function {text}().")
        if text != "one_of" and len(args) != 1:
            raise InvalidArgument(f"Could not parse filter {self.text!r}: {text}() takes one argument.")
        return functions[text]


def parse_filter(text: str) -> Predicate:
    """The predicate of a ListTimeSeries filter; InvalidArgument when it is not valid."""
    if not text.strip():
        raise InvalidArgument("Field filter had an invalid value: a filter must specify a metric type.")
    parser = _Parser(_tokenize(text), text)
    predicate = parser.expression()
    if parser.peek() is not None:
        raise InvalidArgument(f"Could not parse filter {text!r}: unexpected {parser.peek()[1]!r}.")  # type: ignore[index]
    if len(parser.metric_types) != 1:
        raise InvalidArgument(
            f"Field filter had an invalid value of {text!r}: the filter must specify exactly one metric type "
            '(metric.type = "...").')
    return predicate


# ---------------------------------------------------------------------------------------------
# Interval and aggregation
# ---------------------------------------------------------------------------------------------

ALIGNERS = ("ALIGN_NONE", "ALIGN_MEAN", "ALIGN_MAX", "ALIGN_MIN", "ALIGN_SUM", "ALIGN_COUNT", "ALIGN_NEXT_OLDER",
            "ALIGN_RATE", "ALIGN_DELTA")
#: The metric kinds an aligner accepts, from the API's Aligner documentation; the rest take
#: GAUGE and DELTA. ALIGN_RATE and ALIGN_DELTA read counts, so a gauge has nothing to offer them.
_ALIGNER_KINDS: dict[str, tuple[str, ...]] = {
    "ALIGN_NONE": METRIC_KINDS, "ALIGN_RATE": ("CUMULATIVE", "DELTA"), "ALIGN_DELTA": ("CUMULATIVE", "DELTA"),
    "ALIGN_NEXT_OLDER": ("GAUGE",),
}
_COUNTING = ("ALIGN_RATE", "ALIGN_DELTA")
REDUCERS = ("REDUCE_NONE", "REDUCE_MEAN", "REDUCE_MAX", "REDUCE_MIN", "REDUCE_SUM", "REDUCE_COUNT")


@dataclass(frozen=True)
class Aggregation:
    alignment_period: timedelta | None = None
    aligner: str = "ALIGN_NONE"
    reducer: str = "REDUCE_NONE"
    group_by: tuple[str, ...] = ()


def validate_aggregation(agg: Aggregation) -> None:
    if agg.aligner not in ALIGNERS:
        raise InvalidArgument(f"The aligner {agg.aligner} is not supported by this fake.")
    if agg.reducer not in REDUCERS:
        raise InvalidArgument(f"The reducer {agg.reducer} is not supported by this fake.")
    if agg.aligner != "ALIGN_NONE" and (agg.alignment_period is None or agg.alignment_period <= timedelta(0)):
        raise InvalidArgument("The alignment period must be specified and positive when an aligner is specified.")
    if agg.reducer != "REDUCE_NONE" and agg.aligner == "ALIGN_NONE":
        raise InvalidArgument("The aligner cannot be ALIGN_NONE when a cross-series reducer is specified.")
    for name in agg.group_by:
        if not re.fullmatch(r"(metric|resource)\.(labels?\.)?[A-Za-z_][A-Za-z0-9_]*|project", name):
            raise InvalidArgument(f"Invalid group_by field {name!r}.")


def check_aligner_kind(aligner: str, series: Series) -> None:
    """Refuse an aligner on a metric kind it does not apply to, in the real API's words."""
    if series.metric_kind not in _ALIGNER_KINDS.get(aligner, ("GAUGE", "DELTA")):
        raise InvalidArgument(
            f'Field aggregation.perSeriesAligner had an invalid value of "{aligner}": The aligner cannot be '
            f"applied to metrics with kind {series.metric_kind} and value type {series.value_type}.")


def _increments(points: Iterable[tuple[datetime, Number]], kind: str) -> list[tuple[datetime, Number]]:
    """What each point adds to the count: a DELTA point's own value; a CUMULATIVE point's rise
    over the previous one (a fall is a reset: counting restarted from zero)."""
    if kind != "CUMULATIVE":
        return list(points)
    out: list[tuple[datetime, Number]] = []
    previous: Number | None = None
    for t, v in sorted(points, key=lambda p: p[0]):
        out.append((t, v if previous is None or v < previous else v - previous))
        previous = v
    return out


def _in_interval(t: datetime, start: datetime | None, end: datetime) -> bool:
    # Reads use (start, end]; with no start (or start == end) only points at end qualify.
    if start is None or start >= end:
        return t == end
    return start < t <= end


def _align_one(points: Sequence[tuple[datetime, Number]], agg: Aggregation, start: datetime | None,
               end: datetime, value_type: str) -> tuple[str, list[tuple[datetime, Number]]]:
    assert agg.alignment_period is not None
    period = agg.alignment_period
    out_type = {"ALIGN_MEAN": "DOUBLE", "ALIGN_COUNT": "INT64", "ALIGN_RATE": "DOUBLE"}.get(agg.aligner, value_type)
    lowest = start if start is not None and start < end else end - period
    aligned: list[tuple[datetime, Number]] = []
    t = end
    while t > lowest:
        window = [(pt, v) for pt, v in points if t - period < pt <= t]
        if window:
            values = [v for _, v in window]
            value: Number
            if agg.aligner == "ALIGN_MEAN":
                value = float(statistics.fmean(values))
            elif agg.aligner == "ALIGN_MAX":
                value = max(values)
            elif agg.aligner == "ALIGN_MIN":
                value = min(values)
            elif agg.aligner in ("ALIGN_SUM", "ALIGN_DELTA"):  # DELTA: the increments, summed
                value = sum(values)
            elif agg.aligner == "ALIGN_RATE":  # per second over the whole period, as Google divides
                value = float(sum(values)) / period.total_seconds()
            elif agg.aligner == "ALIGN_COUNT":
                value = len(values)
            else:  # ALIGN_NEXT_OLDER: the newest point in the window
                value = max(window, key=lambda p: p[0])[1]
            aligned.append((t, value))
        t -= period
    return out_type, aligned  # newest first


def _group_key(series: Series, group_by: Sequence[str]) -> tuple[dict[str, str], dict[str, str], str]:
    resource: dict[str, str] = {}
    metric: dict[str, str] = {}
    for name in group_by:
        parts = name.split(".")
        key = parts[-1]
        if parts[0] == "resource" and key in series.resource_labels:
            resource[key] = series.resource_labels[key]
        elif parts[0] == "metric" and key in series.metric_labels:
            metric[key] = series.metric_labels[key]
        elif name == "resource.project_id" or name == "project":
            resource["project_id"] = series.project
    return resource, metric, repr((sorted(resource.items()), sorted(metric.items())))


def _reduce(values: list[Number], reducer: str) -> Number:
    if reducer == "REDUCE_MEAN":
        return float(statistics.fmean(values))
    if reducer == "REDUCE_MAX":
        return max(values)
    if reducer == "REDUCE_MIN":
        return min(values)
    if reducer == "REDUCE_SUM":
        return sum(values)
    return len(values)  # REDUCE_COUNT


def select(series: Iterable[Series], *, project: str, predicate: Predicate, start: datetime | None,
           end: datetime, agg: Aggregation) -> list[Series]:
    """What ListTimeSeries answers: matching series, points in the interval, aggregated; points
    newest first; series in a stable order (by metric type, then labels)."""
    validate_aggregation(agg)
    chosen: list[Series] = []
    for one in sorted(series, key=lambda s: repr(s.identity())):
        if one.project != project or not predicate(one):
            continue
        check_aligner_kind(agg.aligner, one)
        source = _increments(one.points, one.metric_kind) if agg.aligner in _COUNTING else one.points
        inside = [(t, v) for t, v in source if _in_interval(t, start, end)]
        if not inside and agg.aligner == "ALIGN_NONE":
            continue
        if agg.aligner == "ALIGN_NONE":
            chosen.append(replace(one, points=sorted(inside, key=lambda p: p[0], reverse=True)))
            continue
        out_type, aligned = _align_one(inside, agg, start, end, one.value_type)
        # ALIGN_RATE answers a GAUGE, ALIGN_DELTA a DELTA per alignment period; the rest keep the kind.
        kind = {"ALIGN_RATE": "GAUGE", "ALIGN_DELTA": "DELTA"}.get(agg.aligner, one.metric_kind)
        if aligned:
            period = agg.alignment_period or timedelta(seconds=one.sample_period)
            chosen.append(replace(one, value_type=out_type, points=aligned, metric_kind=kind,
                                  sample_period=int(period.total_seconds())))
    if agg.reducer == "REDUCE_NONE":
        return chosen
    groups: dict[tuple[str, str, str], list[Series]] = {}
    labels: dict[tuple[str, str, str], tuple[dict[str, str], dict[str, str]]] = {}
    for one in chosen:
        resource, metric, key = _group_key(one, agg.group_by)
        group = (one.metric_type, one.resource_type, key)
        groups.setdefault(group, []).append(one)
        labels[group] = (resource, metric)
    reduced: list[Series] = []
    for group, members in groups.items():
        by_time: dict[datetime, list[Number]] = {}
        for member in members:
            for t, v in member.points:
                by_time.setdefault(t, []).append(v)
        types = {m.value_type for m in members}
        value_type = {"REDUCE_MEAN": "DOUBLE", "REDUCE_COUNT": "INT64"}.get(
            agg.reducer, "DOUBLE" if "DOUBLE" in types else "INT64")
        points = [(t, _reduce(vs, agg.reducer)) for t, vs in sorted(by_time.items(), reverse=True)]
        if value_type == "DOUBLE":
            points = [(t, float(v)) for t, v in points]
        resource, metric = labels[group]
        first = members[0]
        reduced.append(Series(first.project, group[0], group[1], resource, metric, value_type, points,
                              metric_kind=first.metric_kind, sample_period=first.sample_period,
                              start_time=first.start_time))
    return reduced


# ---------------------------------------------------------------------------------------------
# Bigtable: PartialUpdateCluster
# ---------------------------------------------------------------------------------------------

_AS = "cluster_config.cluster_autoscaling_config"
AUTOSCALING_FIELDS: dict[str, str] = {  # mask path -> key of an autoscaling dict
    f"{_AS}.autoscaling_limits.min_serve_nodes": "min",
    f"{_AS}.autoscaling_limits.max_serve_nodes": "max",
    f"{_AS}.autoscaling_targets.cpu_utilization_percent": "cpu_target",
    f"{_AS}.autoscaling_targets.storage_utilization_gib_per_node": "storage_target_gib",
}
_GROUPS: dict[str, tuple[str, ...]] = {
    _AS: ("min", "max", "cpu_target", "storage_target_gib"),
    f"{_AS}.autoscaling_limits": ("min", "max"),
    f"{_AS}.autoscaling_targets": ("cpu_target", "storage_target_gib"),
}
ALLOWED_PATHS = frozenset({"serve_nodes", *AUTOSCALING_FIELDS, *_GROUPS})

#: Storage utilization target per node (GiB), by storage type: (minimum, maximum, default).
STORAGE_TARGETS: dict[str, tuple[int, int, int]] = {"SSD": (2560, 5120, 2560), "HDD": (8192, 16384, 8192)}


def validate_autoscaling(auto: Mapping[str, int], storage_type: str) -> dict[str, int]:
    """Google's limits; returns the config with the storage target defaulted."""
    low, high, default = STORAGE_TARGETS.get(storage_type, STORAGE_TARGETS["SSD"])
    lo_nodes, hi_nodes, cpu = auto.get("min", 0), auto.get("max", 0), auto.get("cpu_target", 0)
    storage = auto.get("storage_target_gib", 0) or default
    if lo_nodes < 1:
        raise InvalidArgument(f"Invalid autoscaling limits: min_serve_nodes must be at least 1, got {lo_nodes}.")
    if hi_nodes < lo_nodes:
        raise InvalidArgument(
            f"Invalid autoscaling limits: max_serve_nodes ({hi_nodes}) must be at least min_serve_nodes ({lo_nodes}).")
    if hi_nodes > 10 * lo_nodes:
        raise InvalidArgument(
            f"Invalid autoscaling limits: max_serve_nodes ({hi_nodes}) must be at most 10 times "
            f"min_serve_nodes ({lo_nodes}).")
    if not 10 <= cpu <= 80:
        raise InvalidArgument(
            f"Invalid autoscaling targets: cpu_utilization_percent must be between 10 and 80, got {cpu}.")
    if not low <= storage <= high:
        raise InvalidArgument(
            f"Invalid autoscaling targets: storage_utilization_gib_per_node must be between {low} and {high} "
            f"for {storage_type} storage, got {storage}.")
    return {"min": lo_nodes, "max": hi_nodes, "cpu_target": cpu, "storage_target_gib": storage}


def apply_cluster_update(current: Mapping[str, Any], requested: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """The cluster after PartialUpdateCluster, as the real API decides it.

    `current` and `requested` are cluster dicts: serve_nodes, storage_type, autoscaling (a dict
    min/max/cpu_target/storage_target_gib, or None when off; in `requested` an all-zero or missing
    config means "cleared"). Raises InvalidArgument and changes nothing when the update is refused.
    """
    if not paths:
        raise InvalidArgument("update_mask must contain at least one path.")
    for path in paths:
        if path not in ALLOWED_PATHS:
            raise InvalidArgument(
                f"Invalid update_mask path {path!r}: only serve_nodes and "
                f"{_AS} (or its fields) can be updated.")
    want = requested.get("autoscaling") or {}
    touches_autoscaling = any(path != "serve_nodes" for path in paths)
    requested_nodes = int(requested.get("serve_nodes") or 0)
    if "serve_nodes" in paths and _AS in paths and requested_nodes and any(want.values()):
        raise InvalidArgument(
            "Cannot set serve_nodes and cluster_config.cluster_autoscaling_config in the same update: "
            "to enable autoscaling leave serve_nodes out of the update mask; to disable it, clear "
            "cluster_config.cluster_autoscaling_config and set serve_nodes.")
    auto: dict[str, int] | None = dict(current["autoscaling"]) if current.get("autoscaling") else None
    if _AS in paths:
        auto = {key: int(want.get(key) or 0) for key in _GROUPS[_AS]} if any(want.values()) else None
    for path in paths:
        keys = (AUTOSCALING_FIELDS[path],) if path in AUTOSCALING_FIELDS else _GROUPS.get(path, ()) if path != _AS else ()
        for key in keys:
            auto = dict(auto or {})
            auto[key] = int(want.get(key) or 0)
    result = dict(current)
    if auto is not None:
        auto = validate_autoscaling(auto, current.get("storage_type", "SSD"))
        result["autoscaling"] = auto
        # serve_nodes is OUTPUT_ONLY under autoscaling: the request's value is ignored; the
        # autoscaler keeps the node count within the new limits.
        result["serve_nodes"] = min(max(int(current["serve_nodes"]), auto["min"]), auto["max"])
        return result
    result["autoscaling"] = None
    if current.get("autoscaling") and touches_autoscaling and "serve_nodes" not in paths:
        raise InvalidArgument(
            "Disabling autoscaling requires an explicit serve_nodes count in the update mask.")
    if "serve_nodes" in paths:
        if requested_nodes < 1:
            raise InvalidArgument(f"serve_nodes must be at least 1, got {requested_nodes}.")
        result["serve_nodes"] = requested_nodes
    return result
