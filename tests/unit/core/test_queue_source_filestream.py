"""The filestream's own queue, found by the same discovery as the updater's (one QueueKind
each): the chart's GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS (Pub/Sub, or the MySQL URL the
chart writes without Pub/Sub: no queue), else Terraform's `<ns>-filestream-gorilla`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from wbctl.core.kube import Container, EnvVar, Workload
from wbctl.core.queue_source import (
    FILESTREAM,
    RUN_UPDATES,
    QueueAddress,
    config_maps_needed,
    discover,
    resolve,
    terraform_names,
)

LABELS = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "filestream"}
# what the chart renders with Pub/Sub on (helm-charts 82d5626a, test-configs fmb's snapshot)
CHART_ADDRESS = "pubsub:/playground-111/filestream/filestream-gorilla"
# and without it: `wandb.mysql`, its password a $(VAR) from a Secret
CHART_MYSQL = "mysql://$(MYSQL_USER):$(MYSQL_PASSWORD)@$(MYSQL_HOST):$(MYSQL_PORT)/$(MYSQL_DATABASE)?tls=preferred"


def filestream(*env: EnvVar, env_from: tuple[str, ...] = ()) -> Workload:
    container = Container("filestream", "wandb/megabinary:0.70.0", {}, {}, env, env_from)
    return Workload("Deployment", "wandb-filestream-bc", LABELS, dict(LABELS), 3, 3, (container,))


def resolved(discovered: QueueAddress | None, source: str | None = None) -> QueueAddress:
    return resolve(
        discovered,
        source=source,
        subscription="configured-sub",  # the queue-* settings name the run-updates queue, never filestream's
        topic="configured-topic",
        project="my-proj",
        install="wandb",
        kind=FILESTREAM,
    )


def test_the_chart_address_is_discovered_from_filestream_deployment() -> None:
    found = discover(filestream(EnvVar(FILESTREAM.env_var, CHART_ADDRESS)), {}, FILESTREAM)
    assert found == QueueAddress(
        "pubsub",
        f"deployment/wandb-filestream-bc env {FILESTREAM.env_var}",
        project="playground-111",
        topic="filestream",
        subscription="filestream-gorilla",
    )
    assert resolved(found) == found  # the settings do not override it


def test_the_updater_variable_is_not_filestream_s() -> None:
    workload = filestream(EnvVar(RUN_UPDATES.env_var, "pubsub:/p/t/s"))
    assert discover(workload, {}, FILESTREAM) is None


def test_the_mysql_form_is_no_queue_and_never_shown() -> None:
    workload = filestream(EnvVar(FILESTREAM.env_var, "mysql://wandb:hunter2@db:3306/wandb_local"))
    found = discover(workload, {}, FILESTREAM)
    assert found is not None and found.source == "none"
    assert "hunter2" not in found.origin and "mysql" in found.origin
    assert resolved(found).source == "none"


def test_the_chart_mysql_form_needs_no_config_map() -> None:
    workload = filestream(EnvVar(FILESTREAM.env_var, CHART_MYSQL), env_from=("wandb-filestream-configmap",))
    assert config_maps_needed(workload, FILESTREAM) == ()
    found = discover(workload, {}, FILESTREAM)
    assert found is not None and found.source == "none"


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40))
def test_no_part_of_a_mysql_address_reaches_the_origin(secret: str) -> None:
    text = f"mysql://user:{secret}@db:3306/wandb"
    found = discover(filestream(EnvVar(FILESTREAM.env_var, text)), {}, FILESTREAM)
    assert found is not None and found.source == "none"
    assert text.strip() not in found.origin
    assert found.origin.endswith("names mysql, not a queue")


def test_without_the_variable_terraform_names_are_used() -> None:
    assert terraform_names("wandb", FILESTREAM) == ("wandb-filestream", "wandb-filestream-gorilla")
    assert (
        discover(filestream(EnvVar("GORILLA_FILE_STREAM_STORE_ADDRESS", "pubsub:/p/filestream")), {}, FILESTREAM)
        is None
    )
    assert resolved(None) == QueueAddress(
        "pubsub",
        "the W&B Terraform module's names",
        project="my-proj",
        topic="wandb-filestream",
        subscription="wandb-filestream-gorilla",
    )


def test_with_pubsub_off_and_nothing_discovered_there_is_no_filestream_queue() -> None:
    for source in ("kafka", "none"):
        address = resolved(None, source=source)
        assert address.source == "none" and "Pub/Sub is off" in address.origin


def test_the_deployment_wins_even_when_the_updater_is_on_kafka() -> None:
    found = discover(filestream(EnvVar(FILESTREAM.env_var, CHART_ADDRESS)), {}, FILESTREAM)
    assert resolved(found, source="kafka") == found


def test_the_run_updates_queue_is_resolved_as_before() -> None:
    address = resolve(None, source=None, subscription=None, topic=None, project="p", install="wandb")
    assert (address.topic, address.subscription) == terraform_names("wandb")
    assert address.subscription == "wandb-flat-run-fields-updater"
