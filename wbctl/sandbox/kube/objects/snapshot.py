"""The operator-wandb 0.43.8 chart snapshots (data/operator-wandb-0.43.8/, see its README) as
manifests: parsed once, the kept kinds renamed from the snapshot's release to an instance and
namespace, the chart label filled in, quantities turned into the strings an API server
returns; and the snapshot's values files. Separate because it is the only part of the fixtures
that reads files, and both chart builders start from it.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from wbctl.sandbox.kube.objects.basics import Obj

SNAPSHOT_DIR = Path(__file__).parent / "data" / "operator-wandb-0.43.8"
SNAPSHOT_RELEASE = "chartsnap"

#: The kinds a chart fixture keeps from the snapshot: what wbctl reads. StatefulSets (mysql,
#: redis, bufstream) and the otel DaemonSet are dropped: none of them is a W&B service. PDBs are
#: kept for `support bundle`.
KEPT_KINDS = ("Deployment", "CronJob", "HorizontalPodAutoscaler", "ScaledObject", "PodDisruptionBudget")

_QUANTITY_MAPS = frozenset({"requests", "limits", "capacity", "allocatable"})


def _replace_strings(node: Any, old: str, new: str) -> Any:
    if isinstance(node, str):
        return node.replace(old, new)
    if isinstance(node, dict):
        return {_replace_strings(k, old, new): _replace_strings(v, old, new) for k, v in node.items()}
    if isinstance(node, list):
        return [_replace_strings(item, old, new) for item in node]
    return node


def _normalise_quantities(node: Any) -> Any:
    """Quantities as the API server returns them: strings (the chart writes `cpu: 4`)."""
    if isinstance(node, dict):
        out = {}
        for key, value in node.items():
            if key in _QUANTITY_MAPS and isinstance(value, dict):
                value = {r: q if isinstance(q, str) else str(q) for r, q in value.items()}
            out[key] = _normalise_quantities(value)
        return out
    if isinstance(node, list):
        return [_normalise_quantities(item) for item in node]
    return node


@cache
def _snapshot_docs(filename: str) -> tuple[Obj, ...]:
    text = (SNAPSHOT_DIR / filename).read_text()
    lines = text.splitlines(keepends=True)
    if lines and lines[0].startswith("# chartsnap:"):
        text = "".join(lines[1:])
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when present: 10x faster
    return tuple(doc for doc in yaml.load_all(text, Loader=loader) if isinstance(doc, dict) and doc.get("kind"))


@cache
def values_file(filename: str) -> Obj:
    return yaml.safe_load((SNAPSHOT_DIR / filename).read_text()) or {}


def snapshot_manifests(
    filename: str, instance: str, namespace: str, chart_label: str, kinds: Sequence[str] = KEPT_KINDS
) -> list[Obj]:
    """The kept kinds of a chartsnap snapshot, renamed to a release and namespace."""
    out = []
    for doc in _snapshot_docs(filename):
        if doc["kind"] not in kinds:
            continue
        obj = _replace_strings(copy.deepcopy(doc), SNAPSHOT_RELEASE, instance)
        obj = _replace_strings(obj, "###CHART_VERSION###", chart_label)
        obj = _normalise_quantities(obj)
        metadata = obj["metadata"]
        metadata["namespace"] = namespace
        annotations = metadata.get("annotations") or {}
        if "meta.helm.sh/release-namespace" in annotations:
            annotations["meta.helm.sh/release-namespace"] = namespace
        out.append(obj)
    return out
