"""`wbctl services status` against a namespace holding 2,000 unrelated pods besides W&B's.

Targets (issue 3): at most 6 API requests (the fake counts them), and wall time within 1.3x
of the same command against the namespace without the 2,000 pods, measured side by side.
Both namespaces live in one in-process Kubernetes API fake (wbctl/sandbox/kube/api.py) served over
real HTTP on loopback; wbctl runs as a subprocess with the real client.

    .venv/bin/python bench/services_status.py [--rounds 15] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import Case, clean_env, interleave, machine, ms, print_table, run_main  # noqa: E402

TARGET_RATIO = 1.3
MAX_REQUESTS = 6


def main() -> int:
    from wbctl.sandbox.kube.api import FakeKubeAPI
    from wbctl.sandbox.kube.objects import chart_043, unrelated_pods

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--unrelated", type=int, default=2000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as home, FakeKubeAPI() as kube:
        kube.add_all(chart_043(namespace="busy", pods_per_service=3))
        kube.add_all(unrelated_pods(args.unrelated, namespace="busy"))
        kube.add_all(chart_043(namespace="quiet", pods_per_service=3))
        kubeconfig = kube.write_kubeconfig(Path(home) / "kubeconfig")
        command = [sys.executable, "-m", "wbctl", "services", "status", "-o", "json"]

        def env(namespace: str) -> dict[str, str]:
            return clean_env(KUBECONFIG=str(kubeconfig), WBCTL_NAMESPACE=namespace, HOME=home, XDG_CONFIG_HOME=home)

        quiet = Case("a", "namespace with the W&B workloads only", lambda _: command, env("quiet"))
        busy = Case("b", f"same + {args.unrelated} unrelated pods", lambda _: command, env("busy"))
        kube.reset_requests()
        interleave([quiet, busy], 1, 0, str(REPO), progress=False)  # one run of each, to count requests
        per_run = [r for r in kube.requests if r.resource]
        requests = len(per_run) // 2
        kube.reset_requests()
        interleave([quiet, busy], args.rounds, args.warmup, str(REPO), progress=not args.json)

    ratio = busy.median / quiet.median
    ok = ratio <= TARGET_RATIO and requests <= MAX_REQUESTS
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "requests_per_run": requests,
                    "ratio": round(ratio, 3),
                    "cases": [quiet.summary(), busy.summary()],
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"python {machine()['python']}, {machine()['cpus']} CPUs, {args.rounds} interleaved rounds\n")
    print_table(
        ("", "namespace", "median ms", "min ms", "ratio to a"),
        [
            ("a", quiet.label, ms(quiet.median), ms(quiet.minimum), "1.00"),
            ("b", busy.label, ms(busy.median), ms(busy.minimum), f"{ratio:.2f} (target <= {TARGET_RATIO})"),
        ],
    )
    print(f"\nAPI requests per `services status`: {requests} (target <= {MAX_REQUESTS})")
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
