"""docs/dashboards.md's panel table, made from the catalogue (a test holds the file to it), so
the documentation of a panel cannot drift from the panel: what it shows, its runbook step and
command, its alerts, and the metrics each vendor's dashboard reads. The table is made for the
default settings (W&B's Terraform names, no context, Pub/Sub with the filestream queue)."""

from __future__ import annotations

from wbctl.core.alerts import AlertSettings, queue_words
from wbctl.core.bigtable import default_instance
from wbctl.core.queue_source import FILESTREAM, RUN_UPDATES, resolve_unconfigured, terraform_names
from wbctl.core.signals import catalogue, command

BEGIN = "<!-- panels: made by `python -m wbctl.core.dashboards.reference` -->"
END = "<!-- /panels -->"


def docs_settings() -> AlertSettings:
    """The defaults, as `wbctl dashboards` renders them without a context."""
    install = "wandb"
    run_updates = resolve_unconfigured(None, RUN_UPDATES, project=None, install=install)
    _, filestream = terraform_names(install, FILESTREAM)
    return AlertSettings(
        context=None,
        queue_source="pubsub",
        queue=queue_words(run_updates),
        subscription=run_updates.subscription,
        project=None,
        bigtable_instance=default_instance(install),
        retention=7 * 86400,
        allowed_backlog=0,
        allowed_age=300,
        auditor_interval=300,
        filestream_subscription=filestream,
        namespace="default",
    )


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _names(names: list[str]) -> str:
    return ", ".join(f"`{name}`" for name in dict.fromkeys(names)) or "none"


def markdown(settings: AlertSettings) -> str:
    rows = [
        "| Panel | What it shows | Runbook | Alerts | Prometheus | Datadog | Cloud Monitoring |",
        "|---|---|---|---|---|---|---|",
    ]
    for signal in catalogue(settings):
        datadog = [query.expr.split(":", 1)[1].split("{", 1)[0] for query in signal.datadog]
        unconfirmed = " *Not confirmed in W&B's public sources.*" if not signal.confirmed else ""
        rows.append(
            f"| **{_cell(signal.title)}** (`{signal.id}`, {signal.kind}) | {_cell(signal.shows)}{unconfirmed} | "
            f"{signal.step.heading}: `{command(settings, signal.step)}` | {_names(list(signal.alerts))} | "
            f"{_names(list(signal.metrics))} | {_names(datadog)} | "
            f"{_names([query.metric_type for query in signal.google])} |"
        )
    return "\n".join([BEGIN, *rows, END])


if __name__ == "__main__":  # pragma: no cover - the docs' generator
    print(markdown(docs_settings()))
