"""The Kubernetes reads only `wbctl support bundle` makes: PodDisruptionBudgets, the namespace's
Events, Nodes as they are, and pods' logs (pods/log, text).

Each is one bounded request (a list with `limit`, a log with `tailLines`, `sinceSeconds` and
`limitBytes`) through the connection the rest of the adapter uses, so the same kubeconfig, TLS,
timeout and error translation apply. Nothing here reads a Secret: the bundle never asks for
one (docs/permissions.md).
"""

from __future__ import annotations

from typing import Any

from wbctl.adapters.kube.connection import KubeConnection

EVENTS_PAGE, EVENTS_PAGES = 500, 4  # Events: at most 2,000, in 4 requests, whatever the namespace holds
LOG_BYTES = 1_000_000  # per container: a bounded answer whatever --logs asks for


class SupportReader:
    """The bundle's reads through a connection (KubeAdapter.connection)."""

    def __init__(self, connection: KubeConnection, *, page_size: int = 500) -> None:
        self._connection = connection
        self._page_size = page_size

    def _namespaced(self, group_version: str, plural: str) -> str:
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        return f"{base}/namespaces/{self._connection.namespace}/{plural}"

    def _list(self, path: str, described: str, query: list[tuple[str, str]], *, pages: int | None = None) -> list[Any]:
        """Every page, or at most `pages` of them."""
        items: list[Any] = []
        token: str | None = None
        read = 0
        with self._connection.translated("list", described):
            while True:
                asked = [*query, ("limit", str(self._page_size))] + ([("continue", token)] if token else [])
                page = self._connection.request("GET", path, query=asked)
                items.extend(page.get("items") or [])
                token = (page.get("metadata") or {}).get("continue")
                read += 1
                if not token or (pages is not None and read >= pages):
                    return items

    def pod_disruption_budgets(self) -> list[dict[str, Any]]:
        return self._list(self._namespaced("policy/v1", "poddisruptionbudgets"), "poddisruptionbudgets.policy", [])

    def nodes(self) -> list[dict[str, Any]]:
        return self._list("/api/v1/nodes", "nodes", [])

    def events(self) -> list[dict[str, Any]]:
        """The namespace's Events (involvedObject.namespace), at most EVENTS_PAGES pages of
        EVENTS_PAGE: a list is in name order, not time order, so one page could miss the newest."""
        path = self._namespaced("v1", "events")
        query = [("fieldSelector", f"involvedObject.namespace={self._connection.namespace}")]
        return SupportReader(self._connection, page_size=EVENTS_PAGE)._list(path, "events", query, pages=EVENTS_PAGES)

    def pod_log(self, pod: str, container: str, *, tail_lines: int, since_seconds: int, previous: bool = False) -> str:
        """The container's last `tail_lines` lines of the last `since_seconds` (text/plain);
        `previous`: of the container's previous run (what an OOMKilled or crashed one printed)."""
        from urllib.parse import quote

        connection = self._connection
        path = f"{self._namespaced('v1', 'pods')}/{quote(pod, safe='')}/log"
        query = [
            ("container", container),
            ("tailLines", str(tail_lines)),
            ("sinceSeconds", str(max(1, since_seconds))),
            ("limitBytes", str(LOG_BYTES)),
        ] + ([("previous", "true")] if previous else [])
        with connection.translated("get", "pods/log", f"{pod} ({container})"):
            return connection.text(path, query=query)
