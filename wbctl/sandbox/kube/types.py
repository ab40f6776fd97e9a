"""The kinds FakeKubeAPI serves and how a request names them: `ResourceType` (group, version,
plural, and what the API server knows of the kind), `RESOURCE_TYPES`, what `/version` answers,
and `Route` (a resource path taken apart). Separate because every other part of the fake
(errors, validation, the store, the verbs) speaks in these terms, and none of them should need
another's code to do so.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]
Payload = Obj | str  # a JSON object, or one already encoded (lists are assembled as text)

_META_FIELDS = frozenset({"metadata.name", "metadata.namespace"})


@dataclass(frozen=True)
class ResourceType:
    """One served kind: where it lives in the URL space and what the server knows about it."""

    group: str
    version: str
    plural: str
    kind: str
    singular: str
    namespaced: bool = True
    custom: bool = False  # a CRD: no strategic merge patch (415), schema errors are 422
    status_subresource: bool = True  # writes to the main resource do not change status
    tracks_generation: bool = True
    field_labels: frozenset[str] = _META_FIELDS
    initial_status: Mapping[str, Any] | None = None  # what status a create starts from
    subresources: tuple[str, ...] = ()
    short_names: tuple[str, ...] = ()  # what discovery advertises: `kubectl get deploy`, `kubectl get wandb`
    categories: tuple[str, ...] = ()  # `kubectl get all` lists the kinds in category "all"

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def group_resource(self) -> str:
        """`deployments.apps`, `pods`: how 403/404/409 messages name the resource."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def group_kind(self) -> str:
        """`HorizontalPodAutoscaler.autoscaling`: how 422 messages name the kind."""
        return f"{self.kind}.{self.group}" if self.group else self.kind


_POD_FIELDS = _META_FIELDS | {
    "spec.nodeName",
    "spec.restartPolicy",
    "spec.schedulerName",
    "spec.serviceAccountName",
    "spec.hostNetwork",
    "status.phase",
    "status.podIP",
    "status.nominatedNodeName",
}
_EVENT_FIELDS = _META_FIELDS | {
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
}

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType(
        "",
        "v1",
        "pods",
        "Pod",
        "pod",
        tracks_generation=False,
        field_labels=_POD_FIELDS,
        initial_status={"phase": "Pending", "qosClass": "BestEffort"},
        short_names=("po",),
        categories=("all",),
    ),
    ResourceType(
        "",
        "v1",
        "nodes",
        "Node",
        "node",
        namespaced=False,
        tracks_generation=False,
        field_labels=_META_FIELDS | {"spec.unschedulable"},
        short_names=("no",),
    ),
    ResourceType(
        "",
        "v1",
        "events",
        "Event",
        "event",
        status_subresource=False,
        tracks_generation=False,
        field_labels=_EVENT_FIELDS,
        short_names=("ev",),
    ),
    ResourceType(
        "",
        "v1",
        "configmaps",
        "ConfigMap",
        "configmap",
        status_subresource=False,
        tracks_generation=False,
        short_names=("cm",),
    ),
    ResourceType(
        "apps",
        "v1",
        "deployments",
        "Deployment",
        "deployment",
        subresources=("scale",),
        short_names=("deploy",),
        categories=("all",),
    ),
    ResourceType("apps", "v1", "replicasets", "ReplicaSet", "replicaset", short_names=("rs",), categories=("all",)),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", "statefulset", short_names=("sts",), categories=("all",)),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", "daemonset", short_names=("ds",), categories=("all",)),
    ResourceType("batch", "v1", "cronjobs", "CronJob", "cronjob", short_names=("cj",), categories=("all",)),
    ResourceType(
        "batch", "v1", "jobs", "Job", "job", field_labels=_META_FIELDS | {"status.successful"}, categories=("all",)
    ),
    ResourceType(
        "autoscaling",
        "v2",
        "horizontalpodautoscalers",
        "HorizontalPodAutoscaler",
        "horizontalpodautoscaler",
        initial_status={"desiredReplicas": 0},
        short_names=("hpa",),
        categories=("all",),
    ),
    # what `wbctl support bundle` lists; Secrets are served so a test can prove they are never read
    ResourceType(
        "policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", "poddisruptionbudget", short_names=("pdb",)
    ),
    ResourceType("", "v1", "secrets", "Secret", "secret", status_subresource=False, tracks_generation=False),
    ResourceType(
        "storage.k8s.io", "v1", "csidrivers", "CSIDriver", "csidriver", namespaced=False, status_subresource=False
    ),
    *(  # served as the CRD says: v1 alone (the chart's operator) or v1 and v2 (store.py, versions.py)
        ResourceType(
            "apps.wandb.com",
            version,
            "weightsandbiases",
            "WeightsAndBiases",
            "weightsandbiases",
            custom=True,
            short_names=("wandb",),
        )
        for version in ("v1", "v2")
    ),
    ResourceType(
        "keda.sh", "v1alpha1", "scaledobjects", "ScaledObject", "scaledobject", custom=True, short_names=("so",)
    ),
    # Google Cloud Managed Service for Prometheus' PodMonitoring, as a GKE cluster serves it (managed
    # collection is on by default); the Prometheus Operator's ServiceMonitor/PodMonitor are not
    # served (no such CRD: a 404), so check's observability group meets both answers
    ResourceType("monitoring.googleapis.com", "v1", "podmonitorings", "PodMonitoring", "podmonitoring", custom=True),
    # what `wbctl deploy auditor` prints, so `kubectl apply --dry-run=server` can be tested against it
    ResourceType(
        "",
        "v1",
        "serviceaccounts",
        "ServiceAccount",
        "serviceaccount",
        status_subresource=False,
        tracks_generation=False,
        short_names=("sa",),
    ),
    *(
        ResourceType(
            "rbac.authorization.k8s.io",
            "v1",
            plural,
            kind,
            kind.lower(),
            namespaced=plural in ("roles", "rolebindings"),
            status_subresource=False,
            tracks_generation=False,
        )
        for plural, kind in (
            ("roles", "Role"),
            ("rolebindings", "RoleBinding"),
            ("clusterroles", "ClusterRole"),
            ("clusterrolebindings", "ClusterRoleBinding"),
        )
    ),
)

#: What `/version` answers: a GKE build, so version checks see something realistic.
VERSION_INFO: Obj = {
    "major": "1",
    "minor": "31",
    "emulationMajor": "1",
    "emulationMinor": "31",
    "minCompatibilityMajor": "1",
    "minCompatibilityMinor": "30",
    "gitVersion": "v1.31.6-gke.1020000",
    "gitCommit": "0d4e1b7a3a2b0d2c8c9b1f4b4c2f5e6a7b8c9d0e",
    "gitTreeState": "clean",
    "buildDate": "2025-02-20T04:09:37Z",
    "goVersion": "go1.22.12 X:boringcrypto",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Route:
    """A resource path taken apart: kind, namespace, name, subresource and the RBAC verb."""

    rtype: ResourceType | None
    namespace: str | None
    name: str | None
    subresource: str | None
    verb: str | None
    resource: str | None  # for RBAC: plural or plural/subresource
