"""docs/design.md's module map stays true: every package of wbctl, and every module of the
orchestration (app/) and configuration (config/) packages, is named there, and every path it
names exists."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "design.md"


def _map() -> str:
    text = DESIGN.read_text(encoding="utf-8")
    section = text.split("## The module map", 1)[1].split("\n## ", 1)[0]
    return section.split("```", 2)[1]


def _named() -> set[str]:
    return {match.group(0) for match in re.finditer(r"wbctl/[\w/.]+", _map())}


def _packages() -> set[str]:
    found = set()
    for init in (ROOT / "wbctl").rglob("__init__.py"):
        package = init.parent.relative_to(ROOT).as_posix() + "/"
        if package != "wbctl/":
            found.add(package)
    return found


def test_every_package_is_in_the_map() -> None:
    named = _named()
    missing = sorted(package for package in _packages() if package not in named)
    assert missing == [], f"add to docs/design.md's module map: {missing}"


def test_every_orchestration_and_config_module_is_in_the_map() -> None:
    named = _named()
    modules = [
        path.relative_to(ROOT).as_posix()
        for package in ("app", "config")
        for path in sorted((ROOT / "wbctl" / package).glob("*.py"))
        if path.name != "__init__.py" or package == "config"
    ]
    missing = [module for module in modules if module not in named]
    assert missing == [], f"add to docs/design.md's module map: {missing}"


def test_every_path_in_the_map_exists() -> None:
    gone = sorted(path for path in _named() if not (ROOT / path).exists())
    assert gone == [], f"docs/design.md's module map names what is not there: {gone}"
