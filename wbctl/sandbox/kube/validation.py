"""What FakeKubeAPI checks in an object before it stores it: the JSON-decoding errors a Go API
server gives before validation starts (400: non-string labels or ConfigMap data, a string where
an int32 belongs), the subset of API-server validation that wbctl's changes can trip over (422
field errors), and, for objects a test adds directly, quantities that must be strings. Separate
from the verbs so the rules read as one list, and create, update, patch and scale apply the
same ones.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any, TypeGuard

from wbctl.sandbox.kube.errors import FieldError, bad_request
from wbctl.sandbox.kube.types import Obj, ResourceType

#: Where resource quantities live; the client's models reject a number there (as a real API server, which sends strings).
_QUANTITY_MAPS = frozenset({"requests", "limits", "capacity", "allocatable", "hard", "used", "overhead"})


def _get_path(obj: Mapping[str, Any], dotted: str) -> Any:
    node: Any = obj
    for part in dotted.split("."):
        if not isinstance(node, Mapping):
            return None
        node = node.get(part)
    return node


def check_quantities(node: Any, where: str) -> None:
    """Refuse numbers where the API server would hold quantity strings: fail at `add`, not in
    the middle of a product test with a pydantic error."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _QUANTITY_MAPS and isinstance(value, dict):
                for resource, quantity in value.items():
                    if not isinstance(quantity, str):
                        raise ValueError(f"{where}: {key}.{resource} must be a quantity string, not {quantity!r}")
            check_quantities(value, where)
    elif isinstance(node, list):
        for item in node:
            check_quantities(item, where)


def _is_int(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


_DNS_SUBDOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$")

#: Typed integer fields of built-in kinds: a JSON string there fails decoding (400), as in Go.
_INT_FIELDS: dict[str, tuple[tuple[str, str], ...]] = {
    "deployments": (("spec.replicas", "DeploymentSpec"),),
    "horizontalpodautoscalers": (
        ("spec.minReplicas", "HorizontalPodAutoscalerSpec"),
        ("spec.maxReplicas", "HorizontalPodAutoscalerSpec"),
    ),
    "scale": (("spec.replicas", "ScaleSpec"),),
}


def decode_check(kind_key: str, obj: Obj) -> None:
    """The JSON-decoding errors a Go API server gives before validation even starts."""
    metadata = obj.get("metadata")
    if not isinstance(metadata, dict):
        raise bad_request("Object 'metadata' is missing or not an object")
    for map_name in ("labels", "annotations"):
        values = metadata.get(map_name)
        if values is None:
            continue
        if not isinstance(values, dict) or not all(isinstance(v, str) for v in values.values()):
            raise bad_request(
                f"json: cannot unmarshal non-string into Go struct field ObjectMeta.metadata.{map_name} of type string"
            )
    data = obj.get("data") if kind_key == "configmaps" else None
    if data is not None and (not isinstance(data, dict) or not all(isinstance(v, str) for v in data.values())):
        raise bad_request("json: cannot unmarshal non-string into Go struct field ConfigMap.data of type string")
    for path, go_type in _INT_FIELDS.get(kind_key, ()):
        value = _get_path(obj, path)
        if value is not None and not _is_int(value):
            kind = type(value).__name__.replace("str", "string").replace("float", "number")
            raise bad_request(f"json: cannot unmarshal {kind} into Go struct field {go_type}.{path} of type int32")


def _name_errors(name: str) -> list[FieldError]:
    if not name:
        return [FieldError("metadata.name", "Required", detail="name or generateName is required")]
    if len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        return [
            FieldError(
                "metadata.name",
                "Invalid",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character",
            )
        ]
    return []


def _spec(obj: Obj) -> Obj:
    spec = obj.get("spec")
    return spec if isinstance(spec, dict) else {}


def _deployment(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    spec = _spec(obj)
    replicas = spec.get("replicas")
    if _is_int(replicas) and replicas < 0:
        errors.append(FieldError("spec.replicas", "Invalid", replicas, "must be greater than or equal to 0"))
    if not spec.get("selector"):
        errors.append(FieldError("spec.selector", "Required"))
    return errors


def _replica_bounds(spec: Obj) -> list[FieldError]:
    """An HPA's minReplicas and maxReplicas, alone and against each other."""
    errors: list[FieldError] = []
    minimum: Any = spec.get("minReplicas")
    maximum: Any = spec.get("maxReplicas")
    if minimum is not None and minimum < 1:
        errors.append(FieldError("spec.minReplicas", "Invalid", minimum, "must be greater than or equal to 1"))
    if maximum is None:
        errors.append(FieldError("spec.maxReplicas", "Required"))
    elif maximum < 1:
        errors.append(FieldError("spec.maxReplicas", "Invalid", maximum, "must be greater than 0"))
    elif minimum is not None and maximum < minimum:
        errors.append(
            FieldError("spec.maxReplicas", "Invalid", maximum, "must be greater than or equal to `minReplicas`")
        )
    return errors


def _metric_targets(spec: Obj) -> list[FieldError]:
    """An HPA's metrics: a utilization target must be a positive integer."""
    errors: list[FieldError] = []
    for index, metric in enumerate(spec.get("metrics") or []):
        target_spec = (metric.get(metric.get("type", "").lower()) or {}).get("target") or {}
        utilization = target_spec.get("averageUtilization")
        if utilization is not None and (not _is_int(utilization) or utilization < 1):
            errors.append(
                FieldError(
                    f"spec.metrics[{index}].resource.target.averageUtilization",
                    "Invalid",
                    utilization,
                    "must be greater than 0",
                )
            )
    return errors


def _autoscaler(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    spec = _spec(obj)
    target = spec.get("scaleTargetRef") or {}
    if not target.get("kind"):
        errors.append(FieldError("spec.scaleTargetRef.kind", "Required"))
    if not target.get("name"):
        errors.append(FieldError("spec.scaleTargetRef.name", "Required"))
    return errors + _replica_bounds(spec) + _metric_targets(spec)


def _cronjob(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    spec = obj.get("spec")
    if not isinstance(spec, dict) or not spec.get("schedule"):
        return [FieldError("spec.schedule", "Required")]
    return []


def _role(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    return [
        FieldError(f"rules[{index}].verbs", "Required", detail="verbs must contain at least one value")
        for index, rule in enumerate(obj.get("rules") or [])
        if not isinstance(rule, dict) or not rule.get("verbs")
    ]


def _binding(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    errors: list[FieldError] = []
    given = obj.get("roleRef")
    ref: Obj = given if isinstance(given, dict) else {}
    cluster_wide = rtype.plural == "clusterrolebindings"
    if ref.get("kind") not in ("Role", "ClusterRole") or (ref.get("kind") == "Role" and cluster_wide):
        supported = 'supported values: "ClusterRole"' if cluster_wide else 'supported values: "ClusterRole", "Role"'
        errors.append(FieldError("roleRef.kind", "Invalid", ref.get("kind"), supported))
    if not ref.get("name"):
        errors.append(FieldError("roleRef.name", "Required"))
    return errors


def _custom(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    """The structural schema of the CR: spec, and its chart and values, are objects."""
    spec = obj.get("spec")
    if spec is not None and not isinstance(spec, dict):
        return [FieldError("spec", "Invalid", spec, f'spec in body must be of type object: "{type(spec).__name__}"')]
    if not isinstance(spec, dict):
        return []
    return [
        FieldError(f"spec.{key}", "Invalid", spec[key], f"spec.{key} in body must be of type object")
        for key in ("chart", "values")
        if key in spec and not isinstance(spec[key], dict)
    ]


#: The per-kind rules, by plural; a custom resource not listed gets `_custom`.
_RULES: dict[str, Callable[[ResourceType, Obj], list[FieldError]]] = {
    "deployments": _deployment,
    "horizontalpodautoscalers": _autoscaler,
    "cronjobs": _cronjob,
    "roles": _role,
    "clusterroles": _role,
    "rolebindings": _binding,
    "clusterrolebindings": _binding,
}


def validate(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    """The subset of API-server validation that wbctl's changes can trip over."""
    errors = _name_errors(obj["metadata"].get("name", ""))
    rule = _RULES.get(rtype.plural) or (_custom if rtype.custom else None)
    if rule is not None:
        errors += rule(rtype, obj)
    return errors
