"""The support bundle's contents, shaped from observations: what each file holds, what it leaves
out, and the MANIFEST that says both. Pure (no I/O): the app layer reads, this decides what of
it may leave the company (with wbctl.core.masking), so both are unit-tested without a cluster.

What is kept is chosen, never everything-minus-secrets: Nodes keep their names, capacity and a
safe set of labels (no addresses, no provider IDs); pods their status and the app.kubernetes.io
labels (no annotations); env variables their literal values masked by name and shape, and a
`secretKeyRef` only its Secret's name and key (wbctl never reads a Secret).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from wbctl.core.kube import Container, KubeObservation, Pod, WandbResource, Workload
from wbctl.core.masking import mask_values

MAX_LOG_LINES = 10_000  # per container: what --logs accepts at most
MAX_PODS_PER_SERVICE = 3  # logs of at most this many pods per service (not-ready ones first)
MAX_CONTAINERS_PER_POD = 3
MAX_SINCE = 7 * 86400  # --since: at most 7 days (Events are kept an hour by default anyway)

# Node labels that describe capacity and placement and name nothing of the company's
SAFE_NODE_LABELS = frozenset(
    {
        "topology.kubernetes.io/zone",
        "topology.kubernetes.io/region",
        "node.kubernetes.io/instance-type",
        "kubernetes.io/arch",
        "kubernetes.io/os",
        "cloud.google.com/gke-nodepool",
        "cloud.google.com/machine-family",
        "cloud.google.com/gke-spot",
        "cloud.google.com/gke-preemptible",
        "cloud.google.com/gke-boot-disk",
    }
)
POD_LABEL_PREFIX = "app.kubernetes.io/"


@dataclass(frozen=True)
class FileEntry:
    """One file of the bundle: its name, its text, what it holds and what was redacted in it."""

    name: str
    text: str
    holds: str
    redacted: str = "nothing"


@dataclass(frozen=True)
class Note:
    """A file that is not in the bundle, and why: `unread` when a backend could not be read
    (the command then exits 3), else left out by design or not applicable."""

    name: str
    reason: str
    unread: bool = True


@dataclass
class Manifest:
    context: str
    created: datetime
    since: int
    logs: int
    files: list[FileEntry] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)

    @property
    def unread(self) -> list[Note]:
        return [note for note in self.notes if note.unread]

    def text(self) -> str:
        """The MANIFEST: every file with what it holds and what was redacted, then every note."""
        lines = [
            "wbctl support bundle",
            f"context: {self.context}",
            f"created: {stamp(self.created)}",
            f"window: the last {self.since}s (Events and logs since {stamp(self.created - timedelta(seconds=self.since))})",
            f"logs: the last {self.logs} lines of at most {MAX_PODS_PER_SERVICE} pods per W&B service"
            " (and of a restarted container's previous run)"
            if self.logs
            else "logs: none (--logs 0)",
            "secrets: no Secret was read; env values from a secretKeyRef are named, never resolved;",
            "  passwords, tokens, keys and URL credentials are masked as *** (by key name, then by shape)",
            "",
            "files:",
        ]
        for entry in self.files:
            lines.append(f"  {entry.name}")
            lines.append(f"    holds: {entry.holds}")
            lines.append(f"    redacted: {entry.redacted}")
        unread = self.unread
        if unread:
            lines += ["", "not read (the command exited 3; the rest of the bundle is written):"]
            lines += [f"  {note.name}: {note.reason}" for note in unread]
        left_out = [note for note in self.notes if not note.unread]
        if left_out:
            lines += ["", "left out:"]
            lines += [f"  {note.name}: {note.reason}" for note in left_out]
        return "\n".join(lines) + "\n"


def stamp(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def default_name(context: str, created: datetime) -> str:
    """wbctl-support-<context>-<UTC time>.tar.gz, the context made safe for a file name."""
    safe = "".join(char if char.isalnum() or char in "-_." else "-" for char in context) or "default"
    return f"wbctl-support-{safe}-{created.astimezone(UTC):%Y%m%dT%H%M%SZ}.tar.gz"


# --- Kubernetes --------------------------------------------------------------------------------


def _env(container: Container) -> dict[str, Any]:
    """The container's literal env as name -> value, so the masker sees each name (masked next by
    name and shape); a ConfigMap reference by what it names."""
    env: dict[str, Any] = {}
    for var in container.env:
        if var.config_map is not None:
            env[var.name] = f"(from ConfigMap {var.config_map[0]} key {var.config_map[1]})"
        elif var.secret is None:
            env[var.name] = var.value
    return env


def _references(container: Container) -> list[dict[str, str]]:
    """The env set from a Secret: the variable and the Secret's name and key, never a value
    (wbctl reads no Secret). Under keys the masker leaves alone: the names are no secret."""
    return [
        {"env": var.name, "from": f"Secret {var.secret[0]} key {var.secret[1]} (not read)"}
        for var in container.env
        if var.secret is not None
    ]


def _container(container: Container) -> dict[str, Any]:
    return {
        "name": container.name,
        "image": container.image,
        "requests": dict(container.requests),
        "limits": dict(container.limits),
        "env": _env(container),
        "envReferences": _references(container),
        "envFrom": list(container.env_from),
    }


def _time(moment: datetime | None) -> str | None:
    return stamp(moment) if moment is not None else None


def workload_document(workload: Workload) -> dict[str, Any]:
    return {
        "kind": workload.kind,
        "name": workload.name,
        "labels": dict(workload.labels),
        "desired": workload.desired,
        "ready": workload.ready,
        "schedule": workload.schedule,
        "suspended": workload.suspended,
        "lastSchedule": _time(workload.last_schedule),
        "lastSuccess": _time(workload.last_success),
        "containers": [_container(c) for c in workload.containers],
    }


def pod_document(pod: Pod, service: str | None) -> dict[str, Any]:
    return {
        "name": pod.name,
        "service": service,
        "labels": {k: v for k, v in pod.labels.items() if k.startswith(POD_LABEL_PREFIX)},
        "node": pod.node,
        "phase": pod.phase,
        "ready": pod.ready,
        "restarts": pod.restarts,
        "started": _time(pod.started),
        "waiting": list(pod.waiting),
        "lastTerminated": list(pod.last_terminated),
        "unschedulable": pod.unschedulable,
        "cronJobRun": pod.job_pod,
    }


def cr_document(cr: WandbResource | None) -> dict[str, Any] | None:
    if cr is None:
        return None
    return {
        "name": cr.name,
        "generation": cr.generation.value,
        "chartVersion": cr.chart_version,
        "state": cr.state,
        "serverVersion": cr.server_version,
        "writtenAs": cr.written_as,
        "features": dict(cr.features),
        "conditions": [asdict(condition) for condition in cr.conditions],
        "values": cr.values,
        "applications": cr.applications,
    }


def autoscaler_documents(observation: KubeObservation) -> list[dict[str, Any]]:
    return [{**asdict(a), "last_scale": _time(a.last_scale)} for a in observation.autoscalers]


def node_document(node: Mapping[str, Any]) -> dict[str, Any]:
    """A Node's name, capacity and placement: safe labels only, no addresses or provider IDs."""
    meta = node.get("metadata") or {}
    spec = node.get("spec") or {}
    status = node.get("status") or {}
    info = status.get("nodeInfo") or {}
    return {
        "name": meta.get("name"),
        "labels": {k: v for k, v in (meta.get("labels") or {}).items() if k in SAFE_NODE_LABELS},
        "unschedulable": bool(spec.get("unschedulable")),
        "taints": [{"key": t.get("key"), "effect": t.get("effect")} for t in spec.get("taints") or []],
        "capacity": dict(status.get("capacity") or {}),
        "allocatable": dict(status.get("allocatable") or {}),
        "conditions": [
            {"type": c.get("type"), "status": c.get("status"), "reason": c.get("reason")}
            for c in status.get("conditions") or []
        ],
        "kubeletVersion": info.get("kubeletVersion"),
    }


def pdb_document(pdb: Mapping[str, Any]) -> dict[str, Any]:
    spec = pdb.get("spec") or {}
    status = pdb.get("status") or {}
    return {
        "name": (pdb.get("metadata") or {}).get("name"),
        "minAvailable": spec.get("minAvailable"),
        "maxUnavailable": spec.get("maxUnavailable"),
        "selector": (spec.get("selector") or {}).get("matchLabels") or {},
        "currentHealthy": status.get("currentHealthy"),
        "desiredHealthy": status.get("desiredHealthy"),
        "disruptionsAllowed": status.get("disruptionsAllowed"),
        "expectedPods": status.get("expectedPods"),
    }


def _event_time(event: Mapping[str, Any]) -> str | None:
    series = event.get("series") or {}
    found = (
        series.get("lastObservedTime")
        or event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or (event.get("metadata") or {}).get("creationTimestamp")
    )
    return str(found) if found else None


def _parse_time(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None


def event_documents(events: Iterable[Mapping[str, Any]], *, now: datetime, since: int) -> list[dict[str, Any]]:
    """The Events of the window, oldest first (an Event without a time is kept: it may be the one)."""
    start = now - timedelta(seconds=since)
    kept: list[tuple[str, dict[str, Any]]] = []
    for event in events:
        when = _event_time(event)
        moment = _parse_time(when) if when else None
        if moment is not None and moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        if moment is not None and moment < start:
            continue
        involved = event.get("involvedObject") or {}
        kept.append(
            (
                when or "",
                {
                    "time": when,
                    "type": event.get("type"),
                    "reason": event.get("reason"),
                    "object": f"{involved.get('kind', '')}/{involved.get('name', '')}",
                    "message": event.get("message"),
                    "count": event.get("count") or (event.get("series") or {}).get("count"),
                    "source": (event.get("source") or {}).get("component") or event.get("reportingComponent"),
                },
            )
        )
    return [document for _, document in sorted(kept, key=lambda pair: pair[0])]


def versions_text(wbctl_version: str, observation: KubeObservation | None, reason: str = "") -> str:
    """wbctl's version, the chart's, the server's (the CR's, else the images' tags) and the
    operator generation."""
    lines = [f"wbctl: {wbctl_version}"]
    if observation is None:
        lines.append(f"kubernetes: not read ({reason})")
        return "\n".join(lines) + "\n"
    cr = observation.cr
    lines.append(f"operator generation: {observation.generation.value} ({observation.generation.api_version})")
    lines.append(f"chart: operator-wandb {cr.chart_version}" if cr and cr.chart_version else "chart: unknown")
    tags = sorted({c.tag for w in observation.workloads for c in w.containers if w.name.endswith(("-api", "-app"))})
    server = (cr.server_version if cr else None) or (", ".join(tags) if tags else None)
    lines.append(f"server: {server or 'unknown'}")
    images = sorted({f"{w.name}: {c.image}" for w in observation.workloads for c in w.containers})
    lines += ["images:", *(f"  {image}" for image in images)]
    return "\n".join(lines) + "\n"


def log_pods(pods: Sequence[Pod], *, limit: int = MAX_PODS_PER_SERVICE) -> list[Pod]:
    """The pods whose logs a service contributes: the not-ready and restarting ones first (the
    trouble is what support asks about), then by name; at most `limit`."""
    ordered = sorted(pods, key=lambda pod: (pod.ready, -pod.restarts, pod.name))
    return ordered[:limit]


def masked(document: Any) -> tuple[Any, str]:
    """A document with its credentials masked by key name and URL userinfo, and the MANIFEST's
    words for what was."""
    result = mask_values(document)
    return result.value, redacted_words(result.paths)


def redacted_words(paths: Sequence[str], *, limit: int = 12) -> str:
    if not paths:
        return "nothing matched"
    shown = ", ".join(paths[:limit])
    more = f" and {len(paths) - limit} more" if len(paths) > limit else ""
    return f"{len(paths)} value(s) masked: {shown}{more}"
