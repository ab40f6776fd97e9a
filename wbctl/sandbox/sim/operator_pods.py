"""The controllers under the sandbox's operator (operator.py): what the ReplicaSet controller,
the scheduler and the kubelet do once a Deployment's spec.replicas is set. Pods are created
from the Deployment's template (named, labelled and owned as `pods_for` in
sandbox/kube/objects/cluster.py makes them), placed on the schedulable Node running the fewest of that Deployment's pods, and ready
only at the simulated time their `sandbox.wbctl/ready-at` annotation holds; extra pods go
unscheduled first, then not-ready, then newest (the ReplicaSet controller's order); the Deployment's
status counts what is left. Separate from operator.py because it is the kube-controller side,
not the chart's: it needs no CR, and every service's pods follow the same rules.
"""

from __future__ import annotations

import copy
import ipaddress
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from wbctl.core.parquet import FUSE_ANNOTATION
from wbctl.sandbox.kube.objects.basics import Obj, hex_digest, stable_uid, timestamp
from wbctl.sandbox.kube.objects.cluster import (
    _image_id,
    _pod_suffix,
    _qos_class,
    _safe_suffix,
)

READY_AT = "sandbox.wbctl/ready-at"  # when a pod the sandbox created passes its readiness probe (ISO time)
OOM_EVERY = "sandbox.wbctl/oom-killed-every"  # seconds between the OOM kills of a pod a story makes short of memory


class Store(Protocol):
    """What the sandbox's controllers use of FakeKubeAPI: its test-side store operations."""

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None: ...
    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]: ...
    def add(self, obj: Mapping[str, Any]) -> Obj: ...
    def merge(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> Obj: ...
    def remove(self, resource: str, namespace: str | None, name: str) -> bool: ...


def parse_time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_ready(pod: Mapping[str, Any]) -> bool:
    return any(
        c.get("type") == "Ready" and c.get("status") == "True"
        for c in (pod.get("status") or {}).get("conditions") or []
    )


def _owned_by_job(pod: Mapping[str, Any]) -> bool:
    metadata = pod.get("metadata") or {}
    labels = metadata.get("labels") or {}
    return (
        "job-name" in labels
        or "batch.kubernetes.io/job-name" in labels
        or any(ref.get("kind") == "Job" for ref in metadata.get("ownerReferences") or [])
    )


def pods_of(deployment: Mapping[str, Any], pods: Iterable[Obj]) -> list[Obj]:
    """The Deployment's pods: its selector's matchLabels, never a Job's pod (the parquet
    Deployment and the parquet-backfill CronJob share their labels)."""
    selector = ((deployment.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not selector:
        return []
    items = list(selector.items())
    return [
        pod
        for pod in pods
        if all((pod["metadata"].get("labels") or {}).get(k) == v for k, v in items) and not _owned_by_job(pod)
    ]


def schedulable(nodes: Iterable[Obj]) -> list[Obj]:
    """Nodes the scheduler would use: not cordoned, and Ready when they report conditions."""
    out = []
    for node in nodes:
        conditions = (node.get("status") or {}).get("conditions") or []
        ready = all(c.get("status") == "True" for c in conditions if c.get("type") == "Ready")
        if not (node.get("spec") or {}).get("unschedulable") and ready:
            out.append(node)
    return out


def _zone(node: Mapping[str, Any]) -> str:
    return (node["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "")


def _place(nodes: Sequence[Obj], mine: Sequence[Obj], everyone: Sequence[Obj]) -> Obj | None:
    """The node for one more pod: fewest of this Deployment's pods on it, then in its zone (the
    scheduler's default topology spread, hostname before zone), then fewest pods at all."""
    if not nodes:
        return None
    on_node: dict[str, int] = {}
    in_zone: dict[str, int] = {}
    zone_of = {n["metadata"]["name"]: _zone(n) for n in nodes}
    for pod in mine:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            on_node[node] = on_node.get(node, 0) + 1
            in_zone[zone_of.get(node, "")] = in_zone.get(zone_of.get(node, ""), 0) + 1
    total: dict[str, int] = {}
    for pod in everyone:
        node = (pod.get("spec") or {}).get("nodeName")
        if node:
            total[node] = total.get(node, 0) + 1
    return min(
        nodes,
        key=lambda n: (
            on_node.get(n["metadata"]["name"], 0),
            in_zone.get(_zone(n), 0),
            total.get(n["metadata"]["name"], 0),
            n["metadata"]["name"],
        ),
    )


def _addresses(node: Mapping[str, Any], everyone: Sequence[Obj]) -> tuple[str, str]:
    """(hostIP, a podIP free in the node's podCIDR)."""
    status, spec = node.get("status") or {}, node.get("spec") or {}
    host = next((a["address"] for a in status.get("addresses") or [] if a.get("type") == "InternalIP"), "")
    cidr = spec.get("podCIDR")
    if not cidr:
        return host, ""
    used = {(p.get("status") or {}).get("podIP") for p in everyone}
    network = ipaddress.ip_network(cidr, strict=False)
    for offset in range(2, min(network.num_addresses - 1, 256)):
        candidate = str(network.network_address + offset)
        if candidate not in used:
            return host, candidate
    return host, ""


def _container_status(container: Mapping[str, Any], pod_name: str, ready: bool, started: str) -> Obj:
    image = container.get("image", "")
    return {
        "name": container["name"],
        "image": image,
        "imageID": _image_id(image),
        "containerID": f"containerd://{hex_digest(pod_name + container['name'])}",
        "ready": ready,
        "started": True,
        "restartCount": 0,
        "state": {"running": {"startedAt": started}},
    }


def _not_ready_conditions(spec: Mapping[str, Any], created: str) -> list[Obj]:
    names = " ".join(c["name"] for c in spec.get("containers") or [])
    unready = {
        "status": "False",
        "reason": "ContainersNotReady",
        "message": f"containers with unready status: [{names}]",
        "lastTransitionTime": created,
    }
    return [
        {"type": "PodReadyToStartContainers", "status": "True", "lastTransitionTime": created},
        {"type": "Initialized", "status": "True", "lastTransitionTime": created},
        {"type": "Ready", **unready},
        {"type": "ContainersReady", **unready},
        {"type": "PodScheduled", "status": "True", "lastTransitionTime": created},
    ]


_POD_DEFAULTS = (
    ("restartPolicy", "Always"),
    ("dnsPolicy", "ClusterFirst"),
    ("schedulerName", "default-scheduler"),
    ("serviceAccountName", "default"),
    ("terminationGracePeriodSeconds", 30),
)  # what the API server fills in a pod's spec


def _init_container_statuses(spec: Mapping[str, Any], created: str) -> list[Obj]:
    """Every init container completed at the pod's start."""
    return [
        {
            "name": c["name"],
            "image": c.get("image", ""),
            "imageID": _image_id(c.get("image", "")),
            "ready": True,
            "started": False,
            "restartCount": 0,
            "state": {
                "terminated": {"exitCode": 0, "reason": "Completed", "startedAt": created, "finishedAt": created}
            },
        }
        for c in spec["initContainers"]
    ]


def _pod_status(spec: Obj, name: str, node: Obj | None, everyone: Sequence[Obj], created: str) -> Obj:
    """A new pod's status: unschedulable without a node, else running and not yet ready.
    Sets the spec's nodeName when it has one."""
    status: Obj = {"phase": "Pending", "qosClass": _qos_class(spec.get("containers") or [])}
    if node is None:  # nowhere to run: the scheduler's words, and never ready
        status["conditions"] = [
            {
                "type": "PodScheduled",
                "status": "False",
                "reason": "Unschedulable",
                "message": "0/0 nodes are available: no schedulable nodes.",
                "lastTransitionTime": created,
            }
        ]
        return status
    spec["nodeName"] = node["metadata"]["name"]
    host, pod_ip = _addresses(node, everyone)
    status.update(
        phase="Running",
        conditions=_not_ready_conditions(spec, created),
        hostIP=host,
        hostIPs=[{"ip": host}],
        podIP=pod_ip,
        podIPs=[{"ip": pod_ip}],
        startTime=created,
        containerStatuses=[_container_status(c, name, False, created) for c in spec.get("containers") or []],
    )
    if spec.get("initContainers"):
        status["initContainerStatuses"] = _init_container_statuses(spec, created)
    return status


def _owned_by(replicaset: str, namespace: str) -> list[Obj]:
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "name": replicaset,
            "uid": stable_uid("ReplicaSet", namespace, replicaset),
            "controller": True,
            "blockOwnerDeletion": True,
        }
    ]


def _new_pod(
    deployment: Mapping[str, Any],
    name: str,
    replicaset: str,
    hash_: str,
    node: Obj | None,
    everyone: Sequence[Obj],
    now: datetime,
    ready_at: datetime,
    annotations: Mapping[str, str],
) -> Obj:
    namespace = deployment["metadata"]["namespace"]
    template = deployment["spec"]["template"]
    created = timestamp(now)
    spec = copy.deepcopy(template.get("spec") or {})
    for key, default in _POD_DEFAULTS:
        spec.setdefault(key, default)
    status = _pod_status(spec, name, node, everyone, created)
    pod_annotations = {**(template.get("metadata", {}).get("annotations") or {}), **annotations}
    if node is not None:
        pod_annotations[READY_AT] = ready_at.astimezone(UTC).isoformat()
    pod = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "generateName": f"{replicaset}-",
            "namespace": namespace,
            "creationTimestamp": created,
            "uid": stable_uid("Pod", namespace, name, created),
            "labels": {**(template.get("metadata", {}).get("labels") or {}), "pod-template-hash": hash_},
            "annotations": pod_annotations,
            "ownerReferences": _owned_by(replicaset, namespace),
        },
        "spec": spec,
        "status": status,
    }
    if ready_at <= now and node is not None:
        _make_ready(pod, ready_at)
    return pod


def _make_ready(pod: Obj, when: datetime) -> None:
    """Ready/ContainersReady True since `when`, every container ready (the readiness probe passed)."""
    since = timestamp(when)
    pod["status"]["conditions"] = [
        {"type": c["type"], "status": "True", "lastTransitionTime": since}
        if c.get("type") in ("Ready", "ContainersReady") and c.get("status") != "True"
        else c
        for c in pod["status"].get("conditions") or []
    ]
    for container in pod["status"].get("containerStatuses") or []:
        container.update(ready=True, started=True)


def _flip_ready(pod: Obj, now: datetime) -> bool:
    """Ready now if the sandbox made it, its ready-at has come, and its containers run."""
    ready_at = parse_time((pod["metadata"].get("annotations") or {}).get(READY_AT))
    if ready_at is None or ready_at > now or is_ready(pod) or not (pod.get("spec") or {}).get("nodeName"):
        return False
    statuses = (pod.get("status") or {}).get("containerStatuses") or []
    if not all("running" in (c.get("state") or {}) for c in statuses):
        return False  # made sick since (a test's crash_looping): the probe never passes
    _make_ready(pod, ready_at)
    return True


def _removal_order(pods: Sequence[Obj]) -> list[Obj]:
    """The ReplicaSet controller's order: unscheduled, then not ready, then the newest."""

    def key(pod: Obj) -> tuple[bool, bool, str, str]:
        metadata = pod["metadata"]
        return (
            bool((pod.get("spec") or {}).get("nodeName")),
            is_ready(pod),
            _negate(metadata.get("creationTimestamp") or ""),
            _negate(metadata["name"]),
        )

    return sorted(pods, key=key)


def _negate(text: str) -> str:
    """A sort key that orders strings backwards (for 'newest first' inside an ascending sort)."""
    return "".join(chr(0x10FFFF - ord(ch)) for ch in text) + chr(0x10FFFF)


def sync_pods(
    api: Store,
    deployment: Obj,
    mine: list[Obj],
    everyone: list[Obj],
    nodes: Sequence[Obj],
    now: datetime,
    ready_after: timedelta,
    fuse: bool | None,
) -> tuple[list[Obj], list[str]]:
    """Make the Deployment's pods follow its spec.replicas, become ready when their time has
    come, and (fuse True/False, parquet only) carry the GCS FUSE annotation or not. Returns
    the pods now running for it, and a line per change. `everyone` (the namespace's pods) is
    updated in place, so the next Deployment's placement sees these pods."""
    namespace = deployment["metadata"]["namespace"]
    lines = _ready_pods(api, namespace, mine, now)
    _oom_kills(api, namespace, mine, now)
    wanted = int((deployment.get("spec") or {}).get("replicas", 1))
    if len(mine) > wanted:
        lines += _remove_pods(api, namespace, mine, everyone, len(mine) - wanted)
    if len(mine) < wanted:
        lines += _add_pods(api, deployment, mine, everyone, nodes, wanted, now, now + ready_after, fuse)
    if fuse is not None:
        lines += _annotate_fuse(api, namespace, mine, fuse)
    return mine, lines


def _ready_pods(api: Store, namespace: str, mine: list[Obj], now: datetime) -> list[str]:
    """The kubelet: each pod whose ready-at has come becomes ready."""
    lines: list[str] = []
    for pod in mine:
        if _flip_ready(pod, now):
            api.merge(
                "pods",
                namespace,
                pod["metadata"]["name"],
                {
                    "status": {
                        "conditions": pod["status"]["conditions"],
                        "containerStatuses": pod["status"]["containerStatuses"],
                    }
                },
            )
            lines.append(f"pod/{pod['metadata']['name']}: ready")
    return lines


def _oom_kills(api: Store, namespace: str, mine: list[Obj], now: datetime) -> None:
    """The kernel's OOM killer and the kubelet: a pod marked OOM_EVERY (a story's container
    short of memory) is killed every so many seconds and restarted, so its last termination
    stays OOMKilled a few minutes ago and its restarts count up, whenever one looks."""
    for pod in mine:
        every = (pod["metadata"].get("annotations") or {}).get(OOM_EVERY)
        statuses = (pod.get("status") or {}).get("containerStatuses") or []
        if not every or not statuses:
            continue
        period = timedelta(seconds=int(every))
        status = statuses[0]
        terminated = (status.get("lastState") or {}).get("terminated") or {}
        finished = parse_time(terminated.get("finishedAt"))
        if finished is not None and finished <= now and now - finished < period:
            continue
        kills = 1 if finished is None or finished > now else int((now - finished) / period)
        killed = now - period / 2 if finished is None or finished > now else finished + kills * period
        status.update(
            restartCount=int(status.get("restartCount") or 0) + kills,
            state={"running": {"startedAt": timestamp(killed + timedelta(seconds=1))}},
            lastState={
                "terminated": {
                    "exitCode": 137,
                    "reason": "OOMKilled",
                    "containerID": status.get("containerID", ""),
                    "startedAt": timestamp(killed - period + timedelta(seconds=1)),
                    "finishedAt": timestamp(killed),
                }
            },
        )
        api.merge("pods", namespace, pod["metadata"]["name"], {"status": {"containerStatuses": statuses}})


def _remove_pods(api: Store, namespace: str, mine: list[Obj], everyone: list[Obj], count: int) -> list[str]:
    """The ReplicaSet controller scaling down: `count` pods go, in its order."""
    lines: list[str] = []
    for pod in _removal_order(mine)[:count]:
        api.remove("pods", namespace, pod["metadata"]["name"])
        mine.remove(pod)
        everyone.remove(pod)
        lines.append(f"deleted pod/{pod['metadata']['name']}")
    return lines


def _add_pods(
    api: Store,
    deployment: Obj,
    mine: list[Obj],
    everyone: list[Obj],
    nodes: Sequence[Obj],
    wanted: int,
    now: datetime,
    ready_at: datetime,
    fuse: bool | None,
) -> list[str]:
    """The ReplicaSet controller scaling up to `wanted`, and the scheduler placing each new pod."""
    metadata = deployment["metadata"]
    namespace, name = metadata["namespace"], metadata["name"]
    hashes = [(p["metadata"].get("labels") or {}).get("pod-template-hash") for p in mine]
    hash_ = next((h for h in hashes if h), None) or _safe_suffix(f"{namespace}/{name}/template", 10)
    replicaset = f"{name}-{hash_}"
    taken = {p["metadata"]["name"] for p in everyone}
    extra = {FUSE_ANNOTATION: "true"} if fuse else {}
    lines: list[str] = []
    index = 0
    while len(mine) < wanted:
        pod_name = f"{replicaset}-{_pod_suffix(replicaset, index)}"
        index += 1
        if pod_name in taken:
            continue
        node = _place(nodes, mine, everyone)
        pod = api.add(_new_pod(deployment, pod_name, replicaset, hash_, node, everyone, now, ready_at, extra))
        mine.append(pod)
        everyone.append(pod)
        taken.add(pod_name)
        where = f"on {node['metadata']['name']}" if node else "unschedulable: no node"
        when = "ready" if is_ready(pod) else f"ready at {timestamp(ready_at)}"
        lines.append(f"created pod/{pod_name} ({where}, {when})")
    return lines


def _annotate_fuse(api: Store, namespace: str, mine: list[Obj], fuse: bool) -> list[str]:
    """Parquet's pods carry the GCS FUSE annotation exactly when the values enable it."""
    lines: list[str] = []
    for pod in mine:
        annotations = pod["metadata"].get("annotations") or {}
        if fuse and annotations.get(FUSE_ANNOTATION) != "true":
            pod["metadata"].setdefault("annotations", {})[FUSE_ANNOTATION] = "true"
            api.merge(
                "pods", namespace, pod["metadata"]["name"], {"metadata": {"annotations": {FUSE_ANNOTATION: "true"}}}
            )
            lines.append(f'pod/{pod["metadata"]["name"]}: annotated {FUSE_ANNOTATION}: "true"')
        elif not fuse and FUSE_ANNOTATION in annotations:
            del annotations[FUSE_ANNOTATION]
            api.merge(
                "pods", namespace, pod["metadata"]["name"], {"metadata": {"annotations": {FUSE_ANNOTATION: None}}}
            )
            lines.append(f"pod/{pod['metadata']['name']}: annotation {FUSE_ANNOTATION} removed")
    return lines


def _max_unavailable(deployment: Mapping[str, Any], replicas: int) -> int:
    strategy = (deployment.get("spec") or {}).get("strategy") or {}
    if strategy.get("type") == "Recreate":
        return 0
    value = (strategy.get("rollingUpdate") or {}).get("maxUnavailable", "25%")
    if isinstance(value, str) and value.endswith("%"):
        return replicas * int(value[:-1]) // 100
    return int(value)


def sync_deployment_status(api: Store, deployment: Obj, pods: Sequence[Obj], now: datetime) -> None:
    """The status the Deployment controller reports for these pods (zero counts omitted)."""
    metadata, spec = deployment["metadata"], deployment.get("spec") or {}
    old = deployment.get("status") or {}
    wanted = int(spec.get("replicas", 1))
    ready = sum(1 for pod in pods if is_ready(pod))
    status = dict(old)
    counts = {
        "replicas": len(pods),
        "updatedReplicas": len(pods),
        "readyReplicas": ready,
        "availableReplicas": ready,
        "unavailableReplicas": max(0, wanted - ready),
    }
    for key, value in counts.items():
        if value:
            status[key] = value
        else:
            status.pop(key, None)
    status["observedGeneration"] = metadata.get("generation", 1)
    available = ready >= wanted - _max_unavailable(deployment, wanted)
    wanted_condition = (
        ("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
        if available
        else ("False", "MinimumReplicasUnavailable", "Deployment does not have minimum availability.")
    )
    conditions = []
    for condition in old.get("conditions") or []:
        if (
            condition.get("type") == "Available"
            and (condition.get("status"), condition.get("reason")) != wanted_condition[:2]
        ):
            condition = {
                **condition,
                "status": wanted_condition[0],
                "reason": wanted_condition[1],
                "message": wanted_condition[2],
                "lastUpdateTime": timestamp(now),
                "lastTransitionTime": timestamp(now),
            }
        conditions.append(condition)
    if conditions:
        status["conditions"] = conditions
    if status != old:
        patch = {key: status.get(key) for key in {*old, *status}}
        deployment["status"] = api.merge("deployments", metadata["namespace"], metadata["name"], {"status": patch})[
            "status"
        ]
