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


LONG = "queue GROWING +15,000 msg/min, backlog 449k, oldest 7m 29s, publish 1,000/s vs consume 750/s; next: " + (
    "wbctl --sandbox bigtable autoscale --min 3 --max 10 --cpu-target 70 --cluster wandb-bigtable-c1"
)


def test_with_columns_set_a_line_in_a_pipe_wraps_to_it_and_keeps_its_command_whole() -> None:
    env = make_env(COLUMNS="80")
    Terminal(env).line(LONG)
    lines = env.stdout.getvalue().splitlines()
    assert len(lines) == 3
    assert all(len(line) <= 80 for line in lines[:2])
    assert lines[1].startswith("    ")
    assert lines[2] == "wbctl --sandbox bigtable autoscale --min 3 --max 10 --cpu-target 70 --cluster wandb-bigtable-c1"


def test_without_columns_a_line_in_a_pipe_stays_whole() -> None:
    env = make_env()
    Terminal(env).line(LONG)
    assert env.stdout.getvalue() == LONG + "\n"


def test_messages_on_stderr_wrap_too() -> None:
    env = make_env(COLUMNS="40")
    Terminal(env).info("the clock moved on by 10m since the last look, and the backlog went down")
    assert all(len(line) <= 40 for line in env.stderr.getvalue().splitlines())


def test_a_stacked_table_row_wider_than_columns_breaks_between_its_cells() -> None:
    env = make_env(COLUMNS="60")
    rows = [
        ("updater replicas", "5/5 ready (now; no history)", "0 -> 449,400 (low 0, high 449,400)", "16:59", "rising"),
        ("backlog (messages)", "449,400", "-", "-", ""),
    ]
    Terminal(env).table(("signal", "now", "last 30m", "newest (UTC)", ""), rows, wrap=("",))
    out = env.stdout.getvalue()
    assert all(len(line) <= 60 for line in out.splitlines()), out
    for cell in ("5/5 ready (now; no history)", "0 -> 449,400 (low 0, high 449,400)", "updater replicas"):
        assert any(cell in line for line in out.splitlines()), out


def test_a_preformatted_block_is_never_wrapped() -> None:
    env = make_env(COLUMNS="40")
    block = "# a comment line in a rule file that is much longer than forty columns\ngroups: []"
    Terminal(env).line(block)
    assert env.stdout.getvalue() == block + "\n"
