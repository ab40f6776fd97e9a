"""Start-up cost of wbctl against its floor, `import typer, rich`.

Targets: `import wbctl.cli`, `wbctl --version` and `wbctl --help` each take at most 1.5x the
time of `python -c "import typer, rich"` (median of interleaved rounds), and none of them loads
an SDK (kubernetes, google, grpc, pymysql, redis; also fakeredis).

    .venv/bin/python bench/startup.py [--rounds 15] [--json]

Exit status: 0 when every target is met, 1 when one is missed, 2 when a command failed.
Uses sys.executable, so it measures the interpreter (and the environment) it runs with.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile

from _common import (
    SDK_PACKAGES,
    TARGET_RATIO,
    BenchError,
    Case,
    clean_env,
    importtime,
    interleave,
    machine,
    ms,
    print_table,
    run_main,
    sdk_modules,
)

PY = sys.executable


def cases(env: dict[str, str]) -> list[Case]:
    return [
        Case("a", 'python -c "import typer, rich"', lambda _: [PY, "-c", "import typer, rich"], env),
        Case("b", 'python -c "import wbctl.cli"', lambda _: [PY, "-c", "import wbctl.cli"], env),
        Case("c", "wbctl --version", lambda _: [PY, "-m", "wbctl", "--version"], env),
        Case("d", "wbctl --help", lambda _: [PY, "-m", "wbctl", "--help"], env),
    ]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded rounds first (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    with tempfile.TemporaryDirectory(prefix="wbctl-bench-") as tmp:
        # a neutral cwd and no WBCTL_* / user config: only start-up is measured
        env = clean_env(HOME=tmp, XDG_CONFIG_HOME=f"{tmp}/config", XDG_STATE_HOME=f"{tmp}/state", COLUMNS="100")
        timed = cases(env)
        try:
            interleave(timed, args.rounds, args.warmup, tmp, progress=not args.json)
            profiles = {
                "import wbctl.cli": importtime(["-c", "import wbctl.cli"], env, tmp),
                "wbctl --version": importtime(["-m", "wbctl", "--version"], env, tmp),
                "wbctl --help": importtime(["-m", "wbctl", "--help"], env, tmp),
            }
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2

    base = timed[0]
    ratios = {case.key: case.median / base.median for case in timed[1:]}
    min_ratios = {case.key: case.minimum / base.minimum for case in timed[1:]}
    gated = {key: ratios[key] <= TARGET_RATIO for key in ("b", "c", "d")}
    sdks = {name: sdk_modules(imports) for name, imports in profiles.items()}
    top = sorted(profiles["import wbctl.cli"], key=lambda item: item.cumulative_us, reverse=True)[:10]
    ok = all(gated.values()) and not any(sdks.values())

    if args.json:
        document = {
            "machine": machine(),
            "rounds": args.rounds,
            "target_ratio": TARGET_RATIO,
            "cases": {case.key: case.summary() for case in timed},
            "ratios_median": {f"{k}/a": round(v, 3) for k, v in ratios.items()},
            "ratios_min": {f"{k}/a": round(v, 3) for k, v in min_ratios.items()},
            "targets_met": {**{f"{key}/a": met for key, met in gated.items()}, "no_sdk": not any(sdks.values())},
            "sdk_imports": sdks,
            "top_cumulative_imports": [
                {"module": i.module, "depth": i.depth, "cumulative_ms": round(i.cumulative_us / 1000, 2)} for i in top
            ],
            "ok": ok,
        }
        print(json.dumps(document, indent=2))
        return 0 if ok else 1

    m = machine()
    print(f"python {m['python']} ({m['executable']}), {m['cpus']} CPUs, {args.rounds} interleaved rounds\n")
    rows = []
    for case in timed:
        if case is base:
            ratio, verdict = "1.00", "(baseline)"
        else:
            ratio = f"{ratios[case.key]:.2f} (min {min_ratios[case.key]:.2f})"
            verdict = f"{'ok' if gated[case.key] else 'MISSED'} (target <= {TARGET_RATIO}x)"
        rows.append((case.key, case.label, ms(case.median), ms(case.minimum), ratio, verdict))
    print_table(("", "command", "median ms", "min ms", "ratio to a", "verdict"), rows)

    print("\nSDK modules imported (" + ", ".join(SDK_PACKAGES) + "):")
    for name, found in sdks.items():
        if found:
            detail = "; ".join(f"{pkg}: {len(mods)} modules (e.g. {mods[0]})" for pkg, mods in found.items())
            print(f"  {name}: MISSED - {detail}")
        else:
            print(f"  {name}: none")

    print("\nmost expensive cumulative imports of `import wbctl.cli` (python -X importtime, one run):")
    print_table(
        ("cumulative ms", "self ms", "module"),
        [(f"{i.cumulative_us / 1000:.1f}", f"{i.self_us / 1000:.1f}", "  " * i.depth + i.module) for i in top],
    )
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
