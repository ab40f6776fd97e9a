from __future__ import annotations

import io
import json

from wbctl.core.model import Finding, Report, Status
from wbctl.environment import Environment
from wbctl.output import Terminal, render_report
from wbctl.redact import Redactor


def make_env(tty: bool = False, **environ: str) -> Environment:
    return Environment(
        environ=environ,
        stdin=io.StringIO(),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
        stdin_isatty=False,
        stdout_isatty=tty,
        stderr_isatty=tty,
    )


REPORT = Report(
    (
        Finding("redis.a", Status.OK, "redis://h:1/0", "1", "1", "fine"),
        Finding("redis.b", Status.FAIL, "redis://h:1/0", None, "4", "not set", "wbctl redis tune"),
    )
)


def test_report_json_shape() -> None:
    env = make_env()
    render_report(Terminal(env, "json"), REPORT)
    document = json.loads(env.stdout.getvalue())
    assert document["summary"] == {"ok": 1, "warn": 0, "fail": 1, "unknown": 0}
    assert document["findings"][1] == {
        "check": "redis.b",
        "status": "fail",
        "target": "redis://h:1/0",
        "observed": None,
        "expected": "4",
        "message": "not set",
        "remedy": "wbctl redis tune",
    }
    assert env.stderr.getvalue() == ""


def test_report_table_has_no_colour_off_a_terminal() -> None:
    env = make_env()
    render_report(Terminal(env, "table"), REPORT)
    out = env.stdout.getvalue()
    assert "\x1b[" not in out
    assert "redis.b: wbctl redis tune" in out
    assert "1 ok, 0 warn, 1 fail, 0 unknown" in out


def test_colour_on_a_terminal_unless_no_color() -> None:
    env = make_env(tty=True, TERM="xterm-256color")
    render_report(Terminal(env, "table"), REPORT)
    assert "\x1b[" in env.stdout.getvalue()
    env = make_env(tty=True, TERM="xterm-256color", NO_COLOR="1")
    render_report(Terminal(env, "table"), REPORT)
    assert "\x1b[" not in env.stdout.getvalue()


def test_error_is_one_line_and_redacted() -> None:
    env = make_env()
    Terminal(env, redactor=Redactor(["pw123"])).error("failed\nwith pw123 and redis://:other@h:1/0\n  trailing")
    text = env.stderr.getvalue()
    assert text.count("\n") == 1
    assert "pw123" not in text and "other" not in text
    assert text.startswith("wbctl: error: failed with *** and redis://:***@h:1/0 trailing")


def test_tables_off_a_terminal_have_no_trailing_spaces() -> None:
    env = make_env()
    render_report(Terminal(env, "table"), REPORT)
    lines = env.stdout.getvalue().splitlines()
    assert lines and all(line == line.rstrip() for line in lines)
