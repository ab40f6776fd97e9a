"""The Dashboards API fake (wbctl/sandbox/google/dashboards.py), driven only through Google's
client library google-cloud-monitoring-dashboards (DashboardsServiceClient over gRPC), as the
REST reference describes the API: https://cloud.google.com/monitoring/api/ref_v3/rest/v1/projects.dashboards
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.api_core import exceptions as gexc
from google.cloud.monitoring_dashboard_v1 import Dashboard, DashboardsServiceClient
from google.cloud.monitoring_dashboard_v1.services.dashboards_service.transports import (
    DashboardsServiceGrpcTransport,
)

from wbctl.sandbox.google.api import FakeGoogleAPIs

PARENT = "projects/wandb-sandbox"
NAME = f"{PARENT}/dashboards/wbctl-prod"
CALL: dict[str, Any] = {"retry": None, "timeout": 5}


def document(**changes: Any) -> dict[str, Any]:
    tile = {
        "width": 24,
        "height": 16,
        "widget": {
            "title": "Backlog",
            "xyChart": {
                "dataSets": [
                    {
                        "timeSeriesQuery": {
                            "timeSeriesFilter": {
                                "filter": 'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages"'
                            }
                        }
                    }
                ]
            },
        },
    }
    base: dict[str, Any] = {"displayName": "wbctl: prod", "mosaicLayout": {"columns": 48, "tiles": [tile]}}
    base.update(changes)
    return base


def dashboard(doc: dict[str, Any], *, name: str = NAME, etag: str = "") -> Dashboard:
    message = Dashboard.from_json(json.dumps(doc))
    message.name, message.etag = name, etag
    return message


@pytest.fixture
def client(google_api: FakeGoogleAPIs) -> Iterator[DashboardsServiceClient]:
    channel = grpc.insecure_channel(google_api.address)
    yield DashboardsServiceClient(transport=DashboardsServiceGrpcTransport(channel=channel))
    channel.close()


def test_get_of_a_missing_dashboard_is_not_found(client: DashboardsServiceClient) -> None:
    with pytest.raises(gexc.NotFound):
        client.get_dashboard(name=NAME, **CALL)


def test_create_get_update_and_a_new_etag_on_every_write(
    client: DashboardsServiceClient, google_api: FakeGoogleAPIs
) -> None:
    created = client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    assert created.name == NAME and created.etag
    got = client.get_dashboard(name=NAME, **CALL)
    assert got.display_name == "wbctl: prod" and got.etag == created.etag
    assert got.mosaic_layout.tiles[0].widget.title == "Backlog"
    first = client.update_dashboard(request={"dashboard": dashboard(document(), etag=got.etag)}, **CALL)
    assert first.etag != got.etag  # the same content: still a new etag
    second = client.update_dashboard(
        request={"dashboard": dashboard(document(displayName="renamed"), etag=first.etag)}, **CALL
    )
    assert second.etag not in (got.etag, first.etag)
    assert client.get_dashboard(name=NAME, **CALL).display_name == "renamed"
    assert google_api.count("UpdateDashboard") == 2


def test_a_stale_etag_is_aborted_and_changes_nothing(client: DashboardsServiceClient) -> None:
    created = client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    client.update_dashboard(request={"dashboard": dashboard(document(displayName="theirs"), etag=created.etag)}, **CALL)
    with pytest.raises(gexc.Aborted, match="etag"):
        client.update_dashboard(
            request={"dashboard": dashboard(document(displayName="mine"), etag=created.etag)}, **CALL
        )
    assert client.get_dashboard(name=NAME, **CALL).display_name == "theirs"


def test_an_update_without_an_etag_is_refused_as_the_real_api_does(client: DashboardsServiceClient) -> None:
    client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    with pytest.raises(gexc.InvalidArgument, match="should specify a non empty etag"):
        client.update_dashboard(request={"dashboard": dashboard(document(displayName="blind"))}, **CALL)
    assert client.get_dashboard(name=NAME, **CALL).display_name == "wbctl: prod"


def test_create_of_an_existing_name_and_update_of_a_missing_one(client: DashboardsServiceClient) -> None:
    with pytest.raises(gexc.NotFound):
        client.update_dashboard(request={"dashboard": dashboard(document(), etag="x")}, **CALL)
    client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    with pytest.raises(gexc.AlreadyExists):
        client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)


def test_validate_only_saves_nothing(client: DashboardsServiceClient, google_api: FakeGoogleAPIs) -> None:
    client.create_dashboard(
        request={"parent": PARENT, "dashboard": dashboard(document()), "validate_only": True}, **CALL
    )
    assert google_api.dashboards.dashboard(NAME) is None
    with pytest.raises(gexc.InvalidArgument):
        client.create_dashboard(
            request={"parent": PARENT, "dashboard": dashboard(document(displayName="")), "validate_only": True}, **CALL
        )


def test_create_without_a_name_gets_one_in_the_parent(client: DashboardsServiceClient) -> None:
    created = client.create_dashboard(parent=PARENT, dashboard=Dashboard.from_json(json.dumps(document())), **CALL)
    assert created.name.startswith(f"{PARENT}/dashboards/") and created.name != NAME


@pytest.mark.parametrize(
    ("doc", "name", "etag", "message"),
    [
        (document(displayName=""), NAME, "", "displayName is required"),
        (document(), NAME, "abc", "etag must not be set"),
        (document(), "projects/other/dashboards/x", "", "does not match the parent"),
        (document(), "projects/wandb-sandbox/dash/x", "", "must be of the form"),
        ({"displayName": "no layout"}, NAME, "", "no layout"),
        (document(mosaicLayout={"columns": 60}), NAME, "", "between 1 and 48"),
        (
            document(
                mosaicLayout={
                    "columns": 48,
                    "tiles": [
                        {"xPos": 30, "width": 24, "height": 4, "widget": {"title": "t", "text": {"content": "x"}}}
                    ],
                }
            ),
            NAME,
            "",
            "does not fit in 48 columns",
        ),
        (
            document(mosaicLayout={"columns": 48, "tiles": [{"width": 24, "height": 4, "widget": {"title": "empty"}}]}),
            NAME,
            "",
            "has no content",
        ),
        (
            document(
                mosaicLayout={
                    "columns": 48,
                    "tiles": [
                        {"width": 24, "height": 4, "widget": {"xyChart": {"dataSets": [{"timeSeriesQuery": {}}]}}}
                    ],
                }
            ),
            NAME,
            "",
            "a query is required",
        ),
    ],
)
def test_bad_dashboards_are_invalid_arguments(
    client: DashboardsServiceClient, google_api: FakeGoogleAPIs, doc: dict, name: str, etag: str, message: str
) -> None:
    with pytest.raises(gexc.InvalidArgument, match=message):
        client.create_dashboard(parent=PARENT, dashboard=dashboard(doc, name=name, etag=etag), **CALL)
    assert google_api.dashboards.state()["dashboards"] == {}


def test_permission_denied_names_the_permission(client: DashboardsServiceClient, google_api: FakeGoogleAPIs) -> None:
    google_api.fail("GetDashboard", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(gexc.PermissionDenied, match="monitoring.dashboards.get"):
        client.get_dashboard(name=NAME, **CALL)


def test_the_state_survives_a_restart_with_its_etag(
    client: DashboardsServiceClient, google_api: FakeGoogleAPIs
) -> None:
    created = client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    saved = json.loads(json.dumps(google_api.state()))  # what the sandbox writes to its state file
    with FakeGoogleAPIs() as again:
        again.load_state(saved)
        channel = grpc.insecure_channel(again.address)
        try:
            other = DashboardsServiceClient(transport=DashboardsServiceGrpcTransport(channel=channel))
            got = other.get_dashboard(name=NAME, **CALL)
            assert got.etag == created.etag and got.display_name == "wbctl: prod"
            updated = other.update_dashboard(request={"dashboard": dashboard(document(), etag=got.etag)}, **CALL)
            assert updated.etag != created.etag  # the write counter was saved too
        finally:
            channel.close()


def test_delete(client: DashboardsServiceClient) -> None:
    client.create_dashboard(parent=PARENT, dashboard=dashboard(document()), **CALL)
    client.delete_dashboard(name=NAME, **CALL)
    with pytest.raises(gexc.NotFound):
        client.delete_dashboard(name=NAME, **CALL)
