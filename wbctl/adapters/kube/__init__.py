"""Kubernetes through the official client: observe a W&B instance, apply scaling plans.

Reads are one list call per kind, label-selected by `app.kubernetes.io/instance=<instance>`
and paginated, run concurrently; never one call per service. The client is imported on
first use. Every API failure leaves as a one-line wbctl error naming the verb and resource
that were refused.

Where the parts live (this module composes them into KubeAdapter and re-exports the public
names): kube_connection.py (client, raw requests, error translation), kube_reading.py
(observe, lists, ConfigMaps, the CR), kube_convert.py (API JSON -> observations),
kube_writing.py (apply, validate, read_back).
"""

from __future__ import annotations

from wbctl.adapters.kube.connection import (
    CR_GROUP,
    CR_PLURAL,
    CR_VERSION,
    KEDA_GROUP,
    KEDA_PLURAL,
    KEDA_VERSION,
    RESOURCES,
)
from wbctl.adapters.kube.reading import (
    ALL_KINDS,
    INSTANCE_LABEL,
    PARQUET_KINDS,
    RUNBOOK_KINDS,
    SCALING_KINDS,
    STATUS_KINDS,
)
from wbctl.adapters.kube.writing import KubeWriting

__all__ = [
    "ALL_KINDS",
    "CR_GROUP",
    "CR_PLURAL",
    "CR_VERSION",
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


class KubeAdapter(KubeWriting):
    """A W&B instance in one namespace, through the official client: observe it, apply plans."""

    @property
    def page_size(self) -> int:
        """PAGE_SIZE, read at call time: a test shrinks it to make a list span pages."""
        return PAGE_SIZE
