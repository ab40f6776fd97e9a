"""The process environment wbctl runs in, as one object that tests replace.

Modelled on httpie's `Environment`: streams, terminal detection, environment variables,
the clock and the OS user are read here and nowhere else, so a test can run the whole CLI
in-process with a fake terminal, a fixed clock and its own variables.
"""

from __future__ import annotations

import getpass
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no passwd entry (containers): still audit something useful
        return str(os.getuid()) if hasattr(os, "getuid") else "unknown"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


@dataclass
class Environment:
    environ: Mapping[str, str] = field(default_factory=lambda: dict(os.environ))
    stdin: TextIO = field(default_factory=lambda: sys.stdin)
    stdout: TextIO = field(default_factory=lambda: sys.stdout)
    stderr: TextIO = field(default_factory=lambda: sys.stderr)
    stdin_isatty: bool | None = None
    stdout_isatty: bool | None = None
    stderr_isatty: bool | None = None
    now: Callable[[], datetime] = _utcnow
    user: Callable[[], str] = _os_user
    sleep: Callable[[float], None] = time.sleep  # the sandbox's runs on its compressed clock

    def __post_init__(self) -> None:
        if self.stdin_isatty is None:
            self.stdin_isatty = _isatty(self.stdin)
        if self.stdout_isatty is None:
            self.stdout_isatty = _isatty(self.stdout)
        if self.stderr_isatty is None:
            self.stderr_isatty = _isatty(self.stderr)

    @property
    def home(self) -> Path:
        return Path(self.environ.get("HOME") or Path.home())

    def xdg_dir(self, variable: str, default: str) -> Path:
        value = self.environ.get(variable)
        return Path(value) if value else self.home / default

    @property
    def no_color(self) -> bool:
        return bool(self.environ.get("NO_COLOR"))
