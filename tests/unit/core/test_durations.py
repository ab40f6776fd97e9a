import pytest

from wbctl.core.durations import format_duration, parse_duration
from wbctl.errors import UsageError


@pytest.mark.parametrize(
    ("text", "seconds"), [("30m", 1800), ("2h", 7200), ("1d", 86400), ("1h30m", 5400), ("45s", 45), ("2H", 7200)]
)
def test_parse(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["abc", "-5m", "5", "", "0m", "5 m", "1.5h", "m", "400d"])
def test_parse_rejects(text: str) -> None:
    with pytest.raises(UsageError, match="invalid duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(0, "0s"), (59, "59s"), (1799, "29m 59s"), (7200, "2h"), (93784, "1d 2h")]
)
def test_format(seconds: int, text: str) -> None:
    assert format_duration(seconds) == text


@pytest.mark.parametrize(("text", "seconds"), [("2d4h", 187200), ("90s", 90), ("90m", 5400), ("1w2d3h4m5s", 788645)])
def test_parse_compositions_largest_first(text: str, seconds: int) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("2h2h", "the unit h is given twice"),
        ("30m1h", "h is given after m"),
        ("1h30m1h", "the unit h is given twice"),
        ("2H2h", "the unit h is given twice"),
    ],
)
def test_parse_refuses_a_unit_twice_or_out_of_order(text: str, reason: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_duration(text)
    assert error.value.message == f"invalid duration {text!r}: {reason}; give each unit once, largest first, e.g. 1h30m"
