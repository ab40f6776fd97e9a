"""A namespace run by the v2 operator (wandb/operator `main`, apps.wandb.com/v2), built from the
operator's own sources, and the CRD's conversion between v1 and v2 as its webhook does it.

Why a builder of its own: the v2 operator renders no chart. It reads the server manifest
(`hack/testing-manifests/server-manifest/0.84.0-notifications-security-flags.0/manifest.yaml`:
14 applications, filestream only with the `filestreamQueue` feature) and sizing
(`sizing.yaml` there), makes one Application per app (`reconcile_v2.go`) and the Application
controller (`internal/controller/application_controller.go`) a Deployment and an HPA named
after the app (`api`, `flat-run-fields-updater`: no `wandb-` prefix, no `-bc`), with no labels
of their own; the Deployment's selector and Pods carry `app.kubernetes.io/name=<app>` and
`app.kubernetes.io/instance=<namespace>` (`getSelectorLabels`: the namespace, not the CR's
name). Replicas and HPA bounds come from sizing, overridden by
`spec.wandb.applications.<app>.autoscaling.{minReplicas,maxReplicas}` (`internal/controller/
reconciler/sizing.go`, `ResolveAutoscaling`); an HPA with no metrics gets the API server's
default of 80% CPU. `status.ready` and a `Ready` condition (`readiness.go`) replace v1's
`status.phase`.

The CRD (`config/crd/bases/apps.wandb.com_weightsandbiases.yaml`) serves v1 and v2 and stores
v2; `VERSIONS` gives FakeKubeAPI the same, with `convert` as `api/v1/
weightsandbiases_conversion.go` does it: v1 -> v2 builds a new v2 object from the metadata and
the values (`ConvertTo` into the fresh hub object the webhook hands it), stashing the v1 chart
and values in the annotations `legacy.operator.wandb.com/v1-chart` and `/v1-values` and mapping
`app.image.tag` to `spec.wandb.version` (`mapVersion`; no other mapping is modelled, none of
them concerns replicas or autoscaling); v2 -> v1 answers the stash alone (possibly stale) and
no status. So a v1 write to a v2 object (read as v1, patched, converted back) keeps none of
v2's own spec: `spec.wandb.applications` is gone, and the app falls back to sizing's bounds.
The status is kept, as the API server keeps it across a write to the main resource.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.autoscalers import hpa, rescale_event
from wbctl.sandbox.kube.objects.basics import Obj, stable_uid, timestamp
from wbctl.sandbox.kube.objects.cluster import running_cluster
from wbctl.sandbox.kube.versions import Versions

API_V1, API_V2 = "apps.wandb.com/v1", "apps.wandb.com/v2"
V1_CHART_ANNOTATION = "legacy.operator.wandb.com/v1-chart"
V1_VALUES_ANNOTATION = "legacy.operator.wandb.com/v1-values"
SERVER_VERSION = "0.84.0-notifications-security-flags.0"  # the manifest's tag
IMAGES = "us-docker.pkg.dev/wandb-production/public/wandb"
UPDATER = "flat-run-fields-updater"
# the updater's queue as the manifest writes it (its `env` and the `kafka`/`flatRunsV2Consumer` commonEnvs)
UPDATER_QUEUE_ENV = "GORILLA_RUN_UPDATE_SHADOW_QUEUE_SUBSCRIPTIONS_FLAT_RUN_FIELDS_UPDATER"
UPDATER_QUEUE = "$(KAFKA_URL)/$(KAFKA_RUNS_V2_TOPIC_NAME)?consumer_group_id=flat-run-fields-updater"
RUNS_V2_TOPIC = "flat-run-fields-updater"


@dataclass(frozen=True)
class ManifestApp:
    """One application of the server manifest, with its `small` sizing (sizing.yaml)."""

    name: str
    image: str  # the repository under IMAGES
    cpu: str
    memory: str
    hpa: tuple[int, int] | None  # (minReplicas, maxReplicas); None: no autoscaling in sizing
    features: tuple[str, ...] = ()  # installed only when one of these features is on


MANIFEST_APPS: tuple[ManifestApp, ...] = (
    ManifestApp("anaconda2", "anaconda2", "2", "4Gi", (2, 3)),
    ManifestApp("api", "megabinary", "4", "8Gi", (2, 3)),
    ManifestApp("executor", "megabinary", "4", "16Gi", (1, 2)),
    ManifestApp("filemeta", "megabinary", "2", "2Gi", (1, 2)),
    ManifestApp("filestream", "megabinary", "2", "4Gi", (1, 2), features=("filestreamQueue",)),
    ManifestApp(UPDATER, "megabinary", "2", "4Gi", (1, 2)),
    ManifestApp("frontend", "frontend-nginx", "2", "2Gi", (2, 3)),
    ManifestApp("glue", "megabinary", "2", "6Gi", None),
    ManifestApp("metric-observer", "megabinary", "2", "4Gi", (1, 2)),
    ManifestApp("parquet", "megabinary", "4", "16Gi", (2, 2)),
    ManifestApp("weave", "megabinary", "4", "16Gi", (2, 2)),
    ManifestApp("weave-trace", "weave-trace", "1", "4Gi", (2, 4)),
    ManifestApp("weave-trace-worker", "weave-trace", "1", "4Gi", (1, 4)),
    ManifestApp("weave-trace-evaluate-model-worker", "weave-trace", "1", "4Gi", (1, 4)),
)
MANIFEST_FEATURES = {"filestreamQueue": False}  # the manifest's `features`


def kafka_connection(cr_name: str) -> str:
    """The Secret the managed Kafka's connection is published in (bufstream `naming.go`:
    `<spec>-connection`, the spec named `<cr>-kafka` by the webhook's default)."""
    return f"{cr_name}-kafka-connection"


# --- conversion (the CRD's webhook) -----------------------------------------------------------


def convert(obj: Obj, api_version: str, stored: Obj | None) -> Obj:
    """WeightsAndBiases at `api_version`, as the operator's conversion webhook answers."""
    if api_version == API_V1:
        return _to_v1(obj)
    if api_version == API_V2:
        return _to_v2(obj, stored)
    raise ValueError(f"no conversion of WeightsAndBiases to {api_version}")


def _to_v1(obj: Obj) -> Obj:
    """ConvertFrom: the metadata, and spec.chart/spec.values from the stash (empty without it)."""
    metadata = copy.deepcopy(obj.get("metadata") or {})
    annotations = metadata.get("annotations") or {}
    return {
        "apiVersion": API_V1,
        "kind": "WeightsAndBiases",
        "metadata": metadata,
        "spec": {
            "chart": json.loads(annotations.get(V1_CHART_ANNOTATION) or "{}"),
            "values": json.loads(annotations.get(V1_VALUES_ANNOTATION) or "{}"),
        },
    }


def _to_v2(obj: Obj, stored: Obj | None) -> Obj:
    """ConvertTo: the metadata with the v1 chart and values stashed, spec.wandb.version from
    `app.image.tag` (else `api.image.tag`), and nothing else of the spec (the webhook converts
    into an empty object); the status of the object a write replaces is kept."""
    metadata = copy.deepcopy(obj.get("metadata") or {})
    spec = obj.get("spec") or {}
    values = spec.get("values") or {}
    annotations = metadata.setdefault("annotations", {})
    annotations[V1_CHART_ANNOTATION] = json.dumps(spec.get("chart") or {}, separators=(",", ":"))
    annotations[V1_VALUES_ANNOTATION] = json.dumps(values, separators=(",", ":"))
    converted: Obj = {
        "apiVersion": API_V2,
        "kind": "WeightsAndBiases",
        "metadata": metadata,
        "spec": {},
    }
    tag = _tag(values, "app") or _tag(values, "api")
    if tag:
        converted["spec"].setdefault("wandb", {})["version"] = tag
    if stored is not None and "status" in stored:
        converted["status"] = copy.deepcopy(stored["status"])
    return converted


def _tag(values: Mapping[str, Any], service: str) -> str:
    block = values.get(service)
    image = block.get("image") if isinstance(block, dict) else None
    tag = image.get("tag") if isinstance(image, dict) else None
    return tag if isinstance(tag, str) else ""


VERSIONS = Versions(("v1", "v2"), "v2", convert)  # what the v2 operator's CRD serves and stores


# --- the namespace as the operator leaves it -----------------------------------------------------


def installed(features: Mapping[str, bool] | None = None) -> list[ManifestApp]:
    """The manifest's apps the operator installs: a gated app only when one of its features is on
    (`manifest.FeaturesEnabled`), the CR's features overriding the manifest's."""
    enabled = {**MANIFEST_FEATURES, **(features or {})}
    return [app for app in MANIFEST_APPS if not app.features or any(enabled.get(f) for f in app.features)]


def bounds(app: ManifestApp, applications: Mapping[str, Any]) -> tuple[int, int] | None:
    """ResolveAutoscaling: sizing's bounds, then the CR's override; max raised to min."""
    override = ((applications.get(app.name) or {}).get("autoscaling")) or {}
    low, high = app.hpa if app.hpa else (None, 0)
    low = override.get("minReplicas", low)
    high = override.get("maxReplicas", high)
    if not high:
        return None
    low = 1 if low is None else int(low)
    return low, max(int(high), low)


def weights_and_biases_v2(
    name: str,
    namespace: str,
    *,
    applications: Mapping[str, Any] | None = None,
    features: Mapping[str, bool] | None = None,
    ready: bool = True,
    size: str = "small",
    now: datetime | None = None,
    telemetry: str = "off",
) -> Obj:
    """The v2 CR as its users write it (written as v2: managedFields say so), with the status
    the operator reports; `telemetry`: the operator's telemetry.mode, reported as
    status.telemetryStatus (internal/observability/telemetry/status.go: off is
    `{ready: false, state: Disabled}` with no connection; the operator chart's default is off)."""
    now = now or datetime.now(UTC)
    created = timestamp(now - timedelta(days=30))
    apps = installed(features)
    reason, message = (
        ("ReconciliationSucceeded", "all dependencies, migrations, and application deployments are ready")
        if ready
        else ("ApplicationsNotReady", "waiting for application deployments: " + UPDATER)
    )
    return {
        "apiVersion": API_V2,
        "kind": "WeightsAndBiases",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": stable_uid("WeightsAndBiases", namespace, name),
            "creationTimestamp": created,
            "generation": 1,
            "labels": {},
            "managedFields": [
                {
                    "manager": "kubectl-client-side-apply",
                    "operation": "Update",
                    "apiVersion": API_V2,
                    "time": created,
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:spec": {}},
                },
                {
                    "manager": "operator",
                    "operation": "Update",
                    "apiVersion": API_V2,
                    "time": timestamp(now - timedelta(minutes=5)),
                    "fieldsType": "FieldsV1",
                    "fieldsV1": {"f:status": {}},
                    "subresource": "status",
                },
            ],
        },
        "spec": {
            "size": size,
            "retentionPolicy": {"onDelete": "detach"},
            "wandb": {
                "hostname": "https://wandb.example.com",
                "version": SERVER_VERSION,
                "features": dict(features or {}),
                "bucketProxy": False,
                "applications": copy.deepcopy(dict(applications or {})),
            },
            "kafka": {"managedKafka": {"storageSize": "10Gi", "replicas": 3}},
        },
        "status": {
            "ready": ready,
            "observedGeneration": 1,
            "conditions": [
                {
                    "type": "Ready",
                    "status": "True" if ready else "False",
                    "observedGeneration": 1,
                    "reason": reason,
                    "message": message,
                    "lastTransitionTime": timestamp(now - timedelta(minutes=5)),
                }
            ],
            "wandb": {"hostname": "https://wandb.example.com", "applications": {a.name: {"ready": True} for a in apps}},
            "kafkaStatus": {
                "ready": True,
                "state": "Ready",
                "connection": {"url": {"name": kafka_connection(name), "key": "url"}},
            },
            "telemetryStatus": telemetry_status(telemetry),
        },
    }


def telemetry_status(mode: str) -> Obj:
    """status.telemetryStatus as SummarizeTelemetryInfraStatus reports a mode (its stack Ready when on)."""
    if mode == "off":
        return {"ready": False, "state": "Disabled", "mode": mode}
    return {
        "ready": True,
        "state": "Ready",
        "mode": mode,
        "connection": {"protocol": "http/protobuf", "tracesExporter": "otlp", "serviceName": "wandb-service"},
    }


def _env(app: ManifestApp, cr_name: str) -> list[Obj]:
    """The env the reconciler resolves for the updater (one Secret source: a direct secretKeyRef,
    `pods.go`), and for every app the server version it runs."""
    env: list[Obj] = []
    if app.name in (UPDATER, "api"):
        env += [
            {"name": "KAFKA_URL", "valueFrom": {"secretKeyRef": {"name": kafka_connection(cr_name), "key": "url"}}},
            {"name": "KAFKA_RUNS_V2_TOPIC_NAME", "value": RUNS_V2_TOPIC},
        ]
    if app.name == UPDATER:
        env.append({"name": UPDATER_QUEUE_ENV, "value": UPDATER_QUEUE})
    return env


def _deployment(app: ManifestApp, namespace: str, cr_name: str, now: datetime) -> Obj:
    selector = {"app.kubernetes.io/name": app.name, "app.kubernetes.io/instance": namespace}
    owner = {
        "apiVersion": API_V2,
        "kind": "Application",
        "name": app.name,
        "uid": stable_uid("Application", namespace, app.name),
        "controller": True,
        "blockOwnerDeletion": True,
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": app.name,
            "namespace": namespace,
            "uid": stable_uid("Deployment", namespace, app.name),
            "creationTimestamp": timestamp(now - timedelta(days=30)),
            "ownerReferences": [owner],
        },
        "spec": {
            "selector": {"matchLabels": dict(selector)},
            "template": {
                "metadata": {"labels": dict(selector)},
                "spec": {
                    "serviceAccountName": "wandb-app",
                    "containers": [
                        {
                            "name": app.name,
                            "image": f"{IMAGES}/{app.image}:{SERVER_VERSION}",
                            "env": _env(app, cr_name),
                            "resources": {"requests": {"cpu": app.cpu, "memory": app.memory}},
                        }
                    ],
                },
            },
        },
    }


def operator_v2(
    namespace: str = "wandb",
    name: str = "wandb",
    *,
    applications: Mapping[str, Any] | None = None,
    features: Mapping[str, bool] | None = None,
    replicas: Mapping[str, int] | None = None,
    nodes: int = 3,
    limited: Sequence[str] = (),
    ready: bool = True,
    now: datetime | None = None,
) -> list[Obj]:
    """A namespace the v2 operator runs: Nodes, the CR (v2), and per installed app its Deployment,
    HPA (named after the app, owned by its Application) and Pods.

    - `applications`: the CR's `spec.wandb.applications` (autoscaling overrides), e.g.
      `{"flat-run-fields-updater": {"autoscaling": {"minReplicas": 3, "maxReplicas": 10}}}`.
    - `features`: the CR's `spec.wandb.features` (`{"filestreamQueue": True}` installs filestream).
    - `replicas`: the count an app runs at (default: its HPA's minimum, else 1), clamped to its HPA.
    - `limited`: apps whose HPA is pinned at its maximum, wanting more (ScalingLimited True).
    """
    now = now or datetime.now(UTC)
    overrides = dict(applications or {})
    apps = installed(features)
    deployments = [_deployment(app, namespace, name, now) for app in apps]
    counts: dict[str, int] = {}
    for app in apps:
        bound = bounds(app, overrides)
        count = (replicas or {}).get(app.name, bound[0] if bound else 1)
        if bound:
            count = bound[1] if app.name in limited else min(max(count, bound[0]), bound[1])
        counts[app.name] = count
    objs = running_cluster(deployments, pods_per_service=1, node_count=nodes, replicas=counts, now=now)
    for app in apps:
        bound = bounds(app, overrides)
        if bound is None:
            continue
        autoscaler = hpa(
            app.name,
            namespace,
            app.name,
            {},
            counts[app.name],
            minimum=bound[0],
            maximum=bound[1],
            limited=app.name in limited,
            now=now,
        )
        autoscaler["metadata"]["ownerReferences"] = [
            {
                "apiVersion": API_V2,
                "kind": "Application",
                "name": app.name,
                "uid": stable_uid("Application", namespace, app.name),
                "controller": True,
                "blockOwnerDeletion": True,
            }
        ]
        objs += [autoscaler, rescale_event(autoscaler, now=now)]
    objs.append(weights_and_biases_v2(name, namespace, applications=overrides, features=features, ready=ready, now=now))
    return objs
