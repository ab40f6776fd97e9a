"""Autoscalers as their controllers leave them: an autoscaling/v2 HPA with the status the HPA
controller reports (optionally pinned at its maximum), the SuccessfulRescale Event it records,
and for KEDA the ScaledObject's status and the HPA KEDA creates and owns for it. Separate
because both chart builders use them, and KEDA's naming and ownership rules are a subject of
their own.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.basics import Obj, hex_digest, stable_uid, timestamp


def hpa(
    name: str,
    namespace: str,
    target: str,
    labels: Mapping[str, str],
    current: int,
    *,
    minimum: int = 1,
    maximum: int = 10,
    cpu_target: int = 80,
    cpu_current: int = 42,
    limited: bool = False,
    now: datetime | None = None,
) -> Obj:
    """An autoscaling/v2 HPA on a Deployment, with the status the HPA controller reports
    (`limited`: pinned at maxReplicas, wanting more)."""
    now = now or datetime.now(UTC)
    scaled = timestamp(now - timedelta(hours=1))
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": stable_uid("HorizontalPodAutoscaler", namespace, name),
            "creationTimestamp": timestamp(now - timedelta(days=30)),
            "labels": dict(labels),
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
            "minReplicas": minimum,
            "maxReplicas": max(maximum, current),
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": cpu_target}},
                }
            ],
        },
        "status": hpa_status(current, scaled, cpu_current=cpu_current, limited=limited),
    }


def hpa_status(current: int, scaled: str, *, cpu_current: int = 42, limited: bool = False) -> Obj:
    within = {
        "type": "ScalingLimited",
        "status": "False",
        "reason": "DesiredWithinRange",
        "message": "the desired count is within the acceptable range",
        "lastTransitionTime": scaled,
    }
    at_max = {
        "type": "ScalingLimited",
        "status": "True",
        "reason": "TooManyReplicas",  # the controller's words
        "message": "the desired replica count is more than the maximum replica count",
        "lastTransitionTime": scaled,
    }
    return {
        "currentReplicas": current,
        "desiredReplicas": current,
        "lastScaleTime": scaled,
        "currentMetrics": [
            {
                "type": "Resource",
                "resource": {
                    "name": "cpu",
                    "current": {"averageUtilization": cpu_current, "averageValue": f"{cpu_current}m"},
                },
            }
        ],
        "conditions": [
            {
                "type": "AbleToScale",
                "status": "True",
                "reason": "ReadyForNewScale",
                "message": "recommended size matches current size",
                "lastTransitionTime": scaled,
            },
            {
                "type": "ScalingActive",
                "status": "True",
                "reason": "ValidMetricFound",
                "message": "the HPA was able to successfully calculate a replica count from cpu resource "
                "utilization (percentage of request)",
                "lastTransitionTime": scaled,
            },
            at_max if limited else within,
        ],
    }


def rescale_event(autoscaler: Mapping[str, Any], *, now: datetime | None = None) -> Obj:
    """The Event the HPA controller records when it scales: `status` shows it as the last one."""
    now = now or datetime.now(UTC)
    metadata = autoscaler["metadata"]
    size = autoscaler["status"].get("desiredReplicas", 0)
    when = autoscaler["status"].get("lastScaleTime") or timestamp(now)
    name = f"{metadata['name']}.{hex_digest('event' + metadata['name'], 16)}"
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {
            "name": name,
            "namespace": metadata["namespace"],
            "uid": stable_uid("Event", metadata["namespace"], name),
            "creationTimestamp": when,
        },
        "involvedObject": {
            "apiVersion": "autoscaling/v2",
            "kind": "HorizontalPodAutoscaler",
            "name": metadata["name"],
            "namespace": metadata["namespace"],
            "uid": metadata.get("uid"),
        },
        "reason": "SuccessfulRescale",
        "message": f"New size: {size}; reason: cpu resource utilization (percentage of request) above target",
        "source": {"component": "horizontal-pod-autoscaler"},
        "reportingComponent": "horizontal-pod-autoscaler",
        "reportingInstance": "",
        "firstTimestamp": when,
        "lastTimestamp": when,
        "count": 1,
        "type": "Normal",
    }


def _keda_metric(scaled_object: str, index: int, trigger: Mapping[str, Any]) -> Obj:
    """The HPA metric KEDA makes of a trigger: a Resource one for cpu and memory, else External."""
    if trigger["type"] in ("cpu", "memory"):
        return {
            "type": "Resource",
            "resource": {
                "name": trigger["type"],
                "target": {"type": "Utilization", "averageUtilization": int(trigger["metadata"]["value"])},
            },
        }
    topic = (trigger.get("metadata") or {}).get("topic", "")
    return {
        "type": "External",
        "external": {
            "metric": {
                "name": f"s{index}-{trigger['type']}-{topic}",
                "selector": {"matchLabels": {"scaledobject.keda.sh/name": scaled_object}},
            },
            "target": {
                "type": "AverageValue",
                "averageValue": str((trigger.get("metadata") or {}).get("lagThreshold", "5")),
            },
        },
    }


def keda_owned_hpa(scaled_object: Mapping[str, Any], current: int, now: datetime) -> Obj:
    """The HPA KEDA creates for a ScaledObject: `keda-hpa-<name>`, carrying the ScaledObject's
    labels (so it matches the instance selector too) and owned by it."""
    so_meta = scaled_object["metadata"]
    name = f"keda-hpa-{so_meta['name']}"[:63]
    spec = scaled_object["spec"]
    labels = {
        "app.kubernetes.io/name": name,
        "app.kubernetes.io/version": "2.16.1",
        "app.kubernetes.io/part-of": so_meta["name"],
        "app.kubernetes.io/managed-by": "keda-operator",
        **(so_meta.get("labels") or {}),
    }
    minimum = spec.get("minReplicaCount") or 1
    maximum = spec.get("maxReplicaCount", 100)
    metrics = [
        _keda_metric(so_meta["name"], index, trigger) for index, trigger in enumerate(spec.get("triggers") or [])
    ]
    behavior = ((spec.get("advanced") or {}).get("horizontalPodAutoscalerConfig") or {}).get("behavior")
    result: Obj = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {
            "name": name,
            "namespace": so_meta["namespace"],
            "uid": stable_uid("HorizontalPodAutoscaler", so_meta["namespace"], name),
            "creationTimestamp": timestamp(now - timedelta(days=30)),
            "labels": labels,
            "ownerReferences": [
                {
                    "apiVersion": "keda.sh/v1alpha1",
                    "kind": "ScaledObject",
                    "name": so_meta["name"],
                    "uid": so_meta["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": spec["scaleTargetRef"]["name"]},
            "minReplicas": minimum,
            "maxReplicas": max(maximum, minimum),
            "metrics": metrics,
        },
        "status": hpa_status(current, timestamp(now - timedelta(hours=1))),
    }
    if behavior:
        result["spec"]["behavior"] = copy.deepcopy(behavior)
    return result


def settle_scaled_object(scaled_object: Obj, now: datetime) -> None:
    metadata = scaled_object["metadata"]
    metadata.setdefault("uid", stable_uid("ScaledObject", metadata["namespace"], metadata["name"]))
    metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=30)))
    metadata.setdefault("generation", 1)
    transition = timestamp(now - timedelta(days=2))
    scaled_object["status"] = {
        "scaleTargetKind": "apps/v1.Deployment",
        "scaleTargetGVKR": {"group": "apps", "version": "v1", "kind": "Deployment", "resource": "deployments"},
        "hpaName": f"keda-hpa-{metadata['name']}"[:63],
        "originalReplicaCount": 1,
        "conditions": [
            {
                "type": "Ready",
                "status": "True",
                "reason": "ScaledObjectReady",
                "message": "ScaledObject is defined correctly and is ready for scaling",
                "lastTransitionTime": transition,
            },
            {
                "type": "Active",
                "status": "True",
                "reason": "ScalerActive",
                "message": "Scaling is performed because triggers are active",
                "lastTransitionTime": transition,
            },
            {
                "type": "Fallback",
                "status": "False",
                "reason": "NoFallbackFound",
                "message": "No fallbacks are active on this scaled object",
                "lastTransitionTime": transition,
            },
        ],
    }
