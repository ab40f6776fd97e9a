"""`config get-contexts` and `config use-context`, as kubectl has them: the list with the
context in use marked, and a switch that rewrites only the current-context line."""

from __future__ import annotations

from pathlib import Path

FILE = """\
# team file
current-context = "prod"  # careful

[contexts.prod]
namespace = "wandb"
kube-context = "gke_p"
read-only = true

[contexts.staging]
instance = "wb"
"""


def write(isolated_env: Path, text: str = FILE) -> Path:
    path = isolated_env / ".config" / "wbctl" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_get_contexts_marks_the_one_in_use(wbctl, isolated_env: Path) -> None:
    write(isolated_env)
    result = wbctl("config", "get-contexts")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == ["CURRENT", "NAME", "NAMESPACE", "INSTANCE", "KUBE-CONTEXT", "READ-ONLY"]
    assert lines[1].split() == ["*", "prod", "wandb", "-", "gke_p", "true"]
    assert lines[2].split() == ["staging", "-", "wb", "-", "false"]
    document = wbctl("--context", "staging", "config", "get-contexts", "-o", "json").json()
    assert document["current-context"] == "prod"
    assert [(row["name"], row["current"]) for row in document["contexts"]] == [("prod", False), ("staging", True)]


def test_use_context_rewrites_only_the_current_context_line(wbctl, isolated_env: Path) -> None:
    path = write(isolated_env)
    result = wbctl("config", "use-context", "staging")
    assert result.returncode == 0, result.stderr
    assert "switched to context 'staging'" in result.stderr
    assert path.read_text() == FILE.replace('current-context = "prod"  # careful', 'current-context = "staging"')
    assert wbctl("config", "show", "-o", "json").json()["context"] == "staging"


def test_use_context_fixes_a_current_context_that_names_no_context(wbctl, isolated_env: Path) -> None:
    path = write(isolated_env, FILE.replace('"prod"  # careful', '"gone"'))
    assert wbctl("config", "show").returncode == 2
    assert wbctl("config", "use-context", "prod").returncode == 0
    assert 'current-context = "prod"' in path.read_text()


def test_an_unknown_context_is_one_line_exit_2_and_nothing_written(wbctl, isolated_env: Path) -> None:
    path = write(isolated_env)
    result = wbctl("config", "use-context", "prdo")
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        f"wbctl: error: unknown context 'prdo' in {path} (known: prod, staging): nothing was changed"
    ]
    assert path.read_text() == FILE
    result = wbctl("config", "use-context", "x")  # no file at all
    assert result.returncode == 2 and result.stderr.count("\n") == 1


def test_no_file_lists_no_contexts(wbctl) -> None:
    result = wbctl("config", "get-contexts", "-o", "json")
    assert result.returncode == 0 and result.json()["contexts"] == []
