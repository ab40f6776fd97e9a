"""FakeKubeAPI's write verbs, with the API server's semantics: create (generateName, the initial
status, AlreadyExists); update and patch (merge, strategic merge and JSON patch, 415 for
strategic merge on a custom resource), the resourceVersion precondition and the write made
under one lock, status left to its subresource, generation bumped on a spec change, a no-op
write storing nothing; the deployments/scale subresource (an autoscaling/v1 Scale); delete;
and `dryRun=All` for each. Separate from routing and reading so the rules a write follows read
top to bottom in one module; the state changes go through the store's `commit` and `discard`,
under its lock.
"""

from __future__ import annotations

import copy
import json
import uuid
from typing import Any

from wbctl.sandbox.kube.columns import selector_text
from wbctl.sandbox.kube.errors import (
    ApiError,
    FieldError,
    bad_request,
    conflict,
    invalid,
)
from wbctl.sandbox.kube.semantics import PATCHERS, PatchApplyError, PatchFormatError
from wbctl.sandbox.kube.store import ObjectStore, now_timestamp
from wbctl.sandbox.kube.types import Obj, ResourceType
from wbctl.sandbox.kube.validation import decode_check, validate


def parse_json(body: bytes) -> Any:
    """A request body as JSON (None when empty), or the API server's 400."""
    try:
        return json.loads(body) if body else None
    except ValueError as error:
        raise bad_request(f"couldn't get version/kind; json parse error: {error}") from None


def scale_view(deployment: Obj) -> Obj:
    """The autoscaling/v1 Scale a deployments/scale GET returns."""
    metadata = deployment["metadata"]
    return {
        "apiVersion": "autoscaling/v1",
        "kind": "Scale",
        "metadata": {
            key: metadata[key]
            for key in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
            if key in metadata
        },
        "spec": {"replicas": (deployment.get("spec") or {}).get("replicas", 1)},
        "status": {
            "replicas": (deployment.get("status") or {}).get("replicas", 0),
            "selector": selector_text((deployment.get("spec") or {}).get("selector")),
        },
    }


class Writes:
    """create, update (PUT), patch and delete of stored objects and of deployments/scale."""

    def __init__(self, store: ObjectStore) -> None:
        self._store = store

    def create(self, rtype: ResourceType, namespace: str, body: Any, dry_run: bool) -> Obj:
        if not isinstance(body, dict):
            raise bad_request("the body of a create must be a JSON object")
        obj = copy.deepcopy(body)
        for field, expected in (("apiVersion", rtype.api_version), ("kind", rtype.kind)):
            if obj.get(field) not in (None, "", expected):
                raise bad_request(
                    f"the {field} in the data ({obj[field]}) does not match the expected {field} ({expected})"
                )
            obj[field] = expected
        metadata = obj.setdefault("metadata", {})
        decode_check(rtype.plural, obj)
        if rtype.namespaced:
            if metadata.get("namespace") not in (None, "", namespace):
                raise bad_request(
                    "the namespace of the provided object does not match the namespace sent on the request"
                )
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
        errors = validate(rtype, obj)
        if errors:
            raise invalid(rtype, metadata.get("name", ""), errors)
        metadata["uid"] = str(uuid.uuid4())
        metadata["creationTimestamp"] = now_timestamp()
        if rtype.tracks_generation:
            metadata["generation"] = 1
        metadata.setdefault("labels", {})
        key = (metadata.get("namespace", ""), metadata["name"])
        with self._store.lock:
            if self._store.contains(rtype, key):
                raise ApiError(
                    409,
                    "AlreadyExists",
                    f'{rtype.group_resource} "{key[1]}" already exists',
                    {"name": key[1], "group": rtype.group, "kind": rtype.plural},
                )
            if dry_run:
                return obj
            self._store.commit(rtype, key, obj)
            return obj

    def write(
        self,
        rtype: ResourceType,
        namespace: str,
        name: str,
        subresource: str | None,
        verb: str,
        content_type: str | None,
        body: bytes,
        dry_run: bool,
    ) -> Obj:
        """PUT or PATCH of an object or its scale, all under the lock so the resourceVersion
        precondition and the write are one atomic step, as in etcd."""
        with self._store.lock:
            stored = self._store.lookup(rtype, namespace, name)
            base = scale_view(stored) if subresource == "scale" else stored
            if verb == "update":
                candidate = parse_json(body)
                if not isinstance(candidate, dict):
                    raise bad_request("the body of an update must be a JSON object")
            else:
                candidate = self._apply_patch(rtype, base, content_type, body)
            if subresource == "scale":
                return self._commit_scale(rtype, stored, candidate, dry_run)
            return self._commit(rtype, stored, candidate, dry_run)

    @staticmethod
    def _apply_patch(rtype: ResourceType, base: Obj, content_type: str | None, body: bytes) -> Obj:
        media_type = (content_type or "").split(";", 1)[0].strip().lower()
        accepted = ["application/json-patch+json", "application/merge-patch+json"]  # no server-side apply here
        if not rtype.custom:
            accepted.append("application/strategic-merge-patch+json")
        patcher = PATCHERS.get(media_type)
        if patcher is None or media_type not in accepted:
            raise ApiError(
                415,
                "UnsupportedMediaType",
                f"the body of the request was in an unknown format - accepted media types include: "
                f"{', '.join(accepted)}",
            )
        patch = parse_json(body)
        if media_type != "application/json-patch+json" and not isinstance(patch, dict):
            raise bad_request(f"the body of a {media_type} patch must be a JSON object")
        try:
            patched = patcher(base, patch)
        except PatchFormatError as error:
            raise bad_request(str(error)) from None
        except PatchApplyError as error:
            raise ApiError(
                422,
                "Invalid",
                f"the server rejected our request due to an error in our request: {error}",
                {"causes": [{"reason": "FieldValueInvalid", "message": str(error)}]},
            ) from None
        if not isinstance(patched, dict):
            raise bad_request("the patched object is not a JSON object")
        return patched

    def _commit(self, rtype: ResourceType, stored: Obj, candidate: Obj, dry_run: bool) -> Obj:
        metadata = candidate.get("metadata")
        if not isinstance(metadata, dict):
            raise bad_request("Object 'metadata' is missing or not an object")
        stored_meta = stored["metadata"]
        name = stored_meta["name"]
        if metadata.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({metadata.get('name')}) does not match the name on the URL ({name})"
            )
        if rtype.namespaced and metadata.get("namespace", stored_meta["namespace"]) != stored_meta["namespace"]:
            raise bad_request("the namespace of the provided object does not match the namespace sent on the request")
        precondition = metadata.get("resourceVersion")
        if precondition not in (None, "") and precondition != stored_meta["resourceVersion"]:
            raise conflict(rtype, name)
        decode_check(rtype.plural, candidate)
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
        errors = validate(rtype, candidate)
        if errors:
            raise invalid(rtype, name, errors)
        if candidate == stored:
            return candidate  # a no-op write stores nothing and keeps the resourceVersion
        if rtype.tracks_generation:

            def content(obj: Obj) -> Obj:
                return {k: v for k, v in obj.items() if k not in ("metadata", "status")}

            if content(candidate) != content(stored):
                metadata["generation"] = int(stored_meta.get("generation", 1)) + 1
        if dry_run:
            return candidate
        self._store.commit(rtype, (stored_meta.get("namespace", ""), name), candidate)
        return candidate

    def _commit_scale(self, rtype: ResourceType, stored: Obj, scale: Obj, dry_run: bool) -> Obj:
        name = stored["metadata"]["name"]
        given = scale.get("metadata")
        metadata: Obj = given if isinstance(given, dict) else {}
        precondition = metadata.get("resourceVersion")
        if precondition not in (None, "") and precondition != stored["metadata"]["resourceVersion"]:
            raise conflict(rtype, name)
        if metadata.get("name", name) != name:
            raise bad_request(
                f"the name of the object ({metadata.get('name')}) does not match the name on the URL ({name})"
            )
        decode_check("scale", {"metadata": {}, **scale})
        replicas = (scale.get("spec") or {}).get("replicas")
        if replicas is None:
            replicas = 0  # an omitted replicas decodes to 0 in Go, as a real server does
        if replicas < 0:
            raise invalid(
                rtype,
                name,
                [FieldError("spec.replicas", "Invalid", replicas, "must be greater than or equal to 0")],
                kind="Scale",
                group="autoscaling",
            )
        candidate = copy.deepcopy(stored)
        candidate.setdefault("spec", {})["replicas"] = replicas
        return scale_view(self._commit(rtype, stored, candidate, dry_run))

    def delete(self, rtype: ResourceType, namespace: str, name: str, dry_run: bool) -> Obj:
        with self._store.lock:
            obj = self._store.lookup(rtype, namespace, name)
            if not dry_run:
                self._store.discard(rtype, self._store.key(rtype, namespace, name))
            return obj
