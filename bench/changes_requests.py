"""`wbctl changes` against namespaces of 10, 100 and 1,000 pods and as many Warning Events and
ReplicaSets besides W&B's: the Kubernetes requests it sends stay the same, whatever the size.

Target (issue 16): at most MAX_REQUESTS API requests per run (the fake counts them), the same
count at every size: one bounded page per list (ReplicaSets label-selected, Events by field
selector, three selectors), one GET of the resource's history, one list of Deployments and
one GET of the resource (the queue's address and its project), one API discovery. The other backends (Redis, Bigtable, Cloud Monitoring) are pointed at nothing, so
their reads fail fast and are left out of the count.

    .venv/bin/python bench/changes_requests.py [--sizes 10,100,1000] [--json]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from _common import clean_env, print_table, run_main  # noqa: E402

MAX_REQUESTS = 9


def _noise(namespace: str, size: int) -> list[dict]:
    """`size` unrelated pods, Warning Events about them, and ReplicaSets of another app."""
    from wbctl.sandbox.kube.objects import unrelated_pods

    when = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    pods = unrelated_pods(size, namespace=namespace)
    events = [
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": f"noise-{i}", "namespace": namespace},
            "involvedObject": {"kind": "Pod", "name": pod["metadata"]["name"], "namespace": namespace},
            "reason": "BackOff",
            "message": "Back-off restarting failed container",
            "type": "Warning",
            "count": 3,
            "firstTimestamp": when,
            "lastTimestamp": when,
            "source": {"component": "kubelet"},
        }
        for i, pod in enumerate(pods)
    ]
    replica_sets = [
        {
            "apiVersion": "apps/v1",
            "kind": "ReplicaSet",
            "metadata": {
                "name": f"other-{i}",
                "namespace": namespace,
                "labels": {"app.kubernetes.io/instance": "other"},
            },
            "spec": {"replicas": 0, "selector": {"matchLabels": {"app": f"other-{i}"}}, "template": {}},
        }
        for i in range(size)
    ]
    return pods + events + replica_sets


def main() -> int:
    from wbctl.sandbox.kube.api import FakeKubeAPI
    from wbctl.sandbox.kube.objects import chart_043

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10,100,1000")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(part) for part in args.sizes.split(",")]
    counts: dict[int, int] = {}
    with tempfile.TemporaryDirectory() as home, FakeKubeAPI() as kube:
        for size in sizes:
            namespace = f"ns{size}"
            kube.add_all(chart_043(namespace=namespace) + _noise(namespace, size))
        kubeconfig = kube.write_kubeconfig(Path(home) / "kubeconfig")
        for size in sizes:
            env = clean_env(
                KUBECONFIG=str(kubeconfig),
                WBCTL_NAMESPACE=f"ns{size}",
                WBCTL_REDIS_URL="redis://127.0.0.1:1/0",
                HOME=home,
                XDG_CONFIG_HOME=home,
                XDG_STATE_HOME=home,
            )
            kube.reset_requests()
            command = [sys.executable, "-m", "wbctl", "--timeout", "2", "changes", "-o", "json"]
            done = subprocess.run(command, env=env, capture_output=True, text=True, cwd=str(REPO), timeout=120)
            if done.returncode not in (0, 3):
                print(done.stderr, file=sys.stderr)
                return 2
            counts[size] = len([r for r in kube.requests if r.path.startswith(("/api", "/apis"))])
    ok = max(counts.values()) <= MAX_REQUESTS and len(set(counts.values())) == 1
    if args.json:
        print(json.dumps({"requests": counts, "max": MAX_REQUESTS, "ok": ok}))
    else:
        print_table(["pods/events/replicasets", "Kubernetes requests"], [[str(s), str(c)] for s, c in counts.items()])
        print(f"target: at most {MAX_REQUESTS}, the same at every size: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
