"""The built wheel carries the runbooks (pyproject force-includes runbooks/ as wbctl/runbooks),
and an installed wbctl reads them from there, not from a source checkout.

The wheel is built by pip with hatchling, the build backend: offline with --no-build-isolation
when hatchling is importable here, else in pip's isolated build environment (which fetches
hatchling from the configured index, as `pip install -e .` did). It is installed with
`--no-deps --no-index` into a fresh venv made in tmp_path; the dependencies (typer, rich, ...)
come from this interpreter's site-packages through a .pth file of plain paths, which Python
appends to sys.path without processing the .pth files inside them, so the editable install's
path to the source tree never gets in.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _run(args: list[str | Path], **options) -> subprocess.CompletedProcess[str]:
    completed = subprocess.run([str(a) for a in args], capture_output=True, text=True, timeout=180, **options)
    assert completed.returncode == 0, f"{args}: {completed.stdout}{completed.stderr}"
    return completed


def _build_wheel(dist: Path) -> Path:
    command: list[str | Path] = [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist]
    if importlib.util.find_spec("hatchling") is not None:
        command.append("--no-build-isolation")  # offline: the backend is right here
    _run([*command, ROOT])
    (wheel,) = dist.glob("wbctl-*.whl")
    return wheel


@pytest.mark.slow
def test_the_installed_wheel_reads_its_own_runbooks(tmp_path: Path) -> None:
    wheel = _build_wheel(tmp_path / "dist")
    shipped = {name for name in zipfile.ZipFile(wheel).namelist() if name.startswith("wbctl/runbooks/")}
    assert shipped == {f"wbctl/runbooks/{path.name}" for path in (ROOT / "runbooks").glob("*.md")}

    venv = tmp_path / "venv"
    _run([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "-q", wheel])
    purelib = Path(_run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip())
    dependencies = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (purelib / "wbctl-test-dependencies.pth").write_text("".join(f"{path}\n" for path in dependencies))

    cwd = tmp_path / "elsewhere"  # outside the repository: nothing of it on sys.path
    cwd.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "PYTHONHOME", "PYTHONSAFEPATH"}}

    where = _run(
        [python, "-c", "import wbctl, wbctl.runbooks as r; print(wbctl.__file__); print(r.directory())"],
        cwd=cwd,
        env=env,
    ).stdout.splitlines()
    for path in where:
        assert Path(path).resolve().is_relative_to(purelib.resolve()), where
        assert not Path(path).resolve().is_relative_to(ROOT), where

    wbctl = venv / "bin" / "wbctl"  # the console script the wheel installed
    shown = _run([wbctl, "runbook", "show", "noisy-run"], cwd=cwd, env=env)
    assert shown.stdout == (ROOT / "runbooks" / "noisy-run.md").read_text()

    listed = json.loads(_run([wbctl, "runbook", "list", "-o", "json"], cwd=cwd, env=env).stdout)
    assert [book["name"] for book in listed["runbooks"]] == sorted(
        path.stem for path in (ROOT / "runbooks").glob("*.md")
    )
