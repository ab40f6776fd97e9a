"""`wbctl changes --service`: a guide service (wandb- optional) or a usage error, never anything else."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.app.timeline import parse_service
from wbctl.core import catalog
from wbctl.errors import UsageError

NAMES = [spec.name for spec in catalog.CATALOG] + [spec.short for spec in catalog.CATALOG]


@given(st.one_of(st.sampled_from(NAMES), st.text(max_size=40)))
def test_a_service_is_a_catalog_name_or_a_usage_error(text: str) -> None:
    try:
        found = parse_service(text)
    except UsageError as exc:
        assert exc.message.startswith("unknown service")
        return
    assert found in {spec.name for spec in catalog.CATALOG}


def test_the_short_name_is_the_guide_s() -> None:
    assert parse_service("flat-run-fields-updater") == "wandb-flat-run-fields-updater"


def test_an_unknown_name_is_refused() -> None:
    with pytest.raises(UsageError):
        parse_service("wandb-nope")
