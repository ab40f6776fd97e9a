"""The Cloud Monitoring source against the gRPC fake, through the real client."""

from __future__ import annotations

from datetime import UTC, datetime

import grpc
import pytest

from wbctl.adapters.metrics import CloudMonitoring
from wbctl.errors import BackendError
from wbctl.sandbox.google.api import FakeGoogleAPIs, demo_deployment

NOW = datetime(2026, 11, 27, 12, 0, tzinfo=UTC)


def test_queue_and_bigtable_signals() -> None:
    with FakeGoogleAPIs() as fake:
        demo_deployment(fake, project="p", now=NOW, backlog=True)
        source = CloudMonitoring(project="p", timeout=5, emulator_host=fake.address)
        data = source.fetch(
            {
                "queue-undelivered": "wandb-flat-run-fields-updater",
                "queue-oldest-age": "wandb-flat-run-fields-updater",
                "bigtable-nodes": "wandb-bigtable",
            },
            3600,
            NOW,
        )
        undelivered = data["queue-undelivered"].for_label("subscription", "wandb-flat-run-fields-updater")
        assert undelivered is not None and undelivered.latest > undelivered.points[0][1]  # the backlog grows
        assert 25 <= len(undelivered.points) <= 31  # aligned on the server: ~30 points, not 60 raw ones
        assert data["queue-oldest-age"].series is not None
        assert data["bigtable-nodes"].for_label("cluster", "wandb-bigtable-c1").peak == 3
        assert fake.count("ListTimeSeries") == 3
        empty = source.fetch({"queue-undelivered": "no-such-subscription"}, 3600, NOW)["queue-undelivered"]
        assert empty.series is None and "no queue-undelivered data" in empty.reason
        fake.fail("ListTimeSeries", grpc.StatusCode.PERMISSION_DENIED)
        with pytest.raises(BackendError, match="monitoring.timeSeries.list"):
            source.fetch({"bigtable-cpu": "wandb-bigtable"}, 3600, NOW)
        source.close()
