"""The human runbooks shipped with wbctl: the `*.md` files of the repository's `runbooks/`.

An installed wheel carries them as the package data `wbctl/runbooks/*.md` (pyproject
force-includes `runbooks/` there); a source checkout or an editable install reads
`<repo>/runbooks/` instead. A runbook is named by its file stem and titled by its first `# `
heading. Names are looked up among the files found, never joined onto a path, so no name can
reach a file outside that directory.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path

from wbctl.errors import UsageError

SUFFIX = ".md"


@dataclass(frozen=True)
class Runbook:
    name: str
    title: str


def directory() -> Traversable:
    """The installed package data if there is any, else the source checkout's runbooks/."""
    packaged = resources.files("wbctl").joinpath("runbooks")
    if packaged.is_dir():
        return packaged
    return Path(__file__).resolve().parent.parent / "runbooks"


def _files() -> dict[str, Traversable]:
    root = directory()
    if not root.is_dir():
        return {}
    return {
        entry.name[: -len(SUFFIX)]: entry
        for entry in root.iterdir()
        if entry.name.endswith(SUFFIX) and not entry.name.startswith(".") and entry.is_file()
    }


def title_of(text: str, default: str) -> str:
    """The first `# ` heading outside a fenced code block, else `default`."""
    fenced = False
    for line in text.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced and line.startswith("# "):
            return line[2:].strip().rstrip("#").strip() or default
    return default


def available() -> list[Runbook]:
    """Every runbook, sorted by name."""
    return [
        Runbook(name, title_of(entry.read_text(encoding="utf-8"), name)) for name, entry in sorted(_files().items())
    ]


def _resolve(name: str) -> tuple[str, Traversable]:
    files = _files()
    stem = name[: -len(SUFFIX)] if name.endswith(SUFFIX) else name
    if stem in files:
        return stem, files[stem]
    known = sorted(files)
    if not known:
        raise UsageError(f"unknown runbook {name!r}: no runbooks were found (looked in {directory()})")
    close = difflib.get_close_matches(stem.lower(), known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    raise UsageError(f"unknown runbook {name!r}{hint}; the runbooks are: {', '.join(known)}")


def find(name: str) -> Runbook:
    """The runbook called `name` (with or without .md); UsageError naming the known ones if none is."""
    stem, entry = _resolve(name)
    return Runbook(stem, title_of(entry.read_text(encoding="utf-8"), stem))


def read(name: str) -> str:
    """The Markdown text of runbook `name`, unchanged."""
    _, entry = _resolve(name)
    return entry.read_text(encoding="utf-8")
