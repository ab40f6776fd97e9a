"""Shell completion's callbacks: service names from the catalog, context names from the config
file; a broken or missing file completes nothing and raises nothing."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
import typer
from typer._completion_classes import BashComplete

from wbctl.cli import app
from wbctl.cli.completion import complete_context
from wbctl.cli.options import complete_service
from wbctl.core.catalog import CATALOG

# --- services ------------------------------------------------------------------------------


def test_every_service_in_both_forms_with_its_role() -> None:
    offered = dict(complete_service(""))
    assert len(offered) == 2 * len(CATALOG)
    for spec in CATALOG:
        assert offered[spec.name] == offered[spec.short] == spec.role


@pytest.mark.parametrize(
    ("incomplete", "names"),
    [
        ("wandb-a", ["wandb-api", "wandb-app"]),
        ("a", ["api", "app"]),
        ("wandb-flat", ["wandb-flat-run-fields-updater"]),
        ("parquet", ["parquet", "parquet-backfill"]),
        ("w", ["wandb-" + spec.short for spec in sorted(CATALOG, key=lambda s: s.short)] + ["weave"]),
        ("nope", []),
    ],
)
def test_services_by_prefix(incomplete: str, names: list[str]) -> None:
    assert [name for name, _ in complete_service(incomplete)] == sorted(names)


# --- contexts ------------------------------------------------------------------------------


def ctx(**params: str) -> SimpleNamespace:
    root = SimpleNamespace(params=params)
    root.find_root = lambda: root
    return root


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_contexts_from_the_default_file(isolated_env: Path) -> None:
    write(
        isolated_env / ".config" / "wbctl" / "config.toml",
        'current-context = "prod"\n[contexts.prod]\n[contexts.staging]\nread-only = true\n[contexts."eu prod"]\n',
    )
    assert complete_context(ctx(), "") == ["eu prod", "prod", "staging"]
    assert complete_context(ctx(), "st") == ["staging"]
    assert complete_context(ctx(), "x") == []


def test_contexts_from_config_option_then_environment(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(isolated_env / ".config" / "wbctl" / "config.toml", "[contexts.default-file]\n")
    from_env = write(isolated_env / "env.toml", "[contexts.from-env]\n")
    from_flag = write(isolated_env / "flag.toml", "[contexts.from-flag]\n")
    monkeypatch.setenv("WBCTL_CONFIG", str(from_env))
    assert complete_context(ctx(), "") == ["from-env"]
    assert complete_context(ctx(config=str(from_flag)), "") == ["from-flag"]


@pytest.mark.parametrize(
    "text",
    [
        "[contexts.prod\n",  # not TOML
        "contexts = 3\n",  # not a table
        "current-context = 'x'\n",  # no contexts
        "",
    ],
)
def test_a_broken_or_empty_file_completes_nothing(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch, text: str
) -> None:
    monkeypatch.setenv("WBCTL_CONFIG", str(write(isolated_env / "c.toml", text)))
    assert complete_context(ctx(), "") == []


def test_an_unreadable_or_missing_file_completes_nothing(isolated_env: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WBCTL_CONFIG", str(isolated_env / "missing.toml"))
    assert complete_context(ctx(), "") == []
    monkeypatch.setenv("WBCTL_CONFIG", str(isolated_env))  # a directory
    assert complete_context(ctx(), "") == []
    (isolated_env / "binary.toml").write_bytes(b"\xff\xfe[contexts.x]")
    monkeypatch.setenv("WBCTL_CONFIG", str(isolated_env / "binary.toml"))
    assert complete_context(ctx(), "") == []
    assert complete_context(None, "") == []  # type: ignore[arg-type]


# --- the callbacks are attached where the shell asks ----------------------------------------


def completions(args: list[str], incomplete: str) -> list[str]:
    from wbctl.cli import Invocation
    from wbctl.environment import Environment

    command = typer.main.get_command(app)
    complete = BashComplete(command, {"obj": Invocation(Environment(), [], False)}, "wbctl", "_WBCTL_COMPLETE")
    return [item.value for item in complete.get_completions(args, incomplete)]


@pytest.mark.parametrize("subcommand", ["status", "scale", "autoscale"])
def test_service_argument_completes(subcommand: str) -> None:
    assert completions(["services", subcommand], "wandb-ap") == ["wandb-api", "wandb-app"]
    assert completions(["services", subcommand], "glu") == ["glue"]


def test_context_option_completes(isolated_env: Path) -> None:
    config = write(isolated_env / "c.toml", "[contexts.prod]\n[contexts.qa]\n")
    assert completions(["--config", str(config), "--context"], "") == ["prod", "qa"]
    assert completions(["--context"], "") == []  # no default file here


def test_use_context_completes_context_names(isolated_env: Path) -> None:
    config = write(isolated_env / "c.toml", "[contexts.prod]\n[contexts.qa]\n")
    assert completions(["--config", str(config), "config", "use-context"], "") == ["prod", "qa"]
    assert completions(["--config", str(config), "config", "use-context"], "q") == ["qa"]


def test_scenario_option_completes_the_stories() -> None:
    from wbctl.sandbox.sim.scenarios import SCENARIOS

    assert completions(["--sandbox", "--scenario"], "") == sorted(SCENARIOS)
    assert completions(["--scenario"], "mis") == ["misconfigured"]


def test_runbook_show_completes_the_runbook_names() -> None:
    from wbctl import runbooks

    names = [runbook.name for runbook in runbooks.available()]
    assert names and completions(["runbook", "show"], "") == names
    assert completions(["runbook", "show"], "queue") == [name for name in names if name.startswith("queue")]


# --- Bigtable clusters ------------------------------------------------------------------------


def test_clusters_of_the_current_context_from_a_local_emulator(isolated_env: Path, google_api) -> None:
    from wbctl.sandbox.google.api import demo_deployment

    demo_deployment(google_api, project="p1")
    config = write(
        isolated_env / "c.toml",
        f'current-context = "emu"\n[contexts.emu]\ngcp-project = "p1"\ngcp-emulator-host = "{google_api.address}"\n'
        '[contexts.named]\nbigtable-cluster = "my-c2"\n',
    )
    assert completions(["--config", str(config), "bigtable", "autoscale", "--cluster"], "") == ["wandb-bigtable-c1"]
    assert completions(["--config", str(config), "bigtable", "scale", "--cluster"], "x") == []
    named = ["--config", str(config), "--context", "named", "bigtable", "scale", "--cluster"]
    assert completions(named, "") == ["my-c2"]  # a real instance is not asked: the configured one
    assert completions(["--config", str(isolated_env / "none.toml"), "bigtable", "scale", "--cluster"], "") == []
