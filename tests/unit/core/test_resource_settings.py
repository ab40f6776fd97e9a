"""The settings a WeightsAndBiases resource's values name (wbctl/core/resource_settings.py), on
values as W&B's Terraform writes them (terraform-google-wandb main.tf, global.bigtable/pubSub)."""

from __future__ import annotations

from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.resource_settings import RESOURCE_KEYS, FromResource, from_values

TERRAFORM = {"global": {"bigtable": {"project": "acme-prod", "instance": "acme-wandb"}, "pubSub": {"project": "q"}}}


def test_terraforms_values_give_the_project_and_the_instance_with_their_paths() -> None:
    assert from_values(TERRAFORM) == {
        "gcp-project": FromResource("gcp-project", "acme-prod", "global.bigtable.project"),
        "bigtable-instance": FromResource("bigtable-instance", "acme-wandb", "global.bigtable.instance"),
    }


def test_the_project_falls_back_to_pubsubs() -> None:
    found = from_values({"global": {"pubSub": {"project": "acme-prod"}}})
    assert found == {"gcp-project": FromResource("gcp-project", "acme-prod", "global.pubSub.project")}


def test_terraform_without_bigtable_writes_an_empty_instance_which_names_none() -> None:
    # main.tf: instance = var.create_bigtable ? module.bigtable[0].bigtable_instance_id : ""
    found = from_values({"global": {"bigtable": {"project": "acme-prod", "instance": ""}}})
    assert set(found) == {"gcp-project"}


def test_values_without_them_name_nothing() -> None:
    assert from_values({}) == {}
    assert from_values({"global": {"bigtable": "not-a-table"}}) == {}


values_tree = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda children: st.dictionaries(
        st.sampled_from(["global", "bigtable", "pubSub", "project", "instance"]), children
    ),
    max_leaves=12,
)


@given(st.dictionaries(st.sampled_from(["global", "app"]), values_tree))
def test_any_values_give_only_known_keys_and_non_empty_strings(values: dict[str, Any]) -> None:
    found = from_values(values)
    assert set(found) <= set(RESOURCE_KEYS)
    assert all(isinstance(f.value, str) and f.value.strip() == f.value and f.value for f in found.values())
