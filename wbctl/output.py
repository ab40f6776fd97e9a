"""Rendering: data to stdout, everything else to stderr (hatch's terminal split).

`Terminal` is the only place that writes. With `-o json`, stdout receives exactly one JSON
document; tables and messages go through Rich, which gets no colour off a terminal or with
NO_COLOR. Every text passes the redactor on its way out.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from wbctl.core.durations import format_duration
from wbctl.core.model import Finding, Plan, Report, Status
from wbctl.environment import Environment
from wbctl.redact import Redactor
from wbctl.wrapping import HANG, cell_lines
from wbctl.wrapping import wrap as wrap_text

if TYPE_CHECKING:
    from rich.console import Console

FORMATS = ("table", "json")
MIN_WIDTH, MAX_WIDTH = 40, 10_000
UNLABELLED = frozenset({"message", "description", "role", "title", "value", ""})  # prose that needs no label
PROSE_MAX_WIDTH = 24  # a short prose column (observed, expected) wraps past this; the last one takes the rest
PROSE_MIN_WIDTH = 12  # below this, prose is stacked under its row rather than squeezed into a column
_STATUS_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.UNKNOWN: "magenta"}


class Terminal:
    def __init__(self, env: Environment, output: str = "table", redactor: Redactor | None = None) -> None:
        self.env = env
        self.output = output
        self.redact = redactor or Redactor()
        self._out: Console | None = None
        self._err: Console | None = None

    @property
    def json_mode(self) -> bool:
        return self.output == "json"

    def _width(self, stream: Any, isatty: bool) -> int:
        """COLUMNS when it is a usable width; else the terminal's own width, or 200 off a
        terminal (pipes: rows stay whole for grep and awk). `COLUMNS=0` or `COLUMNS=10` must
        never hide a diff or an error, so a width under MIN_WIDTH counts as unknown."""
        columns = self.env.environ.get("COLUMNS", "").strip()
        if columns.isascii() and columns.isdigit() and MIN_WIDTH <= int(columns) <= MAX_WIDTH:
            return int(columns)
        if not isatty:
            return 200
        try:
            size = os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            size = 0
        return size if MIN_WIDTH <= size <= MAX_WIDTH else 80

    def _columns_set(self) -> bool:
        columns = self.env.environ.get("COLUMNS", "").strip()
        return columns.isascii() and columns.isdigit() and MIN_WIDTH <= int(columns) <= MAX_WIDTH

    def _wraps(self, console: Console) -> bool:
        """Lines wrap to the width when there is one: a terminal's, or COLUMNS (set, it is the
        width, in a pipe too). A pipe without COLUMNS keeps each line whole, for grep and awk."""
        return console.is_terminal or self._columns_set()

    def _say(self, to_stdout: bool, text: str, style: str | None = None) -> None:
        """One logical line, redacted, then wrapped by the width rule (wbctl/wrapping.py):
        between words, a hanging indent, a command never broken. Off a terminal there is no
        style to draw, so the text is written as Rich would write it (`_plain_lines`) without
        loading Rich: a command that only prints a note starts ~45 ms sooner."""
        stream, isatty = (
            (self.env.stdout, self.env.stdout_isatty) if to_stdout else (self.env.stderr, self.env.stderr_isatty)
        )
        if not isatty and "\t" not in text:  # Rich expands a tab by cell width: that one it draws
            stream.write(_plain_lines(self.redact(text), self._width(stream, False) if self._columns_set() else None))
            stream.flush()
            return
        console = self.out if to_stdout else self.err
        clean = self.redact(text)
        # a text of several lines is preformatted (YAML, a rule file): printed as it stands
        pieces = wrap_text(clean, console.width) if self._wraps(console) and "\n" not in clean else [clean]
        for piece in pieces:
            console.print(self._plain(piece, style), soft_wrap=True)

    def _console(self, stream: Any, isatty: bool) -> Console:
        from rich.console import Console

        width = self._width(stream, isatty)
        return Console(
            file=stream,
            force_terminal=isatty,
            no_color=self.env.no_color or not isatty,
            color_system="auto" if isatty and not self.env.no_color else None,
            highlight=False,
            soft_wrap=False,
            width=width,
            emoji=False,
        )

    @property
    def out(self) -> Console:
        if self._out is None:
            self._out = self._console(self.env.stdout, bool(self.env.stdout_isatty))
        return self._out

    @property
    def err(self) -> Console:
        if self._err is None:
            self._err = self._console(self.env.stderr, bool(self.env.stderr_isatty))
        return self._err

    # --- messages (stderr) ------------------------------------------------------------

    def info(self, message: str) -> None:
        self._say(False, message)

    def warn(self, message: str) -> None:
        self._say(False, f"warning: {message}", "yellow")

    def error(self, message: str) -> None:
        # one line, whatever the backend put in the message
        line = " ".join(self.redact(message).split())
        self.err.print(self._text(f"wbctl: error: {line}", "red"), soft_wrap=True)

    def progress(self, message: str) -> Any:
        """A spinner on stderr while something slow runs; nothing off a terminal."""
        if not self.env.stderr_isatty:
            return contextlib.nullcontext()
        return self.err.status(self.redact(message))

    def confirm(self, question: str) -> bool:
        """Ask on the terminal; only called when stdin is one (the mutation path checks)."""
        self.err.print(self._text(f"{question} [y/N]: "), end="")
        self.env.stderr.flush()
        answer = self.env.stdin.readline()
        return answer.strip().lower() in {"y", "yes"}

    # --- data (stdout) ----------------------------------------------------------------

    def json(self, document: Any) -> None:
        text = json.dumps(self.redact.value(document), indent=2, default=str)
        self.env.stdout.write(text + "\n")
        self.env.stdout.flush()

    def data(self, text: str) -> None:
        """Text that is data as it stands (a metrics exposition): to stdout unstyled, redacted."""
        self.env.stdout.write(self.redact(text))
        self.env.stdout.flush()

    def json_line(self, document: Any) -> None:
        """One document on one line, for output that goes on (--watch rounds, sandbox serve):
        a reader takes each document with readline, not by waiting for the end of the stream."""
        self.env.stdout.write(json.dumps(self.redact.value(document), default=str) + "\n")
        self.env.stdout.flush()

    def line(self, text: str, style: str | None = None) -> None:
        self._say(True, text, style)

    @property
    def width(self) -> int:
        """The width stdout's lines are drawn to (a frame cuts its summaries to it)."""
        return self.out.width

    def markdown(self, text: str) -> None:
        """Markdown to stdout: rendered by Rich on a terminal, the text unchanged otherwise (pipes, files)."""
        if not self.env.stdout_isatty:
            self.env.stdout.write(self.redact(text))
            self.env.stdout.flush()
            return
        from rich.markdown import (
            Markdown,  # only here: it costs start-up time every other command would pay
        )

        self.out.print(Markdown(self.redact(text), hyperlinks=False))  # links print as "text (url)"

    @contextlib.contextmanager
    def paged(self, enabled: bool = True) -> Iterator[None]:
        """What stdout receives inside goes through a pager, as git's output does: `$PAGER`
        (empty: none), else `less -R`; only on a real terminal (a pipe, a file, -o json: the
        text as it stands) and never with `enabled` false (`--no-pager`)."""
        command = self._pager() if enabled else None
        if command is None:
            yield
            return
        with self.out.capture() as captured:
            yield
        text = captured.get()
        environ = dict(self.env.environ)
        environ.setdefault("LESS", "FRX")  # git's: quit when it fits one screen, colours, no screen clearing
        try:
            subprocess.run(command, shell=True, input=text, text=True, env=environ, check=False)
        except OSError:  # a pager that cannot start: the text as it would have been printed
            self.env.stdout.write(text)
            self.env.stdout.flush()

    def _pager(self) -> str | None:
        if self.json_mode or not self.env.stdout_isatty:
            return None
        try:
            if not os.isatty(self.env.stdout.fileno()):
                return None
        except (AttributeError, OSError, ValueError):  # a string buffer: no terminal to page on
            return None
        pager = self.env.environ.get("PAGER")
        if pager is not None:
            return pager.strip() or None
        return "less -R" if shutil.which("less", path=self.env.environ.get("PATH")) else None

    def table(
        self,
        columns: Sequence[str],
        rows: Sequence[Sequence[Any]],
        *,
        to_stderr: bool = False,
        wrap: Sequence[str] = (),
    ) -> None:
        """Columns named in `wrap` hold prose and wrap between words to fit the width (a word
        wider than its column is cut with an ellipsis, never broken: the whole value is in -o
        json); every other column holds ids and names, which never wrap (a wrapped
        `wandb-flat-run-fiel|ds` can be neither read nor pasted). When the ids leave the prose too little room, each row
        becomes its ids on one line and its prose indented below."""
        from rich.table import Table

        console = self.err if to_stderr else self.out
        cells = [[cell if not isinstance(cell, str) else self._text(cell) for cell in row] for row in rows]
        widths = [max([len(column), *(len(row[index].plain) for row in cells)]) for index, column in enumerate(columns)]
        fixed = sum(w + 2 for column, w in zip(columns, widths) if column not in wrap)
        last_prose = max(index for index, column in enumerate(columns) if column in wrap) if wrap else -1
        table = Table(box=None, show_edge=False, pad_edge=False, header_style="bold")
        for index, (column, width) in enumerate(zip(columns, widths)):
            if column not in wrap:
                table.add_column(column.upper(), no_wrap=True, min_width=width)
            elif index == last_prose:  # the message takes the room the others leave
                table.add_column(column.upper(), overflow="ellipsis", min_width=min(width, PROSE_MIN_WIDTH))
            else:  # a short prose column (observed, expected)
                table.add_column(
                    column.upper(),
                    overflow="ellipsis",
                    min_width=min(width, PROSE_MIN_WIDTH),
                    max_width=max(len(column), min(width, PROSE_MAX_WIDTH)),
                )
        for row in cells:
            table.add_row(*row)
        shorts = sum(
            max(len(column), min(width, PROSE_MAX_WIDTH)) + 2
            for index, (column, width) in enumerate(zip(columns, widths))
            if column in wrap and index != last_prose
        )
        if wrap and fixed + shorts + PROSE_MIN_WIDTH + 2 > console.width:  # rich would squeeze the prose to nothing
            self._stacked(console, columns, cells, widths, wrap, to_stderr)
            return
        # ids alone wider than the screen: print them whole (the terminal wraps the line) rather than cut
        self._emit(console, table, to_stderr, width=None if wrap else max(console.width, fixed))

    def _stacked(
        self,
        console: Console,
        columns: Sequence[str],
        cells: list[list[Any]],
        widths: list[int],
        wrap: Sequence[str],
        to_stderr: bool,
    ) -> None:
        from rich.text import Text

        ids = [index for index, column in enumerate(columns) if column not in wrap]
        texts = [index for index, column in enumerate(columns) if column in wrap]

        def line(values: Sequence[Any]) -> Text:
            head = Text()
            for position, (index, value) in enumerate(zip(ids, values)):
                head.append_text(value)
                if position < len(ids) - 1:
                    head.append(" " * (widths[index] - len(value.plain) + 2))
            return head

        def emit(values: Sequence[Any]) -> None:
            """The row's ids aligned; wider than a known width, broken between its cells."""
            whole = line(values)
            if not self._wraps(console) or len(whole.plain) <= console.width:
                self._emit(console, whole, to_stderr, soft=True)
                return
            gaps = [widths[index] - len(value.plain) + 2 for index, value in zip(ids, values)]
            lengths = [len(value.plain) for value in values]
            for number, indices in enumerate(cell_lines(lengths, gaps, console.width)):
                piece = Text(" " * HANG if number else "")
                for position, index in enumerate(indices):
                    if position:
                        piece.append(" " * gaps[index - 1])
                    piece.append_text(values[index])
                self._emit(console, piece, to_stderr, soft=True)

        emit([Text(columns[index].upper(), style="bold") for index in ids])
        for row in cells:
            emit([row[index] for index in ids])
            parts = [
                row[index].plain if columns[index] in UNLABELLED else f"{columns[index]} {row[index].plain}"
                for index in texts
                if row[index].plain not in ("", "-")
            ]
            if parts:  # the prose under its row, by the width rule (a command in it stays whole)
                for piece in wrap_text(self.redact("    " + "; ".join(parts)), console.width):
                    self._emit(console, self._plain(piece), to_stderr, soft=True)

    def _emit(
        self, console: Console, renderable: Any, to_stderr: bool, width: int | None = None, soft: bool = False
    ) -> None:
        """Print; `soft`: one line however long (the terminal wraps it), for ids that must not break."""
        crop = not soft and (width is None or width <= console.width)
        if console.is_terminal:
            console.print(renderable, width=width, crop=crop, soft_wrap=soft)
            return
        with console.capture() as captured:  # off a terminal: no padding after the last column
            console.print(renderable, width=width, crop=crop, soft_wrap=soft)
        stream = self.env.stderr if to_stderr else self.env.stdout
        stream.write("".join(line.rstrip() + "\n" for line in captured.get().splitlines()))
        stream.flush()

    def _text(self, text: str, style: str | None = None) -> Any:
        return self._plain(self.redact(text), style)

    @staticmethod
    def _plain(text: str, style: str | None = None) -> Any:
        """A Text of already redacted text."""
        from rich.text import Text

        return Text(text, style=style or "")

    def styled(self, text: str, style: str) -> Any:
        return self._text(text, style)


# what rich.text.Text strips from a text (rich.control.strip_control_codes: BEL, BS, VT, FF, CR),
# stripped the same way off a terminal, where wbctl writes without Rich (a test compares the two)
_CONTROL_STRIP = dict.fromkeys((7, 8, 11, 12, 13))


def _plain_lines(clean: str, width: int | None) -> str:
    """Redacted text as a Rich console with no colour writes it: wrapped to `width` by the width
    rule (None: no width, one line), each line's control codes stripped, a newline after it."""
    pieces = wrap_text(clean, width) if width is not None and "\n" not in clean else [clean]
    return "".join(piece.translate(_CONTROL_STRIP) + "\n" for piece in pieces)


# --- shared renderers -----------------------------------------------------------------


def show(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _collapsed(findings: Sequence[Finding]) -> list[tuple[Finding, int]]:
    """Findings as a table shows them: those unknown for one reason, in one group (one backend
    that could not be read), collapse into their first, with how many they stand for."""
    rows: list[tuple[Finding, int]] = []
    seen: dict[tuple[str, str], int] = {}
    for finding in findings:
        if finding.status is not Status.UNKNOWN:
            rows.append((finding, 1))
            continue
        key = (finding.check.split(".", 1)[0], finding.message)
        if key in seen:
            first, count = rows[seen[key]]
            rows[seen[key]] = (first, count + 1)
        else:
            seen[key] = len(rows)
            rows.append((finding, 1))
    return rows


_SEVERITY = (Status.FAIL, Status.WARN, Status.UNKNOWN, Status.OK)
GROUPED_REMEDY = 3  # a fix that clears more checks of one area than this names the area, not each id


def area(check: str) -> str:
    """The area a check belongs to (redis, services, parquet, versions, bigtable, mysql, queue)."""
    return check.split(".", 1)[0]


def _finding_row(term: Terminal, finding: Finding, count: int) -> tuple[Any, ...]:
    check = finding.check if count == 1 else f"{area(finding.check)}.* ({count} checks)"
    return (
        term.styled(finding.status.value, _STATUS_STYLE[finding.status]),
        check,
        show(finding.observed),
        show(finding.expected),
        finding.message,
    )


def _area_summary(findings: Sequence[Finding]) -> str:
    counts = {status: sum(f.status is status for f in findings) for status in _SEVERITY}
    return ", ".join(f"{count} {status.value}" for status, count in counts.items() if count)


def _grouped_rows(term: Terminal, report: Report, verbose: bool) -> list[tuple[Any, ...]]:
    """Per area, in the report's order: one summary line, then what fails, warns or is unknown
    (worst first); the ok lines fold into the summary unless `verbose`."""
    areas: dict[str, list[Finding]] = {}
    for finding in report.findings:
        areas.setdefault(area(finding.check), []).append(finding)
    rows: list[tuple[Any, ...]] = []
    for name, findings in areas.items():
        worst = next(status for status in _SEVERITY if any(f.status is status for f in findings))
        summary = term.styled(f"{name}: {_area_summary(findings)}", "bold")
        rows.append((term.styled(worst.value, _STATUS_STYLE[worst]), summary, "", "", ""))
        shown = [f for f in findings if verbose or f.status is not Status.OK]
        ordered = sorted(shown, key=lambda f: _SEVERITY.index(f.status))  # stable: the report's order within a status
        rows += [_finding_row(term, finding, count) for finding, count in _collapsed(ordered)]
    return rows


def _remedy_lines(report: Report) -> list[str]:
    """One line per fix, naming every check it clears (or, past GROUPED_REMEDY of one area, the area)."""
    remedies: dict[str, list[str]] = {}
    for finding in report.findings:
        if finding.remedy and finding.status is not Status.OK:
            remedies.setdefault(finding.remedy, []).append(finding.check)
    lines = []
    for remedy, checks in remedies.items():
        areas = {area(check) for check in checks}
        named = (
            f"{len(checks)} {areas.pop()} checks"
            if len(checks) > GROUPED_REMEDY and len(areas) == 1
            else ", ".join(checks)
        )
        lines.append(f"{named}: {remedy}")
    return lines


def render_report(term: Terminal, report: Report, *, grouped: bool = False, verbose: bool = False) -> None:
    """A report as a table. `grouped` (the whole-deployment check): one summary line per area,
    its problems under it, the ok lines folded unless `verbose`."""
    if term.json_mode:
        term.json(report.to_json())
        return
    if grouped:
        rows = _grouped_rows(term, report, verbose)
    else:
        rows = [_finding_row(term, finding, count) for finding, count in _collapsed(report.findings)]
    term.table(("status", "check", "observed", "expected", "message"), rows, wrap=("observed", "expected", "message"))
    remedies = _remedy_lines(report)
    if remedies:
        term.line("")
        for line in remedies:
            term.line(line)
    summary = report.summary
    term.line("")
    folded = grouped and not verbose and summary.get("ok", 0) > 0
    tail = " (the ok checks are folded into their area's line: -v lists them)" if folded else ""
    term.line(", ".join(f"{count} {status}" for status, count in summary.items()) + tail)


def _describe_value(value: Any, ttl: int | None, has_expiry: bool) -> str:
    text = "(unset)" if value is None else show(value)
    if has_expiry and value is not None:
        text += f" (expires in {format_duration(ttl)})" if ttl else " (no expiry)"
    return text


def render_diff(term: Terminal, plan: Plan) -> None:
    """The diff an operator confirms: target, context, and each key's before -> after."""
    to_stderr = term.json_mode  # keep stdout for the one JSON document
    write: Callable[[str], None] = term.info if to_stderr else term.line
    write(f"Plan for {plan.target} (context {plan.context}):")
    # name each change's object when it is not the plan's target itself (e.g. a CR in a namespace)
    with_target = any(change.target != plan.target for change in plan.changes)
    rows = []
    for change in plan.changes:
        expiry = change.expiry
        before = _describe_value(change.before, expiry.before if expiry else None, expiry is not None)
        after = _describe_value(change.after, expiry.after if expiry else None, expiry is not None)
        rows.append(((change.target,) if with_target else ()) + (change.key, before, "->", after))
    columns = (("target",) if with_target else ()) + ("key", "before", "", "after")
    term.table(columns, rows, to_stderr=to_stderr, wrap=("before", "after"))
    for note in plan.notes:
        write(f"note: {note}")


def render_plan_result(term: Terminal, plan: Plan, applied: bool, verified: bool = True) -> None:
    if term.json_mode:
        term.json(plan.to_json(applied))
    elif applied and verified:
        term.line(f"applied {len(plan.changes)} change(s) to {plan.target}; verified by reading back")
    elif applied:
        term.line(f"the change to {plan.target} was accepted and goes on; not verified (--no-wait)")


def render_items(
    term: Terminal, columns: Sequence[str], items: Sequence[dict[str, Any]], document: Any, wrap: Sequence[str] = ()
) -> None:
    """A list of items: the table of `columns` (those in `wrap` are prose), or `document` as JSON."""
    if term.json_mode:
        term.json(document)
        return
    term.table(columns, [[show(item.get(column)) for column in columns] for item in items], wrap=wrap)
