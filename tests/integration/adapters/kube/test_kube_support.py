"""The support bundle's reads against the API fake, through the real client: bounded Events,
pods/log's parameters, and errors as wbctl's."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbctl.adapters.kube import KubeAdapter
from wbctl.adapters.kube.support import EVENTS_PAGE, EVENTS_PAGES, SupportReader
from wbctl.errors import BackendError
from wbctl.sandbox.kube.api import FakeKubeAPI


@pytest.fixture
def reader(kube_api: FakeKubeAPI, isolated_env: Path) -> SupportReader:
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    adapter = KubeAdapter(
        kube_context=None, namespace="default", instance="wandb", timeout=5, kubeconfig=str(kubeconfig)
    )
    return SupportReader(adapter.connection)


def _event(index: int, namespace: str = "default") -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"e{index:05d}", "namespace": namespace},
        "involvedObject": {"kind": "Pod", "name": f"p{index}", "namespace": namespace},
        "reason": "BackOff",
        "type": "Warning",
    }


def test_events_are_read_in_at_most_a_few_pages_whatever_the_namespace_holds(
    kube_api: FakeKubeAPI, reader: SupportReader
) -> None:
    kube_api.add_all([_event(i) for i in range(EVENTS_PAGE * EVENTS_PAGES + 300)] + [_event(0, "other")])
    events = reader.events()
    assert len(events) == EVENTS_PAGE * EVENTS_PAGES
    assert kube_api.count("list", "events") == EVENTS_PAGES
    assert {e["involvedObject"]["namespace"] for e in events} == {"default"}


def test_a_refused_log_is_a_wbctl_error_naming_the_pod(kube_api: FakeKubeAPI, reader: SupportReader) -> None:
    kube_api.add(
        {
            "apiVersion": "v1",
            "kind": "Pod",
            "metadata": {"name": "wandb-api-1", "namespace": "default"},
            "spec": {"containers": [{"name": "api", "image": "wandb/local"}]},
        }
    )
    assert reader.pod_log("wandb-api-1", "api", tail_lines=5, since_seconds=60) == ""  # no telemetry: an empty log
    kube_api.forbid("get", "pods/log")
    with pytest.raises(BackendError, match=r"forbidden: get pods/log wandb-api-1 \(api\) in namespace default"):
        reader.pod_log("wandb-api-1", "api", tail_lines=5, since_seconds=60)
