"""Each Cloud Monitoring signal's server-side aggregation, as the request carries it."""

from __future__ import annotations

import pytest
from google.cloud.monitoring_v3.types import common

from wbctl.adapters.metrics import SIGNALS, CloudMonitoring

EXPECTED = {  # GAUGEs aligned (max or mean a period); DELTA counters as per-second rates, summed over series
    "bigtable-cpu": ("ALIGN_MEAN", "REDUCE_NONE"),
    "bigtable-cpu-hottest": ("ALIGN_MAX", "REDUCE_NONE"),
    "bigtable-nodes": ("ALIGN_MAX", "REDUCE_NONE"),
    "bigtable-storage": ("ALIGN_MEAN", "REDUCE_NONE"),
    "queue-undelivered": ("ALIGN_MAX", "REDUCE_NONE"),
    "queue-oldest-age": ("ALIGN_MAX", "REDUCE_NONE"),
    "queue-acked": ("ALIGN_RATE", "REDUCE_SUM"),
    "queue-published": ("ALIGN_RATE", "REDUCE_SUM"),
    "queue-expired": ("ALIGN_RATE", "REDUCE_SUM"),
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_aligner_reducer_and_period(name: str) -> None:
    aggregation = CloudMonitoring.aggregation(SIGNALS[name], 60)
    aligner = common.Aggregation.Aligner(aggregation.per_series_aligner).name
    reducer = common.Aggregation.Reducer(aggregation.cross_series_reducer).name
    assert (aligner, reducer) == EXPECTED[name]
    assert aggregation.alignment_period.total_seconds() == 60
    if reducer != "REDUCE_NONE":  # the reduced series keep the label that tells them apart
        assert list(aggregation.group_by_fields) == [f"resource.labels.{SIGNALS[name].group_label}"]


def test_every_cloud_monitoring_signal_is_covered() -> None:
    assert {name for name, signal in SIGNALS.items() if signal.metric_type} == set(EXPECTED)
