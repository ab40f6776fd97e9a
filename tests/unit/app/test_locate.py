"""gcp-project and bigtable-instance from the WeightsAndBiases resource (wbctl/app/locate.py,
Backends.locate), read with the real Kubernetes client from the API fake holding the chart's
objects: before the naming rule, never over an explicit setting, one GET, only when needed."""

from __future__ import annotations

from pathlib import Path

import pytest

from wbctl.errors import UsageError
from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043


@pytest.fixture
def kubeconfig(kube_api: FakeKubeAPI, tmp_path: Path) -> str:
    # Terraform named the instance after its namespace variable ("acme-wandb"), not the resource ("wandb")
    kube_api.add_all(chart_043(project="acme-prod", bigtable_instance="acme-wandb", lumen_agent=False))
    kube_api.reset_requests()
    return str(kube_api.write_kubeconfig(tmp_path / "kubeconfig"))


def test_unset_settings_come_from_the_resource_with_their_origin(make_session, kubeconfig, kube_api) -> None:
    session = make_session(KUBECONFIG=kubeconfig)
    assert session.backends.bigtable_instance() == "acme-wandb"  # not the naming rule's wandb-bigtable
    assert session.backends.gcp_project() == "acme-prod"
    settings = session.settings()
    assert settings.values["bigtable-instance"].origin == (
        "from the WeightsAndBiases resource default/wandb (global.bigtable.instance)"
    )
    assert settings.values["gcp-project"].origin.startswith("from the WeightsAndBiases resource default/wandb")
    assert kube_api.count("get", "weightsandbiases") == 1  # one GET serves both, and every later use


def test_an_explicit_setting_wins_and_costs_no_kubernetes_call(make_session, kubeconfig, kube_api) -> None:
    session = make_session(KUBECONFIG=kubeconfig, WBCTL_GCP_PROJECT="mine", WBCTL_BIGTABLE_INSTANCE="other")
    assert (session.backends.gcp_project(), session.backends.bigtable_instance()) == ("mine", "other")
    assert session.settings().values["gcp-project"].origin == "env WBCTL_GCP_PROJECT"
    assert kube_api.requests == []


def test_one_explicit_setting_is_kept_while_the_other_is_filled(make_session, kubeconfig) -> None:
    session = make_session(KUBECONFIG=kubeconfig, WBCTL_GCP_PROJECT="mine")
    assert (session.backends.gcp_project(), session.backends.bigtable_instance()) == ("mine", "acme-wandb")


def test_terraform_without_bigtable_leaves_the_naming_rule(make_session, kubeconfig, kube_api) -> None:
    kube_api.merge(
        "weightsandbiases", "default", "wandb", {"spec": {"values": {"global": {"bigtable": {"instance": ""}}}}}
    )
    assert make_session(KUBECONFIG=kubeconfig).backends.bigtable_instance() == "wandb-bigtable"


def test_no_resource_keeps_the_rule_and_says_why_the_project_is_missing(make_session, kubeconfig) -> None:
    session = make_session(KUBECONFIG=kubeconfig, WBCTL_INSTANCE="nope")
    assert session.backends.bigtable_instance() == "nope-bigtable"
    with pytest.raises(
        UsageError,
        match=r"gcp-project is not set: .* \(the WeightsAndBiases resource could not be read: "
        r"no WeightsAndBiases resource nope in namespace default\)",
    ):
        session.backends.gcp_project()


def test_a_forbidden_resource_is_not_fatal(make_session, kubeconfig, kube_api) -> None:
    kube_api.forbid("get", "weightsandbiases")
    session = make_session(KUBECONFIG=kubeconfig)
    assert session.backends.bigtable_instance() == "wandb-bigtable"
    located = session.backends.locate()
    assert located.read and located.unread and "forbidden" in located.unread.lower()


def test_the_queues_fallback_project_is_the_resources(make_session, kubeconfig) -> None:
    """Terraform's queue names, when the updater's Deployment cannot say: the project the resource names."""
    from datetime import UTC, datetime

    from wbctl.app import reads
    from wbctl.app.gather import gather
    from wbctl.errors import BackendError

    session = make_session(KUBECONFIG=kubeconfig)
    readers: reads.Readers = {reads.KUBE: lambda _: (_ for _ in ()).throw(BackendError("workloads unreadable"))}
    reads.add_queue(readers, session, 1800, datetime.now(UTC))
    address = gather({reads.KUBE: readers[reads.KUBE], reads.QUEUE_ADDRESS: readers[reads.QUEUE_ADDRESS]}, timeout=5)[
        reads.QUEUE_ADDRESS
    ].value
    assert address is not None and (address.source, address.project) == ("pubsub", "acme-prod")
    assert address.subscription == "wandb-flat-run-fields-updater"
