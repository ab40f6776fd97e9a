"""DashboardsAdapter (wbctl/adapters/google/dashboards.py) against the sandbox's Dashboards API
fake over gRPC, through Google's client library google-cloud-monitoring-dashboards: no mocks.
Each failure is one of wbctl's errors with a one-line message."""

from __future__ import annotations

import json
from typing import Any

import grpc
import pytest

from tests.support.net import free_port, silent_listener
from wbctl.adapters.google.dashboards import DashboardsAdapter
from wbctl.core.dashboard_diff import differences
from wbctl.errors import BackendError, ConflictError
from wbctl.sandbox.google.api import FakeGoogleAPIs

PROJECT = "wandb-sandbox"


def rendered(title: str = "Backlog", threshold: float = 1000) -> dict[str, Any]:
    return {
        "displayName": "wbctl: prod",
        "labels": {"wbctl": ""},
        "mosaicLayout": {
            "columns": 48,
            "tiles": [
                {
                    "xPos": 0,
                    "yPos": 0,
                    "width": 24,
                    "height": 16,
                    "widget": {
                        "title": title,
                        "xyChart": {
                            "dataSets": [
                                {
                                    "timeSeriesQuery": {
                                        "timeSeriesFilter": {
                                            "filter": 'metric.type="pubsub.googleapis.com/subscription/num_undelivered_messages"',
                                            "aggregation": {"alignmentPeriod": "60s", "perSeriesAligner": "ALIGN_MEAN"},
                                        }
                                    },
                                    "plotType": "LINE",
                                }
                            ],
                            "thresholds": [{"value": threshold}],
                        },
                    },
                }
            ],
        },
    }


@pytest.fixture
def adapter(google_api: FakeGoogleAPIs) -> Any:
    made = DashboardsAdapter(project=PROJECT, timeout=5, emulator_host=google_api.address)
    yield made
    made.close()


def test_missing_then_created_then_read_back_in_the_canonical_form(adapter: DashboardsAdapter) -> None:
    name = adapter.name("wbctl-prod")
    assert name == "projects/wandb-sandbox/dashboards/wbctl-prod"
    missing = adapter.observe(name)
    assert not missing.exists and missing.etag == ""
    desired = adapter.canonical(rendered())
    assert "xPos" not in desired["mosaicLayout"]["tiles"][0]  # a default is left out, as the API answers
    adapter.create(name, desired)
    found = adapter.observe(name)
    assert found.exists and found.etag and found.document == desired
    assert differences(found, desired) == ()
    (left,) = differences(found, adapter.canonical(rendered(threshold=5)))
    assert (left.key, left.before, left.after) == ('tile "Backlog": widget.xyChart.thresholds[0].value', 1000.0, 5.0)


def test_update_with_the_etag_and_a_stale_one_is_a_conflict(
    adapter: DashboardsAdapter, google_api: FakeGoogleAPIs
) -> None:
    name = adapter.name("wbctl-prod")
    adapter.create(name, adapter.canonical(rendered()))
    seen = adapter.observe(name)
    adapter.update(name, adapter.canonical(rendered(threshold=2000)), seen.etag)
    assert adapter.observe(name).document == adapter.canonical(rendered(threshold=2000))
    with pytest.raises(ConflictError, match="changed since the diff was made"):
        adapter.update(name, adapter.canonical(rendered(threshold=3000)), seen.etag)  # the etag before the update
    assert adapter.observe(name).document == adapter.canonical(rendered(threshold=2000))
    with pytest.raises(ConflictError, match="was created since"):
        adapter.create(name, adapter.canonical(rendered()))
    google_api.dashboards.load_state({})
    with pytest.raises(ConflictError, match="was deleted since"):
        adapter.update(name, adapter.canonical(rendered()), seen.etag)


def test_validate_only_writes_nothing(adapter: DashboardsAdapter) -> None:
    name = adapter.name("wbctl-prod")
    adapter.create(name, adapter.canonical(rendered()), validate_only=True)
    assert not adapter.observe(name).exists


def test_canonical_is_strict_about_unknown_fields() -> None:
    with pytest.raises(ValueError, match="nonsense"):
        DashboardsAdapter.canonical({**rendered(), "nonsense": 1})


def one_line(error: BaseException) -> str:
    text = str(error)
    assert "\n" not in text
    return text


def test_permission_denied_names_the_role(adapter: DashboardsAdapter, google_api: FakeGoogleAPIs) -> None:
    google_api.fail("CreateDashboard", grpc.StatusCode.PERMISSION_DENIED)
    with pytest.raises(BackendError) as raised:
        adapter.create(adapter.name("wbctl-prod"), adapter.canonical(rendered()))
    message = one_line(raised.value)
    assert "monitoring.dashboards.create" in message and "roles/monitoring.dashboardEditor" in message


def test_the_api_down_and_a_hung_api(adapter: DashboardsAdapter, google_api: FakeGoogleAPIs) -> None:
    closed = DashboardsAdapter(project=PROJECT, timeout=2, emulator_host=f"127.0.0.1:{free_port()}")
    try:
        with pytest.raises(BackendError, match="the service is unavailable") as raised:
            closed.observe(closed.name("wbctl-prod"))
        one_line(raised.value)
    finally:
        closed.close()
    with silent_listener() as port:
        hung = DashboardsAdapter(project=PROJECT, timeout=0.5, emulator_host=f"127.0.0.1:{port}")
        try:
            with pytest.raises(BackendError, match=r"no answer within 0.5s"):
                hung.observe(hung.name("wbctl-prod"))
        finally:
            hung.close()
    google_api.hang("GetDashboard")
    slow = DashboardsAdapter(project=PROJECT, timeout=0.5, emulator_host=google_api.address)
    try:
        with pytest.raises(BackendError, match=r"get dashboard .*no answer within 0.5s"):
            slow.observe(slow.name("wbctl-prod"))
    finally:
        slow.close()


def test_what_the_fake_stores_is_what_was_sent(adapter: DashboardsAdapter, google_api: FakeGoogleAPIs) -> None:
    name = adapter.name("wbctl-prod")
    adapter.create(name, adapter.canonical(rendered()))
    stored = google_api.dashboards.dashboard(name)
    assert stored is not None and stored["name"] == name
    assert json.dumps(stored["mosaicLayout"]["tiles"][0]["widget"]["title"]) == '"Backlog"'
