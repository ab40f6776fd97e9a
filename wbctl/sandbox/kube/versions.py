"""The versions a custom resource is served at, and the one it is stored at, as an API server
holds them for a CRD with several `spec.versions` (`served`, `storage`, and a conversion
webhook between them).

Why it matters to wbctl: the WeightsAndBiases CRD of the v2 operator (wandb/operator,
`config/crd/bases/apps.wandb.com_weightsandbiases.yaml`) serves v1 and v2 with v2 stored,
and a v1 read of a v2 object answers what the conversion webhook rebuilds from annotations,
not what the operator applies. The store keeps every object at the storage version; reads and
writes at another served version go through `convert`, as the API server calls the webhook.
A kind with no entry here is served at its one version and never converted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from wbctl.sandbox.kube.types import Obj

#: (the object, the apiVersion wanted, the stored object it replaces or None) -> the object at that version
Converter = Callable[[Obj, str, Obj | None], Obj]


@dataclass(frozen=True)
class Versions:
    """A multi-version kind: the versions served (in the CRD's order), the storage version and
    the conversion between them (None: no webhook; only the storage version is then served)."""

    served: tuple[str, ...]
    storage: str
    convert: Converter | None = None

    def serves(self, version: str) -> bool:
        return version in self.served


def version_priority(version: str) -> tuple[int, int, int]:
    """Kubernetes' version ordering, highest first when sorted ascending on this key: GA before
    beta before alpha, then the higher major and minor (`v2` > `v1` > `v1beta1` > `v1alpha1`)."""
    body = version.removeprefix("v")
    for rank, tag in ((1, "beta"), (2, "alpha")):
        if tag in body:
            major, _, minor = body.partition(tag)
            if major.isdigit() and minor.isdigit():
                return rank, -int(major), -int(minor)
    return (0, -int(body), 0) if body.isdigit() else (3, 0, 0)
