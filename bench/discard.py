"""`wbctl run discard RUN --yes` end to end against a real redis-server, against its floor.

Target (the issue): `wbctl run discard X --yes` takes at most 1.5x the time of
`python -c "import typer, rich, redis"` (median of interleaved rounds). It also checks that
each discard is one compare-and-set transaction: WATCH, MULTI, SET, EXEC once per run
(from the server's INFO commandstats).

    .venv/bin/python bench/discard.py [--rounds 15] [--json]

Starts its own redis-server (--save "", loopback, a free port, removed at the end, also on
Ctrl-C); HOME and XDG_* point at a temporary directory, so the audit log and config lookup
stay out of the caller's home. Exit status: 0 when every target is met, 1 when one is missed,
2 when a command or the server failed.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import (
    TARGET_RATIO,
    BenchError,
    Case,
    clean_env,
    interleave,
    machine,
    ms,
    print_table,
    run_main,
)

PY = sys.executable
TRANSACTION = ("watch", "multi", "set", "exec")
BASE = "import typer, rich, redis"
# --breakdown: the floor plus what the discard command imports besides it (no Redis traffic)
BREAKDOWN = (
    ("a + rich.console, rich.table", BASE + "; import rich.console, rich.table"),
    (
        "a + every module the command imports",
        BASE + "; import rich.console, rich.table, wbctl.cli.run, wbctl.cli.state, wbctl.adapters.redis",
    ),
)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class RedisServer:
    """A throwaway redis-server; `stop` is safe to call more than once."""

    def __init__(self, workdir: str) -> None:
        binary = shutil.which("redis-server") or "/usr/bin/redis-server"
        if not os.path.exists(binary):
            raise BenchError("redis-server not found on PATH")
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                workdir,
                "--logfile",
                "",
            ],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # Ctrl-C reaches us, not the server; `stop` ends it
        )

    def client(self):  # redis-py: a dependency of wbctl itself, not an extra one
        import redis

        return redis.Redis.from_url(self.url, decode_responses=True, socket_timeout=5)

    def wait_ready(self, timeout: float = 10.0) -> None:
        import redis

        deadline = time.monotonic() + timeout
        while True:
            if self.proc.poll() is not None:
                raise BenchError(f"redis-server exited with {self.proc.returncode} (port {self.port} taken?)")
            try:
                with self.client() as client:
                    client.ping()
                return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise BenchError(f"redis-server on port {self.port} not ready after {timeout:g}s") from None
                time.sleep(0.05)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def commandstats(client) -> dict[str, int]:
    """command -> calls, from INFO commandstats (redis-py parses each cmdstat_* into a dict)."""
    stats = client.info("commandstats")
    return {name.removeprefix("cmdstat_"): int(value["calls"]) for name, value in stats.items()}


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=15, help="interleaved rounds (default 15)")
    parser.add_argument("--warmup", type=int, default=1, help="unrecorded rounds first (default 1)")
    parser.add_argument("--json", action="store_true", help="print the results as one JSON document")
    parser.add_argument(
        "--breakdown",
        action="store_true",
        help="also time the floor plus the command's extra imports, to see where the difference goes",
    )
    args = parser.parse_args()
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")

    # SIGTERM (e.g. a CI timeout) unwinds like Ctrl-C, so the server is stopped either way
    signal.signal(signal.SIGTERM, _interrupt)

    with tempfile.TemporaryDirectory(prefix="wbctl-bench-") as tmp:
        server: RedisServer | None = None
        try:
            server = RedisServer(tmp)
            server.wait_ready()
            env = clean_env(
                HOME=tmp,
                XDG_CONFIG_HOME=f"{tmp}/config",
                XDG_STATE_HOME=f"{tmp}/state",
                WBCTL_REDIS_URL=server.url,
            )
            timed = [
                Case("a", f'python -c "{BASE}"', lambda _: [PY, "-c", BASE], env),
                Case(
                    "b",
                    "wbctl run discard bench-run-<i> --replace --yes",
                    lambda i: [PY, "-m", "wbctl", "run", "discard", f"bench-run-{i}", "--replace", "--yes"],
                    env,
                ),
            ]
            if args.breakdown:
                timed += [
                    Case(f"a{n}", label, (lambda code: lambda _: [PY, "-c", code])(code), env)  # noqa: B023 - bound by the outer lambda
                    for n, (label, code) in enumerate(BREAKDOWN, start=1)
                ]
            with server.client() as client:
                # the warm-up discard runs too; reset the counters after it
                interleave(timed, 0, args.warmup, tmp, progress=False)
                client.config_resetstat()
                interleave(timed, args.rounds, 0, tmp, progress=not args.json)
                calls = commandstats(client)
                final = client.get("gorilla.DiscardV2UpdatesForRun")
        except BenchError as exc:
            print(f"bench: {exc}", file=sys.stderr)
            return 2
        finally:
            if server is not None:
                server.stop()
        audit = Path(tmp, "state", "wbctl", "audit.jsonl")
        records = [json.loads(line) for line in audit.read_text().splitlines()] if audit.exists() else []

    base, discard, *extra = timed
    ratio = discard.median / base.median
    min_ratio = discard.minimum / base.minimum
    calls.pop("info", None)  # our own INFO commandstats
    calls.pop("config|resetstat", None)
    per_run = {name: calls[name] / args.rounds for name in sorted(calls)}
    transaction_ok = all(per_run.get(name) == 1 for name in TRANSACTION)
    expected_final = f"bench-run-{args.rounds - 1}"
    applied = sum(1 for record in records if record.get("result") == "applied")
    consistent = final == expected_final and applied == args.rounds + args.warmup
    ok = ratio <= TARGET_RATIO and transaction_ok and consistent

    if args.json:
        document = {
            "machine": machine(),
            "rounds": args.rounds,
            "target_ratio": TARGET_RATIO,
            "cases": {case.key: case.summary() for case in timed},
            "breakdown_ms_over_a": {case.label: round((case.median - base.median) * 1000, 1) for case in extra},
            "ratio_median": round(ratio, 3),
            "ratio_min": round(min_ratio, 3),
            "commands_per_discard": per_run,
            "targets_met": {"b/a": ratio <= TARGET_RATIO, "one_transaction_per_discard": transaction_ok},
            "final_value": final,
            "audit_records_applied": applied,
            "ok": ok,
        }
        print(json.dumps(document, indent=2))
        return 0 if ok else 1

    m = machine()
    print(f"python {m['python']} ({m['executable']}), {m['cpus']} CPUs, {args.rounds} interleaved rounds\n")
    verdict = f"{'ok' if ratio <= TARGET_RATIO else 'MISSED'} (target <= {TARGET_RATIO}x)"
    print_table(
        ("", "command", "median ms", "min ms", "ratio to a", "verdict"),
        [
            ("a", base.label, ms(base.median), ms(base.minimum), "1.00", "(baseline)"),
            (
                "b",
                discard.label,
                ms(discard.median),
                ms(discard.minimum),
                f"{ratio:.2f} (min {min_ratio:.2f})",
                verdict,
            ),
        ]
        + [
            (
                case.key,
                case.label,
                ms(case.median),
                ms(case.minimum),
                f"{case.median / base.median:.2f}",
                f"breakdown: +{ms(case.median - base.median)} ms over a",
            )
            for case in extra
        ],
    )
    print("\nRedis commands per discard (INFO commandstats / rounds):")
    print_table(
        ("command", "calls", "per discard", "expected"),
        [
            (name, str(calls[name]), f"{per_run[name]:g}", "1" if name in TRANSACTION else "")
            for name in sorted(calls, key=lambda n: (n not in TRANSACTION, n))
        ]
        + [(name, "0", "0", "1") for name in TRANSACTION if name not in calls],
    )
    print(f"\none WATCH/MULTI/SET/EXEC per discard: {'ok' if transaction_ok else 'MISSED'}")
    print(
        f"key after the last round: {final!r} (expected {expected_final!r}); "
        f"audit records 'applied': {applied} (expected {args.rounds + args.warmup})"
    )
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
