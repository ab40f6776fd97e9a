"""How `wbctl runbook queue-backlog` shows its diagnosis: a headline that says it all, the
series at a glance, the guide's steps with their evidence and next command, and (with
`--fix`) what was applied.

On a terminal each series is a sparkline over the window; off a terminal the numbers (first,
lowest, highest, now); with `-o json` one document holding the series too.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from wbctl.app.mutation import Outcome
from wbctl.core import timeline
from wbctl.core.durations import format_duration
from wbctl.core.model import Status
from wbctl.core.queue import DataLoss, Reading, Verdict, backlog_status
from wbctl.core.runbook import Diagnosis
from wbctl.core.series import Point, SignalData
from wbctl.output import Terminal

BARS = "▁▂▃▄▅▆▇█"
SPARK_WIDTH = 32
ZERO_BASED = frozenset({"count", "age", "rate", "ratio"})  # kinds drawn from zero: none of them goes below it
_STYLE = {Status.OK: "green", Status.WARN: "yellow", Status.FAIL: "red", Status.UNKNOWN: "magenta"}


def sparkline(values: Sequence[float], width: int = SPARK_WIDTH, floor: float | None = None) -> str:
    """Values as block characters, lowest to highest, in at most `width` cells (means of
    equal slices when there are more values than cells). With a `floor` (0 for a quantity
    that starts at zero) the lowest bar is the floor, not the lowest value: CPU between 67 %
    and 90 % drawn from its own low would fall to the bottom and read as a crash."""
    if not values:
        return ""
    if len(values) > width:
        size = len(values) / width
        values = [
            sum(chunk) / len(chunk)
            for i in range(width)
            if (chunk := values[int(i * size) : max(int((i + 1) * size), int(i * size) + 1)])
        ]
    high = max(values)
    low = min(values) if floor is None else min(floor, *values)
    if high - low <= 0:
        return BARS[0] * len(values)
    return "".join(BARS[min(len(BARS) - 1, int((v - low) / (high - low) * (len(BARS) - 1) + 0.5))] for v in values)


def _fmt(value: float | None, kind: str) -> str:
    if value is None:
        return "-"
    if kind == "age":
        return format_duration(value)
    if kind == "ratio":
        return f"{value:.0%}"
    if kind == "rate":
        return f"{value:,.1f}/s" if abs(value) < 100 else f"{value:,.0f}/s"
    return f"{value:,.0f}"


def _clock(moment: datetime | None) -> str:
    return "-" if moment is None else f"{moment:%H:%M}"


def series_views(
    diagnosis: Diagnosis, bigtable_cpu: SignalData, bigtable_nodes: SignalData, updater: str | None
) -> list[dict[str, Any]]:
    """The series behind the diagnosis, each with its unit, points, newest time, or reason."""
    readings = diagnosis.judgement.readings
    views: list[dict[str, Any]] = []

    def reading(name: str, label: str, value: Reading, kind: str) -> None:
        views.append(
            {
                "name": name,
                "label": label,
                "kind": kind,
                "points": list(value.points),
                "latest": value.latest,
                "newest": value.newest,
                "reason": value.reason if not value.known else "",
            }
        )

    backlog_label = "lag (messages)" if readings.source == "kafka" else "backlog (messages)"
    reading("backlog", backlog_label, readings.backlog, "count")
    reading("oldest_age", "oldest unacked", readings.oldest_age, "age")
    reading("published", "published", readings.published, "rate")
    reading("consumed", "consumed", readings.consumed, "rate")
    for name, label, data, kind in (
        ("bigtable_cpu", "bigtable CPU", bigtable_cpu, "ratio"),
        ("bigtable_nodes", "bigtable nodes", bigtable_nodes, "count"),
    ):
        total = (
            data.series[0]
            if data.series and len(data.series) == 1
            else (
                data.total()
                if kind == "count"
                else (max(data.series, key=lambda s: s.latest or 0) if data.series else None)
            )
        )
        points = list(total.points) if total else []
        views.append(
            {
                "name": name,
                "label": label,
                "kind": kind,
                "points": points,
                "latest": points[-1][1] if points else None,
                "newest": points[-1][0] if points else None,
                "reason": "" if points else data.reason,
            }
        )
    views.append(
        {
            "name": "updater_replicas",
            "label": "updater replicas",
            "kind": "text",
            "points": [],
            "latest": updater,
            "newest": None,
            "reason": "" if updater else "unknown",
        }
    )
    return views


def window_cell(view: dict[str, Any], terminal: bool) -> str:
    """A series over the window: on a terminal a sparkline labelled with its low and high (a
    bare line has no scale), off one the numbers."""
    points: list[Point] = view["points"]
    if not points:
        return "unknown" if view["reason"] else "-"  # the reasons are the steps' evidence, once each
    values = [value for _, value in points]
    kind = view["kind"]
    if terminal:
        line = sparkline(values, floor=0.0 if kind in ZERO_BASED else None)
        return f"{line} {_fmt(min(values), kind)}-{_fmt(max(values), kind)}"
    return f"{_fmt(values[0], kind)} -> {_fmt(values[-1], kind)} (low {_fmt(min(values), kind)}, high {_fmt(max(values), kind)})"


def render(term: Terminal, diagnosis: Diagnosis, views: list[dict[str, Any]], *, window: str, moved: str = "") -> None:
    """The table form (stdout): headline, series, steps, the changes made in the window."""
    render_headline(term, diagnosis, moved)
    term.line("")
    render_signals(term, diagnosis, views, window)
    render_steps(term, diagnosis)


def headline_style(diagnosis: Diagnosis) -> str:
    judgement = diagnosis.judgement
    loss = judgement.loss is not None and judgement.loss.projected
    filestream = diagnosis.filestream is not None and backlog_status(diagnosis.filestream) is not Status.OK
    return "bold red" if judgement.verdict is not Verdict.NONE or loss or filestream else "bold green"


def render_headline(term: Terminal, diagnosis: Diagnosis, moved: str = "", headline: str = "") -> None:
    term.line(headline or diagnosis.headline, headline_style(diagnosis))
    if moved:
        term.line(moved)


def signal_rows(
    diagnosis: Diagnosis, views: list[dict[str, Any]], terminal: bool
) -> list[tuple[str, str, str, str, str]]:
    judgement = diagnosis.judgement
    rows = []
    for view in views:
        latest = view["latest"] if view["kind"] == "text" else _fmt(view["latest"], view["kind"])
        since = ""
        if view["name"] == "backlog" and judgement.rise_began is not None and judgement.verdict is Verdict.GROWING:
            since = f"rising since {_clock(judgement.rise_began)}"
        rows.append((view["label"], latest or "-", window_cell(view, terminal), _clock(view["newest"]), since))
    return rows


def signals_fit(rows: list[tuple[str, str, str, str, str]], window: str, width: int) -> bool:
    """Whether the signals' table fits `width` with its columns aligned."""
    columns = ("signal", "now", f"last {window}", "newest (UTC)")
    natural = sum(max(len(column), *(len(row[i]) for row in rows)) + 2 for i, column in enumerate(columns)) - 2
    return natural <= width


def render_signals(term: Terminal, diagnosis: Diagnosis, views: list[dict[str, Any]], window: str) -> None:
    _signals(term, signal_rows(diagnosis, views, term.out.is_terminal), window)


def render_steps(term: Terminal, diagnosis: Diagnosis) -> None:
    """Each step with its evidence and next command, then the changes made in the window."""
    for step in diagnosis.steps:
        term.line("")
        term.line(f"{step.number}. {step.name}: {step.status.value.upper()} - {step.summary}", _STYLE[step.status])
        for line in step.evidence:
            term.line(f"     {line}")
        if step.next:
            term.line(f"   next: {step.next}", "bold")
    if diagnosis.changes or diagnosis.changes_reason:
        term.line("")
        term.line(
            "changes made with wbctl in the window:"
            if diagnosis.changes
            else f"changes in the window unknown: {diagnosis.changes_reason}"
        )
        for record in diagnosis.changes:
            term.line(f"     {record.time:%H:%M} {record.user}: {record.command} ({record.result})")
    if diagnosis.before_rise:
        rise = diagnosis.judgement.rise_began
        term.line("")
        term.line("what changed before the rise began:" if rise else "what changed in the window:")
        for happening in diagnosis.before_rise:
            term.line(f"     {happening.time:%H:%M} {timeline.relative(happening, rise)}")


def step_style(status: Status) -> str:
    return _STYLE[status]


def _signals(term: Terminal, rows: list[tuple[str, str, str, str, str]], window: str) -> None:
    """The signals as a table when its columns fit the width; narrower, one signal a line
    (wrapped by the width rule): a table broken cell by cell can no longer be read down."""
    if signals_fit(rows, window, term.width):
        term.table(("signal", "now", f"last {window}", "newest (UTC)", ""), rows, wrap=("",))
        return
    for label, now, series, newest, since in rows:
        tail = f"; {since}" if since else ""
        at = f" (newest {newest})" if newest != "-" else ""
        term.line(f"{label}: {now}{at}; last {window} {series}{tail}")


def outcome_line(outcome: Outcome) -> str:
    applied = ", ".join(plan.target for plan in outcome.applied) or "nothing"
    left = [plan.target for plan in ([outcome.failed] if outcome.failed else []) + outcome.not_applied]
    return f"--fix stopped: applied {applied}; not applied: {', '.join(left) or 'nothing'}" + (
        f" ({outcome.error.message})" if outcome.error else ""
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else moment.isoformat().replace("+00:00", "Z")


def document(
    diagnosis: Diagnosis,
    views: list[dict[str, Any]],
    *,
    context: str,
    window: str,
    now: datetime,
    outcome: Outcome | None = None,
    fix_requested: bool = False,
    moved: str = "",
) -> dict[str, Any]:
    judgement = diagnosis.judgement
    address = diagnosis.address
    doc: dict[str, Any] = {
        "runbook": "queue-backlog",
        "time": _iso(now),
        "context": context,
        "window": window,
        "headline": diagnosis.headline,
        "verdict": judgement.verdict.value,
        "reason": judgement.reason,
        "queue": {
            key: getattr(address, key)
            for key in (
                "source",
                "origin",
                "project",
                "topic",
                "subscription",
                "broker",
                "broker_held_in",
                "group",
                "partitions",
            )
        },
        "backlog": judgement.backlog,
        "oldest_age_seconds": judgement.oldest_age,
        "rate_per_minute": None if judgement.rate_per_second is None else judgement.rate_per_second * 60,
        "publish_per_second": judgement.publish_rate,
        "consume_per_second": judgement.consume_rate,
        "drain_seconds": judgement.drain_seconds,
        "rise_began": _iso(judgement.rise_began),
        "data_loss": _loss_document(judgement.loss),
        "signals": {
            view["name"]: {
                "latest": view["latest"],
                "newest": _iso(view["newest"]),
                "reason": view["reason"],
                "points": [[_iso(t), v] for t, v in view["points"]],
            }
            for view in views
        },
        "steps": [
            {
                "step": s.number,
                "name": s.name,
                "status": s.status.value,
                "summary": s.summary,
                "evidence": list(s.evidence),
                "next": s.next or None,
                "proposals": [list(p.argv()) for p in s.proposals],
            }
            for s in diagnosis.steps
        ],
        "changes_in_window": [
            {"time": _iso(r.time), "user": r.user, "command": r.command, "result": r.result} for r in diagnosis.changes
        ],
        "changes_before_rise": [
            {**h.to_json(), "words": timeline.relative(h, diagnosis.judgement.rise_began)}
            for h in diagnosis.before_rise
        ],
        "filestream_queue": _filestream_document(diagnosis),
        "next": diagnosis.next or None,
        "moved": moved or None,
        "fix": None,
    }
    if fix_requested:
        doc["fix"] = _fix_document(outcome)
    return doc


def _filestream_document(diagnosis: Diagnosis) -> dict[str, Any] | None:
    """The filestream service's own queue as step 1 shows it; None when there is none."""
    judgement, address = diagnosis.filestream, diagnosis.filestream_address
    if judgement is None or address is None:
        return None
    return {
        "queue": {key: getattr(address, key) for key in ("source", "origin", "project", "topic", "subscription")},
        "verdict": judgement.verdict.value,
        "reason": judgement.reason,
        "backlog": judgement.backlog,
        "oldest_age_seconds": judgement.oldest_age,
        "rate_per_minute": None if judgement.rate_per_second is None else judgement.rate_per_second * 60,
        "publish_per_second": judgement.publish_rate,
        "consume_per_second": judgement.consume_rate,
        "data_loss": _loss_document(judgement.loss),
    }


def _loss_document(loss: DataLoss | None) -> dict[str, Any] | None:
    if loss is None:
        return None
    return {
        "projected": loss.projected,
        "seconds_left": loss.seconds_left,
        "retention_seconds": loss.retention,
        "reason": loss.reason,
    }


def _fix_document(outcome: Outcome | None) -> dict[str, Any]:
    """What --fix applied and did not, the failed plan first among the not applied."""
    applied = outcome.applied if outcome else []
    failed = [outcome.failed] if outcome and outcome.failed else []
    not_applied = outcome.not_applied if outcome else []
    return {
        "plans": [p.to_json(True) for p in applied] + [p.to_json(False) for p in not_applied + failed],
        "applied": [p.target for p in applied],
        "not_applied": [p.target for p in failed + not_applied],
        "error": outcome.error.message if outcome and outcome.error else None,
    }
