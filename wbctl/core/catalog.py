"""The guide's twelve W&B services: what each does and what the guide asks of it.

Everything wbctl says about a service (its role, whether it can run in HA, the minimum
replicas, whether it should autoscale) comes from this table, which follows the guide's
"Weights & Biases Services" section and docs/sources.md ("Kubernetes") for the chart's names and labels.
"""

from __future__ import annotations

from dataclasses import dataclass

from wbctl.errors import UsageError

PREFIX = "wandb-"


@dataclass(frozen=True)
class ServiceSpec:
    name: str  # as the guide writes it: "wandb-flat-run-fields-updater"
    label: str  # app.kubernetes.io/name of its workload
    values_key: str  # its key under the CR's spec.values (the chart alias)
    kind: str  # "Deployment" or "CronJob"
    role: str  # one line, from the guide
    ha: bool  # the guide says it can run with several replicas
    min_replicas: int  # the guide's minimum (1 where it names none)
    autoscale: bool  # the guide recommends autoscaling it
    single_instance: bool  # the guide says it cannot run in HA mode
    required: bool  # a NextGen deployment needs it running
    resources: str  # the guide's note on what it consumes

    @property
    def short(self) -> str:
        return self.name.removeprefix(PREFIX)

    @property
    def spread_required(self) -> bool:
        return self.min_replicas >= 3


def _service(
    short: str,
    role: str,
    *,
    label: str | None = None,
    kind: str = "Deployment",
    ha: bool = False,
    min_replicas: int = 1,
    autoscale: bool = False,
    single_instance: bool = False,
    required: bool = True,
    resources: str = "",
) -> ServiceSpec:
    return ServiceSpec(
        name=PREFIX + short,
        label=label or short,
        values_key=short,
        kind=kind,
        role=role,
        ha=ha,
        min_replicas=min_replicas,
        autoscale=autoscale,
        single_instance=single_instance,
        required=required,
        resources=resources,
    )


CATALOG: tuple[ServiceSpec, ...] = (
    _service(
        "app",
        "the W&B front end; cannot run in HA mode",
        single_instance=True,
        resources="often needs a lot of memory to retrieve large amounts of data",
    ),
    _service(
        "api",
        "the W&B API the SDK talks to",
        ha=True,
        min_replicas=3,
        resources="at least 3 replicas, on different machines",
    ),
    _service("console", "the W&B operator console: management and feature gating", resources="little memory or CPU"),
    _service(
        "executor",
        "converts data in MySQL/Bigtable into parquet files in blob storage",
        ha=True,
        min_replicas=3,
        resources="large CPU and memory allocations",
    ),
    _service(
        "filestream",
        "processes incoming metrics and objects from the SDK into MySQL/Bigtable",
        autoscale=True,
        resources="mostly memory",
    ),
    _service(
        "flat-run-fields-updater",
        "reads the metrics queue and writes to hot storage (RunsV2)",
        ha=True,
        min_replicas=3,
        autoscale=True,
        resources="scales horizontally",
    ),
    _service("glue", "coordinates and runs scheduled tasks (bulk actions, migrations, housekeeping)", required=False),
    _service("parquet", "coordinates the status of parquet exports", resources="low CPU and memory"),
    _service(
        "parquet-backfill",
        "transforms older metrics to parquet",
        label="parquet",
        kind="CronJob",
        required=False,
        resources="low CPU and memory",
    ),
    _service(
        "prometheus-server",
        "Prometheus for the console's monitoring",
        label="prometheus",
        required=False,
        resources="can be disk and memory intensive",
    ),
    _service("stackdriver", "metric reporting for the console", required=False),
    _service("weave", "query panels and W&B Weave", required=False, resources="low CPU and memory"),
)

BY_NAME: dict[str, ServiceSpec] = {spec.name: spec for spec in CATALOG}


def resolve(name: str) -> ServiceSpec:
    """The catalog entry for `name`, with or without the wandb- prefix."""
    wanted = name.strip()
    spec = BY_NAME.get(wanted) or BY_NAME.get(PREFIX + wanted)
    if spec is None:
        known = ", ".join(s.name for s in CATALOG)
        raise UsageError(f"unknown service {name!r} (known: {known})")
    return spec


def for_label(label: str, kind: str) -> ServiceSpec | None:
    """The catalog entry of a live workload by its app.kubernetes.io/name label and kind.

    The parquet Deployment and the parquet-backfill CronJob share the label `parquet`.
    """
    for spec in CATALOG:
        if spec.label == label and spec.kind == kind:
            return spec
    return None
