"""FakeKubeAPI: an in-process Kubernetes API server over real HTTP on loopback.

It serves the sandbox (`wbctl --sandbox`) and the test suite alike, so rehearsals and tests
run the real adapter and the real client against the same semantics. Why a fake of our own: no real API server can run here, and the one packaged emulator (kmock)
has no label selectors, pagination, resourceVersion counter, dry run or scale subresource, and
needs an asyncio test plugin. wbctl's Kubernetes adapter uses the official `kubernetes` client,
whose generated pydantic models validate every response; so this fake speaks the wire protocol
the client expects (paths, query parameters, PATCH content types, Status bodies) and returns
complete objects, and tests drive it only through that client via `write_kubeconfig`.

What it implements, with the API server's semantics (see kube_semantics.py for the pure parts):
get/list/create/update(PUT)/patch/delete on the kinds in RESOURCE_TYPES; label selectors and the
field selectors each kind indexes; pagination with `limit`/`continue`; a global resourceVersion
bumped on every write (a no-op write bumps nothing); optimistic concurrency (409 when a PUT or
PATCH carries a stale metadata.resourceVersion); merge, strategic-merge and JSON patch (and 415
for strategic merge on a custom resource, as a real server answers); `dryRun=All`; the
deployments/scale subresource (autoscaling/v1 Scale); status owned by a status subresource
(writes to the main resource leave `status` alone); 401, 403, 404, 409, 410, 415 and 422 Status
bodies; bearer-token authentication; ConfigMaps (whose `data` must hold strings). Failure
injection: forbid, unauthorized, delay (held outside the lock, so concurrent requests wait side
by side), without_resource (CRD absent), expire_continue_tokens, conflict_next (another writer
wins the race). `connections()` counts the TCP connections accepted: a client that keeps its
connection alive between rounds opens none after the first. Not implemented: watch,
server-side apply, the /status subresource endpoints, admission and controllers (scaling a
Deployment changes spec.replicas, not status or pods: use `merge` to play the controller).
"""

from __future__ import annotations

import base64
import copy
import json
import re
import threading
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qs, urlsplit

import yaml

from wbctl.sandbox.kube_semantics import (
    PATCHERS,
    PatchApplyError,
    PatchFormatError,
    SelectorError,
    field_value,
    fields_match,
    labels_match,
    merge_patch,
    parse_field_selector,
    parse_label_selector,
)

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
    "spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
    "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName",
}
_EVENT_FIELDS = _META_FIELDS | {
    "involvedObject.kind", "involvedObject.namespace", "involvedObject.name", "involvedObject.uid",
    "involvedObject.apiVersion", "involvedObject.resourceVersion", "involvedObject.fieldPath",
    "reason", "reportingComponent", "source", "type",
}

RESOURCE_TYPES: tuple[ResourceType, ...] = (
    ResourceType("", "v1", "pods", "Pod", "pod", tracks_generation=False, field_labels=_POD_FIELDS,
                 initial_status={"phase": "Pending", "qosClass": "BestEffort"}),
    ResourceType("", "v1", "nodes", "Node", "node", namespaced=False, tracks_generation=False,
                 field_labels=_META_FIELDS | {"spec.unschedulable"}),
    ResourceType("", "v1", "events", "Event", "event", status_subresource=False, tracks_generation=False,
                 field_labels=_EVENT_FIELDS),
    ResourceType("", "v1", "configmaps", "ConfigMap", "configmap", status_subresource=False, tracks_generation=False),
    ResourceType("apps", "v1", "deployments", "Deployment", "deployment", subresources=("scale",)),
    ResourceType("apps", "v1", "statefulsets", "StatefulSet", "statefulset"),
    ResourceType("apps", "v1", "daemonsets", "DaemonSet", "daemonset"),
    ResourceType("batch", "v1", "cronjobs", "CronJob", "cronjob"),
    ResourceType("batch", "v1", "jobs", "Job", "job", field_labels=_META_FIELDS | {"status.successful"}),
    ResourceType("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
                 "horizontalpodautoscaler", initial_status={"desiredReplicas": 0}),
    ResourceType("storage.k8s.io", "v1", "csidrivers", "CSIDriver", "csidriver", namespaced=False,
                 status_subresource=False),
    ResourceType("apps.wandb.com", "v1", "weightsandbiases", "WeightsAndBiases", "weightsandbiases",
                 custom=True),
    ResourceType("keda.sh", "v1alpha1", "scaledobjects", "ScaledObject", "scaledobject", custom=True),
)

#: What `/version` answers: a GKE build, so version checks see something realistic.
VERSION_INFO: Obj = {
    "major": "1", "minor": "31", "emulationMajor": "1", "emulationMinor": "31",
    "minCompatibilityMajor": "1", "minCompatibilityMinor": "30",
    "gitVersion": "v1.31.6-gke.1020000", "gitCommit": "0d4e1b7a3a2b0d2c8c9b1f4b4c2f5e6a7b8c9d0e",
    "gitTreeState": "clean", "buildDate": "2025-02-20T04:09:37Z", "goVersion": "go1.22.12 X:boringcrypto",
    "compiler": "gc", "platform": "linux/amd64",
}

#: Where resource quantities live; the client's models reject a number there (as a real API server, which sends strings).
_QUANTITY_MAPS = frozenset({"requests", "limits", "capacity", "allocatable", "hard", "used", "overhead"})


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_body(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> Obj:
    """A metav1.Status as the API server writes it for a failure."""
    body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                 "message": message, "reason": reason, "code": code}
    if details is not None:
        body["details"] = dict(details)
    return body


class ApiError(Exception):
    """A failure answered with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, reason, message, details)


def _not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{rtype.group_resource} "{name}" not found',
                    {"name": name, "group": rtype.group, "kind": rtype.plural})


def _no_such_resource() -> ApiError:
    """What an unregistered group/version/resource answers (a CRD that is not installed)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def _conflict(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        409, "Conflict",
        f'Operation cannot be fulfilled on {rtype.group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "BadRequest", message)


@dataclass(frozen=True)
class FieldError:
    field: str
    kind: str  # "Invalid" or "Required"
    value: Any = None
    detail: str = ""

    def text(self) -> str:
        if self.kind == "Required":
            return f"{self.field}: Required value" + (f": {self.detail}" if self.detail else "")
        return f"{self.field}: Invalid value: {json.dumps(self.value)}: {self.detail}"


def _invalid(rtype: ResourceType, name: str, errors: list[FieldError], kind: str | None = None, group: str | None = None) -> ApiError:
    """422 Invalid with one cause per field, worded like apimachinery's field.ErrorList."""
    group = rtype.group if group is None else group
    kind = rtype.kind if kind is None else kind
    group_kind = f"{kind}.{group}" if group else kind
    texts = [error.text() for error in errors]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [{"reason": f"FieldValue{error.kind}", "message": error.text().split(": ", 1)[1], "field": error.field}
              for error in errors]
    return ApiError(422, "Invalid", f'{group_kind} "{name}" is invalid: {summary}',
                    {"name": name, "group": group, "kind": kind, "causes": causes})


@dataclass(frozen=True)
class RecordedRequest:
    """One request as the fake saw it, for asserting what (and how much) a command asked."""

    method: str
    path: str
    query: dict[str, str]
    content_type: str | None
    body: Any
    verb: str | None  # get, list, watch, create, update, patch, delete; None for discovery
    resource: str | None  # plural, with "/scale" for the subresource; None for discovery


@dataclass(frozen=True)
class _Route:
    rtype: ResourceType | None
    namespace: str | None
    name: str | None
    subresource: str | None
    verb: str | None
    resource: str | None  # for RBAC: plural or plural/subresource


@dataclass
class _Race:
    """A concurrent writer that lands just before a matching request."""

    verb: str
    resource: str
    namespace: str | None
    remaining: int
    change: Mapping[str, Any]
    on_dry_run: bool


@dataclass
class _Faults:
    forbidden: set[tuple[str, str, str | None]] = field(default_factory=set)
    races: list[_Race] = field(default_factory=list)
    unauthorized: bool = False
    delay: float = 0.0
    missing: set[str] = field(default_factory=set)
    expire_continue: bool = False


def _get_path(obj: Mapping[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def _check_quantities(node: Any, where: str) -> None:
    """Refuse numbers where the API server would hold quantity strings: fail at `add`, not in
    the middle of a product test with a pydantic error."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _QUANTITY_MAPS and isinstance(value, dict):
                for resource, quantity in value.items():
                    if not isinstance(quantity, str):
                        raise ValueError(f"{where}: {key}.{resource} must be a quantity string, not {quantity!r}")
            _check_quantities(value, where)
    elif isinstance(node, list):
        for item in node:
            _check_quantities(item, where)


def _selector_string(selector: Mapping[str, Any] | None) -> str:
    """metav1.LabelSelector -> the string form a Scale's status.selector carries."""
    if not selector:
        return ""
    terms = [f"{k}={v}" for k, v in sorted((selector.get("matchLabels") or {}).items())]
    for expression in selector.get("matchExpressions") or []:
        key, op, values = expression["key"], expression["operator"], expression.get("values") or []
        if op == "In":
            terms.append(f"{key} in ({','.join(sorted(values))})")
        elif op == "NotIn":
            terms.append(f"{key} notin ({','.join(sorted(values))})")
        elif op == "Exists":
            terms.append(key)
        elif op == "DoesNotExist":
            terms.append(f"!{key}")
    return ",".join(terms)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

#: Typed integer fields of built-in kinds: a JSON string there fails decoding (400), as in Go.
_INT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "deployments": (("spec.replicas", "DeploymentSpec"),),
    "horizontalpodautoscalers": (("spec.minReplicas", "HorizontalPodAutoscalerSpec"),
                                 ("spec.maxReplicas", "HorizontalPodAutoscalerSpec")),
    "scale": (("spec.replicas", "ScaleSpec"),),
}


def _decode_check(kind_key: str, obj: Obj) -> None:
    """The JSON-decoding errors a Go API server gives before validation even starts."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise _bad_request("Object 'metadata' is missing or not an object")
    for map_name in ("labels", "annotations"):
        values = metadata.get(map_name)
        if values is None:
            continue
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise _bad_request(
                f"json: cannot unmarshal non-string into Go struct field ObjectMeta.metadata.{map_name} of type string")
    data = obj.get("data") if kind_key == "configmaps" else None
    if data is not None and (not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values())):
        raise _bad_request("json: cannot unmarshal non-string into Go struct field ConfigMap.data of type string")
    for path, go_type in _INT_FIELDS.get(kind_key, ()):
        value = _get_path(obj, path)
        if value is not None and not _is_int(value):
            kind = type(value).__name__.replace("str", "string").replace("float", "number")
            raise _bad_request(
                f"json: cannot unmarshal {kind} into Go struct field {go_type}.{path} of type int32")


def _validate(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    """The subset of API-server validation that wbctl's changes can trip over."""
    errors: list[FieldError] = []
    name = obj["metadata"].get("name", "")
    if not name:
        errors.append(FieldError("metadata.name", "Required", detail="name or generateName is required"))
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        errors.append(FieldError("metadata.name", "Invalid", name,
                                 "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                                 "'-' or '.', and must start and end with an alphanumeric character"))
    spec = obj.get("spec")
    if rtype.plural == "deployments":
        spec = spec if isinstance(spec, dict) else {}
        replicas = spec.get("replicas")
        if _is_int(replicas) and replicas < 0:
            errors.append(FieldError("spec.replicas", "Invalid", replicas, "must be greater than or equal to 0"))
        if not spec.get("selector"):
            errors.append(FieldError("spec.selector", "Required"))
    elif rtype.plural == "horizontalpodautoscalers":
        spec = spec if isinstance(spec, dict) else {}
        target = spec.get("scaleTargetRef") or {}
        if not target.get("kind"):
            errors.append(FieldError("spec.scaleTargetRef.kind", "Required"))
        if not target.get("name"):
            errors.append(FieldError("spec.scaleTargetRef.name", "Required"))
        minimum, maximum = spec.get("minReplicas"), spec.get("maxReplicas")
        if minimum is not None and minimum < 1:
            errors.append(FieldError("spec.minReplicas", "Invalid", minimum, "must be greater than or equal to 1"))
        if maximum is None:
            errors.append(FieldError("spec.maxReplicas", "Required"))
        elif maximum < 1:
            errors.append(FieldError("spec.maxReplicas", "Invalid", maximum, "must be greater than 0"))
        elif minimum is not None and maximum < minimum:
            errors.append(FieldError("spec.maxReplicas", "Invalid", maximum, "must be greater than or equal to `minReplicas`"))
        for index, metric in enumerate(spec.get("metrics") or []):
            target_spec = (metric.get(metric.get("type", "").lower()) or {}).get("target") or {}
            utilization = target_spec.get("averageUtilization")
            if utilization is not None and (not _is_int(utilization) or utilization < 1):
                errors.append(FieldError(f"spec.metrics[{index}].resource.target.averageUtilization", "Invalid",
                                         utilization, "must be greater than 0"))
    elif rtype.plural == "cronjobs":
        if not isinstance(spec, dict) or not spec.get("schedule"):
            errors.append(FieldError("spec.schedule", "Required"))
    elif rtype.custom:
        if spec is not None and not isinstance(spec, dict):
            errors.append(FieldError("spec", "Invalid", spec, f'spec in body must be of type object: "{type(spec).__name__}"'))
        elif isinstance(spec, dict):
            for key in ("chart", "values"):
                if key in spec and not isinstance(spec[key], dict):
                    errors.append(FieldError(f"spec.{key}", "Invalid", spec[key],
                                             f"spec.{key} in body must be of type object"))
    return errors


@dataclass(frozen=True, slots=True)
class _Entry:
    """One stored object, kept as its JSON text. Immutable by construction, invisible to the
    garbage collector (2,000 pods held as dicts make every full collection of the test process
    take ~100 ms), and a list answers by joining texts instead of encoding objects. Labels and
    the kind's indexed fields are kept beside it for selectors."""

    text: str
    item_text: str  # as a list item: built-in kinds drop apiVersion/kind there, like the API server
    labels: Mapping[str, str]
    fields: Mapping[str, str]

    @classmethod
    def of(cls, rtype: ResourceType, obj: Obj) -> _Entry:
        text = json.dumps(obj, separators=(",", ":"))
        item_text = text if rtype.custom else json.dumps(
            {k: v for k, v in obj.items() if k not in ("apiVersion", "kind")}, separators=(",", ":"))
        labels = dict(obj["metadata"].get("labels") or {})
        return cls(text, item_text, labels, {path: field_value(obj, path) for path in rtype.field_labels})

    def load(self) -> Obj:
        return json.loads(self.text)


class FakeKubeAPI:
    """An in-process Kubernetes API server for tests; see the module docstring for its scope.

    Typical use::

        with FakeKubeAPI() as api:
            api.add_all(chart_043())
            kubeconfig = api.write_kubeconfig(tmp_path / "kubeconfig")
            ...  # run wbctl with KUBECONFIG=kubeconfig
            assert api.get("deployments", "default", "wandb-api")["spec"]["replicas"] == 3
    """

    def __init__(self, *, user: str = "test", token: str = "fake-token") -> None:
        self.user = user
        self.token = token
        self._lock = threading.RLock()
        # plural -> (namespace or "", name) -> the object as JSON text (see _Entry)
        self._store: dict[str, dict[tuple[str, str], _Entry]] = {rtype.plural: {} for rtype in RESOURCE_TYPES}
        self._types = {rtype.plural: rtype for rtype in RESOURCE_TYPES}
        self._rv = 1000
        self._requests: list[RecordedRequest] = []
        self._connections = 0  # TCP connections accepted since start or reset_requests()
        self._faults = _Faults()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -----------------------------------------------------------------------

    def start(self) -> FakeKubeAPI:
        """Listen on a free loopback port and serve from a daemon thread."""
        if self._server is not None:
            return self
        self._stopping.clear()
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(self))
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="fake-kube-api", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving; delayed responses still in flight are cut short."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> FakeKubeAPI:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("FakeKubeAPI is not started")
        return int(self._server.server_address[1])

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def write_kubeconfig(self, path: str | Path, context: str = "fake", namespace: str = "default",
                         *, make_current: bool = True) -> Path:
        """Write (or add a context to) a kubeconfig pointing at this server, with a bearer token.

        An existing file keeps its other clusters, users and contexts, so one file can hold
        several contexts (e.g. two fakes standing for two clusters)."""
        path = Path(path)
        config: Obj = {"apiVersion": "v1", "kind": "Config", "preferences": {},
                       "clusters": [], "users": [], "contexts": []}
        if path.exists():
            config.update(yaml.safe_load(path.read_text()) or {})

        def upsert(section: str, entry: Obj) -> None:
            entries = [e for e in config.get(section) or [] if e.get("name") != entry["name"]]
            config[section] = [*entries, entry]

        upsert("clusters", {"name": f"{context}-cluster",
                            "cluster": {"server": self.url, "insecure-skip-tls-verify": True}})
        upsert("users", {"name": f"{context}-user", "user": {"token": self.token}})
        upsert("contexts", {"name": context, "context": {"cluster": f"{context}-cluster",
                                                         "user": f"{context}-user", "namespace": namespace}})
        if make_current or not config.get("current-context"):
            config["current-context"] = context
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(config, sort_keys=False))
        return path

    # --- state, for arranging and asserting -------------------------------------------------

    def resource_type(self, resource: str) -> ResourceType:
        """Look a kind up by plural (`deployments`) or group-qualified plural (`deployments.apps`)."""
        plural = resource.split(".", 1)[0]
        try:
            return self._types[plural]
        except KeyError:
            raise KeyError(f"FakeKubeAPI serves no resource {resource!r}") from None

    def _type_of(self, obj: Mapping[str, Any]) -> ResourceType:
        api_version, kind = obj.get("apiVersion"), obj.get("kind")
        for rtype in RESOURCE_TYPES:
            if rtype.api_version == api_version and rtype.kind == kind:
                return rtype
        raise ValueError(f"FakeKubeAPI serves no {api_version}/{kind}")

    def _next_rv(self) -> str:
        self._rv += 1
        return str(self._rv)

    @property
    def resource_version(self) -> str:
        """The current global resourceVersion (the last write's)."""
        with self._lock:
            return str(self._rv)

    def add(self, obj: Mapping[str, Any]) -> Obj:
        """Store an object as a controller or kubectl would have created it, or replace it.

        Fills uid and creationTimestamp when missing (kept from the stored object on replace),
        metadata.generation for kinds that track it, and always a fresh resourceVersion, so the
        global counter stays monotonic. A namespaced object without a namespace goes to
        `default`. Returns a copy of what was stored."""
        rtype = self._type_of(obj)
        stored = copy.deepcopy(dict(obj))
        metadata = stored.setdefault("metadata", {})
        name = metadata.get("name")
        if not name:
            raise ValueError("an object needs metadata.name")
        if rtype.namespaced:
            metadata.setdefault("namespace", "default")
        else:
            metadata.pop("namespace", None)
        _check_quantities(stored, f"{rtype.kind} {name}")
        for map_name in ("labels", "annotations"):
            if not all(isinstance(v, str) for v in (metadata.get(map_name) or {}).values()):
                raise ValueError(f"{rtype.kind} {name}: metadata.{map_name} values must be strings")
        if rtype.plural == "configmaps" and not all(isinstance(v, str) for v in (stored.get("data") or {}).values()):
            raise ValueError(f"ConfigMap {name}: data values must be strings")
        key = (metadata.get("namespace", ""), name)
        with self._lock:
            previous = self._store[rtype.plural].get(key)
            old_meta = previous.load()["metadata"] if previous else {}
            metadata.setdefault("uid", old_meta.get("uid") or str(uuid.uuid4()))
            metadata.setdefault("creationTimestamp", old_meta.get("creationTimestamp") or _now())
            if rtype.tracks_generation:
                metadata.setdefault("generation", old_meta.get("generation", 1))
            metadata.setdefault("labels", {})
            metadata["resourceVersion"] = self._next_rv()
            self._store[rtype.plural][key] = _Entry.of(rtype, stored)
            return stored

    def add_all(self, objs: Iterable[Mapping[str, Any]]) -> None:
        for obj in objs:
            self.add(obj)

    def get(self, resource: str, namespace: str | None, name: str) -> Obj | None:
        """A copy of the stored object, or None."""
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            entry = self._store[rtype.plural].get(key)
        return entry.load() if entry is not None else None

    def objects(self, resource: str, namespace: str | None = None) -> list[Obj]:
        """Copies of every stored object of a kind (in one namespace, if given), in key order."""
        rtype = self.resource_type(resource)
        with self._lock:
            items = sorted(self._store[rtype.plural].items())
        return [entry.load() for (ns, _), entry in items if namespace is None or ns == namespace]

    def merge(self, resource: str, namespace: str | None, name: str, patch: Mapping[str, Any]) -> Obj:
        """Merge-patch a stored object from the test side, status included, bumping its
        resourceVersion: this is how a test plays the operator or a controller (e.g. the
        operator reverting a direct scale, or a rollout finishing)."""
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            current = self._store[rtype.plural].get(key)
            if current is None:
                raise KeyError(f"{rtype.group_resource} {namespace}/{name} not found")
            updated = merge_patch(current.load(), copy.deepcopy(dict(patch)))
            _check_quantities(updated, f"{rtype.kind} {name}")
            updated["metadata"]["resourceVersion"] = self._next_rv()
            self._store[rtype.plural][key] = _Entry.of(rtype, updated)
            return updated

    def remove(self, resource: str, namespace: str | None, name: str) -> bool:
        rtype = self.resource_type(resource)
        key = ((namespace or "") if rtype.namespaced else "", name)
        with self._lock:
            if self._store[rtype.plural].pop(key, None) is None:
                return False
            self._next_rv()
            return True

    # --- request log ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received since start or the last reset_requests(), in order."""
        with self._lock:
            return list(self._requests)

    def reset_requests(self) -> None:
        with self._lock:
            self._requests.clear()
            self._connections = 0

    def connections(self) -> int:
        """TCP connections accepted since start or reset_requests(): the client's urllib3 pool
        keeps one alive between requests, so a reused ApiClient adds none."""
        with self._lock:
            return self._connections

    def _connected(self) -> None:
        with self._lock:
            self._connections += 1

    def count(self, verb: str | None = None, resource: str | None = None, *, method: str | None = None) -> int:
        """How many recorded requests match, e.g. count("list", "pods"); discovery counts too
        when no filter is given."""
        return sum(1 for r in self.requests
                   if (verb is None or r.verb == verb)
                   and (resource is None or r.resource == resource)
                   and (method is None or r.method == method))

    # --- failure injection ------------------------------------------------------------------

    def forbid(self, verb: str, resource: str, namespace: str | None = None) -> None:
        """Answer 403 to `verb` (get, list, create, update, patch, delete or "*") on a resource
        (plural, or `deployments/scale` for the subresource, which RBAC grants separately) in
        one namespace or, with None, everywhere."""
        with self._lock:
            self._faults.forbidden.add((verb, resource, namespace))

    def unauthorized(self, enabled: bool = True) -> None:
        """Answer every request with 401 (an expired or revoked credential)."""
        with self._lock:
            self._faults.unauthorized = enabled

    def delay(self, seconds: float) -> None:
        """Hold every response for `seconds` (0 turns it off): for timeout tests."""
        with self._lock:
            self._faults.delay = max(0.0, seconds)

    def without_resource(self, resource: str) -> None:
        """Stop serving a kind, as a cluster without its CRD (KEDA absent): 404 on every path
        of it, and gone from discovery."""
        with self._lock:
            self._faults.missing.add(self.resource_type(resource).plural)

    def expire_continue_tokens(self, enabled: bool = True) -> None:
        """Answer 410 Expired to any list that passes a continue token (a compacted etcd)."""
        with self._lock:
            self._faults.expire_continue = enabled

    def conflict_next(self, verb: str, resource: str, namespace: str | None = None, *, times: int = 1,
                      change: Mapping[str, Any] | None = None, on_dry_run: bool = False) -> None:
        """Let another writer (the operator, a colleague) win the race: just before each of the
        next `times` matching requests (verb `patch`/`update`/`delete` on a plural or
        `deployments/scale`), the target object is written first, merge-patched with `change`
        or, without one, only given a new resourceVersion. A request that carries the
        resourceVersion it read then gets a real 409; one without a precondition still succeeds.
        Dry-run requests do not trigger it unless `on_dry_run`."""
        with self._lock:
            self._faults.races.append(_Race(verb, resource, namespace, times, dict(change or {}), on_dry_run))

    def _run_race(self, route: _Route, dry_run: bool) -> None:
        with self._lock:
            for race in self._faults.races:
                if (race.remaining > 0 and race.verb == route.verb and race.resource == route.resource
                        and race.namespace in (None, route.namespace) and (race.on_dry_run or not dry_run)):
                    race.remaining -= 1
                    assert route.rtype is not None and route.name is not None
                    if self.get(route.rtype.plural, route.namespace, route.name) is not None:
                        self.merge(route.rtype.plural, route.namespace, route.name, race.change)
                    return

    def reset_faults(self) -> None:
        with self._lock:
            self._faults = _Faults()

    # --- HTTP -------------------------------------------------------------------------------

    def _served(self) -> list[ResourceType]:
        with self._lock:
            return [rtype for rtype in RESOURCE_TYPES if rtype.plural not in self._faults.missing]

    def _route(self, method: str, path: str, query: Mapping[str, list[str]]) -> _Route | None:
        """Map a resource path to its kind, namespace, name and RBAC verb (None: not a resource path)."""
        parts = [p for p in path.split("/") if p]
        if len(parts) >= 3 and parts[:2] == ["api", "v1"]:
            group, version, rest = "", "v1", parts[2:]
        elif len(parts) >= 4 and parts[0] == "apis":
            group, version, rest = parts[1], parts[2], parts[3:]
        else:
            return None
        namespace: str | None = None
        if rest[0] == "namespaces" and len(rest) >= 3:
            namespace, rest = rest[1], rest[2:]
        plural, name = rest[0], rest[1] if len(rest) > 1 else None
        subresource = rest[2] if len(rest) > 2 else None
        rtype = next((t for t in RESOURCE_TYPES if (t.group, t.version, t.plural) == (group, version, plural)), None)
        if len(rest) > 3:
            rtype = None
        watch = (query.get("watch") or ["false"])[-1] in ("true", "1")
        verbs = {"GET": "watch" if watch else ("get" if name else "list"), "POST": "create", "PUT": "update",
                 "PATCH": "patch", "DELETE": "delete" if name else "deletecollection"}
        verb = verbs.get(method)
        resource = f"{plural}/{subresource}" if subresource else plural
        return _Route(rtype, namespace, name, subresource, verb, resource)

    def handle(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, bytes]:
        """Answer one request: (HTTP status, JSON body bytes). The HTTP handler is a thin shell
        on this; tests may call it directly to time the server's share of a request.
        `headers` are keyed in lower case."""
        status, payload = self._answer(method, raw_path, headers, body)
        text = payload if isinstance(payload, str) else json.dumps(payload, separators=(",", ":"))
        return status, text.encode()

    def _answer(self, method: str, raw_path: str, headers: Mapping[str, str], body: bytes) -> tuple[int, Payload]:
        split = urlsplit(raw_path)
        query = parse_qs(split.query, keep_blank_values=True)
        content_type = headers.get("content-type")
        route = self._route(method, split.path, query)
        try:
            parsed_body: Any = json.loads(body) if body else None
        except ValueError:
            parsed_body = body.decode("utf-8", "replace")
        with self._lock:
            self._requests.append(RecordedRequest(
                method, split.path, {k: v[-1] for k, v in query.items()}, content_type, parsed_body,
                route.verb if route else None, route.resource if route else None))
            faults = copy.deepcopy(self._faults)
        if faults.delay:
            self._stopping.wait(faults.delay)
        try:
            if faults.unauthorized or headers.get("authorization") != f"Bearer {self.token}":
                raise ApiError(401, "Unauthorized", "Unauthorized")
            if route is None:
                return 200, self._discovery(split.path.rstrip("/") or "/")
            return self._serve(route, method, query, content_type, body, faults)
        except ApiError as error:
            return error.code, error.body

    def _discovery(self, path: str) -> Obj:
        served = self._served()
        if path == "/version":
            return dict(VERSION_INFO)
        if path == "/api":
            return {"kind": "APIVersions", "versions": ["v1"],
                    "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{self.port}"}]}
        groups: dict[str, list[str]] = {}
        for rtype in served:
            if rtype.group:
                versions = groups.setdefault(rtype.group, [])
                if rtype.version not in versions:
                    versions.append(rtype.version)

        def group_doc(name: str) -> Obj:
            versions = [{"groupVersion": f"{name}/{v}", "version": v} for v in groups[name]]
            return {"name": name, "versions": versions, "preferredVersion": versions[0]}

        if path == "/apis":
            return {"kind": "APIGroupList", "apiVersion": "v1", "groups": [group_doc(g) for g in groups]}
        parts = [p for p in path.split("/") if p]
        if len(parts) == 2 and parts[0] == "apis" and parts[1] in groups:
            return {"kind": "APIGroup", "apiVersion": "v1", **group_doc(parts[1])}
        if parts == ["api", "v1"] or (len(parts) == 3 and parts[0] == "apis"):
            group, version = ("", "v1") if parts[0] == "api" else (parts[1], parts[2])
            members = [t for t in served if (t.group, t.version) == (group, version)]
            if members:
                resources: list[Obj] = []
                for t in members:
                    resources.append({"name": t.plural, "singularName": t.singular, "namespaced": t.namespaced,
                                      "kind": t.kind, "verbs": ["create", "delete", "get", "list", "patch", "update"]})
                    if "scale" in t.subresources:
                        resources.append({"name": f"{t.plural}/scale", "singularName": "", "namespaced": t.namespaced,
                                          "group": "autoscaling", "version": "v1", "kind": "Scale",
                                          "verbs": ["get", "patch", "update"]})
                return {"kind": "APIResourceList", "apiVersion": "v1", "groupVersion": members[0].api_version,
                        "resources": resources}
        raise _no_such_resource()

    def _check_access(self, route: _Route, faults: _Faults) -> None:
        assert route.rtype is not None and route.verb is not None
        for verb, resource, namespace in faults.forbidden:
            if verb in (route.verb, "*") and resource == route.resource and namespace in (None, route.namespace):
                rtype = route.rtype
                subject = f'{rtype.group_resource} "{route.name}"' if route.name else rtype.group_resource
                scope = f'in the namespace "{route.namespace}"' if route.namespace else "at the cluster scope"
                details: Obj = {"group": rtype.group, "kind": rtype.plural}
                if route.name:
                    details = {"name": route.name, **details}
                raise ApiError(403, "Forbidden",
                               f'{subject} is forbidden: User "{self.user}" cannot {route.verb} resource '
                               f'"{route.resource}" in API group "{rtype.group}" {scope}', details)

    def _serve(self, route: _Route, method: str, query: Mapping[str, list[str]], content_type: str | None,
               body: bytes, faults: _Faults) -> tuple[int, Payload]:
        rtype = route.rtype
        if rtype is None or rtype.plural in faults.missing or route.verb is None:
            raise _no_such_resource()
        if route.subresource is not None and route.subresource not in rtype.subresources:
            raise _no_such_resource()
        if rtype.namespaced is False and route.namespace is not None:
            raise _no_such_resource()
        if rtype.namespaced and route.namespace is None and route.name is not None:
            raise _no_such_resource()
        self._check_access(route, faults)
        dry_values = query.get("dryRun") or []
        for value in dry_values:
            if value != "All":
                raise _bad_request(f'dryRun: Unsupported value: "{value}": supported values: "All"')
        dry_run = bool(dry_values)
        namespace = route.namespace or ""

        if route.verb == "list":
            return 200, self._list(rtype, route.namespace, query, faults)
        if route.verb == "get":
            obj = self._lookup(rtype, namespace, route.name or "")
            return 200, self._scale_view(obj) if route.subresource == "scale" else obj
        if route.verb == "create" and route.name is None:
            return 201, self._create(rtype, namespace, self._json(body), dry_run)
        if route.verb in ("update", "patch", "delete") and route.name is not None:
            self._run_race(route, dry_run)
        if route.verb in ("update", "patch") and route.name is not None:
            return 200, self._write(rtype, namespace, route.name, route.subresource, route.verb,
                                    content_type, body, dry_run)
        if route.verb == "delete" and route.name is not None and route.subresource is None:
            return 200, self._delete(rtype, namespace, route.name, dry_run)
        raise ApiError(405, "MethodNotAllowed",
                       f"the server does not allow this method on the requested resource ({route.verb} is not served by FakeKubeAPI)")

    @staticmethod
    def _json(body: bytes) -> Any:
        try:
            return json.loads(body) if body else None
        except ValueError as error:
            raise _bad_request(f"couldn't get version/kind; json parse error: {error}") from None

    def _lookup(self, rtype: ResourceType, namespace: str, name: str) -> Obj:
        with self._lock:
            entry = self._store[rtype.plural].get((namespace if rtype.namespaced else "", name))
        if entry is None:
            raise _not_found(rtype, name)
        return entry.load()

    # --- list ---------------------------------------------------------------------------------

    def _list(self, rtype: ResourceType, namespace: str | None, query: Mapping[str, list[str]], faults: _Faults) -> str:
        def one(name: str) -> str | None:
            values = query.get(name)
            return values[-1] if values else None

        try:
            label_requirements = parse_label_selector(one("labelSelector"))
            field_requirements = parse_field_selector(one("fieldSelector"), rtype.field_labels)
        except SelectorError as error:
            raise _bad_request(str(error)) from None
        limit_text = one("limit")
        try:
            limit = int(limit_text) if limit_text else 0
        except ValueError:
            raise _bad_request(f"limit: Invalid value: {limit_text!r}") from None
        token = one("continue")
        start_after: tuple[str, str] | None = None
        token_rv: str | None = None
        if token:
            if faults.expire_continue:
                raise ApiError(410, "Expired",
                               "The provided continue parameter is too old to display a consistent list result. "
                               "You can start a new list without the continue parameter.")
            start_after, token_rv = self._decode_continue(token)
        with self._lock:
            list_rv = token_rv or str(self._rv)
            matched: list[tuple[tuple[str, str], _Entry]] = []
            for key, entry in sorted(self._store[rtype.plural].items()):
                if namespace is not None and key[0] != namespace:
                    continue
                if start_after is not None and key <= start_after:
                    continue
                if not labels_match(label_requirements, entry.labels):
                    continue
                if not fields_match(field_requirements, entry.fields):
                    continue
                matched.append((key, entry))
        page = matched[:limit] if limit > 0 else matched
        metadata: Obj = {"resourceVersion": list_rv}
        if limit > 0 and len(matched) > limit:
            metadata["continue"] = self._encode_continue(page[-1][0], list_rv)
            if not label_requirements and not field_requirements:
                metadata["remainingItemCount"] = len(matched) - limit
        head = json.dumps({"apiVersion": rtype.api_version, "kind": f"{rtype.kind}List", "metadata": metadata},
                          separators=(",", ":"))
        return head[:-1] + ',"items":[' + ",".join(entry.item_text for _, entry in page) + "]}"

    @staticmethod
    def _encode_continue(key: tuple[str, str], rv: str) -> str:
        raw = json.dumps({"v": "meta.k8s.io/v1", "rv": int(rv), "start": f"{key[0]}/{key[1]}"}).encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @staticmethod
    def _decode_continue(token: str) -> tuple[tuple[str, str], str]:
        try:
            raw = json.loads(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
            namespace, name = raw["start"].split("/", 1)
            return (namespace, name), str(int(raw["rv"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise _bad_request(f"continue key is not valid: {token!r}") from None

    # --- writes -------------------------------------------------------------------------------

    def _create(self, rtype: ResourceType, namespace: str, body: Any, dry_run: bool) -> Obj:
        if not isinstance(body, dict):
            raise _bad_request("the body of a create must be a JSON object")
        obj = copy.deepcopy(body)
        for key, expected in (("apiVersion", rtype.api_version), ("kind", rtype.kind)):
            if obj.get(key) not in (None, "", expected):
                raise _bad_request(f"the {key} in the data ({obj[key]}) does not match the expected {key} ({expected})")
            obj[key] = expected
        metadata = obj.setdefault("metadata", {})
        _decode_check(rtype.plural, obj)
        if rtype.namespaced:
            if metadata.get("namespace") not in (None, "", namespace):
                raise _bad_request("the namespace of the provided object does not match the namespace sent on the request")
            metadata["namespace"] = namespace
        else:
            metadata.pop("namespace", None)
        if not metadata.get("name") and metadata.get("generateName"):
            metadata["name"] = metadata["generateName"] + uuid.uuid4().hex[:5]
        if metadata.get("resourceVersion"):
            raise ApiError(500, "InternalError", "resourceVersion should not be set on objects to be created")
        if rtype.status_subresource:
            obj.pop("status", None)
            if rtype.initial_status is not None:
                obj["status"] = copy.deepcopy(dict(rtype.initial_status))
        errors = _validate(rtype, obj)
        if errors:
            raise _invalid(rtype, metadata.get("name", ""), errors)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = _now()
        if rtype.tracks_generation:
            metadata["generation"] = 1
        metadata.setdefault("labels", {})
        key = (metadata.get("namespace", ""), metadata["name"])
        with self._lock:
            if key in self._store[rtype.plural]:
                raise ApiError(409, "AlreadyExists", f'{rtype.group_resource} "{key[1]}" already exists',
                               {"name": key[1], "group": rtype.group, "kind": rtype.plural})
            if dry_run:
                return obj
            metadata["resourceVersion"] = self._next_rv()
            self._store[rtype.plural][key] = _Entry.of(rtype, obj)
            return obj

    def _write(self, rtype: ResourceType, namespace: str, name: str, subresource: str | None, verb: str,
               content_type: str | None, body: bytes, dry_run: bool) -> Obj:
        """PUT or PATCH of an object or its scale, all under the lock so the resourceVersion
        precondition and the write are one atomic step, as in etcd."""
        with self._lock:
            stored = self._lookup(rtype, namespace, name)
            base = self._scale_view(stored) if subresource == "scale" else stored
            if verb == "update":
                candidate = self._json(body)
                if not isinstance(candidate, dict):
                    raise _bad_request("the body of an update must be a JSON object")
            else:
                candidate = self._apply_patch(rtype, base, content_type, body)
            if subresource == "scale":
                return self._commit_scale(rtype, stored, candidate, dry_run)
            return self._commit(rtype, stored, candidate, dry_run)

    def _apply_patch(self, rtype: ResourceType, base: Obj, content_type: str | None, body: bytes) -> Obj:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        accepted = ["application/json-patch+json", "application/merge-patch+json"]  # no server-side apply here
        if not rtype.custom:
            accepted.append("application/strategic-merge-patch+json")
        patcher = PATCHERS.get(media_type)
        if patcher is None or media_type not in accepted:
            raise ApiError(415, "UnsupportedMediaType",
                           f"the body of the request was in an unknown format - accepted media types include: "
                           f"{', '.join(accepted)}")
        patch = self._json(body)
        if media_type != "application/json-patch+json" and not isinstance(patch, dict):
            raise _bad_request(f"the body of a {media_type} patch must be a JSON object")
        try:
            patched = patcher(base, patch)
        except PatchFormatError as error:
            raise _bad_request(str(error)) from None
        except PatchApplyError as error:
            raise ApiError(422, "Invalid", f"the server rejected our request due to an error in our request: {error}",
                           {"causes": [{"reason": "FieldValueInvalid", "message": str(error)}]}) from None
        if not isinstance(patched, dict):
            raise _bad_request("the patched object is not a JSON object")
        return patched

    def _commit(self, rtype: ResourceType, stored: Obj, candidate: Obj, dry_run: bool) -> Obj:
        metadata = candidate.get("metadata")
        if not isinstance(metadata, dict):
            raise _bad_request("Object 'metadata' is missing or not an object")
        stored_meta = stored["metadata"]
        name = stored_meta["name"]
        if metadata.get("name", name) != name:
            raise _bad_request(f"the name of the object ({metadata.get('name')}) does not match the name on the URL ({name})")
        if rtype.namespaced and metadata.get("namespace", stored_meta["namespace"]) != stored_meta["namespace"]:
            raise _bad_request("the namespace of the provided object does not match the namespace sent on the request")
        precondition = metadata.get("resourceVersion")
        if precondition not in (None, "") and precondition != stored_meta["resourceVersion"]:
            raise _conflict(rtype, name)
        _decode_check(rtype.plural, candidate)
        candidate["apiVersion"], candidate["kind"] = stored["apiVersion"], stored["kind"]
        for key in ("name", "namespace", "uid", "creationTimestamp", "generation", "resourceVersion"):
            if key in stored_meta:
                metadata[key] = stored_meta[key]
            else:
                metadata.pop(key, None)
        if rtype.status_subresource:
            if "status" in stored:
                candidate["status"] = copy.deepcopy(stored["status"])  # stored stays the comparison base
            else:
                candidate.pop("status", None)
        errors = _validate(rtype, candidate)
        if errors:
            raise _invalid(rtype, name, errors)
        if candidate == stored:
            return candidate  # a no-op write stores nothing and keeps the resourceVersion
        if rtype.tracks_generation:
            def content(obj: Obj) -> Obj:
                return {k: v for k, v in obj.items() if k not in ("metadata", "status")}

            if content(candidate) != content(stored):
                metadata["generation"] = int(stored_meta.get("generation", 1)) + 1
        if dry_run:
            return candidate
        metadata["resourceVersion"] = self._next_rv()
        self._store[rtype.plural][(stored_meta.get("namespace", ""), name)] = _Entry.of(rtype, candidate)
        return candidate

    @staticmethod
    def _scale_view(deployment: Obj) -> Obj:
        """The autoscaling/v1 Scale a deployments/scale GET returns."""
        metadata = deployment["metadata"]
        return {
            "apiVersion": "autoscaling/v1",
            "kind": "Scale",
            "metadata": {key: metadata[key] for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                         if key in metadata},
            "spec": {"replicas": (deployment.get("spec") or {}).get("replicas", 1)},
            "status": {"replicas": (deployment.get("status") or {}).get("replicas", 0),
                       "selector": _selector_string((deployment.get("spec") or {}).get("selector"))},
        }

    def _commit_scale(self, rtype: ResourceType, stored: Obj, scale: Obj, dry_run: bool) -> Obj:
        name = stored["metadata"]["name"]
        metadata = scale.get("metadata") if isinstance(scale.get("metadata"), dict) else {}
        precondition = metadata.get("resourceVersion")
        if precondition not in (None, "") and precondition != stored["metadata"]["resourceVersion"]:
            raise _conflict(rtype, name)
        if metadata.get("name", name) != name:
            raise _bad_request(f"the name of the object ({metadata.get('name')}) does not match the name on the URL ({name})")
        _decode_check("scale", {"metadata": {}, **scale})
        replicas = (scale.get("spec") or {}).get("replicas")
        if replicas is None:
            replicas = 0  # an omitted replicas decodes to 0 in Go, as a real server does
        if replicas < 0:
            raise _invalid(rtype, name, [FieldError("spec.replicas", "Invalid", replicas, "must be greater than or equal to 0")],
                           kind="Scale", group="autoscaling")
        candidate = copy.deepcopy(stored)
        candidate.setdefault("spec", {})["replicas"] = replicas
        return self._scale_view(self._commit(rtype, stored, candidate, dry_run))

    def _delete(self, rtype: ResourceType, namespace: str, name: str, dry_run: bool) -> Obj:
        with self._lock:
            obj = self._lookup(rtype, namespace, name)
            if not dry_run:
                del self._store[rtype.plural][(namespace if rtype.namespaced else "", name)]
                self._next_rv()
            return obj


def _make_handler(api: FakeKubeAPI) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        """HTTP/1.1 with keep-alive, as the client's urllib3 pool expects; JSON in, JSON out."""

        protocol_version = "HTTP/1.1"
        server_version = "FakeKubeAPI/1"

        def setup(self) -> None:
            """Once per accepted connection (keep-alive requests on it do not come back here)."""
            super().setup()
            api._connected()

        def _dispatch(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            status, data = api.handle(self.command, self.path, headers, body)
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except ConnectionError:
                self.close_connection = True  # the client gave up (a timeout test)

        do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _dispatch

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
            """Silence the per-request stderr log."""

    return Handler

