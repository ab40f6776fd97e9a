"""The WeightsAndBiases custom resource as the operator's users write it (the chart's URL, name
and version, the values), with the status the operator reports. Separate because it is the
one object both chart builders end with, and the place their values land.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.sandbox.kube.objects.basics import Obj, stable_uid, timestamp

CHART_URL = "https://charts.wandb.ai"


def weights_and_biases(
    instance: str, namespace: str, version: str, values: Mapping[str, Any], *, now: datetime | None = None
) -> Obj:
    """The WeightsAndBiases CR as the operator's users write it, with the status it reports."""
    now = now or datetime.now(UTC)
    return {
        "apiVersion": "apps.wandb.com/v1",
        "kind": "WeightsAndBiases",
        "metadata": {
            "name": instance,
            "namespace": namespace,
            "uid": stable_uid("WeightsAndBiases", namespace, instance),
            "creationTimestamp": timestamp(now - timedelta(days=90)),
            "generation": 1,
            "labels": {"app.kubernetes.io/name": "weightsandbiases", "app.kubernetes.io/instance": instance},
        },
        "spec": {
            "chart": {"url": CHART_URL, "name": "operator-wandb", "version": version},
            "values": copy.deepcopy(dict(values)),
        },
        "status": {"phase": "Completed"},
    }
