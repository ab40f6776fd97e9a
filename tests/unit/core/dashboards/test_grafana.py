"""The Grafana dashboard, structurally (no Grafana server installs here: docs/dashboards.md), and
every expression through promql-parser (Prometheus's own parser, via its Rust port)."""

from __future__ import annotations

import json
import re
from dataclasses import replace

import promql_parser

from tests.support.alert_settings import DEFAULT, VARIANTS
from wbctl.core import alerts, signals
from wbctl.core.dashboards import grafana

ALLOWED_PANELS = {"timeseries", "stat", "table"}
GRAFANA_VARIABLES = {"$__rate_interval": "5m", "$__interval": "1m"}


def expressions(board: dict) -> list[str]:
    found = [target["expr"] for panel in board["panels"] for target in panel["targets"]]
    found += [a["expr"] for a in board["annotations"]["list"] if "expr" in a]
    return found


def test_schema_panels_and_no_import_step(settings: alerts.AlertSettings) -> None:
    board = grafana.render(settings)
    assert board["schemaVersion"] >= 36
    assert "__inputs" not in board and "__requires" not in board
    assert "DS_" not in json.dumps(board)  # nothing an import dialog must fill in
    assert {panel["type"] for panel in board["panels"]} <= ALLOWED_PANELS
    ids = [panel["id"] for panel in board["panels"]]
    assert len(ids) == len(set(ids))
    for panel in board["panels"]:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert all(target["datasource"] == panel["datasource"] for target in panel["targets"])
        assert [t["refId"] for t in panel["targets"]] == [chr(65 + n) for n in range(len(panel["targets"]))]
        grid = panel["gridPos"]
        assert 0 <= grid["x"] and grid["x"] + grid["w"] <= 24 and grid["h"] > 0


def test_panels_do_not_overlap(settings: alerts.AlertSettings) -> None:
    cells: set[tuple[int, int]] = set()
    for panel in grafana.render(settings)["panels"]:
        g = panel["gridPos"]
        mine = {(x, y) for x in range(g["x"], g["x"] + g["w"]) for y in range(g["y"], g["y"] + g["h"])}
        assert not cells & mine, panel["title"]
        cells |= mine


def test_variables_datasource_context_and_namespace() -> None:
    board = grafana.render(VARIANTS["context"])
    variables = {v["name"]: v for v in board["templating"]["list"]}
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    assert variables["context"]["type"] == "query"
    assert variables["context"]["query"]["query"] == "label_values(wbctl_check_last_run_timestamp_seconds, context)"
    assert variables["context"]["current"]["value"] == "prod"
    assert grafana.render(DEFAULT)["templating"]["list"][1]["current"]["value"] == "default"  # the unnamed context
    assert variables["namespace"]["type"] == "textbox" and variables["namespace"]["query"] == "wandb"


def test_every_expression_parses_and_names_no_job(settings: alerts.AlertSettings) -> None:
    for expr in expressions(grafana.render(settings)):
        text = expr
        for variable, value in GRAFANA_VARIABLES.items():
            text = text.replace(variable, value)
        promql_parser.parse(text)  # raises on a syntax error
        assert not re.search(r"\bjob\s*=", expr), expr
        wbctl_selectors = re.findall(r"(wbctl_[a-z_]+)\{([^}]*)\}", expr)
        assert all('context="$context"' in matchers for _, matchers in wbctl_selectors), expr


def test_thresholds_are_lines_at_the_alerts_numbers() -> None:
    board = grafana.render(DEFAULT)
    age = next(p for p in board["panels"] if p["title"] == "Run-updates queue: oldest unacked message")
    defaults = age["fieldConfig"]["defaults"]
    assert defaults["custom"]["thresholdsStyle"]["mode"] == "line"
    steps = [step["value"] for step in defaults["thresholds"]["steps"]]
    assert steps == [None, alerts.run_updates_queue(DEFAULT).age_threshold, 7 * 86400]
    silent = next(p for p in board["panels"] if p["title"].startswith("wbctl's auditor"))
    assert silent["fieldConfig"]["defaults"]["thresholds"]["steps"][1]["value"] == alerts.SILENT_RUNS * 300
    rules = {r.alert: r for g in alerts.rule_groups(DEFAULT) for r in g.rules}
    assert f"> {alerts.SILENT_RUNS * 300}" in rules["WbctlAuditorSilent"].expr


def test_descriptions_name_the_step_and_the_command() -> None:
    board = grafana.render(VARIANTS["context"])
    for panel in board["panels"]:
        assert re.search(
            r"Runbook (step \d: [\w-]+|[\w ]+) \(docs/runbook\.md\): `wbctl --context prod ", panel["description"]
        )
    backlog = next(p for p in board["panels"] if p["title"] == "Run-updates queue: backlog")
    assert "`wbctl --context prod runbook queue-backlog`" in backlog["description"]


def test_annotations_show_wbctls_changes_from_the_auditors_metric() -> None:
    [builtin, changes] = grafana.render(DEFAULT)["annotations"]["list"]
    assert builtin["builtIn"] == 1
    assert changes["expr"] == signals.CHANGES_QUERY and changes["useValueForTime"] is True
    assert "wbctl_audit_last_change_timestamp_seconds" in changes["expr"] and changes["tagKeys"] == "kind"


def test_uid_is_stable_valid_and_per_context() -> None:
    assert grafana.uid(DEFAULT) == grafana.UID
    assert grafana.uid(VARIANTS["context"]) == "wbctl-runbook-prod"
    odd = grafana.uid(replace(DEFAULT, context="gke_my-project_us-east1_" + "x" * 60))
    assert re.fullmatch(r"[a-zA-Z0-9_-]{1,40}", odd)
    assert re.fullmatch(r"wbctl-runbook-ctx-[0-9a-f]{6}", grafana.uid(replace(DEFAULT, context="ctx/ü ß")))


def test_the_document_is_plain_json() -> None:
    board = grafana.render(DEFAULT)
    assert json.loads(json.dumps(board)) == board
