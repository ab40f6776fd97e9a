"""docs/dashboards.md's panel table is the catalogue's: regenerate it with
`python -m wbctl.core.dashboards.reference` when a signal changes."""

from __future__ import annotations

from pathlib import Path

from wbctl.core.dashboards import reference
from wbctl.core.signals import catalogue

DOC = Path(__file__).parents[4] / "docs" / "dashboards.md"


def test_the_docs_table_is_the_catalogues() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, end = text.index(reference.BEGIN), text.index(reference.END) + len(reference.END)
    assert text[start:end] == reference.markdown(reference.docs_settings())


def test_every_signal_has_a_row_naming_its_step_and_alerts() -> None:
    table = reference.markdown(reference.docs_settings())
    for signal in catalogue(reference.docs_settings()):
        [row] = [line for line in table.splitlines() if f"(`{signal.id}`," in line]
        assert signal.step.heading in row
        assert all(f"`{alert}`" in row for alert in signal.alerts)


def test_unconfirmed_names_are_marked_and_listed() -> None:
    text = DOC.read_text(encoding="utf-8")
    unconfirmed = [s for s in catalogue(reference.docs_settings()) if not s.confirmed]
    assert unconfirmed
    for signal in unconfirmed:
        [row] = [line for line in text.splitlines() if f"(`{signal.id}`," in line]
        assert "Not confirmed in W&B's public sources" in row
