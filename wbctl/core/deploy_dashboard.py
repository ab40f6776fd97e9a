"""wbctl's Grafana dashboard as a Kubernetes object (`wbctl deploy dashboard`), for the two ways
a Grafana in the cluster loads dashboards from the API server:

- `sidecar`: a ConfigMap labelled `grafana_dashboard: "1"`. The Grafana chart's dashboard
  sidecar (grafana-community/helm-charts charts/grafana values.yaml `sidecar.dashboards.label:
  grafana_dashboard`) copies every ConfigMap carrying that label into Grafana's provisioning
  directory; kube-prometheus-stack turns the sidecar on with `labelValue: "1"` and
  `searchNamespace: ALL` (prometheus-community/helm-charts charts/kube-prometheus-stack
  values.yaml, `grafana.sidecar.dashboards`). Each data key is one file: the key is
  `wbctl-runbook.json`, the value the dashboard's JSON.
- `operator`: a `GrafanaDashboard` (grafana.integreatly.org/v1beta1, grafana-operator 5.21.4,
  the version wandb/operator's deploy/operator/Chart.yaml depends on). wandb/operator's v2
  telemetry, in mode `full` (docs/monitoring.md), runs a `Grafana` labelled `dashboards: grafana`
  in the telemetry namespace and selects its own dashboards with `spec.instanceSelector.matchLabels:
  {dashboards: grafana}`, folder `W&B` (deploy/telemetry/templates/telemetry-ui.yaml); this
  resource is selected the same way, in the same namespace (the operator imports a dashboard
  into a Grafana of its own namespace only, unless `allowCrossNamespaceImport`).

That Grafana has no Prometheus datasource: its metrics datasource is VictoriaMetrics' plugin
(type `victoriametrics-metrics-datasource`, uid `victoriametrics`, the default). A datasource
variable asking for type `prometheus` would offer nothing there, so the GrafanaDashboard's JSON
is the same model with its Prometheus datasource references pointed at that plugin
(`for_victoriametrics`): VictoriaMetrics answers PromQL, the queries are unchanged.

Pure: the dashboard's model (wbctl.core.dashboards.grafana.render) in, the object out. The
size is checked here: the API server refuses a ConfigMap whose data exceed 1 MiB
(kubernetes/kubernetes pkg/apis/core/validation/validation.go, ValidateConfigMap against
core.MaxSecretSize), so wbctl refuses to print one, with the number.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wbctl.core.dashboard_ids import context_id
from wbctl.errors import RefusedError, UsageError

NAME = "wbctl-dashboard"  # the ConfigMap's or the GrafanaDashboard's name (a context's: names())
TARGETS = ("sidecar", "operator")
DEFAULT_TARGET = "sidecar"
# where kube-prometheus-stack conventionally runs, as the Pushgateway of DEFAULT_PUSH_URL does;
# its sidecar searches every namespace (searchNamespace: ALL), the plain Grafana chart's only its own
DEFAULT_SIDECAR_NAMESPACE = "monitoring"

SIDECAR_LABEL = "grafana_dashboard"  # charts/grafana values.yaml sidecar.dashboards.label
SIDECAR_LABEL_VALUE = "1"  # kube-prometheus-stack's sidecar.dashboards.labelValue; the Grafana chart's "" takes any
# the annotation a sidecar reads a folder from when its chart sets sidecar.dashboards.folderAnnotation
# (null by default in charts/grafana); `grafana_folder` is the name the community's values use for it
FOLDER_ANNOTATION = "grafana_folder"

OPERATOR_API_VERSION = "grafana.integreatly.org/v1beta1"
# telemetry-ui.yaml: the Grafana's labels, which every dashboard's instanceSelector matches
OPERATOR_INSTANCE_LABELS = {"dashboards": "grafana"}
OPERATOR_FOLDER = "W&B"  # telemetry-ui.yaml: the folder of W&B's own dashboards
VICTORIAMETRICS_TYPE = "victoriametrics-metrics-datasource"  # telemetry-ui.yaml: GrafanaDatasource victoria-metrics
VICTORIAMETRICS_UID = "victoriametrics"
VICTORIAMETRICS_NAME = "VictoriaMetrics"
PROMETHEUS_TYPE = "prometheus"

# core.MaxSecretSize: the sum of a ConfigMap's data values, in bytes (ValidateConfigMap)
CONFIG_MAP_LIMIT = 1024 * 1024
# apimachinery's TotalAnnotationSizeLimitB: client-side `kubectl apply` copies the whole object
# into the kubectl.kubernetes.io/last-applied-configuration annotation, which must fit in it
ANNOTATIONS_LIMIT = 256 * 1024

_UID = re.compile(r"^[a-zA-Z0-9_-]{1,40}$")  # GrafanaContentSpec.uid: the CRD's pattern and maxLength
_FOLDER_PART = re.compile(r"^[^\x00-\x1f\x7f/\\]+$")


def parse_target(text: str) -> str:
    if text not in TARGETS:
        raise UsageError(
            f"--grafana {text!r}: expected sidecar (a ConfigMap for the Grafana chart's sidecar, "
            "kube-prometheus-stack) or operator (a GrafanaDashboard for the v2 operator's telemetry)"
        )
    return text


def parse_folder(text: str) -> str:
    """A Grafana folder: a title for the GrafanaDashboard, a directory under the sidecar's
    folder for the ConfigMap (`a/b` nests). Never absolute, never `..`: the sidecar joins the
    annotation's value to its directory as a path."""
    parts = text.split("/")
    if len(text) > 255 or not all(part.strip() and _FOLDER_PART.fullmatch(part) for part in parts) or ".." in parts:
        raise UsageError(
            f"--folder {text!r}: expected a folder name such as 'W&B' or 'SRE/wbctl' (no leading or doubled "
            "'/', no '..', no control characters, at most 255 characters)"
        )
    return text


_NAME_UNSAFE = re.compile(r"[^a-z0-9-]+")


def names(uid: str, base_uid: str, base_filename: str) -> tuple[str, str]:
    """The object's name and the ConfigMap's key for a dashboard's uid: `wbctl-dashboard` and
    `wbctl-runbook.json` for the dashboard without a context (uid `base_uid`), the context's
    suffix on both for a context's (`wbctl-runbook-prod`: `wbctl-dashboard-prod`,
    `wbctl-runbook-prod.json`). Two contexts' dashboards in one namespace are two objects and
    two files: the sidecar writes every ConfigMap's keys into one directory, where the same
    key twice would be one file, the last written."""
    if uid == base_uid:
        return NAME, base_filename
    suffix = uid[len(base_uid) :].lstrip("-") if uid.startswith(base_uid) else uid
    # a DNS name is lower case: a suffix that had to change gets a hash, so two uids stay two names
    return context_id(NAME, suffix, _NAME_UNSAFE, 253, lower=True), f"{uid}.json"


@dataclass(frozen=True)
class DashboardRequest:
    """`wbctl deploy dashboard ...` as data: which Grafana loads it, where, and in which folder."""

    target: str = DEFAULT_TARGET  # sidecar | operator
    namespace: str = DEFAULT_SIDECAR_NAMESPACE
    folder: str | None = None  # None: the sidecar's default folder; the operator's W&B folder
    context: str | None = None
    name: str = NAME  # names(): the context's suffix for a context's dashboard
    wandb_namespace: str = "default"  # where the WeightsAndBiases resource is (the header's kubectl)

    @property
    def context_name(self) -> str:
        from wbctl.core.measurements import UNNAMED_CONTEXT

        return self.context or UNNAMED_CONTEXT

    @property
    def operator_folder(self) -> str:
        return self.folder or OPERATOR_FOLDER


def _labels() -> dict[str, str]:
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "wbctl"}


def dashboard_text(dashboard: Mapping[str, Any]) -> str:
    """The JSON as the file Grafana reads: indented (a review can read the diff), UTF-8."""
    return json.dumps(dashboard, indent=2, ensure_ascii=False) + "\n"


def _check_size(text: str, why: str) -> None:
    size = len(text.encode("utf-8"))
    if size > CONFIG_MAP_LIMIT:
        raise RefusedError(
            f"the dashboard's JSON is {size} bytes, over {CONFIG_MAP_LIMIT} (1 MiB): {why}; nothing printed"
        )


def config_map(request: DashboardRequest, dashboard: Mapping[str, Any], filename: str) -> dict[str, Any]:
    """The sidecar's ConfigMap: the label it watches, one data key (the file it writes)."""
    text = dashboard_text(dashboard)
    _check_size(text, "the API server refuses a ConfigMap whose data exceed it")
    metadata: dict[str, Any] = {
        "name": request.name,
        "namespace": request.namespace,
        "labels": {**_labels(), SIDECAR_LABEL: SIDECAR_LABEL_VALUE},
    }
    if request.folder is not None:
        metadata["annotations"] = {FOLDER_ANNOTATION: request.folder}
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": metadata, "data": {filename: text}}


def _retype(node: Any) -> Any:
    """Every datasource reference of type prometheus, retyped as VictoriaMetrics' plugin."""
    if isinstance(node, list):
        return [_retype(item) for item in node]
    if not isinstance(node, dict):
        return node
    result = {key: _retype(value) for key, value in node.items()}
    reference = result.get("datasource")
    if isinstance(reference, dict) and reference.get("type") == PROMETHEUS_TYPE:
        result["datasource"] = {**reference, "type": VICTORIAMETRICS_TYPE}
    return result


def for_victoriametrics(dashboard: Mapping[str, Any]) -> dict[str, Any]:
    """The model for the operator's Grafana: its datasource variables of type prometheus list
    VictoriaMetrics' plugin instead (and start on its datasource), every reference of type
    prometheus names that type. Nothing else changes: the queries are PromQL either way."""
    model: dict[str, Any] = _retype(copy.deepcopy(dict(dashboard)))
    for variable in (model.get("templating") or {}).get("list") or []:
        if isinstance(variable, dict) and variable.get("type") == "datasource":
            if variable.get("query") == PROMETHEUS_TYPE:
                variable["query"] = VICTORIAMETRICS_TYPE
                if "current" in variable:
                    variable["current"] = {"text": VICTORIAMETRICS_NAME, "value": VICTORIAMETRICS_UID}
    return model


def grafana_dashboard(request: DashboardRequest, dashboard: Mapping[str, Any]) -> dict[str, Any]:
    """The grafana-operator's GrafanaDashboard for the v2 operator's Grafana."""
    uid = str(dashboard.get("uid") or "")
    if not _UID.fullmatch(uid):
        raise UsageError(f"the dashboard's uid {uid!r} is not a GrafanaDashboard uid (1-40 of a-z A-Z 0-9 - _)")
    text = dashboard_text(for_victoriametrics(dashboard))
    _check_size(text, "wbctl keeps a GrafanaDashboard to a ConfigMap's limit (etcd stores objects of 1.5 MiB at most)")
    return {
        "apiVersion": OPERATOR_API_VERSION,
        "kind": "GrafanaDashboard",
        "metadata": {"name": request.name, "namespace": request.namespace, "labels": _labels()},
        "spec": {
            "uid": uid,
            "folder": request.operator_folder,
            "instanceSelector": {"matchLabels": dict(OPERATOR_INSTANCE_LABELS)},
            "json": text,
        },
    }


def manifest(request: DashboardRequest, dashboard: Mapping[str, Any], filename: str) -> dict[str, Any]:
    """The one object `wbctl deploy dashboard` prints for the request's Grafana."""
    if request.target == "operator":
        return grafana_dashboard(request, dashboard)
    return config_map(request, dashboard, filename)


def last_applied_size(document: Mapping[str, Any]) -> int:
    """About what client-side `kubectl apply` writes into the last-applied-configuration
    annotation: the object's compact JSON (kubectl adds the annotation around it)."""
    return len(json.dumps(document, separators=(",", ":"), ensure_ascii=False).encode("utf-8"))


def notes(request: DashboardRequest, document: Mapping[str, Any]) -> list[str]:
    """What to know before applying the object, one line each."""
    lines: list[str] = []
    if last_applied_size(document) > ANNOTATIONS_LIMIT:
        lines.append(
            "the object is over 256 KiB: client-side `kubectl apply` cannot store it in its "
            "last-applied annotation; apply it with `kubectl apply --server-side` (or `kubectl create`)"
        )
    return lines


_COMMENTS = {
    "ConfigMap": "the dashboard for the Grafana chart's sidecar (kube-prometheus-stack): the label it watches, one file",
    "GrafanaDashboard": "the dashboard for the grafana-operator's Grafana of the v2 operator's telemetry (mode full)",
}


def header(request: DashboardRequest, dashboard: Mapping[str, Any]) -> list[str]:
    title, uid = dashboard.get("title", ""), dashboard.get("uid", "")
    lines = [
        f'# wbctl\'s Grafana dashboard "{title}" (uid {uid}) for context {request.context_name};',
        "# printed by `wbctl deploy dashboard`; how it is loaded: docs/deploy/dashboard.md",
        f"# Apply: kubectl apply -f FILE   (namespace {request.namespace}; an object over 256 KiB: --server-side)",
    ]
    if request.target == "sidecar":
        lines.append(
            "# The sidecar must watch this namespace: kube-prometheus-stack does (searchNamespace: ALL); "
            "the Grafana chart alone watches its own"
        )
        if request.folder is not None:
            lines.append(
                f"# Folder {request.folder!r} needs sidecar.dashboards.folderAnnotation: {FOLDER_ANNOTATION} and "
                "provider.foldersFromFilesStructure: true in the chart's values"
            )
    else:
        lines.append(
            "# The operator's Grafana runs with telemetry.mode full: "
            f"kubectl get weightsandbiases -n {request.wandb_namespace} "
            "-o jsonpath='{.items[*].status.telemetryStatus.mode}'"
        )
    return lines


def dump_yaml(request: DashboardRequest, dashboard: Mapping[str, Any], document: dict[str, Any]) -> str:
    from wbctl.core.deploy import dump_documents

    return dump_documents(header(request, dashboard), [document], _COMMENTS)


def as_list(document: dict[str, Any]) -> dict[str, Any]:
    """The JSON form, as `deploy auditor -o json`: a v1 List `kubectl apply -f -` takes."""
    return {"apiVersion": "v1", "kind": "List", "items": [document]}
