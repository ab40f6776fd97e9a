"""What the kubelet and metrics-server would answer: pod logs and the metrics.k8s.io API.

The fake stores objects; what pods print and use comes from whoever runs it (`Telemetry`:
the sandbox derives both from its queue model, sim/telemetry.py). Without one, a pod's log
is empty and metrics.k8s.io is not served, as on a cluster without metrics-server (`kubectl
top` then says the Metrics API is not available).

- `GET /api/v1/namespaces/NS/pods/NAME/log` (text/plain): `container` (required when the pod
  has more than one, as the API server requires it), `tailLines`, `timestamps`, `sinceSeconds`;
- `/apis/metrics.k8s.io/v1beta1`: PodMetrics (namespaced) and NodeMetrics, get and list, with
  `labelSelector` on a list; what kubectl top asks for, after discovering the group.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Protocol

from wbctl.sandbox.kube.errors import ApiError, bad_request, no_such_resource
from wbctl.sandbox.kube.semantics import SelectorError, labels_match, parse_label_selector
from wbctl.sandbox.kube.types import Obj

GROUP = "metrics.k8s.io"
VERSION = "v1beta1"
GROUP_VERSION = f"{GROUP}/{VERSION}"
WINDOW = "1m0s"  # what each usage averages over (metrics-server's resolution, as the sandbox's steps)
_KINDS = {"pods": ("PodMetrics", "podmetrics", True), "nodes": ("NodeMetrics", "nodemetrics", False)}


class Telemetry(Protocol):
    """What the pods print and use, on the caller's clock."""

    def now(self) -> datetime: ...

    def log(self, pod: Obj, container: str) -> Sequence[tuple[datetime, str]]:
        """The container's lines, oldest first, each with its time."""
        ...

    def usage(self, pod: Obj) -> Mapping[str, tuple[float, int]]:
        """Each running container's (CPU cores, memory bytes); empty for a pod not running."""
        ...

    def node_usage(self, node: Obj, pods: Sequence[Obj]) -> tuple[float, int]:
        """The node's (CPU cores, memory bytes), given the pods scheduled on it."""
        ...


# --- pod logs -------------------------------------------------------------------------------------


def _int(query: Mapping[str, list[str]], name: str) -> int | None:
    values = query.get(name)
    if not values:
        return None
    try:
        value = int(values[-1])
    except ValueError:
        raise bad_request(f"{name}: Invalid value: {values[-1]!r}: must be an integer") from None
    if value < 0:
        raise bad_request(f"{name}: Invalid value: {value}: must be greater than or equal to 0")
    return value


def _container(pod: Obj, query: Mapping[str, list[str]]) -> str:
    """The container asked for, or the pod's only one; the API server's 400s otherwise."""
    name = pod["metadata"]["name"]
    containers = [c.get("name", "") for c in (pod.get("spec") or {}).get("containers") or []]
    asked = (query.get("container") or [""])[-1]
    if not asked:
        if len(containers) == 1:
            return containers[0]
        raise bad_request(f"a container name must be specified for pod {name}, choose one of: [{' '.join(containers)}]")
    if asked not in containers:
        raise bad_request(f"container {asked} is not valid for pod {name}")
    return asked


def pod_log(pod: Obj, query: Mapping[str, list[str]], telemetry: Telemetry | None) -> str:
    """The log's text, as the API server streams it (without `follow`: what there is, then the end)."""
    container = _container(pod, query)
    tail, since = _int(query, "tailLines"), _int(query, "sinceSeconds")
    stamped = (query.get("timestamps") or ["false"])[-1] in ("true", "1")
    lines = list(telemetry.log(pod, container)) if telemetry is not None else []
    if since is not None and telemetry is not None:
        now = telemetry.now()
        lines = [(at, text) for at, text in lines if (now - at).total_seconds() <= since]
    if tail is not None:
        lines = lines[-tail:] if tail else []
    return "".join(
        (f"{at.strftime('%Y-%m-%dT%H:%M:%S.%f')}000Z {text}\n" if stamped else f"{text}\n") for at, text in lines
    )


# --- metrics.k8s.io -------------------------------------------------------------------------------


def _resource(plural: str) -> Obj:
    kind, singular, namespaced = _KINDS[plural]
    return {"name": plural, "singularName": singular, "namespaced": namespaced, "kind": kind, "verbs": ["get", "list"]}


def group_document() -> Obj:
    """The group as /apis lists it."""
    version = {"groupVersion": GROUP_VERSION, "version": VERSION}
    return {"name": GROUP, "versions": [version], "preferredVersion": version}


def discovery(path: str) -> Obj | None:
    """The group's discovery documents (None: not one of them)."""
    if path == f"/apis/{GROUP}":
        return {"kind": "APIGroup", "apiVersion": "v1", **group_document()}
    if path == f"/apis/{GROUP_VERSION}":
        return {
            "kind": "APIResourceList",
            "apiVersion": "v1",
            "groupVersion": GROUP_VERSION,
            "resources": [_resource("nodes"), _resource("pods")],
        }
    return None


def is_metrics_path(path: str) -> bool:
    return path == f"/apis/{GROUP}" or path.startswith(f"/apis/{GROUP}/")


def cpu_quantity(cores: float) -> str:
    return f"{max(0, round(cores * 1e9))}n"


def memory_quantity(size: int) -> str:
    return f"{max(0, size) // 1024}Ki"


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def pod_metrics(pod: Obj, telemetry: Telemetry) -> Obj | None:
    usage = telemetry.usage(pod)
    if not usage:
        return None
    meta = pod["metadata"]
    now = _stamp(telemetry.now())
    return {
        "kind": "PodMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": {
            "name": meta["name"],
            "namespace": meta.get("namespace", "default"),
            "creationTimestamp": now,
            "labels": dict(meta.get("labels") or {}),
        },
        "timestamp": now,
        "window": WINDOW,
        "containers": [
            {"name": name, "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)}}
            for name, (cpu, memory) in usage.items()
        ],
    }


def node_metrics(node: Obj, pods: Sequence[Obj], telemetry: Telemetry) -> Obj:
    name = node["metadata"]["name"]
    cpu, memory = telemetry.node_usage(node, [p for p in pods if (p.get("spec") or {}).get("nodeName") == name])
    now = _stamp(telemetry.now())
    return {
        "kind": "NodeMetrics",
        "apiVersion": GROUP_VERSION,
        "metadata": {
            "name": name,
            "creationTimestamp": now,
            "labels": dict(node["metadata"].get("labels") or {}),
        },
        "timestamp": now,
        "window": WINDOW,
        "usage": {"cpu": cpu_quantity(cpu), "memory": memory_quantity(memory)},
    }


def metrics_answer(
    method: str,
    path: str,
    query: Mapping[str, list[str]],
    pods: Sequence[Obj],
    nodes: Sequence[Obj],
    telemetry: Telemetry,
) -> Obj:
    """A PodMetrics or NodeMetrics (list) at `path` under /apis/metrics.k8s.io/v1beta1."""
    found = discovery(path.rstrip("/"))
    if found is not None:
        return found
    parts = [p for p in path.split("/") if p][3:]
    namespace: str | None = None
    if len(parts) >= 3 and parts[0] == "namespaces":
        namespace, parts = parts[1], parts[2:]
    if not parts or parts[0] not in _KINDS or len(parts) > 2 or (parts[0] == "nodes" and namespace is not None):
        raise no_such_resource()
    if method != "GET":
        raise ApiError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource")
    plural, name = parts[0], parts[1] if len(parts) == 2 else None
    kind = _KINDS[plural][0]
    if plural == "pods":
        mine = [p for p in pods if namespace is None or p["metadata"].get("namespace", "default") == namespace]
        items = [m for m in (pod_metrics(p, telemetry) for p in mine) if m is not None]
    else:
        items = [node_metrics(n, pods, telemetry) for n in nodes]
    if name is not None:
        item = next((i for i in items if i["metadata"]["name"] == name), None)
        if item is None:
            raise ApiError(404, "NotFound", f'{plural}.{GROUP} "{name}" not found', {"name": name, "group": GROUP})
        return item
    try:
        selector = parse_label_selector((query.get("labelSelector") or [""])[-1])
    except SelectorError as error:
        raise bad_request(str(error)) from None
    return {
        "kind": f"{kind}List",
        "apiVersion": GROUP_VERSION,
        "metadata": {},
        "items": [i for i in items if labels_match(selector, i["metadata"]["labels"])],
    }
