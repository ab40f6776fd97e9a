"""`wbctl services`: the guide's twelve W&B services on Kubernetes, seen and scaled."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from wbctl.app.session import Session
from wbctl.cli.options import DryRun, Output, Yes, complete_service, group, render_check
from wbctl.cli.requests import apply_request
from wbctl.cli.state import session_of
from wbctl.core import catalog, scaling, services
from wbctl.core.durations import format_duration
from wbctl.core.kube import KubeObservation
from wbctl.errors import UsageError
from wbctl.output import Terminal, render_items, show

app = group("services", "The guide's W&B services on Kubernetes: list, status, check, scale, autoscale.")

Service = Annotated[
    str,
    typer.Argument(
        metavar="SERVICE",
        help="A service as the guide names it, e.g. wandb-api (or api).",
        autocompletion=complete_service,
    ),
]
Via = Annotated[
    str | None,
    typer.Option(
        "--via",
        metavar="WHERE",
        help="cr (the WeightsAndBiases resource: lasts; default when it exists), "
        "or deployment / hpa (direct: the operator reverts it).",
    ),
]
Force = Annotated[bool, typer.Option("--force", help="Allow what the guide advises against.")]
LIST_COLUMNS = ("service", "kind", "ready", "image", "autoscaling", "nodes", "role")


def _observe(
    ctx: typer.Context, output: str | None, kinds: tuple[str, ...] | None = None
) -> tuple[Session, KubeObservation]:
    from wbctl.adapters.kube import ALL_KINDS

    session = session_of(ctx)
    return session, session.observe_kube(kinds or ALL_KINDS, output=output)


@app.command("list")
def list_services(ctx: typer.Context, output: Output = None) -> None:
    """Every service of the guide and every other workload of the instance, one line each."""
    session, observation = _observe(ctx, output)
    rows = services.list_rows(observation)
    cells = [services.list_cells(row) for row in rows]
    render_items(
        session.terminal(),
        LIST_COLUMNS,
        cells,
        {"namespace": observation.namespace, "services": rows},
        wrap=("image", "role"),
    )


@app.command()
def status(
    ctx: typer.Context,
    service: Annotated[
        str | None,
        typer.Argument(metavar="[SERVICE]", help="One service (default: all).", autocompletion=complete_service),
    ] = None,
    output: Output = None,
) -> None:
    """Pods (node, phase, readiness, restarts, age), resources, autoscaler, CR values and pod health."""
    from wbctl.adapters.kube import STATUS_KINDS

    session, observation = _observe(ctx, output, STATUS_KINDS)
    views = services.map_services(observation)
    if service is not None:
        wanted = {service, catalog.PREFIX + service}
        views = [view for view in views if view.name in wanted]
        if not views:
            known = ", ".join(view.name for view in services.map_services(observation))
            raise UsageError(f"unknown service {service!r} (known: {known})")
    statuses = services.status_views(observation, views, session.env.now(), session.kubectl())
    term = session.terminal()
    if term.json_mode:
        term.json({"namespace": observation.namespace, "services": [status.to_json() for status in statuses]})
    else:
        render_status(term, statuses)


def _age(seconds: int | None) -> str:
    return "-" if seconds is None else format_duration(seconds).split(" ")[0]


def _resources(values: dict[str, str]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sorted(values.items())) or "-"


def render_status(term: Terminal, statuses: list[services.ServiceStatus]) -> None:
    """Per service: its workload, pods, containers, autoscaler and CR values."""
    for index, status in enumerate(statuses):
        if index:
            term.line("")
        term.line(f"{status.service}  ({status.role})", "bold")
        workload = status.workload
        if workload is None:
            term.line("  not deployed")
            continue
        ready = "" if workload.desired is None else f", {workload.ready}/{workload.desired} ready"
        term.line(f"  {workload.kind} {workload.name}{ready}")
        if workload.kind == "CronJob":
            term.line(
                f"  schedule {workload.schedule}, suspended {show(workload.suspended)}, "
                f"last run {show(workload.last_schedule)}, last success {show(workload.last_success)}"
            )
        if status.pods:
            rows = [
                (p.name, show(p.node), show(p.zone), p.phase, show(p.ready), str(p.restarts), _age(p.age_seconds))
                for p in status.pods
            ]
            term.table(("pod", "node", "zone", "phase", "ready", "restarts", "age"), rows)
        for container in status.containers:
            term.line(
                f"  container {container.name}: {container.image}; requests {_resources(container.requests)}; "
                f"limits {_resources(container.limits)}"
            )
        autoscaler = status.autoscaler
        if autoscaler is None:
            term.line("  autoscaler: none")
        else:
            cpu = f", CPU target {autoscaler.cpu_target}%" if autoscaler.cpu_target else ""
            term.line(
                f"  {autoscaler.kind} {autoscaler.name}: {autoscaler.min_replicas}-{autoscaler.max_replicas} replicas"
                f"{cpu}, current {show(autoscaler.current)}, desired {show(autoscaler.desired)}, "
                f"last scaled {show(autoscaler.last_scale.isoformat() if autoscaler.last_scale else None)}"
            )
            for condition in autoscaler.conditions:
                term.line(f"    {condition.type}={condition.status}: {condition.message}")
        if status.cr_values:
            term.line(f"  CR values: {json.dumps(status.cr_values, sort_keys=True)}")
        _render_health(term, status)


def _render_health(term: Terminal, status: services.ServiceStatus) -> None:
    """The HEALTH line: ok, or each pod's trouble with its remedy (memory is judged by `services check`)."""
    health = status.health_status
    if health is None:
        return
    if not status.health:
        term.line(f"  health: {health.value}")
        return
    term.line(f"  health: {health.value}", "red" if health.value == "fail" else "yellow")
    for problem in status.health:
        term.line(f"    {problem.text}")
        term.line(f"      -> {problem.next}")


@app.command()
def check(ctx: typer.Context, output: Output = None) -> None:
    """Judge the services against the guide: present, pod health, replicas, spread, autoscaling, single instance."""
    from wbctl.adapters.kube import HEALTH_KINDS

    session, observation = _observe(ctx, output, HEALTH_KINDS)
    report = services.check(observation, now=session.env.now(), kubectl=session.kubectl())
    render_check(session.terminal(), report.invoked_as(session.invocation()))


@app.command()
def scale(
    ctx: typer.Context,
    service: Service,
    replicas: Annotated[int, typer.Option("--replicas", metavar="N", help="The number of replicas.")],
    via: Via = None,
    force: Force = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Run SERVICE with N replicas (the CR's replicaCount, or the Deployment's scale).

    On the v2 operator (apps.wandb.com/v2) the CR sets replicas only through autoscaling
    bounds: --via cr pins spec.wandb.applications.<app>.autoscaling at min = max = N.
    """
    request = scaling.ScaleRequest(catalog.resolve(service).name, replicas, via, force)
    apply_request(ctx, request, output=output, dry_run=dry_run, yes=yes)


@app.command()
def autoscale(
    ctx: typer.Context,
    service: Service,
    min_replicas: Annotated[int | None, typer.Option("--min", metavar="N", help="Fewest replicas (>= 1).")] = None,
    max_replicas: Annotated[int | None, typer.Option("--max", metavar="M", help="Most replicas (>= --min).")] = None,
    cpu_target: Annotated[
        int | None,
        typer.Option("--cpu-target", metavar="PERCENT", help="Average CPU utilization to aim for (1-100)."),
    ] = None,
    disable: Annotated[bool, typer.Option("--disable", help="Turn autoscaling off.")] = False,
    via: Via = None,
    force: Force = False,
    dry_run: DryRun = False,
    yes: Yes = False,
    output: Output = None,
) -> None:
    """Autoscale SERVICE between --min and --max replicas (or --disable it).

    The CR's values on a v1 install (spec.values.<service>.autoscaling); on the v2 operator
    (apps.wandb.com/v2) spec.wandb.applications.<app>.autoscaling.{minReplicas,maxReplicas},
    which takes no --cpu-target and cannot --disable (its bounds are at least 1).
    """
    request = scaling.AutoscaleRequest(
        catalog.resolve(service).name, min_replicas, max_replicas, cpu_target, disable, via, force
    )
    apply_request(ctx, request, output=output, dry_run=dry_run, yes=yes)
