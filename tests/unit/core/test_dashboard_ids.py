"""The dashboards' ids from any context's name (hypothesis): always valid for the target, the
name itself where it is safe, and never the same for two names."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.dashboard_ids import context_id

GRAFANA = (re.compile(r"[^a-zA-Z0-9_-]+"), 40, False, re.compile(r"[a-zA-Z0-9_-]{1,40}"))
GOOGLE = (re.compile(r"[^a-z0-9-]+"), 63, True, re.compile(r"[a-z0-9-]{1,63}"))
NAMES = st.text(min_size=1, max_size=90)


@given(name=NAMES)
def test_always_valid(name: str) -> None:
    for unsafe, limit, lower, valid in (GRAFANA, GOOGLE):
        made = context_id("wbctl-runbook", name, unsafe, limit, lower=lower)
        assert valid.fullmatch(made), made
        assert not made.endswith("-")


@given(one=NAMES, other=NAMES)
def test_two_names_two_ids(one: str, other: str) -> None:
    for unsafe, limit, lower, _ in (GRAFANA, GOOGLE):
        if one != other:
            assert context_id("b", one, unsafe, limit, lower=lower) != context_id(
                "b", other, unsafe, limit, lower=lower
            )


def test_a_safe_name_is_kept_as_it_is() -> None:
    assert context_id("wbctl-runbook", "prod-eu", *GOOGLE[:2], lower=True) == "wbctl-runbook-prod-eu"
    assert context_id("wbctl-runbook", None, *GOOGLE[:2]) == "wbctl-runbook"
    assert context_id("wbctl-runbook", "Prod", *GOOGLE[:2], lower=True) != context_id(
        "wbctl-runbook", "prod", *GOOGLE[:2], lower=True
    )
