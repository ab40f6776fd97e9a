import pytest

from wbctl.core import catalog
from wbctl.errors import UsageError


def test_the_guides_twelve_services() -> None:
    assert [s.name for s in catalog.CATALOG] == [
        "wandb-app",
        "wandb-api",
        "wandb-console",
        "wandb-executor",
        "wandb-filestream",
        "wandb-flat-run-fields-updater",
        "wandb-glue",
        "wandb-parquet",
        "wandb-parquet-backfill",
        "wandb-prometheus-server",
        "wandb-stackdriver",
        "wandb-weave",
    ]
    three = {s.name for s in catalog.CATALOG if s.min_replicas >= 3}
    assert three == {"wandb-api", "wandb-executor", "wandb-flat-run-fields-updater"}
    assert {s.name for s in catalog.CATALOG if s.autoscale} == {"wandb-filestream", "wandb-flat-run-fields-updater"}
    assert {s.name for s in catalog.CATALOG if s.single_instance} == {"wandb-app"}
    assert all(s.role for s in catalog.CATALOG)


def test_resolve_accepts_names_with_or_without_prefix() -> None:
    assert catalog.resolve("api").name == "wandb-api"
    assert catalog.resolve("wandb-flat-run-fields-updater").values_key == "flat-run-fields-updater"
    with pytest.raises(UsageError, match="unknown service 'apii' \\(known: wandb-app, wandb-api"):
        catalog.resolve("apii")


def test_label_and_kind_tell_parquet_from_its_backfill() -> None:
    assert catalog.for_label("parquet", "Deployment").name == "wandb-parquet"
    assert catalog.for_label("parquet", "CronJob").name == "wandb-parquet-backfill"
    assert catalog.for_label("prometheus", "Deployment").name == "wandb-prometheus-server"
    assert catalog.for_label("filemeta", "Deployment") is None
