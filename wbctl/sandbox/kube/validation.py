"""What FakeKubeAPI checks in an object before it stores it: the JSON-decoding errors a Go API
server gives before validation starts (400: non-string labels or ConfigMap data, a string where
an int32 belongs), the subset of API-server validation that wbctl's changes can trip over (422
field errors), and, for objects a test adds directly, quantities that must be strings. Separate
from the verbs so the rules read as one list, and create, update, patch and scale apply the
same ones.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

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


def _is_int(value: Any) -> bool:
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


def validate(rtype: ResourceType, obj: Obj) -> list[FieldError]:
    """The subset of API-server validation that wbctl's changes can trip over."""
    errors: list[FieldError] = []
    name = obj["metadata"].get("name", "")
    if not name:
        errors.append(FieldError("metadata.name", "Required", detail="name or generateName is required"))
    elif len(name) > 253 or not _DNS_SUBDOMAIN.match(name):
        errors.append(
            FieldError(
                "metadata.name",
                "Invalid",
                name,
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, "
                "'-' or '.', and must start and end with an alphanumeric character",
            )
        )
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
            errors.append(
                FieldError("spec.maxReplicas", "Invalid", maximum, "must be greater than or equal to `minReplicas`")
            )
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
    elif rtype.plural == "cronjobs":
        if not isinstance(spec, dict) or not spec.get("schedule"):
            errors.append(FieldError("spec.schedule", "Required"))
    elif rtype.plural in ("roles", "clusterroles"):
        for index, rule in enumerate(obj.get("rules") or []):
            if not isinstance(rule, dict) or not rule.get("verbs"):
                errors.append(
                    FieldError(f"rules[{index}].verbs", "Required", detail="verbs must contain at least one value")
                )
    elif rtype.plural in ("rolebindings", "clusterrolebindings"):
        ref = obj.get("roleRef") if isinstance(obj.get("roleRef"), dict) else {}
        if ref.get("kind") not in ("Role", "ClusterRole") or (
            ref.get("kind") == "Role" and rtype.plural == "clusterrolebindings"
        ):
            errors.append(
                FieldError(
                    "roleRef.kind",
                    "Invalid",
                    ref.get("kind"),
                    'supported values: "ClusterRole"'
                    if rtype.plural == "clusterrolebindings"
                    else 'supported values: "ClusterRole", "Role"',
                )
            )
        if not ref.get("name"):
            errors.append(FieldError("roleRef.name", "Required"))
    elif rtype.custom:
        if spec is not None and not isinstance(spec, dict):
            errors.append(
                FieldError("spec", "Invalid", spec, f'spec in body must be of type object: "{type(spec).__name__}"')
            )
        elif isinstance(spec, dict):
            for key in ("chart", "values"):
                if key in spec and not isinstance(spec[key], dict):
                    errors.append(
                        FieldError(f"spec.{key}", "Invalid", spec[key], f"spec.{key} in body must be of type object")
                    )
    return errors
