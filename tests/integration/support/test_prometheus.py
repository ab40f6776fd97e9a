"""The session's real Prometheus + pushgateway (tests/prometheus.py), read back over the HTTP API.

These pin what the Prometheus source of the metrics adapter will rely on: a pushed gauge becomes
a series with its own labels (`honor_labels`), `query_range` over the last minute at a 1 s step
shows every value it was scraped with, and a deleted group goes stale instead of lingering.
Each test pushes under a job name of its own, since the stack is shared by the session.
"""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request

from tests.support.prometheus import SCRAPE_JOB, PrometheusStack

LAG = "bufstream_kafka_consumer_group_offset_lag"
LAG_LABELS = 'consumer_group="fixture-test-group",topic="fixture-test-topic"'  # not the adapter tests' group


def query_range(base_url: str, query: str, seconds: int = 60, step: str = "1s") -> list[dict]:
    """The request the adapter will make, with the stdlib only."""
    end = time.time()
    params = urllib.parse.urlencode({"query": query, "start": end - seconds, "end": end, "step": step})
    with urllib.request.urlopen(f"{base_url}/api/v1/query_range?{params}", timeout=5) as response:
        payload = json.load(response)
    assert payload["status"] == "success", payload
    assert payload["data"]["resultType"] == "matrix"
    return payload["data"]["result"]


def test_target_is_up_on_loopback(prometheus_stack: PrometheusStack) -> None:
    assert prometheus_stack.url.startswith("http://127.0.0.1:")
    assert prometheus_stack.pushgateway_url.startswith("http://127.0.0.1:")
    [up] = prometheus_stack.query(f'up{{job="{SCRAPE_JOB}"}}')
    assert up["value"][1] == "1"


def test_pushed_gauge_reads_back_through_query_range(prometheus_stack: PrometheusStack) -> None:
    job = "test-lag-range"
    selector = f'{LAG}{{job="{job}",{LAG_LABELS}}}'
    prometheus_stack.push(job, f"# TYPE {LAG} gauge\n{LAG}{{{LAG_LABELS}}} 1234\n")
    prometheus_stack.wait_for_samples(selector, count=2)

    prometheus_stack.push(job, f"# TYPE {LAG} gauge\n{LAG}{{{LAG_LABELS}}} 5678\n")
    prometheus_stack.wait_for(selector, lambda result: bool(result) and result[0]["value"][1] == "5678")

    [series] = query_range(prometheus_stack.url, selector)
    # honor_labels: the series keeps the pushed job, not the scrape config's job_name.
    assert series["metric"]["job"] == job
    assert series["metric"]["consumer_group"] == "fixture-test-group"
    assert series["metric"]["topic"] == "fixture-test-topic"
    values = [float(value) for _, value in series["values"]]
    assert values.count(1234) >= 2 and values[-1] == 5678
    # The window starts at the first scrape: no backfill before it, no zeros either.
    assert set(values) == {1234, 5678}
    assert values.index(5678) > values.index(1234)
    steps = [ts for ts, _ in series["values"]]
    assert all(round(b - a, 3) == 1 for a, b in zip(steps, steps[1:]))


def test_grouping_labels_and_aggregation(prometheus_stack: PrometheusStack) -> None:
    job = "test-pubsub"
    metric = "pubsub_subscription_num_undelivered_messages"
    for subscription, value in (("run-updates-a", 10), ("run-updates-b", 32)):
        prometheus_stack.push(
            job, f"# TYPE {metric} gauge\n{metric} {value}\n", grouping={"subscription_id": subscription}
        )
    selector = f'{metric}{{job="{job}"}}'
    prometheus_stack.wait_for(selector, lambda result: len(result) == 2)

    by_sub = {s["metric"]["subscription_id"]: s["values"][-1][1] for s in query_range(prometheus_stack.url, selector)}
    assert by_sub == {"run-updates-a": "10", "run-updates-b": "32"}
    [total] = query_range(prometheus_stack.url, f"sum({selector})", seconds=5)
    assert total["values"][-1][1] == "42"


def test_pushgateway_refuses_a_type_clash_across_groups(prometheus_stack: PrometheusStack) -> None:
    # Once any group holds LAG as a gauge, an untyped LAG elsewhere is a 400: always push # TYPE.
    prometheus_stack.push("test-type-a", f"# TYPE {LAG} gauge\n{LAG}{{{LAG_LABELS}}} 1\n")
    try:
        prometheus_stack.push("test-type-b", f"{LAG}{{{LAG_LABELS}}} 1\n")
    except RuntimeError as exc:
        # which side the message names (GAUGE or UNTYPED) depends on the groups other tests left
        assert "(400)" in str(exc) and "inconsistent with existing metrics" in str(exc)
    else:
        raise AssertionError("the pushgateway accepted an untyped push of a gauge's name")
    finally:
        prometheus_stack.delete("test-type-a")


def test_deleted_group_goes_stale(prometheus_stack: PrometheusStack) -> None:
    job = "test-stale"
    selector = f'{LAG}{{job="{job}"}}'
    prometheus_stack.push(job, f"# TYPE {LAG} gauge\n{LAG}{{{LAG_LABELS}}} 7\n")
    prometheus_stack.wait_for(selector)
    prometheus_stack.delete(job)
    # Without the delete the pushgateway would serve 7 forever; after it, the next scrape
    # writes a staleness marker and the instant query is empty (not 0, not the last value).
    prometheus_stack.wait_for(selector, lambda result: result == [], timeout=10)
    [series] = query_range(prometheus_stack.url, selector)
    assert {value for _, value in series["values"]} == {"7"}
