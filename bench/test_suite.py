"""The whole test suite, today's tree against an earlier revision, on the same machine.

Issue 18's target: the suite at least 3x faster than it was before the in-process `wbctl`
fixture and pytest-xdist. The earlier revision (default a2bb600, the last commit before the
refactor) is checked out into a temporary git worktree and its suite run with its own code
first on the path (PYTHONPATH, so its `python -m wbctl` subprocesses run its code too) in this
venv; then today's suite runs as README's test command runs it (`-n 3`). With `--rounds 2` or
more the two alternate (base, now, now, base, ...) so load on a shared machine hits both alike.
Today's suite must pass (exit 2 otherwise: a failing suite is no measurement); the earlier one
may have failures of its own (on this machine a2bb600's Ctrl-C, pty and `sandbox serve` export
tests fail when run one after another in one process), which are reported beside its time, but
not an error or a collection failure. Exit 1 when the ratio misses 3x.

    .venv/bin/python bench/test_suite.py              # about 15 min on 2 cores
    .venv/bin/python bench/test_suite.py --base REV --workers 3 --rounds 2 --json
    .venv/bin/python bench/test_suite.py tests/unit  # a part of it, the same paths in both trees
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET = 3.0


def _suite(cwd: Path, args: list[str], pythonpath: Path | None, *, must_pass: bool) -> tuple[float, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith("WBCTL_")}
    if pythonpath is not None:
        env["PYTHONPATH"] = str(pythonpath)
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - start
    last = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
    if done.returncode not in (0, 1) or (must_pass and done.returncode != 0):
        raise SystemExit(f"bench/test_suite.py: the suite in {cwd} failed ({last}); no measurement")
    return seconds, last


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="a2bb600", help="the earlier revision (default a2bb600)")
    parser.add_argument("--workers", default="3", help="today's -n (default 3, as in README's test command)")
    parser.add_argument("--rounds", type=int, default=1, help="runs of each, alternating (default 1)")
    parser.add_argument("--json", action="store_true", help="one JSON document on stdout")
    parser.add_argument(
        "paths", nargs="*", help="test paths, the same in both trees (default: the whole suite), e.g. tests/unit"
    )
    options = parser.parse_args()
    times: dict[str, list[float]] = {"base": [], "now": []}
    lines: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="wbctl-bench-suite-") as scratch:
        base = Path(scratch) / "base"
        subprocess.run(
            ["git", "worktree", "add", "--detach", str(base), options.base], cwd=ROOT, check=True, capture_output=True
        )
        try:
            for round_number in range(options.rounds):
                order = ("base", "now") if round_number % 2 == 0 else ("now", "base")
                for which in order:
                    if which == "base":
                        seconds, lines["base"] = _suite(base, options.paths, pythonpath=base, must_pass=False)
                    else:
                        seconds, lines["now"] = _suite(
                            ROOT, ["-n", options.workers, *options.paths], pythonpath=None, must_pass=True
                        )
                    times[which].append(seconds)
                    print(f"{which}: {seconds:,.0f} s  {lines[which]}", file=sys.stderr)
        finally:
            subprocess.run(["git", "worktree", "remove", "--force", str(base)], cwd=ROOT, capture_output=True)
    base_s, now_s = statistics.median(times["base"]), statistics.median(times["now"])
    ratio = base_s / now_s
    result = {
        "base": {
            "revision": options.base,
            "median_s": round(base_s, 1),
            "times_s": times["base"],
            "tests": lines["base"],
        },
        "now": {
            "workers": options.workers,
            "median_s": round(now_s, 1),
            "times_s": times["now"],
            "tests": lines["now"],
        },
        "ratio": round(ratio, 2),
        "target": TARGET,
        "met": ratio >= TARGET,
    }
    if options.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"{'suite':<8}{'median':>10}  tests")
        print(f"{'base':<8}{base_s:>9,.0f}s  {lines['base']}  ({options.base})")
        print(f"{'now':<8}{now_s:>9,.0f}s  {lines['now']}  (-n {options.workers})")
        print(f"ratio {ratio:.2f}x (target >= {TARGET:g}x): {'met' if result['met'] else 'MISSED'}")
    return 0 if result["met"] else 1


if __name__ == "__main__":
    sys.exit(main())
