"""The Dashboards API fake (google.monitoring.dashboard.v1.DashboardsService): what `wbctl
dashboards apply cloud-monitoring` rehearses against, served on the Google fakes' one gRPC
server (grpc.py), so the real google-cloud-monitoring-dashboards client runs unmodified.

GetDashboard, CreateDashboard, UpdateDashboard and DeleteDashboard, as the REST reference
describes them (https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards):
a missing dashboard is NOT_FOUND; Create takes `parent` = projects/<project>, keeps the name
the dashboard carries (its project must be the parent's) or makes one, refuses an etag (it
"should not be passed during dashboard creation") and an existing name (ALREADY_EXISTS);
Update must carry an etag (INVALID_ARGUMENT "Update Dashboard should specify a non empty etag",
as the real API answers), and one other than the current one is ABORTED (AIP-154's code for an
etag mismatch: the optimistic concurrency the etag is for); every write gives a new etag, even
one that changes nothing. Incoming dashboards
arrive as the library's own proto messages and are checked against the API's documented
rules: a displayName, the mosaic's 1..48 columns (the REST reference's bound, the console's
grid; the proto's older comment still says 12), tiles inside them with a positive size, and a
widget with content in each tile (a chart with at least one data set, each with a query).
Its state is JSON (the sandbox saves it between invocations, with Bigtable's).
"""

from __future__ import annotations

import copy
import hashlib
import json
import re
import threading
import uuid
from collections.abc import Mapping
from typing import Any

import grpc
from google.cloud.monitoring_dashboard_v1.types import dashboard as gmd_dashboard
from google.cloud.monitoring_dashboard_v1.types import dashboards_service as gmd_service
from google.protobuf import empty_pb2

from wbctl.sandbox.google.grpc import Abort, Method, invalid_argument

DASHBOARDS_SERVICE = "google.monitoring.dashboard.v1.DashboardsService"
MAX_COLUMNS = 48  # MosaicLayout.columns: "must be between 1 and 48, inclusive"

_NAME = re.compile(r"projects/([^/]+)/dashboards/([^/]+)")
_PARENT = re.compile(r"projects/([^/]+)")


def _denied(permission: str, resource: Any) -> Any:
    return lambda request: f"Permission '{permission}' denied on resource '{resource(request)}' (or it may not exist)."


class DashboardsFake:
    """The dashboards of every project, by resource name: each its JSON (no name, no etag) and etag."""

    def __init__(self) -> None:
        self.lock = threading.RLock()  # over the dashboards; the shell serves each call under it
        self._dashboards: dict[str, dict[str, Any]] = {}
        self._writes = 0  # every write's number goes into its etag: a new etag each time

    # -- state ----------------------------------------------------------------------------------

    def state(self) -> dict[str, Any]:
        with self.lock:
            return copy.deepcopy({"dashboards": self._dashboards, "writes": self._writes})

    def load_state(self, saved: Mapping[str, Any]) -> None:
        with self.lock:
            self._dashboards = copy.deepcopy(dict(saved.get("dashboards", {})))
            self._writes = int(saved.get("writes", 0))

    def dashboard(self, name: str) -> dict[str, Any] | None:
        """The stored dashboard's JSON with its name and etag (None: there is none)."""
        with self.lock:
            found = self._dashboards.get(name)
            return None if found is None else {**found["json"], "name": name, "etag": found["etag"]}

    def edit(self, name: str, change: Any) -> str:
        """Someone else's edit (the console's): `change(json)` edits the stored JSON in place;
        the dashboard gets a new etag, which is returned."""
        with self.lock:
            found = self._dashboards[name]
            change(found["json"])
            self._check(gmd_dashboard.Dashboard.from_json(json.dumps(found["json"])))
            return self._store(name, found["json"])

    def _store(self, name: str, document: dict[str, Any]) -> str:
        self._writes += 1
        digest = hashlib.sha256(f"{name}\n{self._writes}\n{json.dumps(document, sort_keys=True)}".encode())
        etag = digest.hexdigest()[:16]
        self._dashboards[name] = {"json": document, "etag": etag}
        return etag

    # -- the service ----------------------------------------------------------------------------

    def methods(self) -> dict[str, Method]:
        return {
            "GetDashboard": Method(
                DASHBOARDS_SERVICE,
                gmd_service.GetDashboardRequest.deserialize,
                gmd_dashboard.Dashboard.serialize,
                self._get,
                _denied("monitoring.dashboards.get", lambda request: request.name),
            ),
            "CreateDashboard": Method(
                DASHBOARDS_SERVICE,
                gmd_service.CreateDashboardRequest.deserialize,
                gmd_dashboard.Dashboard.serialize,
                self._create,
                _denied("monitoring.dashboards.create", lambda request: request.parent),
            ),
            "UpdateDashboard": Method(
                DASHBOARDS_SERVICE,
                gmd_service.UpdateDashboardRequest.deserialize,
                gmd_dashboard.Dashboard.serialize,
                self._update,
                _denied("monitoring.dashboards.update", lambda request: request.dashboard.name),
            ),
            "DeleteDashboard": Method(
                DASHBOARDS_SERVICE,
                gmd_service.DeleteDashboardRequest.deserialize,
                lambda response: empty_pb2.Empty().SerializeToString(),
                self._delete,
                _denied("monitoring.dashboards.delete", lambda request: request.name),
            ),
        }

    def _answer(self, name: str) -> gmd_dashboard.Dashboard:
        found = self._dashboards.get(name)
        if found is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, "Requested entity was not found.")
        answer = gmd_dashboard.Dashboard.from_json(json.dumps(found["json"]))
        answer.name, answer.etag = name, found["etag"]
        return answer

    def _get(self, request: gmd_service.GetDashboardRequest) -> gmd_dashboard.Dashboard:
        _parse_name(request.name)
        return self._answer(request.name)

    def _create(self, request: gmd_service.CreateDashboardRequest) -> gmd_dashboard.Dashboard:
        parent = _PARENT.fullmatch(request.parent)
        if not parent:
            raise invalid_argument(
                f'Field parent had an invalid value of "{request.parent}": must be of the form projects/[PROJECT_ID_OR_NUMBER].'
            )
        dashboard = request.dashboard
        if dashboard.etag:
            raise invalid_argument("Field dashboard.etag must not be set when creating a dashboard.")
        name = dashboard.name or f"{request.parent}/dashboards/{uuid.uuid4()}"
        project, _ = _parse_name(name)
        if project != parent.group(1):
            raise invalid_argument(
                f"The project of the dashboard name {name} does not match the parent {request.parent}."
            )
        self._check(dashboard)
        if request.validate_only:
            return self._preview(name, dashboard)
        if name in self._dashboards:
            raise Abort(grpc.StatusCode.ALREADY_EXISTS, "Requested entity already exists")
        self._store(name, _json(dashboard))
        return self._answer(name)

    def _update(self, request: gmd_service.UpdateDashboardRequest) -> gmd_dashboard.Dashboard:
        dashboard = request.dashboard
        _parse_name(dashboard.name)
        current = self._dashboards.get(dashboard.name)
        if current is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, "Requested entity was not found.")
        if not dashboard.etag:  # the real API's answer (github.com/pulumi/pulumi-google-native/issues/760)
            raise invalid_argument("Update Dashboard should specify a non empty etag.")
        if dashboard.etag != current["etag"]:  # AIP-154: an etag that does not match is ABORTED
            raise Abort(
                grpc.StatusCode.ABORTED,
                f"The etag {dashboard.etag!r} of the dashboard {dashboard.name} is not its current one: "
                "it was changed since it was read.",
            )
        self._check(dashboard)
        if request.validate_only:
            return self._preview(dashboard.name, dashboard)
        self._store(dashboard.name, _json(dashboard))
        return self._answer(dashboard.name)

    def _delete(self, request: gmd_service.DeleteDashboardRequest) -> None:
        _parse_name(request.name)
        if self._dashboards.pop(request.name, None) is None:
            raise Abort(grpc.StatusCode.NOT_FOUND, "Requested entity was not found.")

    @staticmethod
    def _preview(name: str, dashboard: gmd_dashboard.Dashboard) -> gmd_dashboard.Dashboard:
        answer = gmd_dashboard.Dashboard.from_json(json.dumps(_json(dashboard)))
        answer.name = name
        return answer

    @staticmethod
    def _check(dashboard: gmd_dashboard.Dashboard) -> None:
        """The API's documented rules for a dashboard it stores (INVALID_ARGUMENT otherwise)."""
        if not dashboard.display_name:
            raise invalid_argument("Field dashboard.displayName is required.")
        layout = gmd_dashboard.Dashboard.pb(dashboard).WhichOneof("layout")
        if layout is None:
            raise invalid_argument(
                "The dashboard has no layout: one of gridLayout, mosaicLayout, rowLayout, columnLayout."
            )
        if layout != "mosaic_layout":
            return
        mosaic = dashboard.mosaic_layout
        columns = mosaic.columns or 12  # "If unspecified, the default is 12" (older dashboards)
        if not 1 <= columns <= MAX_COLUMNS:
            raise invalid_argument(
                f"Field mosaicLayout.columns has an invalid value of {columns}: it must be between 1 and {MAX_COLUMNS}."
            )
        for index, tile in enumerate(mosaic.tiles):
            where = f"mosaicLayout.tiles[{index}]"
            if tile.width < 1 or tile.height < 1:
                raise invalid_argument(f"Field {where}: width and height must be positive.")
            if tile.x_pos < 0 or tile.y_pos < 0 or tile.x_pos + tile.width > columns:
                raise invalid_argument(
                    f"Field {where}: the tile at xPos {tile.x_pos}, width {tile.width} does not fit in {columns} columns."
                )
            _check_widget(tile.widget, f"{where}.widget")


def _check_widget(widget: Any, where: str) -> None:
    content = type(widget).pb(widget).WhichOneof("content")
    if content is None:
        raise invalid_argument(f"Field {where}: the widget has no content.")
    if content == "xy_chart":
        if not widget.xy_chart.data_sets:
            raise invalid_argument(f"Field {where}.xyChart.dataSets: at least one data set is required.")
        for number, data_set in enumerate(widget.xy_chart.data_sets):
            _check_query(data_set.time_series_query, f"{where}.xyChart.dataSets[{number}].timeSeriesQuery")
    elif content == "scorecard":
        _check_query(widget.scorecard.time_series_query, f"{where}.scorecard.timeSeriesQuery")
    elif content == "time_series_table":
        for number, data_set in enumerate(widget.time_series_table.data_sets):
            _check_query(data_set.time_series_query, f"{where}.timeSeriesTable.dataSets[{number}].timeSeriesQuery")


def _check_query(query: Any, where: str) -> None:
    source = type(query).pb(query).WhichOneof("source")
    if source is None:
        raise invalid_argument(f"Field {where}: a query is required (timeSeriesFilter, prometheusQuery, ...).")
    if source == "time_series_filter" and not query.time_series_filter.filter:
        raise invalid_argument(f"Field {where}.timeSeriesFilter.filter is required.")


def _parse_name(name: str) -> tuple[str, str]:
    match = _NAME.fullmatch(name)
    if not match:
        raise invalid_argument(
            f'Field name had an invalid value of "{name}": must be of the form '
            "projects/[PROJECT_ID_OR_NUMBER]/dashboards/[DASHBOARD_ID]."
        )
    return match.group(1), match.group(2)


def _json(dashboard: gmd_dashboard.Dashboard) -> dict[str, Any]:
    """The dashboard as JSON without its name and etag (what the store keeps)."""
    document: dict[str, Any] = json.loads(
        gmd_dashboard.Dashboard.to_json(
            dashboard, use_integers_for_enums=False, always_print_fields_with_no_presence=False, indent=None
        )
    )
    document.pop("name", None)
    document.pop("etag", None)
    return document
