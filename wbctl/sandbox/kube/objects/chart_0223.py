"""Chart operator-wandb 0.22.3 (Jan 2025) as a running namespace (`chart_0223`), derived from the
0.43.8 snapshot since no snapshot of 0.22.3 exists here: no `-bc` names and no api, HPAs named
like their Deployments, images pinned to server 0.64.1, the old values layout. Separate
because those naming traps are what it exists to show, and they read best on their own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from wbctl.sandbox.kube.objects.autoscalers import hpa, rescale_event
from wbctl.sandbox.kube.objects.basics import Obj, chart_labels, deployment_named, find
from wbctl.sandbox.kube.objects.cluster import running_cluster
from wbctl.sandbox.kube.objects.custom_resource import weights_and_biases
from wbctl.sandbox.kube.objects.snapshot import snapshot_manifests
from wbctl.sandbox.kube.objects.terraform import gcp_globals, with_gcp_globals

#: Chart 0.22.3's Deployments: (service = app.kubernetes.io/name, Deployment name suffix).
CHART_0223_DEPLOYMENTS = (
    ("app", "app"),
    ("console", "console"),
    ("weave", "weave"),
    ("executor", "executor"),
    ("parquet", "parquet"),
    ("filestream", "filestream"),
    ("flat-run-fields-updater", "flat-run-fields-updater"),
    ("stackdriver", "stackdriver"),
    ("prometheus", "prometheus-server"),
    ("glue", "glue"),
)
CHART_0223_SERVER_TAG = "0.64.1"
CHART_0223_AUTOSCALED = ("executor", "filestream", "flat-run-fields-updater")


def _minimal_deployment(name: str, service: str, instance: str, namespace: str, chart_label: str) -> Obj:
    labels = chart_labels(service, instance, chart_label)
    selector = {"app.kubernetes.io/name": service, "app.kubernetes.io/instance": instance}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": selector},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": service,
                            "image": "prometheuscommunity/stackdriver-exporter:v0.15.1",
                            "ports": [{"name": "http", "containerPort": 9255, "protocol": "TCP"}],
                            "resources": {
                                "requests": {"cpu": "100m", "memory": "128Mi"},
                                "limits": {"cpu": "500m", "memory": "512Mi"},
                            },
                        }
                    ]
                },
            },
        },
    }


def _retag_wandb_images(node: Any, tag: str) -> Any:
    """Pin the chart's `wandb/*:latest` images to a server release, as a 0.22.3 install was."""
    if isinstance(node, dict):
        return {
            k: (
                v.replace(":latest", f":{tag}")
                if k == "image" and isinstance(v, str) and "/wandb/" in v
                else _retag_wandb_images(v, tag)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_retag_wandb_images(item, tag) for item in node]
    return node


def _workloads(instance: str, namespace: str, chart_label: str) -> list[Obj]:
    """The 0.22.3 Deployments (renamed from the 0.43.8 snapshot's, or minimal where it has none)
    and the parquet-backfill CronJob, on the 0.22.3 server tag."""
    modern = snapshot_manifests("fmb.snap", instance, namespace, chart_label)
    workloads: list[Obj] = []
    for service, suffix in CHART_0223_DEPLOYMENTS:
        name = f"{instance}-{suffix}"
        source = deployment_named(modern, service)
        if source is None:
            deployment = _minimal_deployment(name, service, instance, namespace, chart_label)
        else:
            deployment = _retag_wandb_images(copy.deepcopy(source), CHART_0223_SERVER_TAG)
            deployment["metadata"]["name"] = name
        workloads.append(deployment)
    backfill = copy.deepcopy(find(modern, "CronJob", f"{instance}-parquet-backfill"))
    backfill["spec"]["suspend"] = False
    workloads.append(_retag_wandb_images(backfill, CHART_0223_SERVER_TAG))
    return workloads


def chart_0223(
    instance: str = "wandb",
    namespace: str = "default",
    pods_per_service: int = 3,
    nodes: int = 3,
    hpa_for: Sequence[str] = ("filestream",),
    *,
    replicas: Mapping[str, int] | None = None,
    events: bool = True,
    now: datetime | None = None,
) -> list[Obj]:
    """A namespace running operator-wandb 0.22.3 (Jan 2025), derived from the 0.43.8 snapshot:
    Deployments `<instance>-app|console|weave|executor|parquet|filestream|flat-run-fields-updater|
    stackdriver|prometheus-server|glue` (no `-bc`, no api: wandb-api arrived in 0.23.0), the
    CronJob `<instance>-parquet-backfill` (name label `parquet`), HPAs `<instance>-<svc>` on the
    same-named Deployment, and a CR with chart version 0.22.3 and the old values layout
    (`<svc>.autoscaling.{enabled,minReplicas,maxReplicas,targetCPU}`, server tag 0.64.1) and
    Terraform's GCP globals (terraform.py)."""
    now = now or datetime.now(UTC)
    chart_label = "operator-wandb-0.22.3"
    workloads = _workloads(instance, namespace, chart_label)
    objs = running_cluster(workloads, pods_per_service=pods_per_service, node_count=nodes, replicas=replicas, now=now)

    values: Obj = {"global": {"beta": {"glue": {"enabled": True}}}, "app": {"image": {"tag": CHART_0223_SERVER_TAG}}}
    values = with_gcp_globals(values, gcp_globals(instance))  # installed by W&B's Terraform on GCP
    for service in CHART_0223_AUTOSCALED:
        values[service] = {"autoscaling": {"enabled": False, "minReplicas": 1, "maxReplicas": 10, "targetCPU": 80}}
    autoscalers = []
    for service in hpa_for:
        target = deployment_named(workloads, service)
        if target is None:
            raise ValueError(f"chart 0.22.3 has no Deployment for {service!r}")
        name = target["metadata"]["name"]
        autoscaler = hpa(
            name,
            namespace,
            name,
            chart_labels(service, instance, chart_label),
            int(target["spec"]["replicas"]),
            now=now,
        )
        autoscalers.append(autoscaler)
        values.setdefault(service, {})["autoscaling"] = {
            "enabled": True,
            "minReplicas": autoscaler["spec"]["minReplicas"],
            "maxReplicas": autoscaler["spec"]["maxReplicas"],
            "targetCPU": 80,
        }
    objs += autoscalers
    if events:
        objs += [rescale_event(a, now=now) for a in autoscalers]
    objs.append(weights_and_biases(instance, namespace, "0.22.3", values, now=now))
    return objs
