"""The Deployment controller's ReplicaSets in the sandbox: one per pod template the Deployment
has had, each annotated with its `deployment.kubernetes.io/revision`, the newest scaled to the
Deployment's replicas and the older ones to 0, so `kubectl rollout history deploy/X` and
`wbctl changes` see the rollouts (Kubernetes' deployment controller does the same:
pkg/controller/deployment/sync.go, getNewReplicaSet).

`sync_replica_sets` runs at every reconcile; `story_rollout` gives a story an earlier revision
(the same template with another image tag), as if the Deployment had been rolled out at `at`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.basics import Obj, hex_digest, stable_uid, timestamp
from wbctl.sandbox.kube.objects.cluster import _safe_suffix
from wbctl.sandbox.sim.operator_pods import Store, parse_time

REVISION = "deployment.kubernetes.io/revision"
HASH = "pod-template-hash"
TEMPLATE = "sandbox.wbctl/template"  # a digest of the template a ReplicaSet was made from: compared once


def pods_hash(deployment: Mapping[str, Any], pods: Sequence[Mapping[str, Any]]) -> str:
    """The pod-template-hash the Deployment's pods carry (operator_pods.py names them so)."""
    hashes = [(p["metadata"].get("labels") or {}).get(HASH) for p in pods]
    metadata = deployment["metadata"]
    return next((str(h) for h in hashes if h), None) or _safe_suffix(
        f"{metadata['namespace']}/{metadata['name']}/template", 10
    )


def _template_key(template: Mapping[str, Any]) -> str:
    """A template as the controller compares them: its pod-template-hash label left out."""
    metadata = dict(template.get("metadata") or {})
    metadata["labels"] = {k: v for k, v in (metadata.get("labels") or {}).items() if k != HASH}
    return hex_digest(json.dumps({**template, "metadata": metadata}, sort_keys=True), 16)


def _key_of(rs: Mapping[str, Any]) -> str:
    return str((rs["metadata"].get("annotations") or {}).get(TEMPLATE) or _template_key(rs["spec"]["template"]))


def _owned(api: Store, deployment: Obj, replica_sets: Sequence[Obj] | None = None) -> list[Obj]:
    """The Deployment's ReplicaSets, of `replica_sets` (a reconcile's one read) or the store's."""
    metadata = deployment["metadata"]
    return [
        rs
        for rs in (api.objects("replicasets", metadata["namespace"]) if replica_sets is None else replica_sets)
        if any(
            ref.get("kind") == "Deployment" and ref.get("name") == metadata["name"]
            for ref in rs["metadata"].get("ownerReferences") or []
        )
    ]


def _revision(rs: Mapping[str, Any]) -> int:
    text = str((rs["metadata"].get("annotations") or {}).get(REVISION, "0"))
    return int(text) if text.isdigit() else 0


def replica_set(
    deployment: Obj, template: Mapping[str, Any], *, revision: int, hash_: str, created: datetime, replicas: int
) -> Obj:
    metadata = deployment["metadata"]
    namespace, name = metadata["namespace"], f"{metadata['name']}-{hash_}"
    labels = {**((template.get("metadata") or {}).get("labels") or {}), HASH: hash_}
    selector = copy.deepcopy((deployment["spec"].get("selector") or {}).get("matchLabels") or {})
    body = copy.deepcopy(dict(template))
    body.setdefault("metadata", {})["labels"] = labels
    return {
        "apiVersion": "apps/v1",
        "kind": "ReplicaSet",
        "metadata": {
            "name": name,
            "namespace": namespace,
            "uid": stable_uid("ReplicaSet", namespace, name),
            "creationTimestamp": timestamp(created),
            "labels": labels,
            "annotations": {
                REVISION: str(revision),
                "deployment.kubernetes.io/desired-replicas": str(replicas),
                TEMPLATE: _template_key(template),
            },
            "ownerReferences": [
                {
                    "apiVersion": "apps/v1",
                    "kind": "Deployment",
                    "name": metadata["name"],
                    "uid": metadata.get("uid") or stable_uid("Deployment", namespace, metadata["name"]),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {"replicas": replicas, "selector": {"matchLabels": {**selector, HASH: hash_}}, "template": body},
        "status": {"replicas": replicas, "readyReplicas": replicas, "availableReplicas": replicas},
    }


def sync_replica_sets(
    api: Store, deployment: Obj, now: datetime, *, hash_: str, replica_sets: Sequence[Obj] | None = None
) -> list[str]:
    """The ReplicaSet of the Deployment's template (made when none matches: the next revision),
    the others at 0; `hash_` names the first one (its pods carry it). One line per rollout."""
    metadata = deployment["metadata"]
    namespace, template = metadata["namespace"], deployment["spec"]["template"]
    replicas = int(deployment["spec"].get("replicas", 1))
    owned = _owned(api, deployment, replica_sets)
    key = _template_key(template)
    current = next((rs for rs in owned if _key_of(rs) == key), None)
    lines: list[str] = []
    if current is None:
        revision = max((_revision(rs) for rs in owned), default=0) + 1
        suffix = hash_ if not owned else _safe_suffix(f"{namespace}/{metadata['name']}/{key}", 10)
        # the first made with the Deployment (when the sandbox meets it, it has existed since then)
        created = now if owned else parse_time(metadata.get("creationTimestamp")) or now
        rs = replica_set(deployment, template, revision=revision, hash_=suffix, created=created, replicas=replicas)
        current = api.add(rs)
        if owned:
            lines.append(f"deployment/{metadata['name']}: rolled out revision {revision}")
    for rs in owned:
        if rs["metadata"]["name"] != current["metadata"]["name"] and rs["spec"].get("replicas"):
            api.merge(
                "replicasets",
                namespace,
                rs["metadata"]["name"],
                {"spec": {"replicas": 0}, "status": {"replicas": 0, "readyReplicas": 0, "availableReplicas": 0}},
            )
    if current["spec"].get("replicas") != replicas:
        api.merge("replicasets", namespace, current["metadata"]["name"], {"spec": {"replicas": replicas}})
    revision_text = str(_revision(current))
    if (metadata.get("annotations") or {}).get(REVISION) != revision_text:
        api.merge("deployments", namespace, metadata["name"], {"metadata": {"annotations": {REVISION: revision_text}}})
    return lines


def _tagged(template: Mapping[str, Any], tag: str) -> Obj:
    """The template with every container's image at `tag`."""
    tagged = copy.deepcopy(dict(template))
    for container in (tagged.get("spec") or {}).get("containers") or []:
        image = str(container.get("image", ""))
        container["image"] = f"{image.rpartition(':')[0] or image}:{tag}"
    return tagged


def story_rollout(api: Store, deployment: Obj, tags: tuple[str, str], *, at: datetime, hash_: str) -> None:
    """The Deployment as if rolled out at `at` from image tag `tags[0]` to `tags[1]`:
    revision 1 (the old template, made a week before) and revision 2 (the Deployment's
    template, its images now at `tags[1]`, made at `at`). Nothing when it already has
    ReplicaSets (a later load of the same sandbox)."""
    if _owned(api, deployment):
        return
    metadata = deployment["metadata"]
    template = _tagged(deployment["spec"]["template"], tags[1])
    deployment = api.merge("deployments", metadata["namespace"], metadata["name"], {"spec": {"template": template}})
    old = _tagged(template, tags[0])
    metadata = deployment["metadata"]
    old_hash = _safe_suffix(f"{metadata['namespace']}/{metadata['name']}/{_template_key(old)}", 10)
    api.add(replica_set(deployment, old, revision=1, hash_=old_hash, created=at - timedelta(days=7), replicas=0))
    replicas = int(deployment["spec"].get("replicas", 1))
    api.add(replica_set(deployment, template, revision=2, hash_=hash_, created=at, replicas=replicas))
