"""The width rule: wrap between words with a hanging indent, never inside a command."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from wbctl.cli import GROUPS
from wbctl.wrapping import HANG, WBCTL_WORDS, units, wrap

WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-,.:%/", min_size=1, max_size=30)
COMMAND = st.builds(
    lambda group, args: " ".join(["wbctl", group, *args]),
    st.sampled_from(["bigtable", "services", "run", "sandbox"]),
    st.lists(
        st.sampled_from(["autoscale", "--min", "3", "--max", "10", "--cluster", "wandb-bigtable-c1"]), max_size=12
    ),
)


def test_the_command_words_are_wbctl_s_groups() -> None:
    assert set(WBCTL_WORDS.split("|")) >= set(GROUPS)


def test_a_line_that_fits_is_left_as_it_is() -> None:
    assert wrap("  a  b", 80) == ["  a  b"]


def test_a_command_is_one_unit_and_prose_about_wbctl_is_words() -> None:
    pieces = [unit for _, unit in units("wbctl will not guess; next: wbctl run discard k7 --ttl 2h; then")]
    assert pieces == ["wbctl", "will", "not", "guess;", "next:", "wbctl run discard k7 --ttl 2h;", "then"]
    quoted = [unit for _, unit in units("run 'wbctl run restore k7' to restore, or `kubectl -n ns get pods`.")]
    assert quoted == ["run", "'wbctl run restore k7'", "to", "restore,", "or", "`kubectl -n ns get pods`."]


def test_the_headline_at_80_columns() -> None:
    headline = (
        "queue GROWING +15,000 msg/min, backlog 449k, oldest 7m 29s; next: "
        "wbctl --sandbox bigtable autoscale --min 3 --max 10 --cpu-target 70 --cluster wandb-bigtable-c1"
    )
    assert wrap(headline, 80) == [
        "queue GROWING +15,000 msg/min, backlog 449k, oldest 7m 29s; next:",
        "wbctl --sandbox bigtable autoscale --min 3 --max 10 --cpu-target 70 --cluster wandb-bigtable-c1",
    ]


def test_prose_wraps_with_a_hanging_indent_and_a_command_that_fits_keeps_it() -> None:
    assert wrap("  1. backlog: FAIL - growing: the backlog is growing fast", 30) == [
        "  1. backlog: FAIL - growing:",
        "      the backlog is growing",
        "      fast",
    ]
    assert wrap("   next: wbctl run discard k7w3x9qp --ttl 2h", 42) == [
        "   next:",
        "       wbctl run discard k7w3x9qp --ttl 2h",
    ]


@given(
    indent=st.integers(0, 6),
    parts=st.lists(st.one_of(WORD, COMMAND), min_size=1, max_size=25),
    width=st.integers(40, 120),
)
def test_no_line_is_wider_than_the_width_unless_it_is_one_unit_and_no_command_is_broken(
    indent: int, parts: list[str], width: int
) -> None:
    text = " " * indent + " ".join(parts)
    lines = wrap(text, width)
    assert [unit for line in lines for _, unit in units(line)] == [unit for _, unit in units(text)]
    for line in lines:
        assert len(line) <= width or len(units(line)) == 1, (line, width)
    for line in lines[1:]:
        assert line.startswith(" " * (indent + HANG)) or len(" " * (indent + HANG) + line) > width
    for part in parts:
        if part.startswith("wbctl "):
            assert any(part in line for line in lines), (part, lines)


def test_a_command_with_global_options_and_their_values_is_one_unit() -> None:
    text = "next: wbctl --sandbox --scenario queue-backlog bigtable autoscale --min 3 --cluster c1"
    assert [unit for _, unit in units(text)] == ["next:", text.removeprefix("next: ")]


def test_a_gcloud_command_with_commas_in_its_flags_is_one_unit() -> None:
    command = "gcloud sql instances patch INSTANCE --database-flags=sync_binlog=1,max_connections=1000"
    assert wrap(command, 40) == [command]
    assert [unit for _, unit in units(f"run {command}, then wait")] == ["run", command + ",", "then", "wait"]
