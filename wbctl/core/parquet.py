"""GCS FUSE for parquet export, as the guide sets it up.

Gates, in the guide's order: the GKE add-on (`enable_gcs_fuse_csi_driver` in Terraform, seen in
the cluster as the CSIDriver `gcsfuse.csi.storage.gke.io`), operator-wandb chart >= 0.22.3,
server image >= 0.65.0; then the `fuse` block in the parquet values. The chart honours it by
annotating the parquet pods `gke-gcsfuse/volumes: "true"` and mounting a CSI volume, and only
when the bucket's provider is `gcs` and `global.cloudProvider` is `gcp` (helm-charts
`templates/_annotations.tpl` `wandb.gcsFuseAnnotations`, `templates/_volumes.tpl`
`wandb.gcsFuseVolumes`; otherwise the volume is an emptyDir): a fuse block without both is
accepted and never used, so `parquet.fuse` judges both and names the one that is wrong.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from wbctl.core.kube import Generation, KubeObservation, cr_values_plan, lookup
from wbctl.core.model import Finding, Plan, Report, Status
from wbctl.core.services import map_services
from wbctl.core.versions import parse_version
from wbctl.errors import RefusedError

CSI_DRIVER = "gcsfuse.csi.storage.gke.io"
FUSE_ANNOTATION = "gke-gcsfuse/volumes"
MIN_CHART = (0, 22, 3)
MIN_SERVER = (0, 65, 0)
#: The chart's own defaults (helm-charts charts/operator-wandb/values.yaml) for what the
#: resource's values may leave out: the values hold only what differs from them.
CHART_DEFAULTS: dict[tuple[str, ...], str] = {
    ("global", "cloudProvider"): "",
    ("global", "defaultBucket", "provider"): "s3",
    ("parquet", "fuse", "fileCacheCapacity"): "9.5Gi",
}
ENABLE = "wbctl parquet fuse enable"
FUSE_CLOUD = "gcp"  # what global.cloudProvider must be
FUSE_BUCKET = "gcs"  # what the bucket's provider must be
FUSE_BLOCK: dict[str, Any] = {  # the guide's block, verbatim
    "enabled": True,
    "resources": {
        "limits": {"cpu": "0", "memory": "0", "ephemeral-storage": "10Gi"},
        "requests": {"cpu": "0", "memory": "0"},
    },
}


def server_tag(observation: KubeObservation) -> str | None:
    if observation.cr is not None and observation.cr.generation is Generation.V2:
        return observation.cr.server_version  # spec.wandb.version
    values = observation.cr.values if observation.cr else {}
    tag: str | None = lookup(values, ("app", "image", "tag")) or lookup(values, ("api", "image", "tag"))
    return tag


def fuse_enabled(observation: KubeObservation) -> bool:
    return bool(observation.cr and lookup(observation.cr.values, ("parquet", "fuse", "enabled")) is True)


@dataclass(frozen=True)
class ChartValue:
    """A value as the chart renders with it: the resource's, else the chart's default."""

    path: tuple[str, ...]
    value: str
    default: bool  # the resource leaves it out: the chart's default applies

    @property
    def dotted(self) -> str:
        return ".".join(self.path)

    def to_json(self) -> dict[str, Any]:
        return {"value": self.value, "path": self.dotted, "chart_default": self.default}


def _chart_value(values: dict[str, Any], path: tuple[str, ...]) -> ChartValue:
    given = lookup(values, path)
    if given is None or isinstance(given, dict | list):
        return ChartValue(path, CHART_DEFAULTS.get(path, ""), True)
    return ChartValue(path, str(given).lower() if isinstance(given, bool) else str(given), False)


def bucket_provider(values: dict[str, Any]) -> ChartValue:
    """The bucket's provider as the chart's `wandb.bucket` picks it (templates/_bucket.tpl):
    `global.bucket.provider` when `global.bucket.name` is set, else `global.defaultBucket.provider`."""
    if lookup(values, ("global", "bucket", "name")):
        return _chart_value(values, ("global", "bucket", "provider"))
    return _chart_value(values, ("global", "defaultBucket", "provider"))


def cloud_provider(values: dict[str, Any]) -> ChartValue:
    return _chart_value(values, ("global", "cloudProvider"))


def file_cache_capacity(values: dict[str, Any]) -> ChartValue:
    """The GCS FUSE volume's `fileCacheCapacity` (templates/_volumes.tpl), from `parquet.fuse`."""
    return _chart_value(values, ("parquet", "fuse", "fileCacheCapacity"))


@dataclass(frozen=True)
class Wrong:
    """A condition the chart puts on GCS FUSE that the values do not meet."""

    seen: ChartValue
    wanted: str

    def describe(self) -> str:
        shown = f'"{self.seen.value}"' + (" (the chart's default)" if self.seen.default else "")
        return f'{self.seen.dotted} is {shown}, not "{self.wanted}"'


def fuse_conditions(values: dict[str, Any]) -> list[Wrong]:
    """What stops the chart from honouring a fuse block: the bucket's provider, the cloud."""
    wrong: list[Wrong] = []
    provider, cloud = bucket_provider(values), cloud_provider(values)
    if provider.value != FUSE_BUCKET:
        wrong.append(Wrong(provider, FUSE_BUCKET))
    if cloud.value != FUSE_CLOUD:
        wrong.append(Wrong(cloud, FUSE_CLOUD))
    return wrong


def fuse_honoured(values: dict[str, Any]) -> bool:
    """Whether the chart renders the FUSE sidecar for these values (enabled and both conditions)."""
    return lookup(values, ("parquet", "fuse", "enabled")) is True and not fuse_conditions(values)


def _patch(observation: KubeObservation, wrong: list[Wrong]) -> str:
    """The CR change that meets the conditions: one merge patch of spec.values."""
    values: dict[str, Any] = {}
    for item in wrong:
        node = values
        for part in item.seen.path[:-1]:
            node = node.setdefault(part, {})
        node[item.seen.path[-1]] = item.wanted
    body = json.dumps({"spec": {"values": values}}, separators=(",", ":"))
    return f"kubectl -n {observation.namespace} patch weightsandbiases {observation.instance} --type merge -p '{body}'"


def _version_finding(
    check: str, what: str, text: str | None, minimum: tuple[int, int, int], target: str, remedy: str
) -> Finding:
    wanted = ">= " + ".".join(map(str, minimum))
    version = parse_version(text)
    if version is None:
        reason = "not set" if not text else f"{text!r} is not a version (a tag like latest or a digest)"
        return Finding(check, Status.UNKNOWN, target, text, wanted, f"{what}: {reason}")
    if version >= minimum:
        return Finding(check, Status.OK, target, text, wanted, f"{what} {text}")
    return Finding(check, Status.FAIL, target, text, wanted, f"{what} {text} is older than GCS FUSE needs", remedy)


CHECK_IDS = ("parquet.fuse", "parquet.csi-driver", "versions.operator-chart", "versions.server")


def _v2_findings(observation: KubeObservation) -> tuple[Finding, ...]:
    """On the v2 operator: no chart to version, and no fuse setting for parquet (its server
    manifest mounts none), so those say so; the server version is spec.wandb.version."""
    target, absent = observation.target, "absent from v2"
    why = "not part of this generation: the v2 operator"
    return (
        Finding(
            "parquet.fuse", Status.OK, target, None, absent, f"{why}'s server manifest has no GCS FUSE for parquet"
        ),
        Finding("parquet.csi-driver", Status.OK, target, None, absent, f"{why} mounts no GCS FUSE volume: not needed"),
        Finding("versions.operator-chart", Status.OK, target, None, absent, f"{why} renders no operator-wandb chart"),
        _version_finding(
            "versions.server",
            "server version",
            server_tag(observation),
            MIN_SERVER,
            target,
            "set spec.wandb.version to 0.65.0 or later in the WeightsAndBiases resource",
        ),
    )


def check(observation: KubeObservation) -> Report:
    target = observation.target
    if observation.generation is Generation.V2:
        return Report(_v2_findings(observation))
    chart = observation.cr.chart_version if observation.cr else None
    findings = [
        _fuse_finding(observation),
        _csi_finding(observation),
        _version_finding(
            "versions.operator-chart",
            "operator-wandb chart",
            chart,
            MIN_CHART,
            target,
            'set spec.chart.version to "0.22.3" or later in the WeightsAndBiases resource',
        ),
        _version_finding(
            "versions.server",
            "server image",
            server_tag(observation),
            MIN_SERVER,
            target,
            "release server image 0.65.0 or later (spec.values.app.image.tag)",
        ),
    ]
    return Report(tuple(findings))


def parquet_pods_annotated(observation: KubeObservation) -> tuple[int, int]:
    view = next(v for v in map_services(observation) if v.name == "wandb-parquet")
    annotated = sum(1 for pod in view.pods if pod.annotations.get(FUSE_ANNOTATION) == "true")
    return annotated, len(view.pods)


def _fuse_finding(observation: KubeObservation) -> Finding:
    target = observation.target
    annotated, total = parquet_pods_annotated(observation)
    if observation.cr is None:
        return Finding(
            "parquet.fuse", Status.UNKNOWN, target, None, "enabled", "no WeightsAndBiases resource: values unknown"
        )
    enabled = fuse_enabled(observation)
    wrong = fuse_conditions(observation.cr.values)
    if wrong:
        # the chart would accept the block and mount an emptyDir: name what it needs first
        return Finding(
            "parquet.fuse",
            Status.FAIL,
            target,
            "enabled" if enabled else "disabled",
            "enabled",
            f"the chart honours GCS FUSE only with a GCS bucket on GCP: {'; '.join(w.describe() for w in wrong)}",
            fuse_conditions_remedy(observation, wrong) + ("" if enabled else f"; then {ENABLE}"),
        )
    if not enabled:
        # a remedy that would be refused is no remedy: name what has to come first
        first = (
            ""
            if observation.csi_drivers is None or CSI_DRIVER in observation.csi_drivers
            else (
                "first install the GKE GCS FUSE CSI driver (enable_gcs_fuse_csi_driver = true in W&B's Terraform, "
                "then apply); then "
            )
        )
        return Finding(
            "parquet.fuse",
            Status.FAIL,
            target,
            "disabled",
            "enabled",
            "the parquet values have no enabled fuse block",
            f"{first}{ENABLE}",
        )
    if total and annotated == total:
        return Finding(
            "parquet.fuse",
            Status.OK,
            target,
            "enabled",
            "enabled",
            f"enabled; {annotated}/{total} parquet pods use the FUSE sidecar",
        )
    return Finding(
        "parquet.fuse",
        Status.WARN,
        target,
        "enabled",
        "enabled",
        f"enabled in the values, but {annotated}/{total} parquet pods carry {FUSE_ANNOTATION} (not rolled out yet)",
    )


def fuse_conditions_remedy(observation: KubeObservation, wrong: list[Wrong]) -> str:
    """The CR patch that meets the conditions. A bucket's provider says what the bucket is, it
    is no switch: the patch holds only when the bucket really is on GCS."""
    patch = _patch(observation, wrong)
    if any(item.wanted == FUSE_BUCKET for item in wrong):
        return f"if the bucket is a GCS bucket: {patch} (GCS FUSE mounts only a GCS bucket)"
    return patch


def _csi_finding(observation: KubeObservation) -> Finding:
    target = observation.target
    if observation.csi_drivers is None:
        return Finding("parquet.csi-driver", Status.UNKNOWN, target, None, CSI_DRIVER, "CSIDrivers not readable")
    if CSI_DRIVER in observation.csi_drivers:
        return Finding(
            "parquet.csi-driver", Status.OK, target, CSI_DRIVER, CSI_DRIVER, "the GKE GCS FUSE CSI driver is installed"
        )
    return Finding(
        "parquet.csi-driver",
        Status.FAIL,
        target,
        None,
        CSI_DRIVER,
        "the GKE GCS FUSE CSI driver is not installed",
        "set enable_gcs_fuse_csi_driver = true in W&B's Terraform and apply",
    )


def _leaves(block: dict[str, Any], prefix: tuple[str, ...]) -> list[tuple[tuple[str, ...], Any]]:
    leaves: list[tuple[tuple[str, ...], Any]] = []
    for key, value in block.items():
        if isinstance(value, dict):
            leaves += _leaves(value, (*prefix, key))
        else:
            leaves.append(((*prefix, key), value))
    return leaves


def plan_enable(observation: KubeObservation, *, disable: bool, context: str) -> Plan:
    """Refuses with the exact fix while a gate fails; else the guide's block, other values kept."""
    cr = observation.cr
    if cr is None:
        raise RefusedError(
            f"no WeightsAndBiases resource named {observation.instance} in namespace {observation.namespace}: nothing to patch"
        )
    if cr.generation is Generation.V2:  # its CR has no parquet values (spec.wandb.applications: bounds only)
        raise RefusedError("GCS FUSE is not part of this generation: the v2 operator's server manifest has none")
    if not disable:
        report = {f.check: f for f in check(observation).findings}
        for check_id in ("parquet.csi-driver", "versions.operator-chart", "versions.server"):
            finding = report[check_id]
            if finding.status is not Status.OK:
                fix = finding.remedy or "set it to a version tag"
                raise RefusedError(f"GCS FUSE cannot be enabled: {finding.message} ({check_id}); fix: {fix}")
        wrong = fuse_conditions(cr.values)
        if wrong:  # the block would be accepted and never used
            fix = fuse_conditions_remedy(observation, wrong)
            message = report["parquet.fuse"].message
            raise RefusedError(f"GCS FUSE cannot be enabled: {message} (parquet.fuse); fix: {fix}")
        changes = _leaves(FUSE_BLOCK, ("parquet", "fuse"))
        summary = "parquet export will use GCS FUSE (the operator rolls the parquet pods)"
    else:
        changes = [(("parquet", "fuse", "enabled"), False)]
        summary = "parquet export will stop using GCS FUSE"
    return cr_values_plan(observation, cr, changes, summary, context, [])


def status_document(observation: KubeObservation) -> dict[str, Any]:
    views = {v.name: v for v in map_services(observation)}
    annotated, total = parquet_pods_annotated(observation)
    values = observation.cr.values if observation.cr else {}

    def workload(name: str) -> dict[str, Any] | None:
        view = views[name]
        w = view.workload
        if w is None:
            return None
        entry: dict[str, Any] = {"kind": w.kind, "name": w.name, "desired": w.desired, "ready": len(view.ready_pods)}
        if w.kind == "CronJob":
            entry.update(
                schedule=w.schedule,
                suspended=w.suspended,
                last_schedule=w.last_schedule.isoformat() if w.last_schedule else None,
                last_success=w.last_success.isoformat() if w.last_success else None,
            )
        return entry

    return {
        "parquet": workload("wandb-parquet"),
        "parquet_backfill": workload("wandb-parquet-backfill"),
        "executor": workload("wandb-executor"),
        "fuse_enabled_in_values": fuse_enabled(observation) if observation.cr else None,
        "fuse_values": lookup(observation.cr.values, ("parquet", "fuse")) if observation.cr else None,
        "fuse_file_cache_capacity": file_cache_capacity(values).to_json() if observation.cr else None,
        "bucket_provider": bucket_provider(values).to_json() if observation.cr else None,
        "cloud_provider": cloud_provider(values).to_json() if observation.cr else None,
        "pods_with_fuse_sidecar": {"annotated": annotated, "pods": total},
        "csi_driver_installed": None if observation.csi_drivers is None else CSI_DRIVER in observation.csi_drivers,
        "chart_version": observation.cr.chart_version if observation.cr else None,
        "server_image_tag": server_tag(observation),
    }
