"""What W&B's Terraform for Google Cloud writes into the WeightsAndBiases resource's global
values, for the chart fixtures: the chart's test values (fmb) run against emulators and a MinIO
bucket, while an install on GCP carries what terraform-google-wandb `main.tf` puts in
`local.spec.values.global`:

- `cloudProvider = "gcp"`;
- `bigtable = { project, instance }`: the project, and the instance its bigtable module names
  (modules/bigtable/main.tf: the Terraform namespace, or `<ns>-bigtable` under 6 characters,
  at most 27 characters; the chart's _history.tpl builds `bigtablev3://<project>/<instance>`
  from these two values);
- `pubSub.project`;
- `bucket = { provider = "gcs", name = var.bucket_name, path }` (an install given its own
  bucket; the chart's test access and secret keys stay beside them, so the fixtures keep proving
  that no value of the resource leaks) and `defaultBucket = { provider = "gcs", name = <the
  storage module's bucket>, path = "" }`: modules/storage/bucket names it
  `<namespace>-<random_pet>`.

Separate so the chart builders and the tests name one source for these values.
"""

from __future__ import annotations

from typing import Any

from wbctl.core.bigtable import default_instance
from wbctl.sandbox.kube.objects.basics import Obj

DEFAULT_PROJECT = "wandb-sandbox"
BUCKET_PET = "quiet-otter"  # a fixed stand-in for Terraform's random_pet (two words)


def bucket_name(namespace: str) -> str:
    return f"{namespace}-{BUCKET_PET}"


def gcp_globals(namespace: str, *, project: str = DEFAULT_PROJECT, bigtable_instance: str | None = None) -> Obj:
    """The `global` values Terraform sets for an install whose Terraform namespace is `namespace`."""
    return {
        "cloudProvider": "gcp",
        "bigtable": {"project": project, "instance": bigtable_instance or default_instance(namespace)},
        "pubSub": {"project": project},
        "bucket": {"provider": "gcs", "name": bucket_name(namespace), "path": ""},
        "defaultBucket": {"provider": "gcs", "name": bucket_name(namespace), "path": ""},
    }


def with_gcp_globals(values: Obj, globals_: Obj) -> Obj:
    """`values` with Terraform's globals merged over the chart's, key by key (the chart's
    bigtable v2/v3 switches and bucket keys stay)."""
    out: dict[str, Any] = dict(values)
    merged: dict[str, Any] = dict(out.get("global") or {})
    for key, value in globals_.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    out["global"] = merged
    return out
