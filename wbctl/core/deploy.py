"""The in-cluster auditor: the manifests that run `wbctl check` on a schedule inside the
cluster and push its findings to a Prometheus Pushgateway (`wbctl deploy auditor`).

Pure: the settings of a context in, Kubernetes objects (dicts) and their YAML out. One source
of truth: docs/deploy/auditor.yaml is this module's output for the default configuration, and
a test keeps the two equal. The Role is exactly docs/permissions.md's read-only set (a test
parses the document's YAML and compares), so the auditor can read what `check` reads and
change nothing. Its options are validated here, each with a one-line UsageError (exit 2):
what the API server or the cron parser would refuse later, in a pod's events, is refused
before anything is printed.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from wbctl.core.push_url import EXAMPLE as PUSHGATEWAY_EXAMPLE
from wbctl.core.push_url import parse_push_url as parse_pushgateway_url
from wbctl.errors import UsageError

NAME = "wbctl-auditor"  # the ServiceAccount, ConfigMap, Secret, Role, RoleBinding and CronJob
NODES_ROLE = "wbctl-auditor-read-nodes"  # cluster-scoped: one for every auditor in the cluster
SECRET_KEYS = {"WBCTL_REDIS_PASSWORD": "redis-password", "WBCTL_MYSQL_PASSWORD": "mysql-password"}
CONFIG_DIR = "/etc/wbctl"
CONFIG_PATH = f"{CONFIG_DIR}/config.toml"
DEFAULT_SCHEDULE = "*/5 * * * *"
DEFAULT_PUSH_URL = PUSHGATEWAY_EXAMPLE  # the prometheus-community chart's Pushgateway in namespace monitoring
DEFAULT_IMAGE_REPOSITORY = "registry.example.com/wbctl"  # example.com (RFC 2606): never pulls someone else's image
ACTIVE_DEADLINE_SECONDS = 240  # a run that hangs ends before the next (every 5 minutes by default) is due
RUN_AS = 10001  # the Dockerfile's non-root user

# Google IAM roles the auditor's Google service account needs (docs/permissions.md, "Google
# Cloud", read-only row): the Bigtable instance and clusters, and Cloud Monitoring's series.
IAM_ROLES = ("roles/bigtable.viewer", "roles/monitoring.viewer")

# docs/permissions.md's read-only Role and ClusterRole, rule for rule (a test compares them)
READ_RULES: tuple[dict[str, list[str]], ...] = (
    {"apiGroups": ["apps"], "resources": ["deployments"], "verbs": ["get", "list"]},
    {"apiGroups": ["batch"], "resources": ["cronjobs"], "verbs": ["get", "list"]},
    {"apiGroups": ["autoscaling"], "resources": ["horizontalpodautoscalers"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]},
    {"apiGroups": ["apps.wandb.com"], "resources": ["weightsandbiases"], "verbs": ["get", "list"]},
    {"apiGroups": ["keda.sh"], "resources": ["scaledobjects"], "verbs": ["get", "list"]},
    {"apiGroups": [""], "resources": ["configmaps"], "verbs": ["get"]},
    {"apiGroups": ["metrics.k8s.io"], "resources": ["pods"], "verbs": ["get", "list"]},
    # check's observability group: what scrapes the app's port 8181 (a missing CRD is a 404)
    {"apiGroups": ["monitoring.coreos.com"], "resources": ["servicemonitors", "podmonitors"], "verbs": ["list"]},
    {"apiGroups": ["monitoring.googleapis.com"], "resources": ["podmonitorings"], "verbs": ["list"]},
)
NODE_RULES: tuple[dict[str, list[str]], ...] = (
    {"apiGroups": [""], "resources": ["nodes"], "verbs": ["get", "list"]},
    {"apiGroups": ["storage.k8s.io"], "resources": ["csidrivers"], "verbs": ["get", "list"]},
)

# the context's keys the auditor carries into the cluster (its config file); the others stay
# behind: kube-context (in the pod: its service account), gcp-emulator-host (an emulator on
# this machine), the CA files (paths on this machine), read-only (always true) and output
CARRIED_KEYS = (
    "namespace",
    "instance",
    "gcp-project",
    "bigtable-instance",
    "bigtable-cluster",
    "queue-source",
    "queue-subscription",
    "queue-topic",
    "queue-partitions",
    "queue-retention",
    "queue-allowed-backlog",
    "queue-allowed-age",
    "metrics-source",
    "prometheus-url",
    "gcp-monitoring-endpoint",
    "gcp-bigtable-admin-endpoint",
    "redis-url",
    "mysql-url",
    "noisy-run-query",
    "noisy-run-label",
    "timeout",
)
ALWAYS_KEYS = ("namespace", "instance")  # written even at their defaults: where W&B is, said plainly
LOCAL_FILE_KEYS = ("redis-ca-file", "mysql-ca-file")


# --- validating the options -----------------------------------------------------------------

_CRON_FIELDS = (
    ("minute", 0, 59, ()),
    ("hour", 0, 23, ()),
    ("day of month", 1, 31, ()),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")),
    ("day of week", 0, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")),
)
_CRON_PART = re.compile(r"^(?P<range>\*|(?P<start>[0-9A-Za-z]+)(?:-(?P<end>[0-9A-Za-z]+))?)(?:/(?P<step>[0-9]+))?$")


def _cron_value(text: str, low: int, high: int, names: tuple[str, ...]) -> int | None:
    if text.isascii() and text.isdigit() and len(text) <= 3:
        value = int(text)
        return value if low <= value <= high else None
    upper = text.upper()
    return names.index(upper) + (1 if low == 1 else 0) if upper in names else None


def _cron_field_valid(text: str, low: int, high: int, names: tuple[str, ...]) -> bool:
    for part in text.split(","):
        match = _CRON_PART.fullmatch(part)
        if not match:
            return False
        step = match.group("step")
        if step is not None and not (step.isascii() and len(step) <= 3 and 1 <= int(step) <= high - low + 1):
            return False
        if match.group("range") == "*":
            continue
        start = _cron_value(match.group("start"), low, high, names)
        end_text = match.group("end")
        end = _cron_value(end_text, low, high, names) if end_text is not None else start
        if start is None or end is None or start > end:
            return False
    return True


def parse_schedule(text: str) -> str:
    """A standard five-field cron schedule (minute hour day-of-month month day-of-week), each
    field `*`, a value, a range, a list, with an optional `/step`; months and weekdays also by
    name. What a CronJob's controller parses (robfig/cron's standard parser), minus the
    descriptors and `?`: five fields are what an operator reads at a glance."""
    fields = text.split()
    if len(fields) != 5 or text != text.strip() or "\n" in text:
        raise UsageError(
            f"--schedule {text!r}: expected five cron fields (minute hour day-of-month month day-of-week), "
            f"e.g. '{DEFAULT_SCHEDULE}'"
        )
    for value, (name, low, high, names) in zip(fields, _CRON_FIELDS):
        if not _cron_field_valid(value, low, high, names):
            raise UsageError(
                f"--schedule {text!r}: invalid {name} field {value!r} (values {low}-{high}, "
                f"'*', ranges a-b, lists a,b and steps /n)"
            )
    return " ".join(fields)


_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def parse_namespace(text: str) -> str:
    """A namespace name: an RFC 1123 label (what the API server accepts), at most 63 characters."""
    if len(text) > 63 or not _DNS_LABEL.fullmatch(text) or not text.isascii():
        raise UsageError(
            f"--namespace {text!r}: expected a DNS-1123 label (lower-case letters, digits and '-', "
            "starting and ending with a letter or digit, at most 63 characters)"
        )
    return text


def parse_push_url(text: str) -> str:
    """--push-url, never with credentials (the manifests are printed and committed)."""
    return parse_pushgateway_url(text, "--push-url", credentials=False)


_IMAGE_DOMAIN = (
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*(?::[0-9]+)?"
)
_IMAGE_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE = re.compile(
    rf"^(?:(?P<domain>{_IMAGE_DOMAIN})/)?(?P<path>{_IMAGE_COMPONENT}(?:/{_IMAGE_COMPONENT})*)"
    r"(?::(?P<tag>[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}))?"
    r"(?:@(?P<digest>[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,}))?$"
)


def parse_image(text: str) -> str:
    """A container image reference as the distribution spec's grammar writes it
    (`[registry[:port]/]path[:tag][@digest]`, lower-case path, at most 255 characters of name)."""
    match = _IMAGE.fullmatch(text) if text.isascii() else None
    name_length = len(text.split("@")[0].rsplit(":", 1)[0]) if match else 0
    if match is None or name_length > 255:
        raise UsageError(
            f"--image {text!r}: expected an image reference such as "
            f"{DEFAULT_IMAGE_REPOSITORY}:1.0 (registry/path[:tag][@sha256:digest], lower-case path)"
        )
    return text


_EMAIL = re.compile(
    r"^[A-Za-z0-9](?:[A-Za-z0-9._+-]{0,62}[A-Za-z0-9])?@"
    r"[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$"
)


def parse_email(text: str) -> str:
    """A Google service account's email (NAME@PROJECT.iam.gserviceaccount.com, or any plausible
    address: the annotation names it, Google checks it)."""
    if len(text) > 254 or not text.isascii() or not _EMAIL.fullmatch(text):
        raise UsageError(
            f"--gcp-service-account {text!r}: expected a service account email, "
            "e.g. wbctl-auditor@my-project.iam.gserviceaccount.com"
        )
    return text


def default_service_account(project: str | None) -> str:
    return f"{NAME}@{project or 'PROJECT_ID'}.iam.gserviceaccount.com"


def without_password(url: str) -> str:
    """The URL with its password removed and its user kept: MySQL needs the user, and a user
    may stay in the config file (docs/configuration.md, "Secrets"); the password comes from the
    Secret."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = (f"{parts.username}@" if parts.username else "") + host + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


# --- the request and its manifests -------------------------------------------------------------


@dataclass(frozen=True)
class AuditorRequest:
    """`wbctl deploy auditor ...` as data: where it runs, what it runs, and the context's
    non-secret settings (key -> value, already parsed) it carries into its config file."""

    context: str | None
    settings: Mapping[str, Any]
    defaults: Mapping[str, Any]
    redis_settings: Mapping[str, str] = field(default_factory=dict)
    schedule: str = DEFAULT_SCHEDULE
    namespace: str | None = None  # where the auditor runs; None: the W&B namespace
    push_url: str = DEFAULT_PUSH_URL
    image: str = ""
    gcp_service_account: str | None = None

    @property
    def wandb_namespace(self) -> str:
        return str(self.settings.get("namespace") or "default")

    @property
    def auditor_namespace(self) -> str:
        return self.namespace or self.wandb_namespace

    @property
    def context_name(self) -> str:
        from wbctl.core.measurements import UNNAMED_CONTEXT

        return self.context or UNNAMED_CONTEXT  # the label alerts name: unnamed means "no --context"

    @property
    def project(self) -> str | None:
        return self.settings.get("gcp-project")

    @property
    def service_account(self) -> str:
        return self.gcp_service_account or default_service_account(self.project)

    def argv(self) -> list[str]:
        """What the CronJob's container runs (after the image's `wbctl` entrypoint)."""
        return ["check", "--exit-zero", "-o", "prometheus", "--push", self.push_url]

    def carried(self) -> dict[str, Any]:
        """The context's keys that go into the pod's config file: set ones that differ from their
        defaults (and namespace and instance always), URLs without their passwords."""
        values: dict[str, Any] = {}
        for key in CARRIED_KEYS:
            value = self.settings.get(key)
            if value is None or (key not in ALWAYS_KEYS and value == self.defaults.get(key)):
                continue
            values[key] = without_password(value) if key in ("redis-url", "mysql-url") else value
        for key, value in sorted(self.settings.items()):
            if key.startswith("prometheus-query-") and value is not None:
                values[key] = value
        values["read-only"] = True  # the auditor reads; a change from its context is refused (exit 4)
        return values

    def left_behind(self) -> list[str]:
        """Set keys that name files on this machine: the pod cannot read them."""
        return [key for key in LOCAL_FILE_KEYS if self.settings.get(key)]


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a TOML basic string


def config_toml(request: AuditorRequest) -> str:
    """The pod's wbctl config file: one context, selected; no secret (wbctl refuses a password
    in the file anyway)."""
    name = json.dumps(request.context_name, ensure_ascii=False)
    lines = [
        f"# wbctl config for the in-cluster auditor ({NAME}); passwords come from the Secret {NAME}",
        f"current-context = {name}",
        "",
        f"[contexts.{name}]",
    ]
    lines += [f"{key} = {_toml_value(value)}" for key, value in request.carried().items()]
    if request.redis_settings:
        lines += ["", f"[contexts.{name}.redis.settings]"]
        lines += [f"{json.dumps(key)} = {_toml_value(value)}" for key, value in sorted(request.redis_settings.items())]
    return "\n".join(lines) + "\n"


def _labels() -> dict[str, str]:
    # never app.kubernetes.io/instance: wbctl selects W&B's own workloads by it
    return {"app.kubernetes.io/name": NAME, "app.kubernetes.io/part-of": "wbctl"}


def _meta(name: str, namespace: str | None, **extra: Any) -> dict[str, Any]:
    metadata: dict[str, Any] = {"name": name}
    if namespace is not None:
        metadata["namespace"] = namespace
    metadata["labels"] = _labels()
    metadata.update(extra)
    return metadata


def _rules(rules: tuple[dict[str, list[str]], ...]) -> list[dict[str, list[str]]]:
    return [{key: list(values) for key, values in rule.items()} for rule in rules]


def _subject(request: AuditorRequest) -> list[dict[str, str]]:
    return [{"kind": "ServiceAccount", "name": NAME, "namespace": request.auditor_namespace}]


def _container(request: AuditorRequest) -> dict[str, Any]:
    """The auditor's one container: `wbctl check` with the mounted config and the optional Secret's keys."""
    secret_env = [
        {"name": var, "valueFrom": {"secretKeyRef": {"name": NAME, "key": key, "optional": True}}}
        for var, key in SECRET_KEYS.items()
    ]
    return {
        "name": "wbctl",
        "image": request.image,
        "imagePullPolicy": "IfNotPresent",
        "args": request.argv(),
        "env": [{"name": "WBCTL_CONFIG", "value": CONFIG_PATH}, {"name": "HOME", "value": "/tmp"}, *secret_env],
        "resources": {"requests": {"cpu": "100m", "memory": "192Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
        },
        "volumeMounts": [
            {"name": "config", "mountPath": CONFIG_DIR, "readOnly": True},
            {"name": "tmp", "mountPath": "/tmp"},
        ],
    }


def _pod_spec(request: AuditorRequest) -> dict[str, Any]:
    return {
        "serviceAccountName": NAME,
        "restartPolicy": "Never",
        # Workload Identity's metadata server runs on these nodes only (GKE Standard node pools)
        "nodeSelector": {"iam.gke.io/gke-metadata-server-enabled": "true"},
        "securityContext": {
            "runAsNonRoot": True,
            "runAsUser": RUN_AS,
            "runAsGroup": RUN_AS,
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        "containers": [_container(request)],
        "volumes": [
            {"name": "config", "configMap": {"name": NAME}},
            {"name": "tmp", "emptyDir": {"sizeLimit": "64Mi"}},
        ],
    }


def _rbac(request: AuditorRequest) -> list[dict[str, Any]]:
    """Read access in the W&B namespace (Role) and to the nodes (ClusterRole), each with its binding."""
    nodes_binding = f"{NODES_ROLE}-{request.auditor_namespace}"  # cluster-scoped: one per auditor namespace
    return [
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": _meta(NAME, request.wandb_namespace),
            "rules": _rules(READ_RULES),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": _meta(NAME, request.wandb_namespace),
            "subjects": _subject(request),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": NAME},
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRole",
            "metadata": _meta(NODES_ROLE, None),
            "rules": _rules(NODE_RULES),
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "ClusterRoleBinding",
            "metadata": _meta(nodes_binding, None),
            "subjects": _subject(request),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": NODES_ROLE},
        },
    ]


def _cron_job(request: AuditorRequest) -> dict[str, Any]:
    return {
        "apiVersion": "batch/v1",
        "kind": "CronJob",
        "metadata": _meta(NAME, request.auditor_namespace),
        "spec": {
            "schedule": request.schedule,
            "concurrencyPolicy": "Forbid",
            "startingDeadlineSeconds": 120,
            "successfulJobsHistoryLimit": 1,
            "failedJobsHistoryLimit": 3,
            "jobTemplate": {
                "metadata": {"labels": _labels()},
                "spec": {
                    "activeDeadlineSeconds": ACTIVE_DEADLINE_SECONDS,
                    "backoffLimit": 0,
                    "template": {"metadata": {"labels": _labels()}, "spec": _pod_spec(request)},
                },
            },
        },
    }


def manifests(request: AuditorRequest) -> list[dict[str, Any]]:
    """The objects, in the order `kubectl apply` should create them."""
    auditor_ns = request.auditor_namespace
    service_account = {
        "apiVersion": "v1",
        "kind": "ServiceAccount",
        "metadata": _meta(NAME, auditor_ns, annotations={"iam.gke.io/gcp-service-account": request.service_account}),
    }
    config_map = {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": _meta(NAME, auditor_ns),
        "data": {"config.toml": config_toml(request)},
    }
    return [service_account, *_rbac(request), config_map, _cron_job(request)]


def gcloud_commands(request: AuditorRequest) -> list[str]:
    """What grants the Google reads: the roles to the Google service account, and Workload
    Identity (the Kubernetes ServiceAccount may act as it)."""
    project, email = request.project or "PROJECT_ID", request.service_account
    member = f"serviceAccount:{project}.svc.id.goog[{request.auditor_namespace}/{NAME}]"
    return [
        *(
            f'gcloud projects add-iam-policy-binding {project} --member "serviceAccount:{email}" --role {role}'
            for role in IAM_ROLES
        ),
        f"gcloud iam service-accounts add-iam-policy-binding {email} --role roles/iam.workloadIdentityUser "
        f'--member "{member}"',
    ]


_COMMENTS = {
    "ServiceAccount": "the auditor's identity; Workload Identity lets it act as the Google service account above",
    "Role": "docs/permissions.md's read-only Role: what `wbctl check` reads, nothing it could change",
    "RoleBinding": "the Role, in the W&B namespace, to the auditor's ServiceAccount",
    "ClusterRole": "optional (nodes: the pods' zones; csidrivers: the GCS FUSE check); without it those read as unknown",
    "ClusterRoleBinding": "optional, with the ClusterRole",
    "ConfigMap": "wbctl's config for the context, without secrets (read-only = true)",
    "CronJob": "wbctl check on a schedule, its findings pushed to the Pushgateway (job=wbctl, context=...)",
}


def header(request: AuditorRequest) -> list[str]:
    """The stream's opening comments: what to create and grant before applying it."""
    return [
        f"# wbctl in-cluster auditor for context {request.context_name} (W&B namespace {request.wandb_namespace});",
        "# printed by `wbctl deploy auditor`; how to use it: docs/deploy/README.md",
        f"# Image: build docs/deploy/Dockerfile and push it as {request.image}",
        f"# Secret (optional keys): kubectl -n {request.auditor_namespace} create secret generic {NAME} "
        "--from-literal=redis-password=... --from-literal=mysql-password=...",
        f"# Google IAM (docs/permissions.md): {request.service_account} needs {' and '.join(IAM_ROLES)}:",
        *(f"#   {command}" for command in gcloud_commands(request)),
    ]


def dump_documents(header_lines: list[str], documents: list[dict[str, Any]], comment: Mapping[str, str]) -> str:
    """One multi-document YAML stream: the header's comments, then each document under the
    comment its kind has in `comment` (why it is there). Multi-line strings (a config file, a
    dashboard's JSON) are literal blocks (`|`): readable, and diffable in a review."""
    import yaml  # pyyaml: a dependency (the sandbox's chart fixtures); imported only here

    # a subclass of its own, so the representer below changes no other dump (pyyaml ships no types)
    dumper: Any = type("Dumper", (yaml.SafeDumper,), {})

    def literal(representer: Any, value: str) -> Any:
        return representer.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)

    dumper.add_representer(str, literal)
    parts = ["\n".join(header_lines)]
    for document in documents:
        text = yaml.dump(
            document, Dumper=dumper, sort_keys=False, default_flow_style=False, width=1000, allow_unicode=True
        )
        parts.append(f"---\n# {comment[document['kind']]}\n{text.rstrip()}")
    return "\n".join(parts) + "\n"


def dump_yaml(request: AuditorRequest, documents: list[dict[str, Any]]) -> str:
    """The auditor's stream: what to create and grant first, then each document and why."""
    return dump_documents(header(request), documents, _COMMENTS)


def as_list(documents: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON form: a v1 List, which `kubectl apply -f -` takes as it takes the YAML stream."""
    return {"apiVersion": "v1", "kind": "List", "items": documents}
