"""`wbctl parquet`: parquet export and the guide's GCS FUSE setup."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from wbctl.app.session import Session
from wbctl.cli.options import DryRun, Output, Yes, group, render_check
from wbctl.cli.state import session_of
from wbctl.core import parquet
from wbctl.core.kube import KubeObservation
from wbctl.core.model import Plan
from wbctl.output import render_items, show

app = group("parquet", "Parquet export: its workloads and GCS FUSE (the guide's 'Enable GCS FUSE').")
fuse = typer.Typer(
    name="fuse", help="GCS FUSE for parquet export: check, enable.", no_args_is_help=True, add_completion=False
)
app.add_typer(fuse, name="fuse")


def _observe(ctx: typer.Context, output: str | None) -> tuple[Session, KubeObservation]:
    from wbctl.adapters.kube import PARQUET_KINDS

    session = session_of(ctx)
    return session, session.observe_kube(PARQUET_KINDS, output=output)


@app.command()
def status(ctx: typer.Context, output: Output = None) -> None:
    """parquet, parquet-backfill and executor; FUSE in the values, on the pods, and in the cluster."""
    session, observation = _observe(ctx, output)
    document = parquet.status_document(observation)
    render_items(session.terminal(), ("item", "value"), status_rows(document), document, wrap=("value",))


def _workload(entry: dict[str, Any] | None) -> str:
    if entry is None:
        return "not deployed"
    if entry["kind"] == "CronJob":
        return (
            f"CronJob {entry['name']}, schedule {entry['schedule']}, "
            f"{'suspended' if entry['suspended'] else 'active'}, last run {show(entry['last_schedule'])}, "
            f"last success {show(entry['last_success'])}"
        )
    return f"{entry['kind']} {entry['name']}, {entry['ready']}/{show(entry['desired'])} ready"


def _flat(values: Any, prefix: str = "") -> list[str]:
    """A nested values block as `limits.cpu=0` pairs."""
    if not isinstance(values, dict):
        return [f"{prefix}={show(values)}"] if prefix else [show(values)]
    return [pair for key, value in values.items() for pair in _flat(value, f"{prefix}.{key}" if prefix else str(key))]


def _chart_value(entry: dict[str, Any] | None) -> str:
    """A value the chart renders with (core.parquet.ChartValue's JSON): where it comes from."""
    if entry is None:
        return "unknown (no WeightsAndBiases resource)"
    value = f'"{entry["value"]}"' if entry["value"] else '""'
    return f"{value} ({entry['path']}{', the chart default' if entry['chart_default'] else ''})"


def status_rows(document: dict[str, Any]) -> list[dict[str, str]]:
    """`parquet status` as lines an SRE reads (the JSON keeps the document itself)."""
    pods = document["pods_with_fuse_sidecar"]
    csi = document["csi_driver_installed"]
    rows = [
        ("parquet", _workload(document["parquet"])),
        ("parquet-backfill", _workload(document["parquet_backfill"])),
        ("executor", _workload(document["executor"])),
        (
            "fuse in the values",
            "unknown (no WeightsAndBiases resource)"
            if document["fuse_enabled_in_values"] is None
            else ("enabled" if document["fuse_enabled_in_values"] else "not enabled"),
        ),
        ("fuse values", ", ".join(_flat(document["fuse_values"])) if document["fuse_values"] else "-"),
        ("fuse file cache capacity", _chart_value(document["fuse_file_cache_capacity"])),
        ("bucket provider", _chart_value(document["bucket_provider"])),
        ("cloud provider", _chart_value(document["cloud_provider"])),
        ("pods with the FUSE sidecar", f"{pods['annotated']} of {pods['pods']}"),
        ("GCS FUSE CSI driver", "unknown" if csi is None else ("installed" if csi else "not installed")),
        ("operator-wandb chart", show(document["chart_version"])),
        ("server image", show(document["server_image_tag"])),
    ]
    return [{"item": item, "value": value} for item, value in rows]


@fuse.command("check")
def fuse_check(ctx: typer.Context, output: Output = None) -> None:
    """The GCS FUSE gates: fuse in the values, the CSI driver, chart >= 0.22.3, server >= 0.65.0."""
    session, observation = _observe(ctx, output)
    render_check(session.terminal(), parquet.check(observation))


@fuse.command("enable")
def fuse_enable(
    ctx: typer.Context,
    disable: Annotated[bool, typer.Option("--disable", help="Turn GCS FUSE off again.")] = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Add the guide's fuse block to the parquet values (refused, with the fix, while a gate fails)."""
    session, observation = _observe(ctx, output)
    settings = session.settings()
    adapter = session.backends.kube()

    def plan() -> Plan:
        from wbctl.adapters.kube import PARQUET_KINDS

        return parquet.plan_enable(adapter.observe(PARQUET_KINDS), disable=disable, context=settings.context_label)

    session.apply(
        parquet.plan_enable(observation, disable=disable, context=settings.context_label),
        adapter,
        dry_run=dry_run,
        yes=yes,
        replan=plan,
    )
