"""The Kubernetes adapter's connection: the official client's ApiClient, built once from a
kubeconfig (or the in-cluster config) with one retry of a refused connection; raw JSON
requests through it; the URL of each resource wbctl touches; and API failures translated into
one-line wbctl errors naming the verb and resource that were refused. Separate so the reader
(reading.py) and the writer (writing.py) share one client and one error vocabulary. The client is imported on first use, never
at module import: `wbctl --help` loads no SDK.
"""

from __future__ import annotations

import contextlib
import json
import os
import threading
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from wbctl.adapters.kube.convert import one_line
from wbctl.core.kube import Generation
from wbctl.errors import BackendError, ConflictError, UsageError

if TYPE_CHECKING:
    from kubernetes.client import ApiClient


SERVICEACCOUNT_DIR = "/var/run/secrets/kubernetes.io/serviceaccount"  # where the kubelet mounts a pod's token and CA
CR_GROUP, CR_VERSION, CR_PLURAL = "apps.wandb.com", "v1", "weightsandbiases"  # CR_VERSION: the v1 generation's
KEDA_GROUP, KEDA_VERSION, KEDA_PLURAL = "keda.sh", "v1alpha1", "scaledobjects"
POOL_SIZE = 32  # connections kept to the API server: every read of a round (or a support bundle) at once


@dataclass(frozen=True)
class _Resource:
    plural: str
    group: str  # "" for the core group

    def __str__(self) -> str:
        return f"{self.plural}.{self.group}" if self.group else self.plural


RESOURCES = {
    "deployments": _Resource("deployments", "apps"),
    "deployments/scale": _Resource("deployments/scale", "apps"),
    "cronjobs": _Resource("cronjobs", "batch"),
    "horizontalpodautoscalers": _Resource("horizontalpodautoscalers", "autoscaling"),
    "pods": _Resource("pods", ""),
    "nodes": _Resource("nodes", ""),
    "cr": _Resource(CR_PLURAL, CR_GROUP),
    "scaledobjects": _Resource(KEDA_PLURAL, KEDA_GROUP),
    "csidrivers": _Resource("csidrivers", "storage.k8s.io"),
    "configmaps": _Resource("configmaps", ""),
    "podmetrics": _Resource("pods", "metrics.k8s.io"),  # PodMetrics, as metrics-server serves them
    "replicasets": _Resource("replicasets", "apps"),
    "events": _Resource("events", ""),
    "apigroup": _Resource("apigroup", CR_GROUP),  # API discovery of the CR's group (generation())
    # check's observability group: scrape objects, each kind's CRD installed or not (a 404)
    "servicemonitors": _Resource("servicemonitors", "monitoring.coreos.com"),
    "podmonitors": _Resource("podmonitors", "monitoring.coreos.com"),
    "podmonitorings": _Resource("podmonitorings", "monitoring.googleapis.com"),
}


class NotFound(BackendError):
    """A 404: callers that expect absence (the CR, KEDA) catch it; others report it."""


class KubeConnection:
    """The client, raw requests and error translation that the reader and the writer are given."""

    def __init__(
        self,
        *,
        kube_context: str | None,
        namespace: str,
        instance: str,
        timeout: float,
        kubeconfig: str | None = None,  # $KUBECONFIG (paths joined by ':'); None: ~/.kube/config
        environ: Mapping[str, str] | None = None,  # the invocation's variables (State.env.environ)
    ) -> None:
        self.kube_context = kube_context
        self.environ: Mapping[str, str] = os.environ if environ is None else environ
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.instance = instance
        self.timeout = timeout
        self._client: ApiClient | None = None
        self._client_lock = threading.Lock()  # several reads may ask for the client at once
        self.server = ""
        self._generation: Generation | None = None  # detected once per connection (generation())
        self._generation_lock = threading.Lock()

    # --- which operator's CRD the API serves --------------------------------------------

    @property
    def known_generation(self) -> Generation | None:
        """The generation once detected on this connection (None: not yet)."""
        return self._generation

    def generation(self) -> Generation:
        """The install's generation, from API discovery (`GET /apis/apps.wandb.com`): v2 when
        the WeightsAndBiases CRD serves apps.wandb.com/v2 (the v2 operator's CRD, which stores
        v2 and answers a v1 read from a possibly stale annotation), else v1 (also with no CRD).
        Discovery is open to every authenticated user (the `system:discovery` ClusterRole), so
        the Role needs nothing for it. A refusal or a 401 leaves v1, and the reads that follow
        report it in their own words; an unreachable or silent API server is reported here."""
        with self._generation_lock:  # reads side by side ask at once: one discovery request
            return self._detect()

    def _detect(self) -> Generation:
        if self._generation is None:
            try:
                with self.translated("get", "apigroup"):
                    group = self.request("GET", f"/apis/{CR_GROUP}")
            except NotFound:
                group = {}
            except BackendError as exc:
                if not exc.message.startswith(("forbidden", "unauthorized")):
                    raise
                return Generation.V1
            versions = {str(v.get("version")) for v in group.get("versions") or [] if isinstance(v, dict)}
            self._generation = Generation.V2 if Generation.V2.value in versions else Generation.V1
        return self._generation

    # --- connection -------------------------------------------------------------------

    def client(self) -> ApiClient:
        with self._client_lock:
            return self._client if self._client is not None else self._connect()

    def _connect(self) -> ApiClient:
        if self._client is None:
            from kubernetes import client, config
            from kubernetes.config.config_exception import ConfigException

            configuration = client.Configuration()
            load_kube_config: Callable[..., None] = config.load_kube_config  # unannotated in the client
            try:
                load_kube_config(
                    config_file=self.kubeconfig or os.path.expanduser("~/.kube/config"),
                    context=self.kube_context,
                    client_configuration=configuration,
                )
            except (ConfigException, FileNotFoundError, OSError) as exc:
                if self.kube_context is None and self.environ.get("KUBERNETES_SERVICE_HOST"):
                    self._load_incluster(configuration)
                else:
                    where = f"context {self.kube_context!r}" if self.kube_context else "a kubeconfig"
                    raise BackendError(f"cannot load {where} ({exc}); set KUBECONFIG or kube-context") from None
            from urllib3.util.retry import Retry

            # one retry of a refused or dropped connection; a read that timed out is not sent
            # again (urllib3's default would send it three more times: 4x --timeout)
            configuration.retries = Retry(total=1, connect=1, read=0, redirect=0, status=0, other=0)
            # the reads run side by side (observe's kinds, the runbook's and `changes`' history reads,
            # the support bundle's lists and logs): more than the client's default pool (5 per CPU)
            # would open and discard a connection per round, and urllib3 warn "pool is full"
            configuration.connection_pool_maxsize = max(configuration.connection_pool_maxsize or 0, POOL_SIZE)
            self.server = configuration.host
            self._client = client.ApiClient(configuration)
        return self._client

    def _load_incluster(self, configuration: Any) -> None:
        """Inside a pod: the API server from KUBERNETES_SERVICE_HOST/PORT, the service account's
        token and CA from WBCTL_SERVICEACCOUNT_DIR (default: where the kubelet mounts them).
        The directory is a seam for tests; the token is re-read as the kubelet rotates it."""
        from kubernetes.config.config_exception import ConfigException
        from kubernetes.config.incluster_config import InClusterConfigLoader

        directory = self.environ.get("WBCTL_SERVICEACCOUNT_DIR") or SERVICEACCOUNT_DIR
        loader: Callable[..., Any] = InClusterConfigLoader  # unannotated in the client
        try:
            loader(
                token_filename=os.path.join(directory, "token"),
                cert_filename=os.path.join(directory, "ca.crt"),
                environ=self.environ,
            ).load_and_set(configuration)
        except (ConfigException, OSError) as exc:
            raise BackendError(
                f"cannot load the in-cluster config from {directory} ({exc}); "
                "set KUBECONFIG or kube-context outside a pod"
            ) from None

    @contextlib.contextmanager
    def translated(self, verb: str, resource: str, name: str | None = None) -> Iterator[None]:
        from kubernetes.client.exceptions import ApiException
        from urllib3.exceptions import HTTPError, MaxRetryError, ProtocolError
        from urllib3.exceptions import TimeoutError as Urllib3Timeout

        described = RESOURCES[resource] if resource in RESOURCES else resource
        what = f"{verb} {described}" + (f" {name}" if name else "")
        where = (
            " (cluster-wide)" if resource in ("nodes", "csidrivers", "apigroup") else f" in namespace {self.namespace}"
        )
        try:
            yield
        except ApiException as exc:
            status = exc.status
            message = _status_message(exc)
            if status == 401:
                raise BackendError(
                    f"unauthorized: {what}{where} on {self.server}: the credentials were refused ({message})"
                ) from exc
            if status == 403:
                raise BackendError(
                    f"forbidden: {what}{where} (see docs/permissions.md for the Role wbctl needs)"
                ) from exc
            if status == 404:
                raise NotFound(f"{what}{where}: not found ({message})") from exc
            if status == 409:
                raise ConflictError(f"{what}{where}: changed since it was read ({message})") from exc
            if status == 422:
                raise UsageError(f"the API server rejected {what}{where}: {message}") from exc
            raise BackendError(f"{what}{where} failed: HTTP {status} {message}") from exc
        except (MaxRetryError, ProtocolError, Urllib3Timeout, HTTPError, OSError) as exc:
            reason = getattr(exc, "reason", None) or exc
            text = str(reason)
            if "refused" in text.lower():  # before the timeout test: NewConnectionError is a timeout subclass
                raise BackendError(f"cannot reach the Kubernetes API at {self.server}: connection refused") from exc
            if isinstance(reason, Urllib3Timeout) or "timed out" in text.lower():
                raise BackendError(
                    f"the Kubernetes API at {self.server} did not answer within {self.timeout:g}s: {what}{where}"
                ) from exc
            raise BackendError(f"cannot reach the Kubernetes API at {self.server}: {one_line(text)}") from exc

    def request(
        self,
        method: str,
        path: str,
        *,
        query: list[tuple[str, str]] | None = None,
        body: Any = None,
        content_type: str | None = None,
    ) -> dict[str, Any]:
        """One call through the client's ApiClient (kubeconfig auth, TLS, exec plugins, timeouts).

        The typed API classes would import and validate hundreds of pydantic models (~0.6 s
        at start-up for the kinds read here); the JSON the server sends is all wbctl needs.
        """
        answer: dict[str, Any] = json.loads(self._call(method, path, query, body, content_type) or b"{}")
        return answer

    def text(self, path: str, *, query: list[tuple[str, str]] | None = None) -> str:
        """A GET answered in text/plain (pods/log), through the same call as `request`."""
        return self._call("GET", path, query, None, None, accept="text/plain").decode(errors="replace")

    def _call(
        self,
        method: str,
        path: str,
        query: list[tuple[str, str]] | None,
        body: Any,
        content_type: str | None,
        *,
        accept: str = "application/json",
    ) -> bytes:
        from kubernetes.client.exceptions import ApiException

        client = self.client()
        headers = {"Accept": accept}
        if body is not None:
            headers["Content-Type"] = content_type or "application/json"
        method, url, headers, serialized, post = client.param_serialize(
            method, path, query_params=query or [], header_params=headers, body=body, auth_settings=["BearerToken"]
        )
        # a RESTResponse, whose methods the client leaves unannotated
        response: Any = client.call_api(method, url, headers, serialized, post, _request_timeout=self.timeout)
        response.read()
        data: bytes = response.data or b""
        if not 200 <= response.status <= 299:
            raise ApiException(http_resp=response, body=data.decode(errors="replace"))
        return data

    def path(self, resource: str, name: str | None = None, *, cr_version: str | None = None) -> str:
        """The URL of a resource (or one object); the CR's at `cr_version`, else the detected
        generation's (v1 until detected)."""
        version = cr_version or (self._generation or Generation.V1).value
        paths = {
            "deployments": f"/apis/apps/v1/namespaces/{self.namespace}/deployments",
            "deployments/scale": f"/apis/apps/v1/namespaces/{self.namespace}/deployments/{{name}}/scale",
            "cronjobs": f"/apis/batch/v1/namespaces/{self.namespace}/cronjobs",
            "horizontalpodautoscalers": f"/apis/autoscaling/v2/namespaces/{self.namespace}/horizontalpodautoscalers",
            "pods": f"/api/v1/namespaces/{self.namespace}/pods",
            "nodes": "/api/v1/nodes",
            "csidrivers": "/apis/storage.k8s.io/v1/csidrivers",
            "configmaps": f"/api/v1/namespaces/{self.namespace}/configmaps",
            "podmetrics": f"/apis/metrics.k8s.io/v1beta1/namespaces/{self.namespace}/pods",
            "replicasets": f"/apis/apps/v1/namespaces/{self.namespace}/replicasets",
            "events": f"/api/v1/namespaces/{self.namespace}/events",
            "cr": f"/apis/{CR_GROUP}/{version}/namespaces/{self.namespace}/{CR_PLURAL}",
            "scaledobjects": f"/apis/{KEDA_GROUP}/{KEDA_VERSION}/namespaces/{self.namespace}/{KEDA_PLURAL}",
            "servicemonitors": f"/apis/monitoring.coreos.com/v1/namespaces/{self.namespace}/servicemonitors",
            "podmonitors": f"/apis/monitoring.coreos.com/v1/namespaces/{self.namespace}/podmonitors",
            "podmonitorings": f"/apis/monitoring.googleapis.com/v1/namespaces/{self.namespace}/podmonitorings",
        }
        path = paths[resource]
        if name is None:
            return path
        quoted = quote(name, safe="")
        return path.replace("{name}", quoted) if "{name}" in path else f"{path}/{quoted}"

    def close(self) -> None:
        if self._client is not None:
            close: Callable[[], None] = self._client.close  # unannotated in the client
            close()


def _status_message(exc: Any) -> str:
    try:
        body = json.loads(exc.body or "{}")
        return one_line(str(body.get("message") or exc.reason))
    except (TypeError, ValueError):
        return one_line(str(exc.reason))
