"""Where the flat-run-fields-updater's queue is, found the way the deployment itself finds it.

The chart hands the updater its queue in one environment variable (docs/sources.md, "Queue"):

    pubsub:/<project>/<topic>/<subscription>                                   (Google Cloud)
    kafka://[user:password@]<broker>:9092/<topic>?consumer_group_id=...&num_partitions=N  (bufstream)

With Kafka the chart writes it with `$(VAR)` references that Kubernetes expands from the
container's other variables and its envFrom ConfigMaps, so those are expanded here with the
same rules. The v2 operator's form, `$(KAFKA_URL)/$(KAFKA_RUNS_V2_TOPIC_NAME)?consumer_group_id=...`,
takes the broker from a Secret: wbctl reads no Secret, so the topic and the consumer group (all
the lag metrics need) come from the Deployment and the broker is named by where it is held. Configuration overrides what the Deployment says; failing both, the names W&B's
Terraform module gives (`<ns>-run-updates-shadow`, `<ns>-flat-run-fields-updater`).

The filestream service reads a queue of its own the same way (docs/sources.md, "The filestream
queue"): `GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS`, `pubsub:/<project>/<topic>/<subscription>`
with Pub/Sub on and the MySQL URL without it (no queue then); Terraform's names
`<ns>-filestream`, `<ns>-filestream-gorilla`. One `QueueKind` per queue: the same discovery
and resolution serve both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, TypedDict
from urllib.parse import parse_qs, unquote

from wbctl.errors import UsageError

if TYPE_CHECKING:  # annotations only: the alerts and dashboards resolve names without the kube model
    from wbctl.core.kube import Container, Workload

ENV_VAR = "GORILLA_RUN_UPDATE_SHADOW_QUEUE_SUBSCRIPTIONS_FLAT_RUN_FIELDS_UPDATER"
CONSUMER_GROUP = "flat-run-fields-updater"
SOURCES = ("pubsub", "kafka", "none")  # the queue-source values: the one definition (config keys take it)
_REFERENCE = re.compile(r"\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)")
_LEADING_REFERENCE = re.compile(r"\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)(?=/|\?|$)")


@dataclass(frozen=True)
class QueueKind:
    """One of the deployment's queues: the variable its consumer reads it from, the names W&B's
    Terraform module gives it, and what its address may say instead of a queue."""

    name: str  # run-updates | filestream: the `queue` label of its metrics
    service: str  # the consumer, by the guide's name
    env_var: str
    terraform_topic: str  # suffixes after `<ns>-`
    terraform_subscription: str
    consumer_group: str | None = None  # Kafka
    none_schemes: tuple[str, ...] = ()  # an address that is not a queue (filestream without Pub/Sub: MySQL)
    configurable: bool = True  # the queue-* settings name this queue

    @property
    def words(self) -> str:
        return f"the {self.name} queue"


RUN_UPDATES = QueueKind(
    "run-updates",
    "wandb-flat-run-fields-updater",
    ENV_VAR,
    "run-updates-shadow",
    "flat-run-fields-updater",
    consumer_group=CONSUMER_GROUP,
)
FILESTREAM = QueueKind(
    "filestream",
    "wandb-filestream",
    "GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS",
    "filestream",
    "filestream-gorilla",
    none_schemes=("mysql:",),
    configurable=False,
)


@dataclass(frozen=True)
class QueueAddress:
    source: str  # pubsub | kafka | none
    origin: str  # where it was found, said in the output
    project: str | None = None
    topic: str | None = None
    subscription: str | None = None  # Pub/Sub
    broker: str | None = None  # Kafka: host:port, never with credentials
    group: str | None = None
    partitions: int | None = None
    unresolved: tuple[str, ...] = ()  # $(VAR)s that could not be expanded
    broker_held_in: str | None = None  # Kafka: "Secret <name> key <key>" when the broker is there (not read)

    def describe(self) -> str:
        if self.source == "pubsub":
            return f"Pub/Sub subscription {self.subscription} of topic {self.topic} (project {self.project or '?'})"
        if self.source == "kafka":
            partitions = f", {self.partitions} partitions" if self.partitions else ""
            broker = self.broker or (f"the broker in {self.broker_held_in}" if self.broker_held_in else "?")
            return f"Kafka topic {self.topic} on {broker}, consumer group {self.group}{partitions}"
        return "no queue (queue-source = none)"


def _substituted(match: re.Match[str], variables: Mapping[str, str]) -> str:
    """One `$$` or `$(VAR)` as Kubernetes expands it (an unknown reference stays as written)."""
    if match.group(0) == "$$":
        return "$"
    return variables.get(match.group(1), match.group(0))


def expand(text: str, variables: Mapping[str, str]) -> tuple[str, tuple[str, ...]]:
    """Kubernetes' `$(VAR)` expansion: `$$` is a literal `$`, an unknown reference stays as
    written. Returns the text and the names that stayed unresolved."""
    references = (match.group(1) for match in _REFERENCE.finditer(text))
    missing = (name for name in references if name is not None and name not in variables)
    return _REFERENCE.sub(lambda match: _substituted(match, variables), text), tuple(dict.fromkeys(missing))


def parse(text: str, origin: str) -> QueueAddress:
    """The address in the updater's variable; UsageError when it is neither form."""
    value = text.strip()
    if value.startswith("pubsub:"):
        path = value.removeprefix("pubsub:")
        parts = path.removeprefix("//").removeprefix("/").split("/")
        if not path.startswith("/") or len(parts) != 3 or not all(parts):
            raise UsageError(f"{origin}: expected pubsub:/<project>/<topic>/<subscription>, got {value!r}")
        project, topic, subscription = parts
        return QueueAddress("pubsub", origin, project=project, topic=topic, subscription=subscription)
    if value.startswith("kafka://"):
        _, unresolved = expand(value, {})
        # $(VAR)s may sit where urlsplit expects a port: read host and port by hand
        rest = value.removeprefix("kafka://")
        authority, _, path_query = rest.partition("/")
        host = authority.rpartition("@")[2]  # never keep user:password
        path, _, query = path_query.partition("?")
        options = parse_qs(query)
        partitions = (options.get("num_partitions") or [""])[0]
        return QueueAddress(
            "kafka",
            origin,
            topic=unquote(path) or None,
            broker=host or None,
            group=(options.get("consumer_group_id") or [CONSUMER_GROUP])[0],
            partitions=int(partitions)
            if partitions.isascii() and partitions.isdigit() and int(partitions) > 0
            else None,
            unresolved=unresolved,
        )
    scheme = value.partition(":")[0][:20] if ":" in value else value[:20]
    raise UsageError(f"{origin}: unknown queue address scheme {scheme!r} (expected pubsub: or kafka://)")


def updater_container(workload: Workload | None, kind: QueueKind = RUN_UPDATES) -> Container | None:
    """The container that carries the queue variable (`kind`: which queue's)."""
    for container in workload.containers if workload else ():
        if container.env_value(kind.env_var) is not None:
            return container
    return None


def config_maps_needed(workload: Workload | None, kind: QueueKind = RUN_UPDATES) -> tuple[str, ...]:
    """The ConfigMaps to read to expand the variable: none when it has no `$(...)`."""
    container = updater_container(workload, kind)
    var = container.env_value(kind.env_var) if container else None
    if container is None or var is None or "$(" not in (var.value or ""):
        return ()
    if (var.value or "").strip().startswith(kind.none_schemes):  # not a queue: nothing to expand
        return ()
    names = list(container.env_from)
    names += [v.config_map[0] for v in container.env if v.config_map is not None]
    return tuple(dict.fromkeys(name for name in names if name))


def discover(
    workload: Workload | None, config_maps: Mapping[str, Mapping[str, str]], kind: QueueKind = RUN_UPDATES
) -> QueueAddress | None:
    """The address the Deployment gives its consumer, expanded as Kubernetes would; None when
    the variable is not there (an older chart, or a different install)."""
    container = updater_container(workload, kind)
    if container is None or workload is None:
        return None
    variables: dict[str, str] = {}
    held_in_secret: dict[str, tuple[str, str]] = {}
    for name in container.env_from:  # envFrom first; `env` entries override them
        variables.update(config_maps.get(name, {}))
    for var in container.env:
        if var.name == kind.env_var:
            break
        if var.value is not None:
            variables[var.name], _ = expand(var.value, variables)
        elif var.config_map is not None and var.config_map[1] in config_maps.get(var.config_map[0], {}):
            variables[var.name] = config_maps[var.config_map[0]][var.config_map[1]]
        elif var.secret is not None:
            held_in_secret[var.name] = var.secret
    raw = container.env_value(kind.env_var)
    text, unresolved = expand(raw.value or "" if raw else "", variables)
    origin = f"deployment/{workload.name} env {kind.env_var}"
    if text.strip().startswith(kind.none_schemes):  # never the text itself: it is a URL with credentials
        return QueueAddress("none", f"{origin} names {text.strip().partition(':')[0]}, not a queue")
    leading = _LEADING_REFERENCE.match(text)
    secret = held_in_secret.get(leading.group(1)) if leading else None
    if leading and secret and "KAFKA" in leading.group(1).upper():
        # the v2 operator's $(KAFKA_URL)/<topic>?consumer_group_id=...: kafka://<broker> is in a Secret
        address = replace(
            parse("kafka:///" + text[leading.end() :].removeprefix("/"), origin),
            broker_held_in=f"Secret {secret[0]} key {secret[1]}",
        )
        unresolved = tuple(name for name in unresolved if name != leading.group(1))
    else:
        address = parse(text, origin)
    return replace(
        address,
        unresolved=tuple(name for name in unresolved if name not in ("KAFKA_CLIENT_USER", "KAFKA_CLIENT_PASSWORD")),
    )


def terraform_names(install: str, kind: QueueKind = RUN_UPDATES) -> tuple[str, str]:
    """W&B's Terraform module: topic `<ns>-run-updates-shadow`, subscription `<ns>-flat-run-fields-updater`
    (filestream: `<ns>-filestream`, `<ns>-filestream-gorilla`)."""
    return f"{install}-{kind.terraform_topic}", f"{install}-{kind.terraform_subscription}"


class _Overrides(TypedDict, total=False):
    """What the configuration overrides in a found address (the keys it names, in order)."""

    subscription: str
    topic: str
    partitions: int
    project: str | None


def resolve(
    discovered: QueueAddress | None,
    *,
    source: str | None,
    subscription: str | None,
    topic: str | None,
    project: str | None,
    install: str,
    partitions: int | None = None,
    kind: QueueKind = RUN_UPDATES,
) -> QueueAddress:
    """Configuration over the Deployment's variable over Terraform's names.

    `source` None means "as the deployment says" (Pub/Sub when it says nothing). A kind the
    settings do not name (filestream) takes only the project from them.
    """
    if not kind.configurable:
        pubsub_possible = source not in ("kafka", "none")
        return resolve_unconfigured(discovered, kind, project=project, install=install, pubsub=pubsub_possible)
    if source == "none":
        return QueueAddress("none", "queue-source = none")
    default_topic, default_subscription = terraform_names(install, kind)
    if discovered is not None and source in (None, discovered.source):
        address = discovered
    else:
        chosen = source or "pubsub"
        origin = f"queue-source = {chosen}" if source else "the W&B Terraform module's names"
        address = QueueAddress(
            chosen,
            origin,
            topic=default_topic,
            subscription=default_subscription if chosen == "pubsub" else None,
            group=kind.consumer_group if chosen == "kafka" else None,
        )
    overrides: _Overrides = {}
    if subscription and address.source == "pubsub":
        overrides["subscription"] = subscription
    if topic:
        overrides["topic"] = topic
    if partitions and address.source == "kafka":
        overrides["partitions"] = partitions
    if address.source == "pubsub" and not address.project:
        overrides["project"] = project
    if overrides:
        configured = ", ".join(f"queue-{key}" for key in overrides if key != "project")
        origin = f"{address.origin}; {configured} from the config" if configured else address.origin
        address = replace(address, origin=origin, **overrides)
    return address


def resolve_unconfigured(
    discovered: QueueAddress | None, kind: QueueKind, *, project: str | None, install: str, pubsub: bool = True
) -> QueueAddress:
    """A queue no setting names (filestream): its Deployment's variable, else Terraform's names;
    the project from `gcp-project` when the address has none. `pubsub` False: the run-updates
    queue is configured as Kafka or none, so Pub/Sub is off and (the chart's rule) filestream
    reads MySQL: no queue unless its Deployment says otherwise."""
    if discovered is None and not pubsub:
        return QueueAddress("none", f"no {kind.env_var} found and Pub/Sub is off (queue-source): no {kind.words}")
    if discovered is None:
        topic, subscription = terraform_names(install, kind)
        discovered = QueueAddress("pubsub", "the W&B Terraform module's names", topic=topic, subscription=subscription)
    if discovered.source == "pubsub" and not discovered.project:
        discovered = replace(discovered, project=project)
    return discovered
