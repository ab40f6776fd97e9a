"""The sandbox is an install of W&B's Terraform on GCP: its WeightsAndBiases resource carries
Terraform's globals (cloudProvider, a GCS bucket, the Bigtable it serves) and the chart's
lumen-agent CronJob runs beside the guide's services, read through the real adapters."""

from __future__ import annotations


def test_the_resource_names_the_bigtable_the_sandbox_serves(wbctl) -> None:
    shown = wbctl("--sandbox", "config", "show", "--origin", "-o", "json").json()["settings"]
    assert shown["bigtable-instance"] == {"value": "wandb-bigtable", "origin": "sandbox queue-backlog"}
    status = wbctl("--sandbox", "bigtable", "status", "-o", "json")
    assert status.returncode == 0, status.stderr
    assert status.json()["instance"]["name"] == "projects/wandb-sandbox/instances/wandb-bigtable"
    # and the chart says the same: config init against the served cluster reads it (test_sandbox_serve)
    document = wbctl("--sandbox", "parquet", "status", "-o", "json").json()
    assert (document["bucket_provider"]["value"], document["cloud_provider"]["value"]) == ("gcs", "gcp")
    assert document["fuse_file_cache_capacity"]["value"] == "9.5Gi"


def test_gcs_fuse_is_honoured_and_the_lumen_agent_is_known(wbctl) -> None:
    fuse = wbctl("--sandbox", "--scenario", "healthy", "parquet", "fuse", "check", "-o", "json")
    assert fuse.returncode == 0 and {f["status"] for f in fuse.json()["findings"]} == {"ok"}
    rows = {r["service"]: r for r in wbctl("--sandbox", "services", "list", "-o", "json").json()["services"]}
    assert rows["wandb-lumen-agent"]["known"] is True and rows["wandb-lumen-agent"]["kind"] == "CronJob"
    assert all(row["known"] for row in rows.values() if row["present"])  # every workload the chart runs there
