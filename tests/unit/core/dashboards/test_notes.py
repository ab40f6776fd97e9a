"""What each dashboard leaves out is said, and said rightly: wbctl's own judgement apart from a
metric the vendor does not have; nothing said of a signal the dashboard shows."""

from __future__ import annotations

import pytest

from tests.support.alert_settings import DEFAULT, VARIANTS
from wbctl.core import alerts, dashboards
from wbctl.core.signals import catalogue
from wbctl.errors import UsageError


def test_every_left_out_signal_is_named_and_no_shown_one(settings: alerts.AlertSettings) -> None:
    for fmt in dashboards.FORMATS:
        said = " ".join(dashboards.notes(fmt, settings))
        shown = {signal.id for signal in dashboards.shown(fmt, settings)}
        for signal in catalogue(settings):
            named = f" {signal.id}," in said or f" {signal.id}:" in said
            assert named == (signal.id not in shown), (fmt, signal.id)


def test_wbctls_judgement_and_other_metrics_are_told_apart() -> None:
    [judged, other] = dashboards.notes("cloud-monitoring", DEFAULT)
    assert "queue-verdict" in judged and "wbctl's own judgement" in judged
    assert "filestream-requests" in other and "wbctl's own judgement" not in other
    [grafana] = dashboards.notes("grafana", DEFAULT)
    assert "bigtable-latency" in grafana and "Cloud Monitoring and Datadog" in grafana


def test_kafka_is_said_to_be_grafanas_only() -> None:
    assert any("the queue is Kafka" in note for note in dashboards.notes("datadog", VARIANTS["kafka"]))
    assert not any("Kafka" in note for note in dashboards.notes("grafana", VARIANTS["kafka"]))


def test_an_unknown_format_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="expected one of grafana, datadog, cloud-monitoring"):
        dashboards.render("graphana", DEFAULT)
