"""The frame `runbook queue-backlog --watch` redraws on a terminal, designed for 80x24 first.

A frame taller than the terminal is cropped from the bottom (rich Live ends it with `...`), and
what was cropped at 80x24 was every step. So the frame is built from what must be seen, in
order, and grows only while it fits: the headline, one line per step (number, name, status,
summary cut to the width), the next command, the newest sample's time; then the signals' table
when the terminal is wide enough for it and tall enough for both; then the steps' evidence when
there is room for that too. Off a terminal `--watch` prints the whole form every round instead.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from wbctl.app.queue_backlog import Round
from wbctl.app.session import Session
from wbctl.cli.queue_backlog_view import (
    render_headline,
    render_signals,
    render_steps,
    series_views,
    signal_rows,
    signals_fit,
    step_style,
)
from wbctl.core.durations import format_duration
from wbctl.environment import Environment
from wbctl.output import Terminal

ELLIPSIS = "…"


def cut(text: str, width: int) -> str:
    """One line of at most `width` characters: a summary too long loses its end, marked."""
    return text if len(text) <= width else text[: max(0, width - 1)] + ELLIPSIS


def newest_sample(views: list[dict[str, Any]]) -> datetime | None:
    """The backlog's newest point: the queue's own clock, the one `moved` speaks of."""
    return next((view["newest"] for view in views if view["name"] == "backlog"), None)


def frame(session: Session, look: Round, window: str, moved: str, pause: int) -> Any:
    """The frame for the terminal `session` writes to, at its current size, as one renderable."""
    from rich.text import Text

    term = session.terminal()
    width, height = term.width, term.out.height
    diagnosis = look.diagnosis
    views = series_views(diagnosis, look.bigtable_cpu, look.bigtable_nodes, look.updater)
    tail = f"; next: {diagnosis.next}"
    headline = diagnosis.headline.removesuffix(tail) if diagnosis.next else diagnosis.headline

    def essentials(t: Terminal) -> None:
        render_headline(t, diagnosis, moved, headline)
        t.line("")
        for step in diagnosis.steps:
            line = f"{step.number}. {step.name}: {step.status.value.upper()} - {step.summary}"
            t.line(cut(line, width), step_style(step.status))
        t.line("")
        if diagnosis.next:
            t.line(f"next: {diagnosis.next}", "bold")
        newest = newest_sample(views)
        t.line(
            f"newest backlog sample {'-' if newest is None else f'{newest:%H:%M} UTC'}; looked at {look.now:%H:%M:%S} UTC,"
            f" again every {format_duration(pause)}; Ctrl-C to stop"
        )

    def signals(t: Terminal) -> None:
        t.line("")
        render_signals(t, diagnosis, views, window)

    sections = [_drawn(session, width, essentials)]
    if signals_fit(signal_rows(diagnosis, views, True), window, width):
        sections.append(_drawn(session, width, signals))
    sections.append(_drawn(session, width, lambda t: render_steps(t, diagnosis)))
    shown: list[str] = []
    used = 0
    for number, section in enumerate(sections):
        rows = _rows(section, term, width)
        if number and used + rows > height - 1:  # the last row stays free: a full screen scrolls
            break
        shown.append(section)
        used += rows
    return Text.from_ansi("".join(shown).rstrip("\n"))


def _rows(drawn: str, term: Terminal, width: int) -> int:
    """How many rows `drawn` takes at `width` (a command longer than the width takes two)."""
    from rich.text import Text

    return sum(max(1, len(Text.from_ansi(line).wrap(term.out, width))) for line in drawn.rstrip("\n").split("\n"))


def _drawn(session: Session, width: int, draw: Callable[[Terminal], None]) -> str:
    """What `draw` writes, drawn into a buffer as the terminal would show it: its width, its
    colours, the width rule applied (COLUMNS is the width there)."""
    buffer = io.StringIO()
    env = Environment(
        environ={**session.env.environ, "COLUMNS": str(width)},
        stdout=buffer,
        stderr=session.env.stderr,
        stdin_isatty=False,
        stdout_isatty=True,
        stderr_isatty=session.env.stderr_isatty,
        now=session.env.now,
        user=session.env.user,
    )
    draw(Terminal(env, "table", session.redactor()))
    return buffer.getvalue()
