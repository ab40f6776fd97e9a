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


# --- the release's other workloads: known, not the guide's ---------------------------------


@dataclass(frozen=True)
class KnownWorkload:
    """A workload the operator-wandb chart runs that the guide's twelve do not include: listed
    with what it is, never as unknown or missing, and judged by no rule of the guide."""

    label: str  # its app.kubernetes.io/name: the chart's alias for it, and its values key
    kind: str
    role: str
    source: str  # where the chart says so (wandb/helm-charts at 82d5626a, operator-wandb 0.43.8)


_VALUES = "wandb/helm-charts charts/operator-wandb/values.yaml"

KNOWN_WORKLOADS: tuple[KnownWorkload, ...] = (
    KnownWorkload(
        "lumen-agent",
        "CronJob",
        "W&B's hourly diagnostics agent: collects the install's ConfigMaps, pods and resource, secrets redacted",
        f'{_VALUES} lumen-agent (cronJobs.lumen-agent, schedule "0 * * * *"); templates/lumen.yaml',
    ),
    KnownWorkload(
        "metric-observer",
        "Deployment",
        "reads the run-updates topic under its own consumer group (megabinary metric-observer)",
        f"{_VALUES} metric-observer",
    ),
    KnownWorkload(
        "history-updater",
        "Deployment",
        "writes run history from its own queue subscription (megabinary history-updater)",
        f"{_VALUES} history-updater",
    ),
    KnownWorkload(
        "history-reader",
        "Deployment",
        "serves run history from ClickHouse over gRPC (megabinary history-reader)",
        f"{_VALUES} history-reader",
    ),
    KnownWorkload("filemeta", "Deployment", "file metadata service (megabinary filemeta)", f"{_VALUES} filemeta"),
    KnownWorkload(
        "parquet-metadata-cache",
        "Deployment",
        "caches parquet metadata for reads (megabinary parquet-metadata-cache)",
        f"{_VALUES} parquet-metadata-cache",
    ),
    KnownWorkload(
        "frontend",
        "Deployment",
        "the web front end's files, served by nginx (wandb/frontend-nginx)",
        f"{_VALUES} frontend",
    ),
    KnownWorkload(
        "nginx", "Deployment", "the chart's nginx in front of the services (nginx-unprivileged)", f"{_VALUES} nginx"
    ),
    KnownWorkload("anaconda2", "Deployment", "W&B's anaconda2 service (wandb/anaconda2)", f"{_VALUES} anaconda2"),
    KnownWorkload(
        "weave-trace", "Deployment", "W&B Weave's trace server (wandb/weave-trace)", f"{_VALUES} weave-trace"
    ),
    KnownWorkload(
        "weave-trace-worker",
        "Deployment",
        "W&B Weave's trace workers (wandb/weave-trace)",
        f"{_VALUES} weave-trace-worker",
    ),
    KnownWorkload("mcp-server", "Deployment", "W&B's MCP server (wandb/mcp-server)", f"{_VALUES} mcp-server"),
)

KNOWN_BY_LABEL: dict[str, KnownWorkload] = {known.label: known for known in KNOWN_WORKLOADS}


def known_workload(name: str) -> KnownWorkload | None:
    """The release's known workload an extra service view is named after (`wandb-<label>`)."""
    return KNOWN_BY_LABEL.get(name.removeprefix(PREFIX))
