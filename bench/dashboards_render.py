"""`wbctl dashboards grafana|datadog|cloud-monitoring` start as fast as `wbctl --version` plus
the rendering itself (issue 21), and load no SDK: they read settings only.

Target: each command's median is at most 1.25x (median of `wbctl --version` + the median time
of the same rendering in-process), and no SDK module (kubernetes, google, grpc, pymysql, redis,
fakeredis) is imported by any of them.

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
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
    rendering = render_seconds(max(args.rounds, 5))
    base = timed[0].median
    rows, met, document = [], {}, {}
    for case, fmt in zip(timed[1:], FORMATS):
        allowed = TARGET * (base + rendering[fmt])
        met[fmt] = case.median <= allowed
        sdks = sdk_modules(profiles[fmt])
        met[f"{fmt} no SDK"] = not sdks
        ratio = case.median / (base + rendering[fmt])
        document[fmt] = {
            "median_s": case.median,
            "render_s": rendering[fmt],
            "ratio_to_version_plus_render": round(ratio, 3),
            "sdk": sdks,
        }
        rows.append(
            (
                case.key,
                case.label,
                ms(case.median),
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
    print_table(("", "command", "median ms", "render ms", "ratio to version+render", f"verdict (<= {TARGET}x)"), rows)
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
