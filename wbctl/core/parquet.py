"""GCS FUSE for parquet export, as the guide sets it up.

Gates, in the guide's order: the GKE add-on (`enable_gcs_fuse_csi_driver` in Terraform, seen in
the cluster as the CSIDriver `gcsfuse.csi.storage.gke.io`), operator-wandb chart >= 0.22.3,
server image >= 0.65.0; then the `fuse` block in the parquet values. The chart honours it by
annotating the parquet pods `gke-gcsfuse/volumes: "true"` and mounting a CSI volume.
"""

from __future__ import annotations

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
    if not fuse_enabled(observation):
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
            f"{first}wbctl parquet fuse enable",
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
        f"enabled in the values, but {annotated}/{total} parquet pods carry {FUSE_ANNOTATION} "
        "(not rolled out yet, or no GCS bucket: the chart only honours it on GCP)",
    )


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
        changes = _leaves(FUSE_BLOCK, ("parquet", "fuse"))
        summary = "parquet export will use GCS FUSE (the operator rolls the parquet pods)"
    else:
        changes = [(("parquet", "fuse", "enabled"), False)]
        summary = "parquet export will stop using GCS FUSE"
    return cr_values_plan(observation, cr, changes, summary, context, [])


def status_document(observation: KubeObservation) -> dict[str, Any]:
    views = {v.name: v for v in map_services(observation)}
    annotated, total = parquet_pods_annotated(observation)

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
        "pods_with_fuse_sidecar": {"annotated": annotated, "pods": total},
        "csi_driver_installed": None if observation.csi_drivers is None else CSI_DRIVER in observation.csi_drivers,
        "chart_version": observation.cr.chart_version if observation.cr else None,
        "server_image_tag": server_tag(observation),
    }
