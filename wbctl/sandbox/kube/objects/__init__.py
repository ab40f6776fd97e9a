"""Kubernetes fixtures for both chart generations, as lists of manifests for FakeKubeAPI.add_all.

Why built from the chart's real output: names and labels differ between chart generations
(`-bc` Deployments, HPAs named without it, the parquet CronJob sharing the parquet name label,
Prometheus labelled `prometheus`), and invented workloads would hide exactly those traps.
`chart_043` loads the operator-wandb 0.43.8 snapshots in operator-wandb-0.43.8/ (see its
README); `chart_0223` derives 0.22.3 from them, since no snapshot of it exists here. Both add
what a live cluster has and a chart does not render: Deployment status, Pods spread over Nodes,
HPA status and its scaling Event, the WeightsAndBiases CR the operator rendered from. For the
queue runbook, chart_043 can point flat-run-fields-updater at a given queue, or render it for
Kafka with the ConfigMaps its `$(VAR)`s come from; crash_looping, oom_killed and pending turn a
healthy Pod into the unhealthy ones the kubelet and scheduler report.

Every object carries a deterministic uid and explicit timestamps, so references (Event ->
HPA, Pod -> ReplicaSet) line up and ages read like a running cluster's.

Where the builders live (this package re-exports them): basics.py (uids, timestamps,
find/of_kind), snapshot.py (loading and renaming the snapshots), cluster.py (Nodes, Pods,
settled Deployments, other apps' Pods, CSIDrivers), pod_health.py (crash_looping, oom_killed,
pending), autoscalers.py (HPA, KEDA, Events), custom_resource.py (the CR), chart_043.py and
chart_0223.py.
"""

from __future__ import annotations

from wbctl.sandbox.kube.objects.autoscalers import hpa, rescale_event
from wbctl.sandbox.kube.objects.basics import Obj, find, of_kind
from wbctl.sandbox.kube.objects.chart_0223 import (
    CHART_0223_AUTOSCALED,
    CHART_0223_DEPLOYMENTS,
    CHART_0223_SERVER_TAG,
    chart_0223,
)
from wbctl.sandbox.kube.objects.chart_043 import (
    KEDA_SO_SERVICE,
    UPDATER,
    UPDATER_QUEUE_ENV,
    chart_043,
)
from wbctl.sandbox.kube.objects.cluster import (
    ZONES,
    csi_drivers,
    gke_nodes,
    pods_for,
    unrelated_pods,
)
from wbctl.sandbox.kube.objects.custom_resource import CHART_URL, weights_and_biases
from wbctl.sandbox.kube.objects.pod_health import crash_looping, oom_killed, pending
from wbctl.sandbox.kube.objects.snapshot import (
    KEPT_KINDS,
    SNAPSHOT_DIR,
    SNAPSHOT_RELEASE,
    snapshot_manifests,
)

__all__ = [
    "CHART_0223_AUTOSCALED",
    "CHART_0223_DEPLOYMENTS",
    "CHART_0223_SERVER_TAG",
    "CHART_URL",
    "KEDA_SO_SERVICE",
    "KEPT_KINDS",
    "SNAPSHOT_DIR",
    "SNAPSHOT_RELEASE",
    "UPDATER",
    "UPDATER_QUEUE_ENV",
    "ZONES",
    "Obj",
    "chart_043",
    "chart_0223",
    "crash_looping",
    "csi_drivers",
    "find",
    "gke_nodes",
    "hpa",
    "of_kind",
    "oom_killed",
    "pending",
    "pods_for",
    "rescale_event",
    "snapshot_manifests",
    "unrelated_pods",
    "weights_and_biases",
]
