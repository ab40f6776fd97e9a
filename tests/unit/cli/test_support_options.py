"""`support bundle`'s options: --logs and --since parse or refuse with one line (exit 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.cli.support import parse_logs, parse_since
from wbctl.core.support_bundle import MAX_LOG_LINES
from wbctl.errors import UsageError


@given(st.integers(0, MAX_LOG_LINES))
def test_logs_in_range_parse(lines: int) -> None:
    assert parse_logs(str(lines)) == lines


@given(st.text(max_size=12))
def test_logs_is_a_bounded_count_or_refused(text: str) -> None:
    try:
        value = parse_logs(text)
    except UsageError as error:
        assert "\n" not in error.message and "--logs" in error.message
    else:
        assert 0 <= value <= MAX_LOG_LINES


def test_absurd_logs_and_since_are_refused() -> None:
    with pytest.raises(UsageError, match="at most 10000 lines"):
        parse_logs("10000000")
    with pytest.raises(UsageError, match="at most"):
        parse_since("30d")
    assert parse_since("2h") == 7200
