"""`wbctl --help` and `--version` load no SDK: the import list proves it."""

from __future__ import annotations

import subprocess
import sys

from tests.support.text import commands_listed

SDKS = {"kubernetes", "google", "grpc", "pymysql", "redis", "fakeredis", "mysql_mimic", "sqlglot"}


def imported_top_level_packages(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    names = set()
    for line in result.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            module = line.rsplit("|", 1)[1].strip()
            if module and module != "package":
                names.add(module.split(".")[0])
    assert "wbctl" in names or "typer" in names  # the parse found something: this check can fail
    return names


def test_importing_the_cli_loads_no_sdk() -> None:
    assert not imported_top_level_packages("import wbctl.cli") & SDKS


def test_version_and_help_load_no_sdk() -> None:
    for args in (["--version"], ["--help"], ["redis", "--help"], ["run", "discard", "--help"]):
        code = f"import sys; sys.argv = ['wbctl', *{args!r}]\nfrom wbctl.cli import main\nmain()"
        assert not imported_top_level_packages(code) & SDKS, args


def test_a_redis_command_does_load_redis() -> None:
    """The counter-check: the parse above sees SDK imports when they happen."""
    code = "from wbctl.adapters.redis import RedisAdapter\nRedisAdapter('redis://127.0.0.1:1/0', password=None, ca_file=None, timeout=1).client()"
    assert "redis" in imported_top_level_packages(code)


def test_google_loads_only_in_commands_that_use_it() -> None:
    for module in ("wbctl.cli.redis", "wbctl.cli.run", "wbctl.cli.services", "wbctl.cli.bigtable", "wbctl.cli.config"):
        loaded = imported_top_level_packages(f"import {module}")
        assert not loaded & {"google", "grpc", "kubernetes"}, module
    code = "from wbctl.adapters.google.bigtable import BigtableAdapter\nBigtableAdapter(project='p', instance_id='i', timeout=1, emulator_host='127.0.0.1:1').client()"
    assert "google" in imported_top_level_packages(code)


def imported_modules(code: str) -> set[str]:
    result = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True
    )
    modules = {
        line.rsplit("|", 1)[1].strip()
        for line in result.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }
    assert "wbctl.cli" in modules  # the parse found something: this check can fail
    return modules


def test_help_and_version_load_no_rich_help_no_command_module_and_no_settings() -> None:
    """The root help is Click's plain formatter over wbctl.cli.GROUPS: no Typer rich_utils,
    no rich.markdown / markdown_it, no command group, no config or State (completion's
    callbacks import what they need when they run)."""
    for args in (["--help"], ["-h"], ["--version"], ["-V"]):
        code = f"import sys; sys.argv = ['wbctl', *{args!r}]\nfrom wbctl.cli import main\nmain()"
        loaded = imported_modules(code)
        unwanted = {
            "rich.markdown",
            "markdown_it",
            "typer.rich_utils",
            "rich.console",
            "wbctl.cli.state",
            "wbctl.config",
            "wbctl.core.catalog",
        }
        assert not loaded & unwanted, (args, loaded & unwanted)
        assert not {m for m in loaded if m.startswith("wbctl.cli.")}, args


def test_a_command_help_is_plain_too() -> None:
    """One help style: a command's --help is Click's plain page as the root's is (no rich_utils)."""
    code = "import sys; sys.argv = ['wbctl', 'run', 'discard', '--help']\nfrom wbctl.cli import main\nmain()"
    assert "typer.rich_utils" not in imported_modules(code)


def test_the_root_listing_matches_each_group_help() -> None:
    """GROUPS' one-liners are what each group says of itself (the first paragraph of its help)."""
    import importlib

    import typer

    from wbctl.cli import GROUPS

    for name, (module, line) in GROUPS.items():
        command = typer.main.get_command(importlib.import_module(module).app)
        first_paragraph = " ".join((command.help or "").strip().split("\n\n")[0].split())
        assert line == first_paragraph, name


def test_root_help_lists_every_group_and_option(wbctl) -> None:
    from wbctl.cli import GROUPS

    result = wbctl("--help")
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout.startswith("Usage: wbctl [OPTIONS] COMMAND [ARGS]...")
    for option in (
        "--context NAME",
        "--config FILE",
        "--timeout SECONDS",
        "--debug",
        "--sandbox",
        "-V, --version",
        "--install-completion",
        "--show-completion",
        "-h, --help",
    ):
        assert option in result.stdout, option
    assert commands_listed(result.stdout) == sorted(GROUPS)
