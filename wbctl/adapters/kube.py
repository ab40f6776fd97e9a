"""Kubernetes through the official client: observe a W&B instance, apply scaling plans.

Reads are one list call per kind, label-selected by `app.kubernetes.io/instance=<instance>`
and paginated, run concurrently; never one call per service. The client is imported on
first use. Every API failure leaves as a one-line wbctl error naming the verb and resource
that were refused.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from wbctl.core.kube import (
    Autoscaler,
    Condition,
    Container,
    EnvVar,
    KubeObservation,
    Pod,
    WandbResource,
    Workload,
)
from wbctl.core.model import Change, Plan
from wbctl.errors import BackendError, ConflictError, UsageError, VerificationError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

INSTANCE_LABEL = "app.kubernetes.io/instance"
PAGE_SIZE = 500
CR_GROUP, CR_VERSION, CR_PLURAL = "apps.wandb.com", "v1", "weightsandbiases"
KEDA_GROUP, KEDA_VERSION, KEDA_PLURAL = "keda.sh", "v1alpha1", "scaledobjects"

# what the commands need: `status` reads six kinds (the budget), list/check add KEDA
STATUS_KINDS = ("deployments", "cronjobs", "horizontalpodautoscalers", "pods", "nodes", "cr")
ALL_KINDS = (*STATUS_KINDS, "scaledobjects")
SCALING_KINDS = ("deployments", "horizontalpodautoscalers", "scaledobjects", "cr")  # what a scaling plan reads
PARQUET_KINDS = ("deployments", "cronjobs", "pods", "cr", "csidrivers")
RUNBOOK_KINDS = ("deployments", "horizontalpodautoscalers", "pods", "scaledobjects", "cr")  # the updater, seen whole


@dataclass(frozen=True)
class _Resource:
    plural: str
    group: str  # "" for the core group

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = {
    "deployments": _Resource("deployments", "apps"),
    "deployments/scale": _Resource("deployments/scale", "apps"),
    "cronjobs": _Resource("cronjobs", "batch"),
    "horizontalpodautoscalers": _Resource("horizontalpodautoscalers", "autoscaling"),
    "pods": _Resource("pods", ""),
    "nodes": _Resource("nodes", ""),
    "cr": _Resource(CR_PLURAL, CR_GROUP),
    "scaledobjects": _Resource(KEDA_PLURAL, KEDA_GROUP),
    "csidrivers": _Resource("csidrivers", "storage.k8s.io"),
    "configmaps": _Resource("configmaps", ""),
}


class KubeAdapter:
    def __init__(
        self,
        *,
        kube_context: str | None,
        namespace: str,
        instance: str,
        timeout: float,
        kubeconfig: str | None = None,  # $KUBECONFIG (paths joined by ':'); None: ~/.kube/config
    ) -> None:
        self.kube_context = kube_context
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.instance = instance
        self.timeout = timeout
        self._client: ApiClient | None = None
        self._client_lock = threading.Lock()  # several reads may ask for the client at once
        self.server = ""

    # --- connection -------------------------------------------------------------------

    def client(self) -> ApiClient:
        with self._client_lock:
            return self._client if self._client is not None else self._connect()

    def _connect(self) -> ApiClient:
        if self._client is None:
            from kubernetes import client, config
            from kubernetes.config.config_exception import ConfigException

            configuration = client.Configuration()
            try:
                config.load_kube_config(
                    config_file=self.kubeconfig or os.path.expanduser("~/.kube/config"),
                    context=self.kube_context,
                    client_configuration=configuration,
                )
            except (ConfigException, FileNotFoundError, OSError) as exc:
                if self.kube_context is None and os.environ.get("KUBERNETES_SERVICE_HOST"):
                    config.load_incluster_config(client_configuration=configuration)
                else:
                    where = f"context {self.kube_context!r}" if self.kube_context else "a kubeconfig"
                    raise BackendError(f"cannot load {where} ({exc}); set KUBECONFIG or kube-context") from None
            from urllib3.util.retry import Retry

            # one retry of a refused or dropped connection; a read that timed out is not sent
            # again (urllib3's default would send it three more times: 4x --timeout)
            configuration.retries = Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
            self.server = configuration.host
            self._client = client.ApiClient(configuration)
        return self._client

    @contextlib.contextmanager
    def _translated(self, verb: str, resource: str, name: str | None = None) -> Iterator[None]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, ProtocolError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        described = RESOURCES[resource] if resource in RESOURCES else resource
        what = f"{verb} {described}" + (f" {name}" if name else "")
        where = " (cluster-wide)" if resource in ("nodes", "csidrivers") else f" in namespace {self.namespace}"
        try:
            yield
        except ApiException as exc:
            status = exc.status
            message = _status_message(exc)
            if status == 401:
                raise BackendError(f"unauthorized: {what}{where} on {self.server}: the credentials were refused ({message})") from exc
            if status == 403:
                raise BackendError(f"forbidden: {what}{where} (see docs/permissions.md for the Role wbctl needs)") from exc
            if status == 404:
                raise _NotFound(f"{what}{where}: not found ({message})") from exc
            if status == 409:
                raise ConflictError(f"{what}{where}: changed since it was read ({message})") from exc
            if status == 422:
                raise UsageError(f"the API server rejected {what}{where}: {message}") from exc
            raise BackendError(f"{what}{where} failed: HTTP {status} {message}") from exc
        except (MaxRetryError, ProtocolError, Urllib3Timeout, HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            text = str(reason)
            if "refused" in text.lower():  # before the timeout test: NewConnectionError is a timeout subclass
                raise BackendError(f"cannot reach the Kubernetes API at {self.server}: connection refused") from exc
            if isinstance(reason, Urllib3Timeout) or "timed out" in text.lower():
                raise BackendError(f"the Kubernetes API at {self.server} did not answer within {self.timeout:g}s: {what}{where}") from exc
            raise BackendError(f"cannot reach the Kubernetes API at {self.server}: {_one_line(text)}") from exc

    # --- observations -----------------------------------------------------------------

    def observe(self, kinds: tuple[str, ...] = ALL_KINDS) -> KubeObservation:
        """The instance's workloads, pods, autoscalers, nodes and CR: one list call per kind, concurrently."""
        self.client()
        readers: dict[str, Callable[[], Any]] = {
            "deployments": lambda: self._list("deployments"),
            "cronjobs": lambda: self._list("cronjobs"),
            "horizontalpodautoscalers": lambda: self._list("horizontalpodautoscalers"),
            "pods": lambda: self._list("pods"),
            "nodes": self._nodes,
            "cr": self.read_cr,
            "scaledobjects": self._scaled_objects,
            "csidrivers": self._csi_drivers,
        }
        with ThreadPoolExecutor(max_workers=len(kinds)) as pool:
            futures = {kind: pool.submit(readers[kind]) for kind in kinds}
            results = {kind: future.result() for kind, future in futures.items()}
        observation = KubeObservation(self.server, self.namespace, self.instance)
        observation.workloads = [_deployment(d) for d in results.get("deployments", [])]
        observation.workloads += [_cronjob(c) for c in results.get("cronjobs", [])]
        observation.pods = [_pod(p) for p in results.get("pods", [])]
        observation.autoscalers = [_hpa(h) for h in results.get("horizontalpodautoscalers", [])]
        observation.autoscalers += [_scaled_object(s) for s in results.get("scaledobjects", None) or []]
        nodes = results.get("nodes")
        if isinstance(nodes, str):
            observation.notes.append(nodes)
        elif nodes is not None:
            observation.node_zones = {
                n["metadata"]["name"]: (n["metadata"].get("labels") or {}).get("topology.kubernetes.io/zone", "")
                for n in nodes
            }
        drivers = results.get("csidrivers")
        if isinstance(drivers, str):
            observation.notes.append(drivers)
        elif drivers is not None:
            observation.csi_drivers = {d["metadata"]["name"] for d in drivers}
        if "cr" in kinds:
            cr = results["cr"]
            observation.cr = cr
            if cr is None:
                observation.notes.append(
                    f"no WeightsAndBiases resource named {self.instance} in namespace {self.namespace}: "
                    "chart version and values unknown"
                )
        return observation

    def _request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """One call through the client's ApiClient (kubeconfig auth, TLS, exec plugins, timeouts).

        The typed API classes would import and validate hundreds of pydantic models (~0.6 s
        at start-up for the kinds read here); the JSON the server sends is all wbctl needs.
        """
        from kubernetes.client.exceptions import ApiException

        client = self.client()
        headers = {"Accept": "application/json"}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        method, url, headers, serialized, post = client.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        response = client.call_api(method, url, headers, serialized, post, _request_timeout=self.timeout)
        response.read()
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response, body=(response.data or b"").decode(errors="replace"))
        return json.loads(response.data or b"{}")

    def _path(self, resource: str, name: str | None = None) -> str:
        paths = {
            "deployments": f"/apis/apps/v1/namespaces/{self.namespace}/deployments",
            "deployments/scale": f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{{name}}/scale",
            "cronjobs": f"/apis/batch/v1/namespaces/{self.namespace}/cronjobs",
            "horizontalpodautoscalers": f"/apis/autoscaling/v2/namespaces/{self.namespace}/horizontalpodautoscalers",
            "pods": f"/api/v1/namespaces/{self.namespace}/pods",
            "nodes": "/api/v1/nodes",
            "csidrivers": "/apis/storage.k8s.io/v1/csidrivers",
            "configmaps": f"/api/v1/namespaces/{self.namespace}/configmaps",
            "cr": f"/apis/{CR_GROUP}/{CR_VERSION}/namespaces/{self.namespace}/{CR_PLURAL}",
            "scaledobjects": f"/apis/{KEDA_GROUP}/{KEDA_VERSION}/namespaces/{self.namespace}/{KEDA_PLURAL}",
        }
        path = paths[resource]
        if name is None:
            return path
        quoted = quote(name, safe="")
        return path.replace("{name}", quoted) if "{name}" in path else f"{path}/{quoted}"

    def _list(self, resource: str, *, selected: bool = True) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        token: str | None = None
        with self._translated("list", resource):
            while True:
                query = [("limit", str(PAGE_SIZE))]
                if selected:
                    query.append(("labelSelector", f"{INSTANCE_LABEL}={self.instance}"))
                if token:
                    query.append(("continue", token))
                page = self._request("GET", self._path(resource), query=query)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue")
                if not token:
                    return items

    def _nodes(self) -> list[dict[str, Any]] | str:
        """Nodes give zones; pods already name their node, so a refusal only costs the zones."""
        try:
            return self._list("nodes", selected=False)
        except BackendError as exc:
            return f"nodes not readable ({exc.message}): zones unknown"

    def _csi_drivers(self) -> list[dict[str, Any]] | str:
        try:
            return self._list("csidrivers", selected=False)
        except BackendError as exc:
            return f"CSIDrivers not readable ({exc.message})"

    def _scaled_objects(self) -> list[dict[str, Any]] | None:
        try:
            return self._list("scaledobjects")
        except _NotFound:
            return None  # no KEDA CRD in this cluster

    def config_maps(self, names: Iterable[str]) -> dict[str, dict[str, str]]:
        """The data of the named ConfigMaps (GET by name, side by side: the chart's ConfigMaps
        carry no instance label to select them by); a missing one is left out."""
        wanted = sorted(set(names))
        if not wanted:
            return {}
        self.client()
        with ThreadPoolExecutor(max_workers=len(wanted)) as pool:
            found = dict(zip(wanted, pool.map(lambda name: self._get("configmaps", name), wanted)))
        return {name: {str(k): str(v) for k, v in (obj.get("data") or {}).items()}
                for name, obj in found.items() if obj is not None}

    def read_cr(self) -> WandbResource | None:
        raw = self._get("cr", self.instance)
        return None if raw is None else _wandb_resource(raw)

    def _get(self, resource: str, name: str) -> dict[str, Any] | None:
        try:
            with self._translated("get", resource, name):
                return self._request("GET", self._path(resource, name))
        except _NotFound:
            return None

    # --- changes ----------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        self._write(plan, dry_run=False)

    def validate(self, plan: Plan) -> None:
        """The API server's own dry run (dryRun=All) of every write in the plan."""
        self._write(plan, dry_run=True)

    def _write(self, plan: Plan, *, dry_run: bool) -> None:
        query = [("dryRun", "All")] if dry_run else []
        merge = "application/merge-patch+json"
        for target, changes in plan.by_target().items():
            kind, name = target.split("/", 1)
            version = {"resourceVersion": plan.preconditions.get(target, {}).get("resourceVersion")}
            if kind == "weightsandbiases":
                body = {**_nested(changes), "metadata": version}
                with self._translated("patch", "cr", name):
                    self._request("PATCH", self._path("cr", name), query=query, body=body, content_type=merge)
            elif kind == "deployment":
                body = {"metadata": version, "spec": {"replicas": changes[0].after}}
                with self._translated("patch", "deployments/scale", name):
                    self._request("PATCH", self._path("deployments/scale", name), query=query, body=body, content_type=merge)
            elif kind == "horizontalpodautoscaler":
                self._write_hpa(name, changes, plan.preconditions.get(target, {}), query)
            else:  # a plan this adapter did not make
                raise UsageError(f"cannot apply a change to {target}")

    def _write_hpa(self, name: str, changes: list[Change], pre: dict[str, Any], query: list[tuple[str, str]]) -> None:
        resource = "horizontalpodautoscalers"
        if any(change.path == () and change.after is None for change in changes):
            options = {"kind": "DeleteOptions", "apiVersion": "v1", "preconditions": {"resourceVersion": pre.get("resourceVersion")}}
            with self._translated("delete", resource, name):
                self._request("DELETE", self._path(resource, name), query=query, body=options)
            return
        spec: dict[str, Any] = {}
        for change in changes:
            if change.path == ("spec", "metrics", "cpu"):
                spec["metrics"] = [_cpu_metric(change.after)]
            else:
                spec[change.path[-1]] = change.after
        if "create" in pre:
            manifest = json.loads(json.dumps(pre["create"]))
            manifest["spec"].update(spec)
            with self._translated("create", resource, name):
                self._request("POST", self._path(resource), query=query, body=manifest)
            return
        body = {"metadata": {"resourceVersion": pre.get("resourceVersion")}, "spec": spec}
        with self._translated("patch", resource, name):
            self._request("PATCH", self._path(resource, name), query=query, body=body,
                          content_type="application/merge-patch+json")

    def read_back(self, plan: Plan) -> None:
        for target, changes in plan.by_target().items():
            kind, name = target.split("/", 1)
            resource = {"weightsandbiases": "cr", "deployment": "deployments/scale"}.get(kind, "horizontalpodautoscalers")
            actual = self._get(resource, name)
            for change in changes:
                found = _at(actual, change.path) if actual is not None else None
                if change.path == ("spec", "metrics", "cpu") and actual is not None:
                    found = _cpu_target((actual.get("spec") or {}).get("metrics"))
                if change.path == ():
                    found = None if actual is None else "present"
                if found != change.after:
                    raise VerificationError(
                        f"read-back of {target} shows {change.key} = {found!r}, not {change.after!r}: "
                        "another writer (the operator?) may have changed it"
                    )

    def close(self) -> None:
        if self._client is not None:
            self._client.close()


class _NotFound(BackendError):
    """A 404: callers that expect absence (the CR, KEDA) catch it; others report it."""


# --- API objects -> observations ------------------------------------------------------


def _status_message(exc: Any) -> str:
    try:
        body = json.loads(exc.body or "{}")
        return _one_line(str(body.get("message") or exc.reason))
    except (TypeError, ValueError):
        return _one_line(str(exc.reason))


def _one_line(text: str) -> str:
    return " ".join(text.split())[:300]


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        return None


def _env(container: dict[str, Any]) -> tuple[EnvVar, ...]:
    result = []
    for entry in container.get("env") or []:
        ref = (entry.get("valueFrom") or {}).get("configMapKeyRef") or {}
        config_map = (str(ref.get("name", "")), str(ref.get("key", ""))) if ref else None
        value = entry.get("value")
        result.append(EnvVar(str(entry.get("name", "")), None if value is None else str(value), config_map))
    return tuple(result)


def _containers(pod_spec: dict[str, Any] | None) -> tuple[Container, ...]:
    result = []
    for container in (pod_spec or {}).get("containers") or []:
        resources = container.get("resources") or {}
        result.append(
            Container(
                container.get("name", ""),
                container.get("image", ""),
                {k: str(v) for k, v in (resources.get("requests") or {}).items()},
                {k: str(v) for k, v in (resources.get("limits") or {}).items()},
                env=_env(container),
                env_from=tuple(
                    str((source.get("configMapRef") or {}).get("name", ""))
                    for source in container.get("envFrom") or []
                    if source.get("configMapRef")
                ),
            )
        )
    return tuple(result)


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def _deployment(obj: dict[str, Any]) -> Workload:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    return Workload(
        kind="Deployment",
        name=_meta(obj).get("name", ""),
        labels=dict(_meta(obj).get("labels") or {}),
        selector=dict(((spec.get("selector") or {}).get("matchLabels")) or {}),
        desired=spec.get("replicas"),
        ready=status.get("readyReplicas") or 0,
        containers=_containers((spec.get("template") or {}).get("spec")),
        resource_version=_meta(obj).get("resourceVersion", ""),
    )


def _cronjob(obj: dict[str, Any]) -> Workload:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    template = ((spec.get("jobTemplate") or {}).get("spec") or {}).get("template") or {}
    return Workload(
        kind="CronJob",
        name=_meta(obj).get("name", ""),
        labels=dict(_meta(obj).get("labels") or {}),
        selector={},
        desired=None,
        ready=len(status.get("active") or []),
        containers=_containers(template.get("spec")),
        schedule=spec.get("schedule"),
        suspended=bool(spec.get("suspend")),
        last_schedule=_time(status.get("lastScheduleTime")),
        last_success=_time(status.get("lastSuccessfulTime")),
        resource_version=_meta(obj).get("resourceVersion", ""),
    )


def _pod(obj: dict[str, Any]) -> Pod:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    labels = dict(_meta(obj).get("labels") or {})
    owners = {ref.get("kind") for ref in _meta(obj).get("ownerReferences") or []}
    conditions = status.get("conditions") or []
    ready = any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
    statuses = status.get("containerStatuses") or []
    scheduled = next((c for c in conditions if c.get("type") == "PodScheduled"), {})
    return Pod(
        name=_meta(obj).get("name", ""),
        labels=labels,
        node=spec.get("nodeName"),
        phase=status.get("phase") or "Unknown",
        ready=ready,
        restarts=sum(int(c.get("restartCount") or 0) for c in statuses),
        started=_time(status.get("startTime")),
        job_pod="Job" in owners or "job-name" in labels or "batch.kubernetes.io/job-name" in labels,
        annotations=dict(_meta(obj).get("annotations") or {}),
        waiting=tuple(str(w["reason"]) for c in statuses if (w := (c.get("state") or {}).get("waiting")) and w.get("reason")),
        last_terminated=tuple(
            str(t["reason"]) for c in statuses if (t := (c.get("lastState") or {}).get("terminated")) and t.get("reason")
        ),
        unschedulable=_one_line(str(scheduled.get("message") or scheduled.get("reason") or ""))
        if scheduled.get("status") == "False" else "",
    )


def _cpu_metric(percent: int) -> dict[str, Any]:
    return {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}}}


def _cpu_target(metrics: Any) -> int | None:
    for metric in metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            return (resource.get("target") or {}).get("averageUtilization")
    return None


def _metric_names(metrics: Any) -> tuple[str, ...]:
    names = []
    for metric in metrics or []:
        kind = str(metric.get("type", "")).lower()
        inner = metric.get(kind) or {}
        if kind in ("resource", "containerresource"):
            names.append(str(inner.get("name", "")))
        else:
            names.append(f"{kind}:{(inner.get('metric') or {}).get('name', '')}")
    return tuple(names)


def _cpu_current(current_metrics: Any) -> int | None:
    for metric in current_metrics or []:
        resource = metric.get("resource") or {}
        if metric.get("type") == "Resource" and resource.get("name") == "cpu":
            value = (resource.get("current") or {}).get("averageUtilization")
            return int(value) if isinstance(value, (int, float)) else None
    return None


def _hpa(obj: dict[str, Any]) -> Autoscaler:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    owners = {ref.get("kind") for ref in _meta(obj).get("ownerReferences") or []}
    name = _meta(obj).get("name", "")
    return Autoscaler(
        kind="HorizontalPodAutoscaler",
        name=name,
        target=(spec.get("scaleTargetRef") or {}).get("name", ""),
        min_replicas=spec.get("minReplicas", 1),
        max_replicas=spec.get("maxReplicas"),
        current=status.get("currentReplicas"),
        desired=status.get("desiredReplicas"),
        cpu_target=_cpu_target(spec.get("metrics")),
        last_scale=_time(status.get("lastScaleTime")),
        conditions=tuple(
            Condition(str(c.get("type", "")), str(c.get("status", "")), str(c.get("reason", "")),
                      _one_line(c.get("message") or c.get("reason") or ""))
            for c in status.get("conditions") or []
        ),
        keda="ScaledObject" in owners or name.startswith("keda-hpa-"),
        resource_version=_meta(obj).get("resourceVersion", ""),
        cpu_current=_cpu_current(status.get("currentMetrics")),
        metrics=_metric_names(spec.get("metrics")),
    )


def _scaled_object(obj: dict[str, Any]) -> Autoscaler:
    spec = obj.get("spec") or {}
    return Autoscaler(
        kind="ScaledObject",
        name=_meta(obj).get("name", ""),
        target=(spec.get("scaleTargetRef") or {}).get("name", ""),
        min_replicas=spec.get("minReplicaCount", 0),
        max_replicas=spec.get("maxReplicaCount", 100),
        keda=True,
        resource_version=_meta(obj).get("resourceVersion", ""),
        metrics=tuple(str(t.get("type", "")) if t.get("type") in ("cpu", "memory") else f"external:{t.get('type', '')}"
                      for t in spec.get("triggers") or []),
    )


def _wandb_resource(obj: dict[str, Any]) -> WandbResource:
    spec = obj.get("spec") or {}
    return WandbResource(
        name=_meta(obj).get("name", ""),
        chart_version=str((spec.get("chart") or {}).get("version") or "") or None,
        values=dict(spec.get("values") or {}),
        phase=(obj.get("status") or {}).get("phase"),
        resource_version=_meta(obj).get("resourceVersion", ""),
    )


# --- plans -> API bodies --------------------------------------------------------------



def _nested(changes: list[Change]) -> dict[str, Any]:
    """A merge patch setting each change's path to its `after`."""
    body: dict[str, Any] = {}
    for change in changes:
        node = body
        for part in change.path[:-1]:
            node = node.setdefault(part, {})
        node[change.path[-1]] = change.after
    return body


def _at(obj: dict[str, Any], path: tuple[str, ...]) -> Any:
    current: Any = obj
    for part in path:
        if not isinstance(current, dict):
            return None
        current = current.get(part)
    return current
