from pathlib import Path

from wbctl.cli.reference import render

DOCS = Path(__file__).resolve().parents[3] / "docs" / "cli.md"


def test_cli_reference_is_current() -> None:
    assert DOCS.read_text() == render(), "docs/cli.md is stale: run python -m wbctl.cli.reference > docs/cli.md"


def test_reference_covers_every_command() -> None:
    text = render()
    for title in (
        "wbctl redis tune",
        "wbctl run discard",
        "wbctl run discarded",
        "wbctl run restore",
        "wbctl config show",
    ):
        assert f"## `{title}`" in text
    assert "`--set` KEY=VALUE (repeatable)" in text
