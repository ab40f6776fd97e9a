"""The width rule every human-readable line follows (the Terminal applies it): wrap between
words with a hanging indent, and never inside a command.

A command an operator will paste (`wbctl bigtable autoscale --min 3 ...`, `kubectl -n NS logs
POD`, `gcloud sql instances patch I --database-flags=a=1,b=2`) is one unit: broken over two
lines it pastes as two commands. A unit longer than the
width (a command, one long word) stands on a line of its own, unindented, so that the only
break in it is the terminal's own. Pure: no Rich, no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

HANG = 4  # continuation lines are indented this much past the line's own indent
# wbctl's command groups (wbctl/cli/__init__.py's GROUPS; a test keeps them equal): "wbctl
# will not guess" is prose, "wbctl run discard ..." a command
WBCTL_WORDS = "alerts|bigtable|changes|check|completion|config|dashboards|deploy|mysql|parquet|redis|run|runbook|sandbox|services|support|version"
_BARE = rf"(?:wbctl(?:\s+--?[a-z][\w-]*(?:[= ][^\s;,()'`-]\S*)?)*\s+(?:{WBCTL_WORDS})\b|(?:kubectl|gcloud|helm)\s+(?:-|[a-z]))(?:[^;,()'`]|,(?=\S))*"
# a quoted command runs to its closing quote, a bare one to the end of its clause
COMMAND = re.compile(rf"(['`])(?:wbctl|kubectl|gcloud|helm)\s[^'`]*\1|(?<![\w'`/-]){_BARE}")


def units(text: str) -> list[tuple[str, str]]:
    """`text` as (separator, unit) pairs: its words, except that each command is one unit."""
    pairs: list[list[str]] = []
    position = 0
    spans = [(m.start(), m.start() + len(m.group().rstrip())) for m in COMMAND.finditer(text)]
    for start, end in [*spans, (len(text), len(text))]:
        segment = text[position:start]
        for match in re.finditer(r"(\s*)(\S+)", segment):
            if pairs and match.start() == 0 and not match.group(1):  # glued to the command before: "...c1;"
                pairs[-1][1] += match.group(2)
            else:
                pairs.append([match.group(1), match.group(2)])
        if start < end:
            if pairs and segment and not segment[-1].isspace():  # glued to the word before: "(wbctl ..."
                pairs[-1][1] += text[start:end]
            else:
                pairs.append([segment[len(segment.rstrip()) :], text[start:end]])
        position = end
    return [(separator, unit) for separator, unit in pairs]


def wrap(text: str, width: int) -> list[str]:
    """`text` in lines of at most `width`, broken only between units, continuation lines
    indented HANG past the first; a unit that cannot fit stands alone (unindented)."""
    if len(text) <= width or not text.strip():
        return [text]
    pairs = units(text)
    lead = pairs[0][0] if pairs else ""
    hang = lead + " " * HANG
    lines: list[str] = []
    current = lead + pairs[0][1]
    for separator, unit in pairs[1:]:
        if len(current) + len(separator) + len(unit) <= width:
            current += separator + unit
            continue
        lines.append(current)
        current = hang + unit if len(hang) + len(unit) <= width else unit
    lines.append(current)
    return lines


def cell_lines(widths: Sequence[int], gaps: Sequence[int], width: int) -> list[list[int]]:
    """A table row of unbreakable cells (ids, names) of these `widths`, `gaps[i]` spaces
    before cell i+1: the cells' indices line by line, broken only between cells, in lines of
    at most `width` (continuation lines indented HANG) unless one cell alone is wider."""
    lines: list[list[int]] = [[0]] if widths else []
    used = widths[0] if widths else 0
    for index in range(1, len(widths)):
        if used + gaps[index - 1] + widths[index] <= width:
            lines[-1].append(index)
            used += gaps[index - 1] + widths[index]
        else:
            lines.append([index])
            used = HANG + widths[index]
    return lines
