"""`wbctl runbook list` and `show`: the runbooks of runbooks/, raw in a pipe, rendered on a terminal."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from wbctl.cli import main
from wbctl.environment import Environment

RUNBOOKS = Path(__file__).resolve().parents[2] / "runbooks"
TITLES = {
    "bigtable-scaling": "Bigtable cannot keep up",
    "initial-tuning": "Initial tuning: the guide's set-up sequence",
    "noisy-run": "One run is starving the others",
    "queue-backlog": "Metrics are backing up in the queue",
    "services-ha": "The services are not highly available",
}


def test_list_shows_every_runbook_with_its_title(wbctl) -> None:
    result = wbctl("runbook", "list")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["NAME", "TITLE"]
    assert [line.split(None, 1) for line in lines[1:]] == [[name, title] for name, title in sorted(TITLES.items())]


def test_list_as_json(wbctl) -> None:
    result = wbctl("runbook", "list", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert result.json() == {"runbooks": [{"name": name, "title": title} for name, title in sorted(TITLES.items())]}
    assert result.stderr == ""


def test_every_file_is_listed(wbctl) -> None:
    names = {book["name"] for book in wbctl("runbook", "list", "-o", "json").json()["runbooks"]}
    assert names == {path.stem for path in RUNBOOKS.glob("*.md")}


def test_show_off_a_terminal_prints_the_file_byte_for_byte(isolated_env: Path) -> None:
    completed = subprocess.run(
        [sys.executable, "-m", "wbctl", "runbook", "show", "queue-backlog"],
        env=dict(os.environ),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout == (RUNBOOKS / "queue-backlog.md").read_bytes()
    assert completed.stderr == b""


@pytest.mark.parametrize("name", ["noisy-run", "noisy-run.md"])
def test_show_takes_the_name_with_or_without_md(wbctl, name: str) -> None:
    result = wbctl("runbook", "show", name)
    assert result.returncode == 0, result.stderr
    assert result.stdout == (RUNBOOKS / "noisy-run.md").read_text()


def test_show_as_json(wbctl) -> None:
    result = wbctl("runbook", "show", "services-ha", "-o", "json")
    assert result.returncode == 0, result.stderr
    assert result.json() == {
        "name": "services-ha",
        "title": TITLES["services-ha"],
        "markdown": (RUNBOOKS / "services-ha.md").read_text(),
    }


@pytest.mark.parametrize(
    "name", ["no-such-runbook", "../README", "../README.md", "/etc/passwd", "runbooks/noisy-run", "..", ".", ""]
)
def test_unknown_or_escaping_names_are_a_usage_error(wbctl, name: str) -> None:
    result = wbctl("runbook", "show", name)
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(f"wbctl: error: unknown runbook {name!r}")
    assert "bigtable-scaling, initial-tuning, noisy-run, queue-backlog, services-ha" in lines[0]
    assert "root:" not in result.stderr and "# wbctl" not in result.stderr


def test_a_close_misspelling_gets_did_you_mean(wbctl) -> None:
    result = wbctl("runbook", "show", "queue-backlgo")
    assert result.returncode == 2
    assert "did you mean 'queue-backlog'?" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_runbook_without_a_command_shows_its_commands(wbctl) -> None:
    result = wbctl("runbook", "--help")
    assert result.returncode == 0
    assert "list" in result.stdout and "show" in result.stdout


def _in_process(argv: list[str], home: Path, *, tty: bool) -> tuple[int, str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    env = Environment(
        environ={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), "XDG_STATE_HOME": str(home / ".state")},
        stdin=io.StringIO(),
        stdout=stdout,
        stderr=stderr,
        stdin_isatty=False,
        stdout_isatty=tty,
        stderr_isatty=False,
    )
    status = main(argv, env)
    return status, stdout.getvalue(), stderr.getvalue()


def test_show_on_a_terminal_renders_the_markdown(isolated_env: Path) -> None:
    status, out, err = _in_process(["runbook", "show", "noisy-run"], isolated_env, tty=True)
    assert status == 0, err
    assert "One run is starving the others" in out
    assert "# One run is starving the others" not in out  # the heading is rendered, not printed raw
    assert "wbctl run discard RUN_ID --ttl 2h" in out
    assert out != (RUNBOOKS / "noisy-run.md").read_text()


def test_show_in_process_off_a_terminal_is_raw(isolated_env: Path) -> None:
    status, out, _ = _in_process(["runbook", "show", "bigtable-scaling.md"], isolated_env, tty=False)
    assert status == 0
    assert out == (RUNBOOKS / "bigtable-scaling.md").read_text()


def test_json_wins_over_the_terminal(isolated_env: Path) -> None:
    status, out, _ = _in_process(["runbook", "show", "noisy-run", "-o", "json"], isolated_env, tty=True)
    assert status == 0
    assert json.loads(out)["markdown"] == (RUNBOOKS / "noisy-run.md").read_text()


# --- the runbooks themselves ----------------------------------------------------------


def test_runbooks_link_only_to_runbooks_that_exist() -> None:
    import re

    names = {path.name for path in RUNBOOKS.glob("*.md")}
    for path in RUNBOOKS.glob("*.md"):
        for target in re.findall(r"\]\(([^)#:]+\.md)\)", path.read_text()):
            assert target in names, f"{path.name} links to {target}"


def test_every_wbctl_command_in_a_runbook_exists() -> None:
    """Each `wbctl GROUP COMMAND` a runbook tells you to paste is a command of the CLI (or the one
    documented ahead of its module: runbook queue-backlog)."""
    import re

    import typer

    from wbctl.cli import app

    root = typer.main.get_command(app)
    pending = {("runbook", "queue-backlog")}
    for path in RUNBOOKS.glob("*.md"):
        for line in path.read_text().splitlines():
            match = re.match(r"\s+wbctl (?:--sandbox (?:--scenario \S+ )?)?([a-z-]+) ([a-z-]+)", line)
            if not match:
                continue
            group_name, command_name = match.groups()
            if (group_name, command_name) in pending:
                continue
            group = root.get_command(None, group_name)
            assert group is not None, f"{path.name}: {line.strip()}"
            if hasattr(group, "get_command"):
                assert group.get_command(None, command_name) is not None, f"{path.name}: {line.strip()}"


def _imported_modules(code: str) -> set[str]:
    completed = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True)
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in completed.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "wbctl.cli" in modules  # the parse found something: this check can fail
    return modules


def test_rich_markdown_loads_only_to_render_a_runbook_on_a_terminal(isolated_env: Path) -> None:
    """Start-up, `runbook list` and `runbook show` in a pipe never import rich.markdown.

    (Typer's own rich help imports it for any `--help`; that is Typer's, not ours.)"""
    assert "rich.markdown" not in _imported_modules("import wbctl.cli")
    for args in (["--version"], ["runbook", "list"], ["runbook", "show", "noisy-run"]):
        code = f"import sys; sys.argv = ['wbctl', *{args!r}]\nfrom wbctl.cli import main\nmain()"
        assert "rich.markdown" not in _imported_modules(code), args
    code = (
        "import io\nfrom wbctl.cli import main\nfrom wbctl.environment import Environment\n"
        "main(['runbook', 'show', 'noisy-run'], Environment(stdout=io.StringIO(), stdout_isatty=True))"
    )
    assert "rich.markdown" in _imported_modules(code)  # the counter-check


def _by_hand_steps(text: str) -> list[tuple[int, str]]:
    section = text.split("## The same, by hand", 1)[1].split("\n## ", 1)[0]
    return [(int(number), title) for number, title in re.findall(r"^(\d+)\. \*\*(.+?)\*\*", section, re.M)]


def test_the_by_hand_steps_are_numbered_as_the_command_numbers_them(wbctl) -> None:
    """An operator told "step 3" by the command finds step 3 in the file: the same four steps,
    stalled a part of the updater's step (where the command judges it), watching no step."""
    text = (RUNBOOKS / "queue-backlog.md").read_text()
    document = wbctl("--sandbox", "runbook", "queue-backlog", "-o", "json").json()
    cli = [(step["step"], step["name"]) for step in document["steps"]]
    assert [number for number, _ in _by_hand_steps(text)] == [number for number, _ in cli]
    for (number, title), (_, name) in zip(_by_hand_steps(text), cli):
        assert name.split()[-1].lower() in title.lower(), (number, title, name)
    referenced = {int(n) for n in re.findall(r"\bsteps? (\d)(?: and (\d))?", text) for n in n if n}
    assert referenced <= {number for number, _ in cli}


# --- the pager: on a terminal, as git does --------------------------------------------


def _recording_pager(tmp_path: Path) -> tuple[str, Path]:
    record = tmp_path / "paged.txt"
    script = tmp_path / "pager.sh"
    script.write_text(f'#!/bin/sh\necho "args: $*" > "{record}.args"\ncat > "{record}"\n')
    script.chmod(0o755)
    return str(script), record


def _on_a_pty(args: list[str], env: dict[str, str]) -> tuple[int, str]:
    import pexpect

    child = pexpect.spawn(sys.executable, ["-m", "wbctl", *args], env=env, dimensions=(24, 80), timeout=60)
    child.expect(pexpect.EOF)
    child.close()
    return child.exitstatus, child.before.decode()


def test_show_on_a_terminal_goes_through_pager(isolated_env: Path, tmp_path: Path) -> None:
    pager, record = _recording_pager(tmp_path)
    status, screen = _on_a_pty(["runbook", "show", "noisy-run"], {**os.environ, "PAGER": pager})
    assert status == 0, screen
    paged = record.read_text()
    assert "One run is starving the others" in paged and "# One run" not in paged  # rendered, then paged
    assert "wbctl run discard RUN_ID --ttl 2h" in paged
    assert "starving" not in screen  # the pager showed it, not wbctl


def test_no_pager_prints_to_the_terminal(isolated_env: Path, tmp_path: Path) -> None:
    pager, record = _recording_pager(tmp_path)
    status, screen = _on_a_pty(["runbook", "show", "noisy-run", "--no-pager"], {**os.environ, "PAGER": pager})
    assert status == 0, screen
    assert not record.exists()
    assert "One run is starving the others" in screen


def test_in_a_pipe_no_pager_runs(isolated_env: Path, tmp_path: Path) -> None:
    pager, record = _recording_pager(tmp_path)
    completed = subprocess.run(
        [sys.executable, "-m", "wbctl", "runbook", "show", "noisy-run"],
        env={**os.environ, "PAGER": pager},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        timeout=60,
    )
    assert completed.returncode == 0 and not record.exists()
    assert completed.stdout == (RUNBOOKS / "noisy-run.md").read_bytes()


def test_without_pager_set_less_r_pages(isolated_env: Path, tmp_path: Path) -> None:
    """No PAGER: `less -R` (found on PATH: here a recording stand-in named less)."""
    _, record = _recording_pager(tmp_path)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "less").write_text((tmp_path / "pager.sh").read_text())
    (bin_dir / "less").chmod(0o755)
    env = {name: value for name, value in os.environ.items() if name != "PAGER"}
    env["PATH"] = f"{bin_dir}{os.pathsep}{env['PATH']}"
    status, screen = _on_a_pty(["runbook", "show", "noisy-run"], env)
    assert status == 0, screen
    assert "One run is starving the others" in record.read_text()
    assert Path(f"{record}.args").read_text().strip() == "args: -R"
