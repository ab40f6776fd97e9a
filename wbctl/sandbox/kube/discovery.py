"""What FakeKubeAPI answers on the paths that are not resources: /version, the legacy discovery
documents (/api, /apis, /apis/GROUP, /api/v1 and /apis/GROUP/VERSION, with the short names and
categories kubectl resolves `deploy`, `hpa`, `wandb` and `all` by), and 404 for everything else
(/openapi/v2 and /openapi/v3 included: kubectl's get, describe and scale cope without them).

Aggregated discovery (kubectl asks for `application/json;g=apidiscovery.k8s.io;v=v2;as=
APIGroupDiscoveryList` first) is not served: /api and /apis answer the legacy documents as
`application/json`, as an API server from before 1.26 does, and client-go, seeing that content
type, reads them as legacy and then fetches each group version's resource list. Separate
from the router because these documents depend only on which kinds are served.
"""

from __future__ import annotations

from wbctl.sandbox.kube.errors import no_such_resource
from wbctl.sandbox.kube.types import VERSION_INFO, Obj, ResourceType
from wbctl.sandbox.kube.versions import version_priority

_VERBS = ["create", "delete", "get", "list", "patch", "update"]  # no watch, deletecollection: not served


def _resource(rtype: ResourceType) -> Obj:
    entry: Obj = {
        "name": rtype.plural,
        "singularName": rtype.singular,
        "namespaced": rtype.namespaced,
        "kind": rtype.kind,
        "verbs": list(_VERBS),
    }
    if rtype.short_names:
        entry["shortNames"] = list(rtype.short_names)
    if rtype.categories:
        entry["categories"] = list(rtype.categories)
    return entry


def _group_versions(served: list[ResourceType]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for rtype in served:
        if rtype.group:
            versions = groups.setdefault(rtype.group, [])
            if rtype.version not in versions:
                versions.append(rtype.version)
    # the API server lists a group's versions by priority, the preferred one first (v2 before v1)
    return {group: sorted(versions, key=version_priority) for group, versions in groups.items()}


def discovery_document(path: str, served: list[ResourceType], port: int) -> Obj:
    """The document at a discovery path (without a trailing slash), or 404 as a Status."""
    if path == "/version":
        return dict(VERSION_INFO)
    if path == "/api":
        return {
            "kind": "APIVersions",
            "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": f"127.0.0.1:{port}"}],
        }
    groups = _group_versions(served)

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
                resources.append(_resource(t))
                if "scale" in t.subresources:
                    resources.append(
                        {
                            "name": f"{t.plural}/scale",
                            "singularName": "",
                            "namespaced": t.namespaced,
                            "group": "autoscaling",
                            "version": "v1",
                            "kind": "Scale",
                            "verbs": ["get", "patch", "update"],
                        }
                    )
            return {
                "kind": "APIResourceList",
                "apiVersion": "v1",
                "groupVersion": members[0].api_version,
                "resources": resources,
            }
    raise no_such_resource()
