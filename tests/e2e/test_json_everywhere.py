"""Every command that takes `-o` answers `-o json` with exactly one JSON document on stdout, or
refuses with one line on stderr and nothing on stdout: a walk over the CLI reference."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer

from wbctl.cli import app
from wbctl.cli.reference import _commands

# the arguments each command needs to do something (changes as dry runs), in the sandbox
ARGUMENTS = {
    "bigtable autoscale": ["--min", "3", "--max", "10", "--dry-run"],
    "bigtable scale": ["--nodes", "3", "--dry-run"],
    "dashboards apply cloud-monitoring": ["--dry-run"],
    "mysql check": ["--from-file", "{vars}"],
    "mysql flags": ["--format", "gcloud"],
    "parquet fuse enable": ["--dry-run"],
    "redis tune": ["--dry-run"],
    "run discard": ["abc123", "--ttl", "1h", "--dry-run"],
    "run restore": ["--dry-run"],
    "runbook show": ["noisy-run"],
    "sandbox advance": ["1m"],
    "mysql tune": ["--dry-run"],
    "services scale": ["api", "--replicas", "3", "--dry-run"],
    "services autoscale": ["filestream", "--min", "1", "--max", "5", "--dry-run"],
}
# commands whose sandbox answer is a refusal that has nothing to do with -o json
REFUSED_IN_THE_SANDBOX: dict[str, str] = {"config init": "config init reads a real cluster, not --sandbox"}
# commands that do not end by themselves: `sandbox serve` prints its document, then serves until Ctrl-C
# (tests/e2e/test_sandbox_serve.py reads it)
ENDLESS = {"sandbox serve"}


def commands_with_output() -> list[str]:
    root = typer.main.get_command(app)
    return sorted(
        " ".join(path[1:])
        for path, command in _commands(root, ["wbctl"])
        if not hasattr(command, "list_commands") and any("-o" in p.opts for p in command.params)
    )


def test_the_walk_knows_every_command() -> None:
    assert len(commands_with_output()) >= 27
    assert set(ARGUMENTS) <= set(commands_with_output())


@pytest.mark.parametrize("name", [name for name in commands_with_output() if name not in ENDLESS])
def test_json_or_a_one_line_refusal(wbctl, isolated_env: Path, name: str) -> None:
    variables = isolated_env / "vars.tsv"
    variables.write_text("Variable_name\tValue\nversion\t8.0.31\nbinlog_format\tROW\n")
    arguments = [argument.replace("{vars}", str(variables)) for argument in ARGUMENTS.get(name, [])]
    result = wbctl("--sandbox", *name.split(), *arguments, "-o", "json")
    if name in REFUSED_IN_THE_SANDBOX:
        assert result.returncode == 2 and REFUSED_IN_THE_SANDBOX[name] in result.stderr and result.stdout == ""
        return
    assert result.returncode in (0, 1, 3), result.stderr
    json.loads(result.stdout)  # exactly one document: trailing text would not parse
    assert "Traceback" not in result.stderr
