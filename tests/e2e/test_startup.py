"""`wbctl --help` and `--version` load no SDK: the import list proves it."""

from __future__ import annotations

import subprocess
import sys

SDKS = {"kubernetes", "google", "grpc", "pymysql", "redis", "fakeredis"}


def imported_top_level_packages(code: str) -> set[str]:
    result = subprocess.run([sys.executable, "-X", "importtime", "-c", code], capture_output=True, text=True, check=True)
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
    code = "from wbctl.adapters.bigtable import BigtableAdapter\nBigtableAdapter(project='p', instance_id='i', timeout=1, emulator_host='127.0.0.1:1').client()"
    assert "google" in imported_top_level_packages(code)
