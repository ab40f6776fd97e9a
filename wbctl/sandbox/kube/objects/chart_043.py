"""Chart operator-wandb 0.43.8 as a running namespace (`chart_043`): the snapshot's workloads
with the "fmb" values, plus Nodes, Pods, HPAs (or KEDA's ScaledObject and its HPA), Events and
the CR; and what the queue runbook needs of flat-run-fields-updater: its queue address, its
Kafka rendering with the ConfigMaps its `$(VAR)`s come from, an HPA at given bounds. Separate
from chart 0.22.3, which starts from the same snapshot but not the same names and values.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.core import catalog, service_view
from wbctl.sandbox.kube.objects import observability
from wbctl.sandbox.kube.objects.autoscalers import (
    hpa,
    hpa_status,
    keda_owned_hpa,
    rescale_event,
    settle_scaled_object,
)
from wbctl.sandbox.kube.objects.basics import (
    Obj,
    chart_labels,
    deployment_named,
    find,
    name_label,
    of_kind,
    stable_uid,
    timestamp,
)
from wbctl.sandbox.kube.objects.cluster import running_cluster
from wbctl.sandbox.kube.objects.custom_resource import weights_and_biases
from wbctl.sandbox.kube.objects.snapshot import snapshot_manifests, values_file
from wbctl.sandbox.kube.objects.terraform import DEFAULT_PROJECT, gcp_globals, with_gcp_globals

#: The updater by its chart name (the app.kubernetes.io/name label, the values key): the core's
#: service name without the guide's `wandb-` prefix, so the two cannot drift apart.
UPDATER = service_view.UPDATER.removeprefix(catalog.PREFIX)
#: The service keda-frfu.values.yaml hands to KEDA's ScaledObject: the updater.
KEDA_SO_SERVICE = UPDATER
#: Where the updater finds its queue: `pubsub:/<project>/<topic>/<subscription>` or a kafka:// URL.
UPDATER_QUEUE_ENV = "GORILLA_RUN_UPDATE_SHADOW_QUEUE_SUBSCRIPTIONS_FLAT_RUN_FIELDS_UPDATER"
#: Where filestream finds its subscription (the chart's `filestream.env`; the copied snapshot predates it).
FILESTREAM_QUEUE_ENV = "GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS"
_UPDATER_HPA_OPTIONS = frozenset({"minimum", "maximum", "current", "cpu_current", "limited"})


def _deep_merge(base: Obj, extra: Mapping[str, Any]) -> Obj:
    out = copy.deepcopy(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), dict):
            out[key] = _deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def chart_043(
    instance: str = "wandb",
    namespace: str = "default",
    pods_per_service: int = 3,
    nodes: int = 3,
    hpa_for: Sequence[str] = ("filestream", UPDATER),
    keda_frfu: bool = False,
    *,
    replicas: Mapping[str, int] | None = None,
    events: bool = True,
    now: datetime | None = None,
    queue_address: str | None = None,
    filestream_address: str | None = None,
    kafka: bool = False,
    updater_hpa: Mapping[str, Any] | None = None,
    project: str = DEFAULT_PROJECT,
    bigtable_instance: str | None = None,
    lumen_agent: bool = True,
    observable: bool = False,
) -> list[Obj]:
    """A namespace running operator-wandb 0.43.8 with the "fmb" values (the snapshot's services:
    api, app-bc, console-bc, executor-bc, filemeta, filestream-bc, flat-run-fields-updater-bc,
    frontend, glue, metric-observer, nginx, parquet-bc, weave-bc, anaconda2, prometheus-server,
    reloader, and the parquet-backfill CronJob), plus Nodes, Pods and the CR.

    - `replicas` overrides pods_per_service per service (app.kubernetes.io/name), e.g. {"app": 1}.
    - `hpa_for`: services given an HPA `<instance>-<svc>` on their (`-bc`) Deployment, with
      `<svc>.autoscaling.horizontal` in the CR values to match (the fmb sizing renders none).
    - `keda_frfu`: flat-run-fields-updater autoscaled by the KEDA ScaledObject of the
      keda-frfu snapshot instead (no plain HPA for it), plus the HPA KEDA owns
      (`keda-hpa-<instance>-flat-run-fields-updater`, carrying the instance label), and the
      snapshot's KEDA values merged into the CR.
    - `events`: a SuccessfulRescale Event per HPA.
    - `queue_address`: the updater's UPDATER_QUEUE_ENV (its Deployment and Pods), e.g.
      `pubsub:/my-project/<instance>-run-updates-shadow/<instance>-flat-run-fields-updater`.
    - `filestream_address`: filestream's FILESTREAM_QUEUE_ENV, e.g.
      `pubsub:/my-project/<instance>-filestream/<instance>-filestream-gorilla` (the chart
      renders it from global.pubSub; the snapshot copied here has none).
    - `kafka`: the updater Deployment as the keda-frfu snapshot renders it for Kafka (a
      `kafka://$(KAFKA_...)` address filled from envFrom), plus the ConfigMaps its envFrom
      names (`<instance>-kafka-configmap` among them: unlabelled, so read by name).
    - `updater_hpa`: the updater HPA's `minimum`, `maximum`, `current` (replicas; the
      Deployment and its Pods follow), `cpu_current` (%), and `limited`: pinned at `maximum`
      with ScalingLimited True (TooManyReplicas). Needs the updater in `hpa_for`, without KEDA.
    - `project`, `bigtable_instance`: the CR's global values as W&B's Terraform writes them on
      GCP (terraform.py: cloudProvider gcp, a GCS bucket, global.bigtable.project/instance; the
      instance by Terraform's rule from `instance` unless given).
    - `lumen_agent`: the chart's `<instance>-lumen-agent` CronJob (W&B's hourly diagnostics
      agent, as the chart's snap-lumen-gcp test renders it), with `lumen-agent.install` and
      `global.lumen` in the CR values, last run at the top of the hour.
    - `observable`: set up to be observed (objects/observability.py): every traced service's
      traceRatio and GORILLA_TRACER, the collector exporting traces over OTLP, wandb-app's pods
      annotated for the chart's Prometheus, and wbctl's auditor CronJob, fresh. Without it, the
      chart's defaults: no tracing, the collector's pipelines ending in `debug`, no auditor.
    The collector's ConfigMap (`<instance>-otel-daemonset`) is there either way.
    """
    now = now or datetime.now(UTC)
    chart_label = "operator-wandb-0.43.8"
    workloads = snapshot_manifests("fmb.snap", instance, namespace, chart_label)
    if lumen_agent:
        workloads += snapshot_manifests("lumen-gcp.snap", instance, namespace, chart_label, ("CronJob",))
    config_maps = _use_kafka_updater(workloads, instance, namespace, chart_label, now) if kafka else []
    if queue_address is not None:
        _set_env(_updater_deployment(workloads), UPDATER_QUEUE_ENV, queue_address)
    filestream = deployment_named(workloads, "filestream")
    if filestream_address is not None and filestream is not None:
        _set_env(filestream, FILESTREAM_QUEUE_ENV, filestream_address)
    if keda_frfu:
        workloads += of_kind(snapshot_manifests("keda-frfu.snap", instance, namespace, chart_label), "ScaledObject")
    updater = _updater_hpa_options(updater_hpa, hpa_for, keda_frfu)
    if "current" in updater or updater.get("limited"):
        count = updater.get("maximum", 10) if updater.get("limited") else updater["current"]
        replicas = {**(replicas or {}), UPDATER: int(count)}
    values = with_gcp_globals(
        _cr_values(workloads, keda_frfu, lumen_agent),
        gcp_globals(instance, project=project, bigtable_instance=bigtable_instance),
    )
    if observable:  # before the Pods are made from the templates
        observability.observe(workloads, values, instance)
    objs = running_cluster(workloads, pods_per_service=pods_per_service, node_count=nodes, replicas=replicas, now=now)
    config_maps.append(
        observability.collector_config_map(
            instance, namespace, chart_label, now, observability.collector_values(values)
        )
    )
    if observable:
        objs.append(observability.auditor_cronjob(namespace, now))

    if lumen_agent:
        _lumen_ran(find(objs, "CronJob", f"{instance}-lumen-agent"), now)
    autoscalers: list[Obj] = []
    for service, autoscaler in _chart_hpas(
        workloads, hpa_for, keda_frfu, updater, instance, namespace, chart_label, now
    ):
        autoscalers.append(autoscaler)
        values.setdefault(service, {})["autoscaling"] = {
            "horizontal": {
                "enabled": True,
                "minReplicas": autoscaler["spec"]["minReplicas"],
                "maxReplicas": autoscaler["spec"]["maxReplicas"],
                "targetCPUUtilizationPercentage": 80,
            }
        }
    autoscalers += _settle_snapshot_autoscalers(workloads, namespace, now)
    objs += autoscalers
    if events:
        objs += [rescale_event(a, now=now) for a in [*of_kind(workloads, "HorizontalPodAutoscaler"), *autoscalers]]
    objs.append(weights_and_biases(instance, namespace, "0.43.8", values, now=now))
    return objs + config_maps


def _cr_values(workloads: list[Obj], keda_frfu: bool, lumen_agent: bool) -> Obj:
    """The CR's spec.values: the fmb values, every service installed, KEDA's and the lumen
    agent's values merged in."""
    values = copy.deepcopy(values_file("fmb.values.yaml"))
    for service in sorted({s for d in of_kind(workloads, "Deployment") if (s := name_label(d))}):
        values.setdefault(service, {})["install"] = True
    if keda_frfu:
        values = _deep_merge(values, values_file("keda-frfu.values.yaml"))
    if lumen_agent:
        values = _deep_merge(values, values_file("lumen-gcp.values.yaml"))
    return values


def _lumen_ran(cronjob: Obj, now: datetime) -> None:
    """The hourly agent ("0 * * * *") ran at the top of this hour and succeeded a minute later."""
    ran = now.replace(minute=0, second=0, microsecond=0)
    cronjob["status"] = {
        "lastScheduleTime": timestamp(ran),
        "lastSuccessfulTime": timestamp(ran + timedelta(minutes=1)),
    }


def _chart_hpas(
    workloads: list[Obj],
    hpa_for: Sequence[str],
    keda_frfu: bool,
    updater: Mapping[str, Any],
    instance: str,
    namespace: str,
    chart_label: str,
    now: datetime,
) -> list[tuple[str, Obj]]:
    """(service, HPA) for each service in `hpa_for` the snapshot renders no HPA for (nor KEDA
    scales), `updater` giving the updater's bounds and state."""
    out: list[tuple[str, Obj]] = []
    present = {name_label(h) for h in of_kind(workloads, "HorizontalPodAutoscaler")}
    for service in hpa_for:
        if service in present or (keda_frfu and service == KEDA_SO_SERVICE):
            continue
        target = deployment_named(workloads, service)
        if target is None:
            raise ValueError(f"chart 0.43.8 (fmb) has no Deployment for {service!r}")
        options = updater if service == UPDATER else {}
        autoscaler = hpa(
            f"{instance}-{service}",
            namespace,
            target["metadata"]["name"],
            chart_labels(service, instance, chart_label),
            int(target["spec"]["replicas"]),
            minimum=int(options.get("minimum", 1)),
            maximum=int(options.get("maximum", 10)),
            cpu_current=int(options.get("cpu_current", 42)),
            limited=bool(options.get("limited")),
            now=now,
        )
        out.append((service, autoscaler))
    return out


def _settle_snapshot_autoscalers(workloads: list[Obj], namespace: str, now: datetime) -> list[Obj]:
    """Give the snapshot's HPAs a uid and status and its ScaledObjects theirs; returns the HPAs
    KEDA creates for the ScaledObjects."""
    for autoscaler in of_kind(workloads, "HorizontalPodAutoscaler"):
        target = find(workloads, "Deployment", autoscaler["spec"]["scaleTargetRef"]["name"])
        autoscaler["metadata"].setdefault(
            "uid", stable_uid("HorizontalPodAutoscaler", namespace, autoscaler["metadata"]["name"])
        )
        autoscaler["status"] = hpa_status(int(target["spec"]["replicas"]), timestamp(now - timedelta(hours=1)))
    keda_owned: list[Obj] = []
    for scaled_object in of_kind(workloads, "ScaledObject"):
        settle_scaled_object(scaled_object, now)
        target = find(workloads, "Deployment", scaled_object["spec"]["scaleTargetRef"]["name"])
        keda_owned.append(keda_owned_hpa(scaled_object, int(target["spec"]["replicas"]), now))
    return keda_owned


def _updater_deployment(workloads: Iterable[Obj]) -> Obj:
    found = deployment_named(workloads, UPDATER)
    if found is None:
        raise ValueError("chart 0.43.8 (fmb) has no flat-run-fields-updater Deployment")
    return found


def _set_env(deployment: Obj, name: str, value: str) -> None:
    """Set an env var on every container of a Deployment's pod template that has it (on the
    first container when none has it), so the Pods built from the template carry it too."""
    containers = deployment["spec"]["template"]["spec"]["containers"]
    holders = [c for c in containers if any(e.get("name") == name for e in c.get("env") or [])] or containers[:1]
    for container in holders:
        env = [e for e in container.get("env") or [] if e.get("name") != name]
        container["env"] = [*env, {"name": name, "value": value}]


def _use_kafka_updater(
    workloads: list[Obj], instance: str, namespace: str, chart_label: str, now: datetime
) -> list[Obj]:
    """Swap in the updater Deployment of the Kafka (keda-frfu) snapshot, in place, and return
    the ConfigMaps its envFrom names: only those, where `$(KAFKA_...)` in its queue URL come from."""
    rendered = snapshot_manifests("keda-frfu.snap", instance, namespace, chart_label, ("Deployment", "ConfigMap"))
    kafka_updater = _updater_deployment(rendered)
    workloads[workloads.index(_updater_deployment(workloads))] = kafka_updater
    pod_spec = kafka_updater["spec"]["template"]["spec"]
    names = {
        source["configMapRef"]["name"]
        for container in [*(pod_spec.get("initContainers") or []), *pod_spec["containers"]]
        for source in container.get("envFrom") or []
        if "configMapRef" in source
    }
    config_maps = [m for m in of_kind(rendered, "ConfigMap") if m["metadata"]["name"] in names]
    for config_map in config_maps:
        metadata = config_map["metadata"]
        for empty in [key for key in ("labels", "annotations") if key in metadata and not metadata[key]]:
            del metadata[empty]  # rendered as `labels:` with nothing under it; the API server omits it
        metadata.setdefault("uid", stable_uid("ConfigMap", namespace, metadata["name"]))
        metadata.setdefault("creationTimestamp", timestamp(now - timedelta(days=30)))
    return sorted(config_maps, key=lambda m: m["metadata"]["name"])


def _updater_hpa_options(options: Mapping[str, Any] | None, hpa_for: Sequence[str], keda: bool) -> dict[str, Any]:
    if not options:
        return {}
    unknown = set(options) - _UPDATER_HPA_OPTIONS
    if unknown:
        raise ValueError(f"unknown updater_hpa options {sorted(unknown)} (known: {sorted(_UPDATER_HPA_OPTIONS)})")
    if UPDATER not in hpa_for or keda:
        raise ValueError("updater_hpa needs flat-run-fields-updater in hpa_for and keda_frfu off")
    return dict(options)
