"""`wbctl bigtable`: the guide's first recommendation, Bigtable autoscaling with at least 3 nodes."""

from __future__ import annotations

from dataclasses import replace
from typing import Annotated, Any

import typer

from wbctl.app.session import Session
from wbctl.cli.completion import complete_cluster
from wbctl.cli.options import DryRun, Output, Yes, group, render_check
from wbctl.cli.requests import apply_request
from wbctl.cli.state import session_of
from wbctl.config import Settings
from wbctl.core import bigtable, bigtable_status
from wbctl.core.durations import parse_duration
from wbctl.core.series import SignalData
from wbctl.output import Terminal

app = group("bigtable", "Bigtable, the hot metric storage: status, check, autoscale, scale.")

Window = Annotated[
    str, typer.Option("--window", metavar="DURATION", help="How far back to read metrics (e.g. 1h, 30m).")
]
Cluster = Annotated[
    str | None,
    typer.Option(
        "--cluster",
        metavar="ID",
        autocompletion=complete_cluster,
        help="One cluster (default: every cluster of the instance).",
    ),
]
NoWait = Annotated[bool, typer.Option("--no-wait", help="Return once Google accepted the change; do not wait for it.")]
CPU_SIGNALS = ("bigtable-cpu", "bigtable-nodes", "bigtable-storage")


def _read(
    session: Session, window: str, signals: tuple[str, ...]
) -> tuple[bigtable.BigtableObservation, dict[str, SignalData]]:
    seconds = parse_duration(window)
    admin = session.backends.bigtable()
    observation = admin.observe()
    data = session.backends.metrics().fetch({name: admin.instance_id for name in signals}, seconds, session.env.now())
    return observation, data


@app.command()
def status(ctx: typer.Context, window: Window = "1h", output: Output = None) -> None:
    """Instance, clusters, nodes, autoscaling; CPU now and peak vs target; storage; node changes."""
    parse_duration(window)
    session = session_of(ctx)
    session.settings(output=output)
    observation, data = _read(session, window, CPU_SIGNALS)
    view = bigtable_status.status_view(observation, data, window)
    term = session.terminal()
    if term.json_mode:
        term.json(view.to_json())
    else:
        render_status(term, view)


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value}%"


def render_status(term: Terminal, view: bigtable_status.BigtableStatus) -> None:
    observation = view.observation
    term.line(f"{observation.target()} ({observation.display_name}), {observation.state}; window {view.window}")
    rows = []
    for status in view.clusters:
        cluster, scaling = status.cluster, status.cluster.autoscaling
        rows.append(
            (
                cluster.cluster_id,
                cluster.location,
                cluster.storage_type,
                cluster.state,
                str(cluster.serve_nodes),
                f"{scaling.min_nodes}-{scaling.max_nodes}, CPU {scaling.cpu_target}%" if scaling else "off",
                _percent(status.cpu_now),
                _percent(status.cpu_peak),
                _percent(status.storage_percent),
                " -> ".join(str(change["nodes"]) for change in status.node_changes) or "-",
            )
        )
    term.table(
        (
            "cluster",
            "location",
            "storage",
            "state",
            "nodes",
            "autoscaling",
            "cpu now",
            "cpu peak",
            "storage used",
            "node counts",
        ),
        rows,
        wrap=("autoscaling", "node counts"),
    )
    for signal, reason in view.unknown.items():
        term.warn(f"{signal} unknown: {reason}")


@app.command()
def check(ctx: typer.Context, window: Window = "1h", output: Output = None) -> None:
    """Judge against the guide: autoscaling on, at least 3 nodes, CPU under target."""
    from datetime import timedelta

    from wbctl.app.audit import read_changes

    seconds = parse_duration(window)
    session = session_of(ctx)
    settings = session.settings(output=output)
    observation, data = _read(session, window, ("bigtable-cpu", "bigtable-nodes"))
    # the CPU judged as `check` and the runbook's step 2 judge it: the nodes and wbctl's own raises too
    now = session.env.now()
    since = now - timedelta(seconds=max(seconds, bigtable.WARM_UP.total_seconds()))
    changes = read_changes(session.audit_path(), context=settings.context_label, since=since, until=now)
    report = bigtable.check(
        observation, data["bigtable-cpu"], window, nodes=data["bigtable-nodes"], changes=changes, now=now
    )
    render_check(session.terminal(), report.invoked_as(session.invocation()))


def _configured_cluster(request: Any, settings: Settings) -> Any:
    """Without --cluster, the context's `bigtable-cluster` (when set) is the one to change."""
    if request.cluster_id is None and settings["bigtable-cluster"]:
        return replace(request, cluster_id=settings["bigtable-cluster"])
    return request


@app.command()
def autoscale(
    ctx: typer.Context,
    min_nodes: Annotated[
        int | None,
        typer.Option(
            "--min",
            metavar="N",
            help="Fewest nodes per cluster (the guide: at least 3); kept when left out on an autoscaled cluster.",
        ),
    ] = None,
    max_nodes: Annotated[
        int | None,
        typer.Option(
            "--max",
            metavar="M",
            help="Most nodes per cluster (<= 10 x --min); kept when left out on an autoscaled cluster.",
        ),
    ] = None,
    cpu_target: Annotated[
        int | None, typer.Option("--cpu-target", metavar="PERCENT", help="CPU utilization target, 10-80.")
    ] = None,
    storage_target: Annotated[
        int | None,
        typer.Option(
            "--storage-target", metavar="GIB", help="Storage target per node (SSD 2560-5120, HDD 8192-16384)."
        ),
    ] = None,
    cluster: Cluster = None,
    force: Annotated[bool, typer.Option("--force", help="Allow --min below the guide's 3 nodes.")] = False,
    no_wait: NoWait = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Turn on (or change) autoscaling of every cluster, or of --cluster."""
    request = bigtable.AutoscaleRequest(min_nodes, max_nodes, cpu_target, storage_target, cluster, force)
    apply_request(
        ctx, request, output=output, dry_run=dry_run, yes=yes, wait=not no_wait, completed=_configured_cluster
    )


@app.command()
def scale(
    ctx: typer.Context,
    nodes: Annotated[
        int, typer.Option("--nodes", metavar="N", help="A fixed number of nodes per cluster (the guide: at least 3).")
    ],
    cluster: Cluster = None,
    force: Annotated[bool, typer.Option("--force", help="Allow fewer than the guide's 3 nodes.")] = False,
    no_wait: NoWait = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Set a fixed node count: this turns autoscaling off (the diff shows the limits it replaces)."""
    request = bigtable.ScaleRequest(nodes, cluster, force)
    apply_request(
        ctx, request, output=output, dry_run=dry_run, yes=yes, wait=not no_wait, completed=_configured_cluster
    )
