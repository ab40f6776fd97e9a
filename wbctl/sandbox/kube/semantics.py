"""The pure parts of the Kubernetes API server's semantics that FakeKubeAPI serves: label and
field selectors, and the three PATCH formats (RFC 7386 merge patch, strategic merge patch,
RFC 6902 JSON patch). Kept apart from the HTTP plumbing so each rule is readable on its own.

Errors carry the HTTP status the real API server answers with: SelectorError -> 400,
PatchFormatError (a malformed patch document) -> 400, PatchApplyError (a well-formed patch
that cannot apply, e.g. a failed `test`) -> 422.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

JSON = Any


class SelectorError(ValueError):
    """A label or field selector the API server would reject with 400 BadRequest."""


class PatchFormatError(ValueError):
    """A patch body that does not parse as its content type says (400 BadRequest)."""


class PatchApplyError(ValueError):
    """A well-formed patch that cannot be applied to the object (422 Invalid)."""


# --- label selectors (k8s.io/apimachinery/pkg/labels) -----------------------------------

_KEY = r"[A-Za-z0-9](?:[-A-Za-z0-9_./]*[A-Za-z0-9])?"
_VALUE = r"(?:[A-Za-z0-9](?:[-A-Za-z0-9_.]*[A-Za-z0-9])?)?"
_RE_NOT_EXISTS = re.compile(rf"^!\s*({_KEY})$")
_RE_EXISTS = re.compile(rf"^({_KEY})$")
_RE_EQUALITY = re.compile(rf"^({_KEY})\s*(==|=|!=)\s*({_VALUE})$")
_RE_SET = re.compile(rf"^({_KEY})\s+(in|notin)\s*\(([^()]*)\)$")
_RE_ORDER = re.compile(rf"^({_KEY})\s*([<>])\s*(-?\d+)$")


@dataclass(frozen=True)
class Requirement:
    """One comma-separated term of a label selector."""

    key: str
    op: str  # "=", "!=", "in", "notin", "exists", "!", ">", "<"
    values: tuple[str, ...] = ()

    def matches(self, labels: Mapping[str, str]) -> bool:
        present = self.key in labels
        value = labels.get(self.key)
        if self.op == "exists":
            return present
        if self.op == "!":
            return not present
        if self.op in ("=", "in"):
            return present and value in self.values
        if self.op in ("!=", "notin"):  # an absent key satisfies both, as in the API server
            return not present or value not in self.values
        if not present:
            return False
        try:
            number = int(value or "")
        except ValueError:
            return False
        bound = int(self.values[0])
        return number > bound if self.op == ">" else number < bound


def _split_top_level(selector: str) -> list[str]:
    """Split on commas that are not inside `in (...)` / `notin (...)` parentheses."""
    parts, depth, start = [], 0, 0
    for index, char in enumerate(selector):
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth < 0:
                raise SelectorError(f"unable to parse requirement: unbalanced ')' in {selector!r}")
        elif char == "," and depth == 0:
            parts.append(selector[start:index])
            start = index + 1
    if depth:
        raise SelectorError(f"unable to parse requirement: unbalanced '(' in {selector!r}")
    parts.append(selector[start:])
    return parts


def parse_label_selector(selector: str | None) -> list[Requirement]:
    """Parse `a=b,c!=d,e in (f,g),h notin (i),j,!k,l>3`; an empty selector selects everything."""
    if not selector or not selector.strip():
        return []
    requirements = []
    for raw in _split_top_level(selector):
        term = raw.strip()
        if match := _RE_NOT_EXISTS.match(term):
            requirements.append(Requirement(match[1], "!"))
        elif match := _RE_SET.match(term):
            values = tuple(v.strip() for v in match[3].split(",")) if match[3].strip() else ()
            if not values or any(not re.fullmatch(_VALUE, v) for v in values):
                raise SelectorError(f"unable to parse requirement: invalid values in {term!r}")
            requirements.append(Requirement(match[1], match[2], values))
        elif match := _RE_EQUALITY.match(term):
            op = "=" if match[2] in ("=", "==") else "!="
            requirements.append(Requirement(match[1], op, (match[3],)))
        elif match := _RE_ORDER.match(term):
            requirements.append(Requirement(match[1], match[2], (match[3],)))
        elif match := _RE_EXISTS.match(term):
            requirements.append(Requirement(match[1], "exists"))
        else:
            raise SelectorError(f"unable to parse requirement: {term!r}")
    return requirements


def labels_match(requirements: list[Requirement], labels: Mapping[str, str] | None) -> bool:
    labels = labels or {}
    return all(requirement.matches(labels) for requirement in requirements)


# --- field selectors (k8s.io/apimachinery/pkg/fields) -----------------------------------

_RE_FIELD = re.compile(r"^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$")


def field_value(obj: Mapping[str, Any], path: str) -> str:
    """A field as a field selector sees it: a string, "" when absent, booleans as true/false."""
    node: Any = obj
    for part in path.split("."):
        node = node.get(part) if isinstance(node, Mapping) else None
    if isinstance(node, bool):
        return "true" if node else "false"
    return "" if node is None or isinstance(node, (dict, list)) else str(node)


@dataclass(frozen=True)
class FieldRequirement:
    path: str
    equal: bool
    value: str

    def matches(self, values: Mapping[str, str]) -> bool:
        """`values` holds the object's indexed fields (see field_value), as the API server
        indexes the few fields each kind supports instead of reading whole objects."""
        return (values.get(self.path, "") == self.value) == self.equal


def parse_field_selector(selector: str | None, supported: frozenset[str]) -> list[FieldRequirement]:
    """Parse `metadata.name=x,spec.nodeName!=y`; a field the kind does not index is a 400."""
    if not selector or not selector.strip():
        return []
    requirements = []
    for raw in selector.split(","):
        match = _RE_FIELD.match(raw.strip())
        if not match:
            raise SelectorError(f"invalid selector: '{raw.strip()}'; can't understand '{raw.strip()}'")
        path, op, value = match[1], match[2], match[3].strip()
        if path not in supported:
            raise SelectorError(f"field label not supported: {path}")
        requirements.append(FieldRequirement(path, op != "!=", value))
    return requirements


def fields_match(requirements: list[FieldRequirement], values: Mapping[str, str]) -> bool:
    return all(requirement.matches(values) for requirement in requirements)


# --- JSON merge patch (RFC 7386) ----------------------------------------------------------


def merge_patch(target: JSON, patch: JSON) -> JSON:
    """RFC 7386: objects merge recursively, null deletes a member, anything else replaces."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


# --- strategic merge patch (a subset: lists of named things merge by their key) ----------

#: Lists that the built-in types declare `patchStrategy: merge` on, with their merge key. Other
#: lists are replaced whole, as a strategic merge patch does for lists without a strategy.
STRATEGIC_MERGE_KEYS: dict[str, str] = {
    "containers": "name",
    "initContainers": "name",
    "ephemeralContainers": "name",
    "env": "name",
    "volumes": "name",
    "volumeMounts": "mountPath",
    "volumeDevices": "devicePath",
    "ports": "containerPort",
    "imagePullSecrets": "name",
    "hostAliases": "ip",
    "conditions": "type",
    "ownerReferences": "uid",
}


def strategic_merge_patch(target: JSON, patch: JSON) -> JSON:
    """A merge patch, except that the lists in STRATEGIC_MERGE_KEYS merge item by item on their
    key (and `$patch: delete` in such an item removes it). Other `$` directives are dropped:
    only kubectl's client-side apply sends them, and wbctl does not."""
    if not isinstance(patch, dict):
        return copy.deepcopy(patch)
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if key.startswith("$"):
            continue
        if value is None:
            result.pop(key, None)
        elif key in STRATEGIC_MERGE_KEYS and isinstance(value, list) and isinstance(result.get(key), list):
            result[key] = _merge_list_by_key(result[key], value, STRATEGIC_MERGE_KEYS[key])
        else:
            result[key] = strategic_merge_patch(result.get(key), value)
    return result


def _merge_list_by_key(current: list[Any], patch: list[Any], merge_key: str) -> list[Any]:
    merged = list(current)
    for item in patch:
        if not isinstance(item, dict) or merge_key not in item:
            raise PatchFormatError(f"map item in a list of {merge_key}-keyed items lacks the key {merge_key!r}")
        index = next(
            (i for i, old in enumerate(merged) if isinstance(old, dict) and old.get(merge_key) == item[merge_key]), None
        )
        if item.get("$patch") == "delete":
            if index is not None:
                del merged[index]
        elif index is None:
            merged.append(strategic_merge_patch({}, item))
        else:
            merged[index] = strategic_merge_patch(merged[index], item)
    return merged


# --- JSON patch (RFC 6902) -----------------------------------------------------------------


def _pointer(path: Any) -> list[str]:
    if not isinstance(path, str) or (path and not path.startswith("/")):
        raise PatchFormatError(f"invalid JSON pointer {path!r}")
    if path == "":
        return []
    return [part.replace("~1", "/").replace("~0", "~") for part in path[1:].split("/")]


def _json_equal(a: Any, b: Any) -> bool:
    """JSON equality: unlike Python's ==, true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal(x, y) for x, y in zip(a, b))
    return a == b


def _list_index(container: list[Any], token: str, *, for_add: bool) -> int:
    if token == "-" and for_add:
        return len(container)
    if not re.fullmatch(r"0|[1-9][0-9]*", token):
        raise PatchApplyError(f"invalid array index {token!r}")
    index = int(token)
    if index > len(container) or (index == len(container) and not for_add):
        raise PatchApplyError(f"array index {index} out of bounds")
    return index


def _parent(doc: Any, tokens: list[str], path: str) -> Any:
    node = doc
    for token in tokens[:-1]:
        if isinstance(node, dict) and token in node:
            node = node[token]
        elif isinstance(node, list):
            node = node[_list_index(node, token, for_add=False)]
        else:
            raise PatchApplyError(f"doc is missing path: {path!r}")
    return node


def _get(doc: Any, path: str) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return doc
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return parent[last]
    if isinstance(parent, list):
        return parent[_list_index(parent, last, for_add=False)]
    raise PatchApplyError(f"doc is missing path: {path!r}")


def _add(doc: Any, path: str, value: Any) -> Any:
    tokens = _pointer(path)
    if not tokens:
        return value
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict):
        parent[last] = value
    elif isinstance(parent, list):
        parent.insert(_list_index(parent, last, for_add=True), value)
    else:
        raise PatchApplyError(f"doc is missing path: {path!r}")
    return doc


def _remove(doc: Any, path: str) -> tuple[Any, Any]:
    tokens = _pointer(path)
    if not tokens:
        raise PatchApplyError("cannot remove the whole document")
    parent, last = _parent(doc, tokens, path), tokens[-1]
    if isinstance(parent, dict) and last in parent:
        return doc, parent.pop(last)
    if isinstance(parent, list):
        return doc, parent.pop(_list_index(parent, last, for_add=False))
    raise PatchApplyError(f"unable to remove nonexistent key: {path!r}: missing value")


def json_patch(target: JSON, operations: JSON) -> JSON:
    """RFC 6902 on a copy of target: add, remove, replace, move, copy, test (all or nothing)."""
    if not isinstance(operations, list):
        raise PatchFormatError("a JSON patch must be an array of operations")
    doc = copy.deepcopy(target)
    for operation in operations:
        if not isinstance(operation, dict) or "op" not in operation or "path" not in operation:
            raise PatchFormatError(f"invalid JSON patch operation {operation!r}")
        op, path = operation["op"], operation["path"]
        needs_value = op in ("add", "replace", "test")
        if needs_value and "value" not in operation:
            raise PatchFormatError(f"missing value for {op} operation at {path!r}")
        if op == "add":
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op == "remove":
            doc, _ = _remove(doc, path)
        elif op == "replace":
            doc, _ = _remove(doc, path)
            doc = _add(doc, path, copy.deepcopy(operation["value"]))
        elif op in ("move", "copy"):
            source = operation.get("from")
            if source is None:
                raise PatchFormatError(f"missing from for {op} operation at {path!r}")
            if op == "move":
                doc, value = _remove(doc, source)
            else:
                value = copy.deepcopy(_get(doc, source))
            doc = _add(doc, path, value)
        elif op == "test":
            if not _json_equal(_get(doc, path), operation["value"]):
                raise PatchApplyError(f"testing value {path} failed: test failed")
        else:
            raise PatchFormatError(f"unexpected JSON patch operation {op!r}")
    return doc


PATCHERS: dict[str, Callable[[JSON, JSON], JSON]] = {
    "application/merge-patch+json": merge_patch,
    "application/strategic-merge-patch+json": strategic_merge_patch,
    "application/json-patch+json": json_patch,
}
