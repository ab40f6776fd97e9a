"""The failures FakeKubeAPI answers, worded as the API server words them: `status_body` (a
metav1.Status), `ApiError` carrying one, and the constructors for 400, 404 (an object, or a
resource that is not served), 409 and 422 (one cause per field, as apimachinery's
field.ErrorList). Separate so validation, the store and the verbs raise the same errors without
depending on each other.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from wbctl.sandbox.kube.types import Obj, ResourceType


def status_body(code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> Obj:
    """A metav1.Status as the API server writes it for a failure."""
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = dict(details)
    return body


class ApiError(Exception):
    """A failure answered with a Status body."""

    def __init__(self, code: int, reason: str, message: str, details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.body = status_body(code, reason, message, details)


def not_found(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        404,
        "NotFound",
        f'{rtype.group_resource} "{name}" not found',
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def no_such_resource() -> ApiError:
    """What an unregistered group/version/resource answers (a CRD that is not installed)."""
    return ApiError(404, "NotFound", "the server could not find the requested resource", {})


def conflict(rtype: ResourceType, name: str) -> ApiError:
    return ApiError(
        409,
        "Conflict",
        f'Operation cannot be fulfilled on {rtype.group_resource} "{name}": the object has been modified; '
        "please apply your changes to the latest version and try again",
        {"name": name, "group": rtype.group, "kind": rtype.plural},
    )


def bad_request(message: str) -> ApiError:
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


def invalid(
    rtype: ResourceType, name: str, errors: list[FieldError], kind: str | None = None, group: str | None = None
) -> ApiError:
    """422 Invalid with one cause per field, worded like apimachinery's field.ErrorList."""
    group = rtype.group if group is None else group
    kind = rtype.kind if kind is None else kind
    group_kind = f"{kind}.{group}" if group else kind
    texts = [error.text() for error in errors]
    summary = texts[0] if len(texts) == 1 else "[" + ", ".join(texts) + "]"
    causes = [
        {"reason": f"FieldValue{error.kind}", "message": error.text().split(": ", 1)[1], "field": error.field}
        for error in errors
    ]
    return ApiError(
        422,
        "Invalid",
        f'{group_kind} "{name}" is invalid: {summary}',
        {"name": name, "group": group, "kind": kind, "causes": causes},
    )
