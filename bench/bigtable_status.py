"""`wbctl bigtable status` with 300 ms added to every ListTimeSeries: the three signals are read
concurrently, so the command's wall time minus its import time stays under 2 x 300 ms.

Issue 4's targets: at most 2 admin calls and 1 monitoring call per signal (the fake counts
them); with 300 ms of latency per ListTimeSeries, wall time minus import time < 600 ms; and
the import time itself, reported. Measured side by side: the same command against the fake
with and without the latency (their difference is what the latency costs), and
`python -X importtime` for what the command imports.

    .venv/bin/python bench/bigtable_status.py [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import (  # noqa: E402
    Case,
    clean_env,
    interleave,
    machine,
    ms,
    parse_importtime,
    print_table,
    run_main,
)

LATENCY = 0.3
PROJECT = "wandb-prod"


def main() -> int:
    from wbctl.sandbox.google.api import FakeGoogleAPIs, demo_deployment

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    command = [sys.executable, "-m", "wbctl", "bigtable", "status", "-o", "json"]

    with tempfile.TemporaryDirectory() as home, FakeGoogleAPIs() as fast, FakeGoogleAPIs() as slow:
        for fake in (fast, slow):
            demo_deployment(fake, project=PROJECT)
        slow.latency("ListTimeSeries", LATENCY)

        def env(fake: FakeGoogleAPIs) -> dict[str, str]:
            return clean_env(
                WBCTL_GCP_EMULATOR_HOST=fake.address, WBCTL_GCP_PROJECT=PROJECT, HOME=home, XDG_CONFIG_HOME=home
            )

        plain = Case("a", "fake answering at once", lambda _: command, env(fast))
        delayed = Case("b", f"fake adding {LATENCY * 1000:.0f} ms to each ListTimeSeries", lambda _: command, env(slow))
        slow.reset_calls()
        interleave([delayed], 1, 0, str(REPO), progress=False)
        admin_calls = slow.count("GetInstance") + slow.count("ListClusters")
        monitoring_calls = slow.count("ListTimeSeries")
        interleave([plain, delayed], args.rounds, args.warmup, str(REPO), progress=not args.json)
        traced = subprocess.run(
            [sys.executable, "-X", "importtime", "-m", "wbctl", "bigtable", "status", "-o", "json"],
            env=env(fast),
            cwd=REPO,
            capture_output=True,
            text=True,
            check=True,
        )
    imports = parse_importtime(traced.stderr)
    import_s = sum(i.self_us for i in imports) / 1e6
    google_s = sum(i.self_us for i in imports if i.module.split(".")[0] in {"google", "grpc", "proto"}) / 1e6
    latency_cost = delayed.median - plain.median
    over_imports = delayed.median - import_s
    ok = admin_calls <= 2 and monitoring_calls <= 3 and over_imports < 2 * LATENCY
    result = {
        "machine": machine(),
        "admin_calls": admin_calls,
        "monitoring_calls": monitoring_calls,
        "import_s": round(import_s, 3),
        "google_import_s": round(google_s, 3),
        "latency_cost_s": round(latency_cost, 3),
        "wall_minus_import_s": round(over_imports, 3),
        "cases": [plain.summary(), delayed.summary()],
        "ok": ok,
    }
    if args.json:
        print(json.dumps(result, indent=2))
        return 0 if ok else 1
    print(f"python {machine()['python']}, {machine()['cpus']} CPUs, {args.rounds} interleaved rounds\n")
    print_table(
        ("", "case", "median ms", "min ms"), [(c.key, c.label, ms(c.median), ms(c.minimum)) for c in (plain, delayed)]
    )
    print(
        f"\nwall time of b minus the command's import time: {ms(over_imports)} ms (target < {2 * LATENCY * 1000:.0f} ms)"
    )
    print(
        f"what three signals x {LATENCY * 1000:.0f} ms cost (b - a): {ms(latency_cost)} ms (concurrent: about one latency)"
    )
    print(
        f"import time of the command (-X importtime, self times summed): {ms(import_s)} ms, of which Google/gRPC/proto {ms(google_s)} ms"
    )
    print(
        f"admin calls: {admin_calls} (target <= 2); ListTimeSeries calls: {monitoring_calls} (target: 1 per signal, 3)"
    )
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
