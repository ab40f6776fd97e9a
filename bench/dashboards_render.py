"""`wbctl dashboards grafana|datadog|cloud-monitoring` start as fast as `wbctl --version` plus
the rendering itself (issue 21), and load no SDK: they read settings only.

"The rendering" is the work the command does once started, timed in a fresh interpreter that has
imported `wbctl.cli` as `--version` has: load the settings, build the alerts' settings, render,
serialise (`work`, its imports included, since a command pays them once). The pure rendering,
warm, is shown beside it (`render`). Target: each command's median is at most 1.25x
(`wbctl --version` + `work`), medians of interleaved rounds; and no SDK module (kubernetes,
google, grpc, pymysql, redis, fakeredis) is imported by any of them.

    .venv/bin/python bench/dashboards_render.py [--rounds 15] [--json]

Exit status: 0 when every target is met, 1 when one is missed, 2 when a command failed.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time

from _common import BenchError, Case, clean_env, importtime, interleave, machine, ms, print_table, run_main, sdk_modules

PY = sys.executable
FORMATS = ("grafana", "datadog", "cloud-monitoring")
TARGET = 1.25


WORK = """
import json, sys, time
import wbctl.cli
from wbctl.environment import Environment
start = time.perf_counter()
from wbctl.app.alert_settings import alert_settings
from wbctl.app.session import Session
from wbctl.core import dashboards
session = Session(env=Environment(), argv=[])
json.dumps(dashboards.render(sys.argv[1], alert_settings(session, locate=False)), indent=2)
print(time.perf_counter() - start)
"""


def work_seconds(fmt: str, env: dict[str, str], cwd: str, rounds: int) -> float:
    """The command's work after start-up, in a fresh interpreter each time (median)."""
    import subprocess

    times = []
    for _ in range(rounds):
        done = subprocess.run([PY, "-c", WORK, fmt], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)
        if done.returncode != 0:
            raise BenchError(f"the work of {fmt} failed: {done.stderr.strip()[-300:]}")
        times.append(float(done.stdout))
    return statistics.median(times)


def render_seconds(rounds: int) -> dict[str, float]:
    """The rendering alone, in this process (imports paid once, before the clock starts)."""
    from wbctl.core import dashboards
    from wbctl.core.dashboards.reference import docs_settings

    settings = docs_settings()
    found = {}
    for fmt in FORMATS:
        dashboards.render(fmt, settings)
        times = []
        for _ in range(rounds):
            start = time.perf_counter()
            json.dumps(dashboards.render(fmt, settings), indent=2)
            times.append(time.perf_counter() - start)
        found[fmt] = statistics.median(times)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded rounds first (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    with tempfile.TemporaryDirectory(prefix="wbctl-bench-") as tmp:
        env = clean_env(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_STATE_HOME=f"{tmp}/state", COLUMNS="100")
        timed = [Case("a", "wbctl --version", lambda _: [PY, "-m", "wbctl", "--version"], env)]
        timed += [
            Case(
                chr(ord("b") + n), f"wbctl dashboards {fmt}", lambda _, f=fmt: [PY, "-m", "wbctl", "dashboards", f], env
            )
            for n, fmt in enumerate(FORMATS)
        ]
        try:
            interleave(timed, args.rounds, args.warmup, tmp, progress=not args.json)
            profiles = {fmt: importtime(["-m", "wbctl", "dashboards", fmt], env, tmp) for fmt in FORMATS}
            work = {fmt: work_seconds(fmt, env, tmp, max(args.rounds // 2, 3)) for fmt in FORMATS}
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
    rendering = render_seconds(max(args.rounds, 5))
    base = timed[0].median
    rows, met, document = [], {}, {}
    for case, fmt in zip(timed[1:], FORMATS):
        allowed = TARGET * (base + work[fmt])
        met[fmt] = case.median <= allowed
        sdks = sdk_modules(profiles[fmt])
        met[f"{fmt} no SDK"] = not sdks
        ratio = case.median / (base + work[fmt])
        document[fmt] = {
            "median_s": case.median,
            "work_s": work[fmt],
            "render_s": rendering[fmt],
            "ratio_to_version_plus_work": round(ratio, 3),
            "sdk": sdks,
        }
        rows.append(
            (
                case.key,
                case.label,
                ms(case.median),
                ms(work[fmt]),
                ms(rendering[fmt]),
                f"{ratio:.2f}",
                ("ok" if met[fmt] else "MISSED") + ("" if not sdks else f", SDK: {', '.join(sdks)}"),
            )
        )
    ok = all(met.values())
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "rounds": args.rounds,
                    "version_median_s": base,
                    "target": TARGET,
                    "formats": document,
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    m = machine()
    print(f"python {m['python']}, {m['cpus']} CPUs, {args.rounds} interleaved rounds; wbctl --version: {ms(base)} ms\n")
    print_table(
        ("", "command", "median ms", "work ms", "render ms", "ratio to version+work", f"verdict (<= {TARGET}x)"), rows
    )
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
