"""Shared helpers of the benchmarks: interleaved timing of subprocesses, statistics, tables.

Standard library only. Not a test: it measures, prints, and exits non-zero when a target
is missed.
"""

from __future__ import annotations

import os
import shlex
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

TARGET_RATIO = 1.5
# the issue names the first five; fakeredis (the sandbox's server) is as heavy and as unwanted at start-up
SDK_PACKAGES = ("kubernetes", "google", "grpc", "pymysql", "redis", "fakeredis")


@dataclass
class Case:
    """One command to time. `argv` may depend on the round number (e.g. a fresh run id)."""

    key: str
    label: str
    argv: Callable[[int], Sequence[str]]
    env: Mapping[str, str] | None = None
    times: list[float] = field(default_factory=list)

    @property
    def median(self) -> float:
        return statistics.median(self.times)

    @property
    def minimum(self) -> float:
        return min(self.times)

    def summary(self) -> dict[str, object]:
        return {
            "label": self.label,
            "command": shlex.join(self.argv(0)),
            "rounds": len(self.times),
            "median_s": round(self.median, 4),
            "min_s": round(self.minimum, 4),
            "max_s": round(max(self.times), 4),
            "times_s": [round(t, 4) for t in self.times],
        }


class BenchError(Exception):
    pass


def run_once(case: Case, round_number: int, cwd: str) -> float:
    """Wall time of one run of `case`, from spawn to exit; fails loudly on a non-zero exit."""
    argv = list(case.argv(round_number))
    start = time.perf_counter()
    proc = subprocess.run(
        argv,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(case.env) if case.env is not None else None,
        cwd=cwd,
    )
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        stderr = proc.stderr.decode(errors="replace").strip()
        raise BenchError(f"{' '.join(argv)} exited {proc.returncode}: {stderr}")
    return elapsed


def interleave(cases: Sequence[Case], rounds: int, warmup: int, cwd: str, progress: bool) -> None:
    """A, B, C, A, B, C, ...: noise on a shared machine hits every case alike."""
    for number in range(warmup):  # fill __pycache__ and the page cache; not recorded
        for case in cases:
            run_once(case, -1 - number, cwd)
    for number in range(rounds):
        for case in cases:
            case.times.append(run_once(case, number, cwd))
        if progress:
            print(f"\rround {number + 1}/{rounds}", end="", file=sys.stderr, flush=True)
    if progress:
        print(file=sys.stderr)


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f}"


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    for row in (headers, *rows):
        print("  ".join(str(cell).ljust(width) for width, cell in zip(widths, row)).rstrip())


def clean_env(**extra: str) -> dict[str, str]:
    """The caller's environment without WBCTL_* or import-profiling variables, plus `extra`."""
    env = {
        name: value
        for name, value in os.environ.items()
        if not name.startswith("WBCTL_") and name not in {"PYTHONPROFILEIMPORTTIME", "PYTHONDONTWRITEBYTECODE"}
    }
    env.update(extra)
    return env


def machine() -> dict[str, object]:
    import platform

    return {
        "python": sys.version.split()[0],
        "executable": sys.executable,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
    }


# --- -X importtime ---------------------------------------------------------------------


@dataclass(frozen=True)
class Import:
    module: str
    depth: int
    self_us: int
    cumulative_us: int


def parse_importtime(stderr: str) -> list[Import]:
    """The `import time: self | cumulative | name` lines of `python -X importtime`."""
    imports: list[Import] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3 or not parts[0].strip().isdigit():
            continue  # the header line
        name = parts[2].rstrip()
        stripped = name.lstrip()
        depth = (len(name) - len(stripped) - 1) // 2
        imports.append(Import(stripped, depth, int(parts[0]), int(parts[1])))
    return imports


def importtime(argv: Sequence[str], env: Mapping[str, str], cwd: str) -> list[Import]:
    proc = subprocess.run(
        [sys.executable, "-X", "importtime", *argv],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        env=dict(env),
        cwd=cwd,
        text=True,
    )
    if proc.returncode != 0:
        raise BenchError(f"python -X importtime {' '.join(argv)} exited {proc.returncode}: {proc.stderr[-2000:]}")
    return parse_importtime(proc.stderr)


def sdk_modules(imports: Sequence[Import]) -> dict[str, list[str]]:
    """SDK package -> the modules of it that were imported (empty dict: none)."""
    found: dict[str, list[str]] = {}
    for item in imports:
        top = item.module.split(".", 1)[0]
        if top in SDK_PACKAGES:
            found.setdefault(top, []).append(item.module)
    return found


def run_main(main: Callable[[], int]) -> None:
    """Exit with main()'s status; Ctrl-C ends a benchmark with 130 and one line."""
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        sys.exit(130)
