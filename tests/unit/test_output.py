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


# --- the whole-deployment check: grouped by area, ok lines folded (issue 17, item 6) --------

UPDATER = "wandb-flat-run-fields-updater-bc"
WHOLE = Report(
    (
        Finding("redis.a", Status.OK, "r", "1", "1", "fine"),
        Finding("services.wandb-api.replicas", Status.OK, "k", "3", ">= 3", "3 ready"),
        Finding("services.wandb-flat-run-fields-updater.present", Status.WARN, "k", UPDATER, "present", "2/3 ready"),
        Finding(
            "services.wandb-app.single-instance",
            Status.FAIL,
            "k",
            "2",
            "1",
            "HA",
            "wbctl services scale wandb-app --replicas 1",
        ),
        *(Finding(f"mysql.flag_{n}", Status.FAIL, "m", "0", "1", "is 0", "wbctl mysql tune") for n in range(10)),
        Finding("queue.backlog", Status.UNKNOWN, "q", None, None, "no metrics"),
    )
)


def rendered(report: Report, columns: str, **options: bool) -> list[str]:
    env = make_env(COLUMNS=columns)
    render_report(Terminal(env, "table"), report, grouped=True, **options)
    return env.stdout.getvalue().splitlines()


def test_check_groups_by_area_with_a_summary_and_folds_the_ok_lines() -> None:
    lines = rendered(WHOLE, "200")
    checks = [line.split()[1] for line in lines[1:] if line.split()[:1] in (["ok"], ["warn"], ["fail"], ["unknown"])]
    assert checks == [
        "redis:",
        "services:",
        "services.wandb-app.single-instance",  # worst first within the area
        "services.wandb-flat-run-fields-updater.present",
        "mysql:",
        *(f"mysql.flag_{n}" for n in range(10)),
        "queue:",
        "queue.backlog",
    ]
    assert lines[1].split() == ["ok", "redis:", "1", "ok"]
    assert lines[2].split() == ["fail", "services:", "1", "fail,", "1", "warn,", "1", "ok"]
    assert lines[-1].endswith("(the ok checks are folded into their area's line: -v lists them)")


def test_verbose_lists_the_ok_checks_too() -> None:
    lines = rendered(WHOLE, "200", verbose=True)
    assert any(line.split()[:2] == ["ok", "redis.a"] for line in lines)
    assert any(line.split()[:2] == ["ok", "services.wandb-api.replicas"] for line in lines)
    assert "folded" not in lines[-1]


def test_a_remedy_for_many_checks_of_one_area_names_the_area() -> None:
    lines = rendered(WHOLE, "80")
    assert "10 mysql checks: wbctl mysql tune" in lines
    assert "services.wandb-app.single-instance: wbctl services scale wandb-app --replicas 1" in lines


def test_a_value_is_never_broken_inside_a_word_at_any_width() -> None:
    for columns in ("60", "80", "120", "200"):
        text = "\n".join(rendered(WHOLE, columns))
        words = [word.strip(";,") for word in text.split()]
        assert all(not word.startswith("dater") for word in words), (columns, text)
        assert UPDATER in words or any(w.startswith("wandb-flat-run-fi") and w.endswith("…") for w in words), columns


# --- off a terminal, lines are written without Rich, exactly as Rich would write them -----

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402


def _as_rich_writes(text: str, columns: str | None) -> str:
    """The Rich path, as Terminal took it before the plain one: a Console with no terminal."""
    from rich.text import Text

    from wbctl.wrapping import wrap

    env = Environment(
        environ={"COLUMNS": columns} if columns else {}, stdout=io.StringIO(), stderr=io.StringIO(), stdout_isatty=False
    )
    term = Terminal(env, Redactor())
    console = term._console(io.StringIO(), False)
    pieces = wrap(text, console.width) if columns and "\n" not in text else [text]
    for piece in pieces:
        console.print(Text(piece), soft_wrap=True)
    return console.file.getvalue()


@settings(max_examples=300, deadline=None)
@given(
    text=st.text(
        alphabet=st.sampled_from(list("abc xyz-./:=\t\x07\x08\x0b\x0c\r\x1b\u00e9\u4e2d\u200b ")) | st.characters(),
        max_size=200,
    ),
    columns=st.sampled_from([None, "40", "80", "200"]),
)
def test_plain_lines_are_what_rich_writes(text: str, columns: str | None) -> None:
    out = io.StringIO()
    env = Environment(
        environ={"COLUMNS": columns} if columns else {}, stdout=out, stderr=io.StringIO(), stdout_isatty=False
    )
    Terminal(env, Redactor()).line(text)
    assert out.getvalue() == _as_rich_writes(text, columns)
