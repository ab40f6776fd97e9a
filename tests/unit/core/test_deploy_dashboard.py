"""The dashboard's Kubernetes objects (wbctl/core/deploy_dashboard.py): the ConfigMap carries the
sidecar's label and one data key whose JSON parses back to the model; the GrafanaDashboard is
valid by grafana-operator 5.21.4's own CRD schema (tests/unit/core/data, copied from
grafana/grafana-operator config/crd/bases) and selects the v2 operator's Grafana; both pass the
kubernetes client's models (kubernetes.client: V1ConfigMap, V1ObjectMeta, V1LabelSelector, each
deserialized and serialized back with nothing lost); an oversized dashboard is refused.

The model here is a small stand-in built in this file; tests/unit/core/test_deploy_dashboard_grafana.py
runs the same objects over wbctl.core.dashboards.grafana.render's real one."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from kubernetes.client import ApiClient

from wbctl.core import deploy_dashboard as dash
from wbctl.errors import RefusedError, UsageError

CRD = Path(__file__).parent / "data" / "grafanadashboards-crd-5.21.4.yaml"
FILENAME = "stand-in.json"


def model(**extra: Any) -> dict[str, Any]:
    """A small Grafana model shaped as wbctl's: a datasource variable of type prometheus, a
    panel and a target that name it, a second variable on it."""
    reference = {"type": "prometheus", "uid": "${datasource}"}
    return {
        "uid": "wbctl-stand-in",
        "title": "wbctl — stand-in",
        "schemaVersion": 39,
        "templating": {
            "list": [
                {"name": "datasource", "type": "datasource", "query": "prometheus", "current": {}},
                {"name": "context", "type": "query", "datasource": dict(reference), "query": "label_values(up, ctx)"},
            ]
        },
        "panels": [
            {
                "type": "timeseries",
                "title": "Backlog ≥ allowed",
                "datasource": dict(reference),
                "targets": [{"refId": "A", "datasource": dict(reference), "expr": 'sum(wbctl_x{context="$context"})'}],
                "fieldConfig": {"defaults": {"custom": {"lineStyle": {"fill": "solid"}}}},
            }
        ],
        **extra,
    }


def request(**options: Any) -> dash.DashboardRequest:
    return dash.DashboardRequest(**options)


def round_trip(document: Any, klass: str) -> Any:
    """The document through the kubernetes client's model `klass` and back."""
    api = ApiClient()
    parsed = api.deserialize(json.dumps(document), klass, "application/json")
    return api.sanitize_for_serialization(parsed)


# --- the sidecar's ConfigMap ----------------------------------------------------------------------


def test_the_config_map_carries_the_sidecars_label_and_one_file() -> None:
    document = dash.config_map(request(namespace="monitoring"), model(), FILENAME)
    metadata = document["metadata"]
    assert (document["apiVersion"], document["kind"], metadata["name"], metadata["namespace"]) == (
        "v1",
        "ConfigMap",
        "wbctl-dashboard",
        "monitoring",
    )
    assert metadata["labels"]["grafana_dashboard"] == "1"  # a string: the API refuses a number in a label
    assert metadata["labels"]["app.kubernetes.io/part-of"] == "wbctl" and "annotations" not in metadata
    assert list(document["data"]) == [FILENAME]
    assert json.loads(document["data"][FILENAME]) == model()


def test_the_config_map_passes_the_clients_model_with_nothing_lost() -> None:
    document = dash.config_map(request(folder="SRE/wbctl"), model(), FILENAME)
    assert round_trip(document, "V1ConfigMap") == document
    assert document["metadata"]["annotations"] == {"grafana_folder": "SRE/wbctl"}


def test_the_config_maps_key_is_a_valid_config_map_key() -> None:
    # IsConfigMapKey: [-._a-zA-Z0-9]+, at most 253 characters
    key = next(iter(dash.config_map(request(), model(), "wbctl-runbook.json")["data"]))
    assert re.fullmatch(r"[-._a-zA-Z0-9]{1,253}", key)


def test_the_yaml_stream_is_a_literal_block_that_loads_back() -> None:
    req = request(folder="W&B")
    document = dash.config_map(req, model(), FILENAME)
    text = dash.dump_yaml(req, model(), document)
    assert f"  {FILENAME}: |\n" in text  # the JSON readable as a block, not one escaped line
    assert "folderAnnotation: grafana_folder" in text  # the header says what the folder needs
    loaded = [doc for doc in yaml.safe_load_all(text) if doc]
    assert loaded == [document] and json.loads(loaded[0]["data"][FILENAME]) == model()


def test_the_json_form_is_one_list() -> None:
    document = dash.config_map(request(), model(), FILENAME)
    assert dash.as_list(document) == {"apiVersion": "v1", "kind": "List", "items": [document]}


def test_rendering_is_deterministic() -> None:
    first = dash.dump_yaml(request(), model(), dash.config_map(request(), model(), FILENAME))
    second = dash.dump_yaml(request(), model(), dash.config_map(request(), model(), FILENAME))
    assert first == second  # a second apply of the same output changes nothing


# --- the size limit -------------------------------------------------------------------------------


def padded(total_bytes: int) -> dict[str, Any]:
    """The stand-in with a description that makes its JSON text exactly `total_bytes` long."""
    base = len(dash.dashboard_text(model(description="")).encode())
    return model(description="x" * (total_bytes - base))


def test_a_dashboard_of_exactly_one_mib_is_accepted_and_one_byte_more_refused() -> None:
    document = dash.config_map(request(), padded(dash.CONFIG_MAP_LIMIT), FILENAME)
    assert len(document["data"][FILENAME].encode()) == 1024 * 1024
    with pytest.raises(RefusedError, match=r"^the dashboard's JSON is 1048577 bytes, over 1048576 \(1 MiB\)"):
        dash.config_map(request(), padded(dash.CONFIG_MAP_LIMIT + 1), FILENAME)
    with pytest.raises(RefusedError, match="bytes, over 1048576"):
        dash.grafana_dashboard(request(target="operator"), padded(dash.CONFIG_MAP_LIMIT + 1))


def test_the_limit_counts_utf8_bytes_not_characters() -> None:
    base = len(dash.dashboard_text(model(description="")).encode())
    fits = model(description="é" * ((dash.CONFIG_MAP_LIMIT - base) // 2))
    dash.config_map(request(), fits, FILENAME)
    over = model(description="é" * ((dash.CONFIG_MAP_LIMIT - base) // 2 + 1))
    assert len(dash.dashboard_text(over)) < dash.CONFIG_MAP_LIMIT  # in characters it would fit
    with pytest.raises(RefusedError):
        dash.config_map(request(), over, FILENAME)


def test_an_object_over_the_annotation_limit_says_to_apply_server_side() -> None:
    small = dash.config_map(request(), model(), FILENAME)
    assert dash.notes(request(), small) == []
    big = dash.config_map(request(), padded(300 * 1024), FILENAME)
    (note,) = dash.notes(request(), big)
    assert "kubectl apply --server-side" in note and "\n" not in note


# --- the operator's GrafanaDashboard --------------------------------------------------------------


def crd_schema() -> dict[str, Any]:
    crd = next(doc for doc in yaml.safe_load_all(CRD.read_text()) if doc)
    (version,) = [v for v in crd["spec"]["versions"] if v["name"] == "v1beta1"]
    schema: dict[str, Any] = version["schema"]["openAPIV3Schema"]
    return schema


def schema_errors(value: Any, schema: dict[str, Any], where: str = "") -> list[str]:
    """The structural OpenAPI v3 rules an API server applies to a custom resource under strict
    field validation: types, required, unknown fields, string patterns and lengths, enums.
    (Not the CRD's CEL rules: the ones here compare folder fields and old objects, which a
    create with `folder` alone passes.)"""
    kind = schema.get("type")
    if schema.get("x-kubernetes-preserve-unknown-fields") and kind in (None, "object"):
        return []
    types = {"object": dict, "array": list, "string": str, "boolean": bool, "integer": int}
    if kind in types and (not isinstance(value, types[kind]) or (kind == "integer" and isinstance(value, bool))):
        return [f"{where or '.'}: expected {kind}, got {type(value).__name__}"]
    errors: list[str] = []
    if kind == "object":
        properties = schema.get("properties")
        errors += [f"{where}.{name}: Required" for name in schema.get("required", []) if name not in value]
        for key, item in value.items():
            if properties is not None and key in properties:
                errors += schema_errors(item, properties[key], f"{where}.{key}")
            elif isinstance(schema.get("additionalProperties"), dict):
                errors += schema_errors(item, schema["additionalProperties"], f"{where}.{key}")
            elif where != ".metadata" and not (where == "" and key in ("apiVersion", "kind")):
                errors.append(f"{where}.{key}: unknown field")
    elif kind == "array":
        for index, item in enumerate(value):
            errors += schema_errors(item, schema.get("items", {}), f"{where}[{index}]")
    elif kind == "string":
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errors.append(f"{where}: longer than {schema['maxLength']}")
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errors.append(f"{where}: does not match {schema['pattern']}")
        if "enum" in schema and value not in schema["enum"]:
            errors.append(f"{where}: not one of {schema['enum']}")
    return errors


def test_the_schema_check_itself_refuses_what_the_api_server_would() -> None:
    schema = crd_schema()
    good = dash.grafana_dashboard(request(target="operator", namespace="wandb"), model())
    bad = copy.deepcopy(good)
    bad["spec"]["uid"] = "x" * 41
    bad["spec"]["instanceSelector"]["matchLabel"] = {"dashboards": "grafana"}
    del bad["spec"]["instanceSelector"]["matchLabels"]
    bad["spec"]["folder"] = 1
    assert schema_errors(good, schema) == []
    assert sorted(schema_errors(bad, schema)) == [
        ".spec.folder: expected string, got int",
        ".spec.instanceSelector.matchLabel: unknown field",
        ".spec.uid: longer than 40",
    ]
    assert schema_errors({"apiVersion": "x", "kind": "GrafanaDashboard", "metadata": {}, "spec": {}}, schema) == [
        ".spec.instanceSelector: Required"
    ]


def test_the_grafana_dashboard_is_valid_by_the_operators_crd() -> None:
    document = dash.grafana_dashboard(request(target="operator", namespace="wandb"), model())
    assert schema_errors(document, crd_schema()) == []
    assert (document["apiVersion"], document["kind"]) == ("grafana.integreatly.org/v1beta1", "GrafanaDashboard")
    assert round_trip(document["metadata"], "V1ObjectMeta") == document["metadata"]
    assert round_trip(document["spec"]["instanceSelector"], "V1LabelSelector") == document["spec"]["instanceSelector"]


def test_it_selects_the_operators_grafana_in_its_namespace_and_w_and_bs_folder() -> None:
    document = dash.grafana_dashboard(request(target="operator", namespace="wandb"), model())
    spec = document["spec"]
    # deploy/telemetry/templates/telemetry-ui.yaml: the Grafana's labels and its dashboards' folder
    assert spec["instanceSelector"] == {"matchLabels": {"dashboards": "grafana"}}
    assert (spec["folder"], spec["uid"], document["metadata"]["namespace"]) == ("W&B", "wbctl-stand-in", "wandb")
    assert "allowCrossNamespaceImport" not in spec  # the Grafana is in this namespace
    other = dash.grafana_dashboard(request(target="operator", namespace="telemetry", folder="SRE"), model())
    assert (other["spec"]["folder"], other["metadata"]["namespace"]) == ("SRE", "telemetry")


def test_its_json_is_the_model_with_prometheus_references_on_victoriametrics() -> None:
    original = model()
    document = dash.grafana_dashboard(request(target="operator"), original)
    operator_model = json.loads(document["spec"]["json"])
    assert original == model()  # the caller's model is not changed
    variable = operator_model["templating"]["list"][0]
    assert variable["query"] == "victoriametrics-metrics-datasource"
    assert variable["current"] == {"text": "VictoriaMetrics", "value": "victoriametrics"}
    panel = operator_model["panels"][0]
    assert panel["datasource"] == {"type": "victoriametrics-metrics-datasource", "uid": "${datasource}"}
    assert panel["targets"][0]["datasource"]["type"] == "victoriametrics-metrics-datasource"
    text = document["spec"]["json"]
    assert "prometheus" not in text.replace("victoriametrics", "")  # no reference of type prometheus is left
    back = json.loads(text.replace('"victoriametrics-metrics-datasource"', '"prometheus"'))
    back["templating"]["list"][0]["current"] = {}
    assert back == original  # and nothing else differs


def test_a_uid_the_crd_would_refuse_is_refused() -> None:
    with pytest.raises(UsageError, match="is not a GrafanaDashboard uid"):
        dash.grafana_dashboard(request(target="operator"), model(uid="has space"))


def test_manifest_picks_the_object_by_target() -> None:
    assert dash.manifest(request(), model(), FILENAME)["kind"] == "ConfigMap"
    assert dash.manifest(request(target="operator"), model(), FILENAME)["kind"] == "GrafanaDashboard"
    header = dash.header(request(target="operator", namespace="wandb"), model())
    assert any("telemetryStatus.mode" in line for line in header) and all(line.startswith("#") for line in header)


# --- the options ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["W&B", "SRE/wbctl", "Runbook dashboards"])
def test_folders_accepted(text: str) -> None:
    assert dash.parse_folder(text) == text


@pytest.mark.parametrize("text", ["", " ", "/abs", "a//b", "a/../b", "..", "tab\there", "x" * 256, "a/"])
def test_folders_refused_in_one_line(text: str) -> None:
    with pytest.raises(UsageError) as error:
        dash.parse_folder(text)
    assert "\n" not in error.value.message and error.value.message.startswith("--folder ")


def test_targets() -> None:
    assert [dash.parse_target(name) for name in dash.TARGETS] == ["sidecar", "operator"]
    with pytest.raises(UsageError, match="^--grafana 'grafana-operator': expected sidecar"):
        dash.parse_target("grafana-operator")
