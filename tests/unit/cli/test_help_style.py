"""One style for every help page: Click's plain one, as `wbctl --help` is drawn, never Typer's
rich boxes, for the root, every group and every command."""

from __future__ import annotations

import typer

from wbctl.cli import GROUPS, app

BOXES = set("╭╮╰╯│─")


def every_path() -> list[list[str]]:
    command = typer.main.get_command(app)
    paths: list[list[str]] = [[]]
    for name in GROUPS:
        group = command.get_command(None, name)  # type: ignore[attr-defined]
        paths.append([name])
        paths += [[name, sub] for sub in getattr(group, "commands", {})]
    return paths


def test_every_help_page_is_plain(wbctl) -> None:
    paths = every_path()
    assert ["config", "show"] in paths and ["check"] in paths
    for path in paths:
        result = wbctl(*path, "--help")
        assert result.returncode == 0, (path, result.stderr)
        assert result.stdout.startswith(f"Usage: wbctl {' '.join(path)}".rstrip()), (path, result.stdout[:80])
        assert not BOXES & set(result.stdout), (path, result.stdout)


def test_a_group_alone_prints_its_plain_help_and_exits_2(wbctl) -> None:
    result = wbctl("config")
    assert result.returncode == 2
    assert result.stdout.startswith("Usage: wbctl config") and not BOXES & set(result.stdout)
