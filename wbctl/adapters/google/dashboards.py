"""Cloud Monitoring dashboards through google-cloud-monitoring-dashboards (the Dashboards API,
https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards).

One dashboard by its resource name: GetDashboard (NOT_FOUND: it does not exist yet),
CreateDashboard (the name chosen by wbctl, so a second apply finds the same one) and
UpdateDashboard with the etag the diff was made from: the API answers ABORTED when the
dashboard changed since (optimistic concurrency), which becomes a ConflictError, so the
mutation path reads it again and shows the new diff instead of overwriting someone's edit.
Every document passes through the library's own `Dashboard` message (`Dashboard.from_json`,
strict: an unknown field is an error), which is also the one canonical JSON form the diff
compares. The client is imported on first use; every call has a timeout and no retry loop.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from wbctl.adapters.google import translated, transport
from wbctl.core.dashboard_diff import DashboardObservation, without_server_fields
from wbctl.errors import ConflictError

SERVICE = "the Dashboards API"


class DashboardsAdapter:
    def __init__(
        self, *, project: str, timeout: float, emulator_host: str | None = None, endpoint: str | None = None
    ) -> None:
        self.project = project
        self.timeout = timeout
        self.emulator_host = emulator_host
        self.endpoint = endpoint  # the Dashboards API is served by monitoring.googleapis.com, as Cloud Monitoring
        self._client: Any = None
        self._client_lock = threading.Lock()

    @property
    def parent(self) -> str:
        return f"projects/{self.project}"

    def name(self, dashboard_id: str) -> str:
        """The dashboard's resource name: projects/<project>/dashboards/<id>."""
        return f"projects/{self.project}/dashboards/{dashboard_id}"

    def client(self) -> Any:
        with self._client_lock:
            if self._client is None:
                from google.cloud.monitoring_dashboard_v1 import DashboardsServiceClient
                from google.cloud.monitoring_dashboard_v1.services.dashboards_service.transports import (
                    DashboardsServiceGrpcTransport,
                )

                self._client = DashboardsServiceClient(
                    transport=transport(
                        DashboardsServiceGrpcTransport,
                        emulator_host=self.emulator_host,
                        endpoint=self.endpoint,
                        service=SERVICE,
                    )
                )
            return self._client

    # --- the one canonical form ---------------------------------------------------------

    @staticmethod
    def canonical(document: Mapping[str, Any]) -> dict[str, Any]:
        """`document` as the library's Dashboard message writes it back (camelCase, enums by
        name, defaults left out), without name and etag. Strict: a field the message does not
        have raises (a rendering bug, never the operator's input)."""
        return _canonical(_message(document))

    # --- reads and writes ---------------------------------------------------------------

    def observe(self, name: str) -> DashboardObservation:
        """The dashboard `name` as it is now: its etag and canonical JSON; a missing one has none."""
        from google.api_core import exceptions as gexc

        client = self.client()
        with translated("get dashboard", name, self.timeout, permission="monitoring.dashboards.get"):
            try:
                found = client.get_dashboard(name=name, retry=None, timeout=self.timeout)
            except gexc.NotFound:
                return DashboardObservation(name=name, etag="", document=None)
        return DashboardObservation(name=name, etag=found.etag, document=_canonical(found))

    def create(self, name: str, document: Mapping[str, Any], *, validate_only: bool = False) -> None:
        """CreateDashboard with wbctl's name; ALREADY_EXISTS (created since the diff) is a conflict.
        `validate_only`: the API checks the request and saves nothing (a dry run)."""
        from google.api_core import exceptions as gexc

        dashboard = _message(without_server_fields(document))
        dashboard.name = name
        with translated("create dashboard", name, self.timeout, permission="monitoring.dashboards.create"):
            try:
                self.client().create_dashboard(
                    request={"parent": self.parent, "dashboard": dashboard, "validate_only": validate_only},
                    retry=None,
                    timeout=self.timeout,
                )
            except gexc.AlreadyExists as exc:
                raise ConflictError(f"the dashboard {name} was created since the diff was made") from exc

    def update(self, name: str, document: Mapping[str, Any], etag: str, *, validate_only: bool = False) -> None:
        """UpdateDashboard carrying `etag`: ABORTED (someone changed it since) is a conflict."""
        from google.api_core import exceptions as gexc

        dashboard = _message(without_server_fields(document))
        dashboard.name, dashboard.etag = name, etag
        with translated("update dashboard", name, self.timeout, permission="monitoring.dashboards.update"):
            try:
                self.client().update_dashboard(
                    request={"dashboard": dashboard, "validate_only": validate_only}, retry=None, timeout=self.timeout
                )
            except gexc.Aborted as exc:
                raise ConflictError(f"the dashboard {name} changed since the diff was made (its etag)") from exc
            except gexc.NotFound as exc:
                raise ConflictError(f"the dashboard {name} was deleted since the diff was made") from exc

    def close(self) -> None:
        if self._client is not None:
            self._client.transport.close()


def _message(document: Mapping[str, Any]) -> Any:
    """The library's Dashboard message of `document`; ValueError (one line) when the message
    has no such field: wbctl rendered something the API does not define, a bug in wbctl."""
    from google.cloud.monitoring_dashboard_v1 import Dashboard
    from google.protobuf.json_format import ParseError

    try:
        return Dashboard.from_json(json.dumps(document))
    except ParseError as exc:
        raise ValueError(f"the rendered dashboard is not a Dashboard: {str(exc).splitlines()[0]}") from None


def _canonical(dashboard: Any) -> dict[str, Any]:
    from google.cloud.monitoring_dashboard_v1 import Dashboard

    text = Dashboard.to_json(
        dashboard, use_integers_for_enums=False, always_print_fields_with_no_presence=False, indent=None
    )
    return without_server_fields(json.loads(text))
