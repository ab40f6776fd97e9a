"""Kubernetes through the official client: observe a W&B instance, apply scaling plans.

Reads are one list call per kind, label-selected by `app.kubernetes.io/instance=<instance>`
and paginated, run concurrently; never one call per service. The client is imported on
first use. Every API failure leaves as a one-line wbctl error naming the verb and resource
that were refused.

Where the parts live (this module composes them into KubeAdapter and re-exports the public
names): connection.py (KubeConnection: client, raw requests, error translation), reading.py
(KubeReader: observe, lists, ConfigMaps, the CR), convert.py (API JSON -> observations),
writing.py (KubeWriter: apply, validate, read_back), observability.py (ObservabilityReader: what
check's observability group reads besides: the collector's ConfigMaps, scrape objects, the
auditor's CronJob, the v2 telemetry status).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from wbctl.adapters.kube.connection import (
    CR_GROUP,
    CR_PLURAL,
    CR_VERSION,
    KEDA_GROUP,
    KEDA_PLURAL,
    KEDA_VERSION,
    RESOURCES,
    KubeConnection,
)
from wbctl.adapters.kube.reading import (
    ALL_KINDS,
    HEALTH_KINDS,
    INSTANCE_LABEL,
    PARQUET_KINDS,
    RUNBOOK_KINDS,
    SCALING_KINDS,
    STATUS_KINDS,
    KubeReader,
)
from wbctl.adapters.kube.writing import KubeWriter
from wbctl.core.kube import KubeObservation, WandbResource
from wbctl.core.model import Plan
from wbctl.core.observability import ObservabilityReads

if TYPE_CHECKING:
    from kubernetes.client import ApiClient

__all__ = [
    "ALL_KINDS",
    "CR_GROUP",
    "CR_PLURAL",
    "CR_VERSION",
    "HEALTH_KINDS",
    "INSTANCE_LABEL",
    "KEDA_GROUP",
    "KEDA_PLURAL",
    "KEDA_VERSION",
    "PAGE_SIZE",
    "PARQUET_KINDS",
    "RESOURCES",
    "RUNBOOK_KINDS",
    "SCALING_KINDS",
    "STATUS_KINDS",
    "KubeAdapter",
]

PAGE_SIZE = 500


class KubeAdapter:
    """A W&B instance in one namespace, through the official client: observe it, apply plans.

    One connection (`connection`: the client, raw requests, error translation) shared by a
    reader (`reader`) and a writer (`writer`); the methods below delegate to them."""

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
        self.connection = KubeConnection(
            kube_context=kube_context,
            namespace=namespace,
            instance=instance,
            timeout=timeout,
            kubeconfig=kubeconfig,
            environ=environ,
        )
        self.reader = KubeReader(self.connection, page_size=lambda: self.page_size)
        self.writer = KubeWriter(self.connection, self.reader)

    @property
    def page_size(self) -> int:
        """PAGE_SIZE, read at call time: a test shrinks it to make a list span pages."""
        return PAGE_SIZE

    # --- the connection ---------------------------------------------------------------

    @property
    def server(self) -> str:
        """The API server's URL, known once the client is built (observe and every read build it)."""
        return self.connection.server

    @property
    def namespace(self) -> str:
        return self.connection.namespace

    @property
    def instance(self) -> str:
        return self.connection.instance

    @property
    def timeout(self) -> float:
        return self.connection.timeout

    @property
    def kube_context(self) -> str | None:
        return self.connection.kube_context

    @property
    def kubeconfig(self) -> str | None:
        return self.connection.kubeconfig

    @property
    def environ(self) -> Mapping[str, str]:
        return self.connection.environ

    def client(self) -> ApiClient:
        return self.connection.client()

    def close(self) -> None:
        self.connection.close()

    # --- reads ------------------------------------------------------------------------

    def observe(self, kinds: tuple[str, ...] = ALL_KINDS) -> KubeObservation:
        """The instance's workloads, pods, autoscalers, nodes and CR: one list call per kind, concurrently."""
        return self.reader.observe(kinds)

    def config_maps(self, names: Iterable[str]) -> dict[str, dict[str, str]]:
        """The data of the named ConfigMaps; a missing one is left out."""
        return self.reader.config_maps(names)

    def read_cr(self) -> WandbResource | None:
        return self.reader.read_cr()

    def observability(self) -> ObservabilityReads:
        """What check's observability group reads besides the observation (observability.py)."""
        from wbctl.adapters.kube.observability import ObservabilityReader

        return ObservabilityReader(self.connection, self.reader).read()

    # --- changes ----------------------------------------------------------------------

    def apply(self, plan: Plan) -> None:
        self.writer.apply(plan)

    def validate(self, plan: Plan) -> None:
        """The API server's own dry run (dryRun=All) of every write in the plan."""
        self.writer.validate(plan)

    def read_back(self, plan: Plan) -> None:
        self.writer.read_back(plan)
