"""The alerts' and dashboards' settings the unit tests share: the defaults a context gives, and the
variants that change what exists (a context, no filestream queue, Kafka, no queue)."""

from __future__ import annotations

from dataclasses import replace

from wbctl.core import alerts

DEFAULT = alerts.AlertSettings(
    context=None,
    queue_source="pubsub",
    queue="Pub/Sub subscription wandb-flat-run-fields-updater",
    subscription="wandb-flat-run-fields-updater",
    project="my-project",
    bigtable_instance="wandb-bigtable",
    retention=7 * 86400,
    allowed_backlog=2500,
    allowed_age=300,
    auditor_interval=300,
    filestream_subscription="wandb-filestream-gorilla",
    namespace="wandb",
)
VARIANTS = {
    "default": DEFAULT,
    "context": replace(DEFAULT, context="prod", allowed_age=7200, auditor_interval=600),
    "no-filestream": replace(DEFAULT, filestream_subscription=None),
    "kafka": replace(
        DEFAULT,
        queue_source="kafka",
        queue="Kafka topic run-updates (consumer group flat-run-fields-updater)",
        subscription=None,
        retention=None,
        filestream_subscription=None,
    ),
    "kafka-with-retention": replace(DEFAULT, queue_source="kafka", subscription=None, filestream_subscription=None),
    "no-queue": replace(DEFAULT, queue_source="none", subscription=None, filestream_subscription=None),
}
