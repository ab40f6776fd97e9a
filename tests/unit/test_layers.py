"""The layers hold: data flows down from the CLI, never up (docs/design.md, "Layers").

Every import in wbctl is read from the source (module level and inside functions alike, since
the SDKs are imported lazily), so an arrow that points the wrong way fails here, naming the
file and line, before it becomes a cycle or an SDK loaded where it must not be.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2] / "wbctl"
SDKS = ("kubernetes", "google", "grpc", "redis", "pymysql", "urllib3", "prometheus_client", "fakeredis", "mysql_mimic")

# layer -> the wbctl layers it must never import
FORBIDDEN = {
    "core": ("wbctl.cli", "wbctl.app", "wbctl.adapters", "wbctl.sandbox", "wbctl.config"),
    "adapters": ("wbctl.cli", "wbctl.app", "wbctl.sandbox", "wbctl.config"),
    "app": ("wbctl.cli",),
    "config": ("wbctl.cli", "wbctl.app", "wbctl.adapters", "wbctl.sandbox"),
    "sandbox": ("wbctl.cli", "wbctl.app", "wbctl.adapters"),
}
# layers that must not import an SDK themselves: they go through the adapters
NO_SDK = ("core", "app", "cli", "config")


def _imports(path: Path) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            found.append((node.lineno, node.module))
            found += [(node.lineno, f"{node.module}.{alias.name}") for alias in node.names]
    return found


def _modules(layer: str) -> list[Path]:
    return sorted((ROOT / layer).rglob("*.py"))


def _violations(layer: str, banned: tuple[str, ...]) -> list[str]:
    wrong = []
    for path in _modules(layer):
        for line, name in _imports(path):
            if name.startswith(banned) and any(name == b or name.startswith(b + ".") for b in banned):
                wrong.append(f"{path.relative_to(ROOT.parent)}:{line} imports {name}")
    return sorted(set(wrong))


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_no_layer_imports_one_above_it(layer: str) -> None:
    assert _modules(layer), f"wbctl/{layer}/ has no modules: the layer moved and this test must follow"
    assert _violations(layer, FORBIDDEN[layer]) == []


@pytest.mark.parametrize("layer", NO_SDK)
def test_only_adapters_and_the_sandbox_import_an_sdk(layer: str) -> None:
    assert _violations(layer, SDKS) == []


def test_the_checker_sees_an_upward_import(tmp_path: Path) -> None:
    """The walk finds imports inside functions too (the lazy ones are the ones that slip)."""
    module = tmp_path / "lazy.py"
    module.write_text("def f():\n    from wbctl.cli.state import session_of\n    import kubernetes.client\n")
    names = [name for _, name in _imports(module)]
    assert "wbctl.cli.state" in names and "kubernetes.client" in names
