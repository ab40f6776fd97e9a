"""What every Kubernetes fixture builder shares: timestamps as the API server writes them,
deterministic uids and digests (so references line up and failures reproduce), the chart's
standard labels, and finding manifests in a fixture list (`find`, `of_kind`, by the
`app.kubernetes.io/name` label). Separate because the snapshot, running-cluster, autoscaler
and chart modules all build on it, and on nothing of each other's.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

Obj = dict[str, Any]


def timestamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def stable_uid(*parts: str) -> str:
    """A uid that is the same on every run, so tests and their failures are reproducible."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, "wbctl-fixture:" + "/".join(parts)))


def hex_digest(seed: str, length: int = 64) -> str:
    """A deterministic hex string (a container id, an image digest) derived from `seed`."""
    return hashlib.sha256(seed.encode()).hexdigest()[:length]


def name_label(obj: Mapping[str, Any]) -> str | None:
    return (obj.get("metadata", {}).get("labels") or {}).get("app.kubernetes.io/name")


def find(objs: Iterable[Mapping[str, Any]], kind: str, name: str) -> Obj:
    """The manifest of a kind and name in a fixture list, for tweaking before `add_all`."""
    for obj in objs:
        if obj.get("kind") == kind and obj.get("metadata", {}).get("name") == name:
            return obj  # type: ignore[return-value]
    raise KeyError(f"no {kind} {name!r} in the fixture")


def of_kind(objs: Iterable[Mapping[str, Any]], kind: str) -> list[Obj]:
    return [obj for obj in objs if obj.get("kind") == kind]  # type: ignore[misc]


def chart_labels(service: str, instance: str, chart_label: str) -> dict[str, str]:
    return {
        "helm.sh/chart": chart_label,
        "app.kubernetes.io/name": service,
        "app.kubernetes.io/instance": instance,
        "app.kubernetes.io/version": "latest",
        "app.kubernetes.io/managed-by": "Helm",
    }


def deployment_named(workloads: Iterable[Obj], service: str) -> Obj | None:
    return next((d for d in of_kind(workloads, "Deployment") if name_label(d) == service), None)
