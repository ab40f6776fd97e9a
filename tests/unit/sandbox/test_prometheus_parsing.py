"""The sandbox Prometheus's parsers of what a client sends (wbctl/sandbox/prometheus.py), and
the Kafka lag's split over partitions (sim/kafka.py). Whatever a query, time or step says, the
answer is a value or BadData (HTTP 400 bad_data), never another exception."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbctl.adapters.metrics import SIGNALS
from wbctl.sandbox.prometheus import BadData, Query, parse_query, parse_step, parse_time
from wbctl.sandbox.sim.kafka import METRIC, split

FAST = settings(max_examples=200, deadline=None)
LABEL = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
VALUE = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)


def _quoted(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


@pytest.mark.parametrize("name", ["queue-lag", "queue-lag-partitions"])
def test_wbctls_default_kafka_queries_are_understood(name: str) -> None:
    by = () if name == "queue-lag" else ("kafka_topic_partition",)
    query = SIGNALS[name].prometheus.format(value="flat-run-fields-updater")  # type: ignore[union-attr]
    assert parse_query(query, METRIC) == Query({"kafka_consumer_group_id": "flat-run-fields-updater"}, by)


@FAST
@given(st.dictionaries(LABEL, VALUE, max_size=4), st.sampled_from([None, (), ("kafka_topic_partition",)]))
def test_a_selector_parses_back_to_its_matchers(matchers: dict[str, str], by: tuple[str, ...] | None) -> None:
    selector = METRIC + "{" + ",".join(f"{label}={_quoted(value)}" for label, value in matchers.items()) + "}"
    text = selector if by is None else f"sum by ({', '.join(by)}) ({selector})" if by else f"sum({selector})"
    assert parse_query(text, METRIC) == Query(matchers, by)


@FAST
@given(st.text(max_size=80))
def test_any_query_is_understood_or_refused_as_bad_data(text: str) -> None:
    try:
        assert isinstance(parse_query(text, METRIC), Query)
    except BadData:
        pass


@FAST
@given(st.text(max_size=30))
def test_any_time_or_step_is_a_number_or_bad_data(text: str) -> None:
    for parse in (lambda t: parse_time(t, "start"), parse_step):
        try:
            assert isinstance(parse(text), float | int)
        except BadData:
            pass


@pytest.mark.parametrize(("text", "seconds"), [("60", 60.0), ("1m", 60), ("1h30m", 5400), ("0.5", 0.5)])
def test_a_step_is_seconds_or_a_duration(text: str, seconds: float) -> None:
    assert parse_step(text) == seconds


def test_an_rfc3339_time_is_unix_seconds() -> None:
    assert parse_time("2026-05-01T12:00:00Z", "time") == 1777636800.0


@FAST
@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=1, max_value=200))
def test_the_lag_splits_evenly_and_sums_to_the_total(total: int, partitions: int) -> None:
    parts = split(total, partitions)
    assert (len(parts), sum(parts), max(parts) - min(parts) <= 1) == (partitions, total, True)


def test_a_time_without_its_offset_is_refused() -> None:
    with pytest.raises(BadData, match='invalid parameter "time": cannot parse "2026-05-01T12:00:00"'):
        parse_time("2026-05-01T12:00:00", "time")
