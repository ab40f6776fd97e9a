"""The Kubernetes adapter's writes: a scaling plan applied as merge patches (the CR's values,
deployments/scale, HPAs, or an HPA created or deleted where the plan says so), each carrying
the resourceVersion the plan read, so a concurrent change is a conflict rather than a lost
update; the API server's own dry run of the same writes (`validate`); and the read-back that
checks each change landed. A KubeWriter works through the connection it is given
(connection.py) and reads back through the reader (reading.py); separate from reading so the
code path that mutates a cluster is small and reviewable alone.
"""

from __future__ import annotations

import json
from typing import Any

from wbctl.adapters.kube.connection import KubeConnection
from wbctl.adapters.kube.convert import cpu_target_percent
from wbctl.adapters.kube.reading import KubeReader
from wbctl.core.model import Change, KubeWrite, Plan
from wbctl.errors import UsageError, VerificationError


class KubeWriter:
    """apply, validate (a dry run) and read_back of a Plan; the read-back GETs through the reader."""

    def __init__(self, connection: KubeConnection, reader: KubeReader) -> None:
        self._connection = connection
        self._reader = reader

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
            write = plan.writes.get(target)
            pre = write if isinstance(write, KubeWrite) else KubeWrite()
            version = {"resourceVersion": pre.resource_version or None}
            if kind == "weightsandbiases":  # at the version the plan read it (a v1 patch of a v2 CR is never applied)
                body = {**_nested(changes), "metadata": version}
                path = self._connection.path("cr", name, cr_version=_cr_version(pre))
                with self._connection.translated("patch", "cr", name):
                    self._connection.request("PATCH", path, query=query, body=body, content_type=merge)
            elif kind == "deployment":
                body = {"metadata": version, "spec": {"replicas": changes[0].after}}
                with self._connection.translated("patch", "deployments/scale", name):
                    self._connection.request(
                        "PATCH",
                        self._connection.path("deployments/scale", name),
                        query=query,
                        body=body,
                        content_type=merge,
                    )
            elif kind == "horizontalpodautoscaler":
                self._write_hpa(name, changes, pre, query)
            else:  # a plan this adapter did not make
                raise UsageError(f"cannot apply a change to {target}")

    def _write_hpa(self, name: str, changes: list[Change], pre: KubeWrite, query: list[tuple[str, str]]) -> None:
        resource = "horizontalpodautoscalers"
        if any(change.path == () and change.after is None for change in changes):
            options = {
                "kind": "DeleteOptions",
                "apiVersion": "v1",
                "preconditions": {"resourceVersion": pre.resource_version or None},
            }
            with self._connection.translated("delete", resource, name):
                self._connection.request("DELETE", self._connection.path(resource, name), query=query, body=options)
            return
        spec: dict[str, Any] = {}
        for change in changes:
            if change.path == ("spec", "metrics", "cpu"):
                spec["metrics"] = [_cpu_metric(change.after)]
            else:
                spec[change.path[-1]] = change.after
        if pre.create is not None:
            manifest = json.loads(json.dumps(pre.create))
            manifest["spec"].update(spec)
            with self._connection.translated("create", resource, name):
                self._connection.request("POST", self._connection.path(resource), query=query, body=manifest)
            return
        body = {"metadata": {"resourceVersion": pre.resource_version or None}, "spec": spec}
        with self._connection.translated("patch", resource, name):
            self._connection.request(
                "PATCH",
                self._connection.path(resource, name),
                query=query,
                body=body,
                content_type="application/merge-patch+json",
            )

    def read_back(self, plan: Plan) -> None:
        for target, changes in plan.by_target().items():
            kind, name = target.split("/", 1)
            resource = {"weightsandbiases": "cr", "deployment": "deployments/scale"}.get(
                kind, "horizontalpodautoscalers"
            )
            write = plan.writes.get(target)
            version = _cr_version(write) if isinstance(write, KubeWrite) and resource == "cr" else None
            actual = self._reader.get(resource, name, cr_version=version)
            for change in changes:
                found = _at(actual, change.path) if actual is not None else None
                if change.path == ("spec", "metrics", "cpu") and actual is not None:
                    found = cpu_target_percent((actual.get("spec") or {}).get("metrics"))
                if change.path == ():
                    found = None if actual is None else "present"
                if found != change.after:
                    raise VerificationError(
                        f"read-back of {target} shows {change.key} = {found!r}, not {change.after!r}: "
                        "another writer (the operator?) may have changed it"
                    )


def _cr_version(write: KubeWrite) -> str | None:
    """The WeightsAndBiases version a plan's CR write goes to (`apps.wandb.com/v2` -> `v2`)."""
    return write.api_version.rpartition("/")[2] or None


def _cpu_metric(percent: int) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": percent}},
    }


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
