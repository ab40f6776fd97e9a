"""`wbctl deploy`: manifests that run wbctl inside the cluster (the auditor: `check` on a
schedule, pushed to a Pushgateway) and the Grafana dashboard of its findings (a ConfigMap for
the Grafana sidecar, or a GrafanaDashboard for the v2 operator's Grafana). Prints only: it reads
no backend and writes nothing, so the output can be reviewed, committed, and applied with
`kubectl apply -f -`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

import typer

from wbctl import __version__
from wbctl.cli.options import group
from wbctl.cli.state import session_of
from wbctl.config.keys import KEYS
from wbctl.core import deploy
from wbctl.core import deploy_dashboard as dash
from wbctl.errors import UsageError

if TYPE_CHECKING:
    pass

# both commands print manifests for `kubectl apply -f -`: YAML, or JSON as one v1 List
ManifestFormat = Annotated[
    str | None,
    typer.Option("--output", "-o", metavar="FORMAT", help="yaml (default) or json (a v1 List).", show_default=False),
]

app = group(
    "deploy",
    "Manifests for the cluster: the auditor (check on a schedule, pushed to Prometheus), the Grafana dashboard.",
)

FORMATS = ("yaml", "json")


@app.command()
def auditor(
    ctx: typer.Context,
    schedule: Annotated[
        str, typer.Option("--schedule", metavar="CRON", help="When to check (five cron fields).")
    ] = deploy.DEFAULT_SCHEDULE,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace", metavar="NS", help="Namespace the auditor runs in (default: the context's W&B namespace)."
        ),
    ] = None,
    push_url: Annotated[
        str, typer.Option("--push-url", metavar="URL", help="The Pushgateway's base URL.")
    ] = deploy.DEFAULT_PUSH_URL,
    image: Annotated[
        str | None,
        typer.Option(
            "--image",
            metavar="IMAGE",
            help="wbctl's image, built from docs/deploy/Dockerfile "
            f"(default: {deploy.DEFAULT_IMAGE_REPOSITORY}:{__version__}).",
        ),
    ] = None,
    gcp_service_account: Annotated[
        str | None,
        typer.Option(
            "--gcp-service-account",
            metavar="EMAIL",
            help="Google service account for Workload Identity (default: wbctl-auditor@<gcp-project>.iam.gserviceaccount.com).",
        ),
    ] = None,
    output: ManifestFormat = None,
) -> None:
    """Print the in-cluster auditor's manifests for the current context (kubectl apply -f -).

    A ServiceAccount (Workload Identity), docs/permissions.md's read-only Role and ClusterRole,
    a ConfigMap with the context's settings (no secrets), and a CronJob running
    `wbctl check --exit-zero -o prometheus --push URL`. Reads no backend; writes nothing.
    """
    if output is not None and output not in FORMATS:
        raise UsageError(f"-o {output}: expected one of {', '.join(FORMATS)}")
    schedule = deploy.parse_schedule(schedule)
    if namespace is not None:
        namespace = deploy.parse_namespace(namespace)
    push_url = deploy.parse_push_url(push_url)
    image = deploy.parse_image(image) if image is not None else f"{deploy.DEFAULT_IMAGE_REPOSITORY}:{__version__}"
    if gcp_service_account is not None:
        gcp_service_account = deploy.parse_email(gcp_service_account)
    session = session_of(ctx)
    settings = session.settings(output="json" if output == "json" else None)
    request = deploy.AuditorRequest(
        context=settings.context,
        settings={name: setting.value for name, setting in settings.values.items()},
        defaults={name: key.default for name, key in KEYS.items()},
        redis_settings={key: setting.value for key, setting in settings.redis_settings.items()},
        schedule=schedule,
        namespace=namespace,
        push_url=push_url,
        image=image,
        gcp_service_account=gcp_service_account,
    )
    documents = deploy.manifests(request)
    term = session.terminal()
    if output == "json" or (output is None and term.json_mode):
        term.json(deploy.as_list(documents))
    else:
        term.line(deploy.dump_yaml(request, documents).rstrip("\n"))
    for key in request.left_behind():
        term.warn(
            f"{key} is a file on this machine and is not carried into the cluster: "
            "mount the CA in the pod and add the key to the ConfigMap (docs/deploy/README.md)"
        )


@app.command()
def dashboard(
    ctx: typer.Context,
    target: Annotated[
        str,
        typer.Option(
            "--grafana",
            metavar="KIND",
            help="sidecar (default): a ConfigMap labelled grafana_dashboard=1 for the Grafana chart's sidecar "
            "(kube-prometheus-stack); operator: a GrafanaDashboard for the v2 operator's telemetry (mode full).",
        ),
    ] = dash.DEFAULT_TARGET,
    namespace: Annotated[
        str | None,
        typer.Option(
            "--namespace",
            metavar="NS",
            help=f"Namespace of the object (default: sidecar {dash.DEFAULT_SIDECAR_NAMESPACE}, "
            "operator the context's W&B namespace, where its telemetry's Grafana runs).",
            show_default=False,
        ),
    ] = None,
    folder: Annotated[
        str | None,
        typer.Option(
            "--folder",
            metavar="NAME",
            help="Grafana folder (default: sidecar its default folder, operator W&B); the sidecar "
            "reads it from the grafana_folder annotation when its chart sets folderAnnotation.",
            show_default=False,
        ),
    ] = None,
    output: ManifestFormat = None,
) -> None:
    """Print wbctl's Grafana dashboard as a Kubernetes object for this context (kubectl apply -f -).

    The JSON of `wbctl dashboards grafana` in a ConfigMap `wbctl-dashboard` (data key
    wbctl-runbook.json; a context's name and key carry its name) that Grafana's dashboard sidecar
    loads, or in a GrafanaDashboard that the grafana-operator imports into the Grafana of the v2
    operator's telemetry (instanceSelector dashboards=grafana). Reads no backend; writes nothing.
    """
    from wbctl.app.alert_settings import alert_settings
    from wbctl.core.dashboards import grafana

    if output is not None and output not in FORMATS:
        raise UsageError(f"-o {output}: expected one of {', '.join(FORMATS)}")
    target = dash.parse_target(target)
    if namespace is not None:
        namespace = deploy.parse_namespace(namespace)
    if folder is not None:
        folder = dash.parse_folder(folder)
    session = session_of(ctx)
    settings = session.settings(output="json" if output == "json" else None)
    if namespace is None:
        namespace = str(settings["namespace"]) if target == "operator" else dash.DEFAULT_SIDECAR_NAMESPACE
    model = grafana.render(alert_settings(session, locate=False))  # settings only: no backend read
    name, filename = dash.names(model["uid"], grafana.UID, grafana.FILENAME)
    request = dash.DashboardRequest(
        target=target,
        namespace=namespace,
        folder=folder,
        context=settings.context,
        name=name,
        wandb_namespace=str(settings["namespace"]),
    )
    document = dash.manifest(request, model, filename)
    term = session.terminal()
    if output == "json" or (output is None and term.json_mode):
        term.json(dash.as_list(document))
    else:
        term.line(dash.dump_yaml(request, model, document).rstrip("\n"))
    for note in dash.notes(request, document):
        term.warn(note)
