"""The WeightsAndBiases resource's own record of its writes (managedFields) and conditions, as
changes: who wrote it, how and when, and the generation the spec is at."""

from __future__ import annotations

from datetime import UTC, datetime

from wbctl.adapters.kube.history import resource_history, revision
from wbctl.core import timeline

CR = {
    "apiVersion": "apps.wandb.com/v1",
    "kind": "WeightsAndBiases",
    "metadata": {
        "name": "wandb",
        "generation": 7,
        "managedFields": [
            {"manager": "kubectl-client-side-apply", "operation": "Update", "time": "2026-05-01T10:00:00Z"},
            {"manager": "wbctl", "operation": "Update", "time": "2026-05-01T11:30:00Z"},
            {"manager": "manager", "operation": "Update", "subresource": "status", "time": "2026-05-01T11:31:00Z"},
        ],
    },
    "status": {
        "conditions": [
            {"type": "Ready", "status": "True", "reason": "Reconciled", "lastTransitionTime": "2026-05-01T11:32:00Z"}
        ]
    },
}


def test_each_write_and_condition_change_is_a_change_of_the_resource() -> None:
    listed = timeline.from_resource(resource_history(CR))
    assert [(h.time.strftime("%H:%M"), h.what) for h in listed] == [
        ("10:00", "update by kubectl-client-side-apply, generation 7"),
        ("11:30", "update by wbctl, generation 7"),
        ("11:31", "update by manager (status)"),
        ("11:32", "condition Ready became True (Reconciled)"),
    ]


def test_a_replicaset_without_an_owning_deployment_is_no_revision() -> None:
    orphan = {
        "metadata": {
            "name": "x",
            "creationTimestamp": "2026-05-01T10:00:00Z",
            "annotations": {"deployment.kubernetes.io/revision": "3"},
        }
    }
    owned = {
        **orphan,
        "metadata": {**orphan["metadata"], "ownerReferences": [{"kind": "Deployment", "name": "wandb-api"}]},
    }
    found = revision(owned)
    assert revision(orphan) is None and found is not None
    assert (found.revision, found.created) == (3, datetime(2026, 5, 1, 10, tzinfo=UTC))
