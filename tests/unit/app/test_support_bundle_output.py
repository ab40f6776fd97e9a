"""--output: a .tar.gz in an existing, writable directory, never an existing file without
--force; whatever the text, a path to write or one line saying why not (exit 2)."""

from __future__ import annotations

import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.app.support_bundle import check_output, write
from wbctl.core.support_bundle import FileEntry, Manifest
from wbctl.errors import UsageError

NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="/\x00"), min_size=1, max_size=30
)


@given(NAMES, st.booleans())
def test_any_name_is_a_bundle_path_or_one_line(name: str, force: bool) -> None:
    with tempfile.TemporaryDirectory() as directory:
        try:
            path = check_output(Path(directory) / name, force=force)
        except UsageError as error:
            assert "\n" not in error.message and error.message.startswith("--output")
        else:
            assert path.name.endswith((".tar.gz", ".tgz")) and path.parent == Path(directory)
            assert not path.exists() or force


def test_write_is_atomic_and_leaves_no_temporary(tmp_path: Path) -> None:
    manifest = Manifest("prod", datetime(2026, 12, 3, tzinfo=UTC), 3600, 10)
    manifest.files.append(FileEntry("check.json", "{}\n", "the check"))
    out = tmp_path / "b.tar.gz"
    out.write_text("old")
    write(manifest, out)
    with tarfile.open(out) as tar:
        assert tar.getnames() == ["b/MANIFEST", "b/check.json"]
    assert not list(tmp_path.glob(".*"))  # the temporary file was renamed
    assert out.stat().st_mode & 0o777 == 0o600


def test_a_write_that_fails_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    manifest = Manifest("prod", datetime(2026, 12, 3, tzinfo=UTC), 3600, 10)
    manifest.files.append(FileEntry("broken", None, "a producer's bug"))  # type: ignore[arg-type]
    out = tmp_path / "b.tar.gz"
    out.write_text("old")
    with pytest.raises(AttributeError):
        write(manifest, out)
    assert out.read_text() == "old" and not list(tmp_path.glob(".*"))
