"""The runbook's frame pieces: sparklines that carry their scale."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from wbctl.cli.queue_backlog_view import BARS, sparkline, window_cell

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _view(kind: str, values: list[float]) -> dict:
    points = [(T0 + timedelta(minutes=i), v) for i, v in enumerate(values)]
    return {
        "name": "x",
        "label": "x",
        "kind": kind,
        "points": points,
        "latest": values[-1],
        "newest": None,
        "reason": "",
    }


def test_a_quantity_that_starts_at_zero_is_drawn_from_zero() -> None:
    """CPU between 67 % and 90 % must not read as a crash: its lowest bar is far above the floor."""
    line = sparkline([0.9, 0.85, 0.8, 0.75, 0.7, 0.67], floor=0.0)
    assert BARS[0] not in line and BARS[1] not in line
    assert line[0] == BARS[-1]


def test_without_a_floor_the_lowest_value_is_the_lowest_bar() -> None:
    assert sparkline([3, 5, 7]) == BARS[0] + BARS[4] + BARS[-1]


def test_each_sparkline_on_a_terminal_is_labelled_with_its_low_and_high() -> None:
    cell = window_cell(_view("ratio", [0.67, 0.9, 0.83]), terminal=True)
    assert cell.endswith(" 67%-90%")
    assert BARS[0] not in cell  # from zero: 67 % is most of the way up
    assert window_cell(_view("count", [2, 3, 3]), terminal=True).endswith(" 2-3")
    assert window_cell(_view("age", [0, 449]), terminal=True).endswith(" 0s-7m 29s")


def test_off_a_terminal_the_numbers_stay_as_they_are() -> None:
    assert window_cell(_view("ratio", [0.67, 0.9, 0.83]), terminal=False) == "67% -> 83% (low 67%, high 90%)"
