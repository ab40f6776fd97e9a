"""The Grafana dashboard against a real Prometheus: `wbctl --sandbox check --push` to a real
Pushgateway that a real Prometheus scrapes (the Debian packages), then every panel's query and
the annotation's, as Grafana would send them, evaluated by that Prometheus: none errs, and the
queue's panels have data. No Grafana server installs here (docs/dashboards.md): the variables
Grafana fills in are filled in the same way here ($context, $namespace, $__rate_interval)."""

from __future__ import annotations

import json

from prometheus_client import delete_from_gateway

from tests.support.prometheus import PrometheusStack

CONTEXT = "sandbox/queue-backlog"  # the label the sandbox's check pushes with


def grafana_query(expr: str, namespace: str) -> str:
    return expr.replace("$context", CONTEXT).replace("$namespace", namespace).replace("$__rate_interval", "1m")


def test_every_panel_query_runs_on_prometheus_and_the_queue_panels_have_data(
    wbctl, prometheus_stack: PrometheusStack
) -> None:
    discard = wbctl("--sandbox", "run", "discard", "k7w3x9qp", "--ttl", "2h", "--yes")
    assert discard.returncode == 0, discard.stderr
    try:
        pushed = wbctl("--sandbox", "check", "--push", prometheus_stack.pushgateway_url, "--exit-zero")
        assert pushed.returncode == 0, pushed.stderr
        prometheus_stack.wait_for(f'wbctl_check_last_run_timestamp_seconds{{context="{CONTEXT}"}}')
        rendered = wbctl("--sandbox", "dashboards", "grafana")
        assert rendered.returncode == 0, rendered.stderr
        board = json.loads(rendered.stdout)
        namespace = next(v for v in board["templating"]["list"] if v["name"] == "namespace")["query"]
        [contexts] = [v for v in board["templating"]["list"] if v["name"] == "context"]
        offered = {
            s["metric"]["context"]
            for s in prometheus_stack.query(
                contexts["query"]["query"].replace("label_values(", "group by (context) (").replace(", context)", ")")
            )
        }
        assert CONTEXT in offered  # the context variable's query finds the pushed context

        empty: dict[str, list[str]] = {}
        for panel in board["panels"]:
            for target in panel["targets"]:
                result = prometheus_stack.query(grafana_query(target["expr"], namespace))  # raises on an error
                if not result:
                    empty.setdefault(panel["title"], []).append(target["legendFormat"])
        queue_panels = [p["title"] for p in board["panels"] if p["title"].startswith("Run-updates queue")]
        assert len(queue_panels) == 5
        for title in queue_panels:  # each has data; a growing queue has no time to drain, so not every series
            panel = next(p for p in board["panels"] if p["title"] == title)
            assert len(empty.get(title, [])) < len(panel["targets"]), (title, empty.get(title))
        for title in ("Run-updates queue: backlog", "Run-updates queue: oldest unacked message"):
            assert title not in empty, empty[title]
        verdict = prometheus_stack.query(
            grafana_query(
                next(p for p in board["panels"] if p["title"] == "Run-updates queue: wbctl's verdict")["targets"][0][
                    "expr"
                ],
                namespace,
            )
        )
        assert [s["metric"]["verdict"] for s in verdict] == ["growing"]

        [annotation] = [a for a in board["annotations"]["list"] if "expr" in a]
        changes = prometheus_stack.query(grafana_query(annotation["expr"], namespace))
        assert [s["metric"]["kind"] for s in changes] == ["run discard"]
        assert float(changes[0]["value"][1]) > 1.7e12  # milliseconds: Grafana's time, from the value
    finally:
        delete_from_gateway(prometheus_stack.pushgateway_url, job="wbctl", grouping_key={"context": CONTEXT})
