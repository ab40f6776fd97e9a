"""A Session over string streams and a settings environment of the test's choosing."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest

from wbctl.app.session import Session
from wbctl.environment import Environment


@pytest.fixture
def make_session(tmp_path: Path) -> Callable[..., Session]:
    def make(argv: tuple[str, ...] = ("check",), **variables: str) -> Session:
        environ = {
            "HOME": str(tmp_path),
            "XDG_CONFIG_HOME": str(tmp_path / "config"),
            "XDG_STATE_HOME": str(tmp_path / "state"),
            "NO_COLOR": "1",
            "COLUMNS": "200",
            **variables,
        }
        env = Environment(
            environ=environ,
            stdin=io.StringIO(),
            stdout=io.StringIO(),
            stderr=io.StringIO(),
            stdin_isatty=False,
            stdout_isatty=False,
            stderr_isatty=False,
        )
        return Session(env=env, argv=list(argv))

    return make
