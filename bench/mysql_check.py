"""`wbctl mysql check` against a local MariaDB, next to `mysql -e 'SHOW GLOBAL VARIABLES'`.

Issue 5: the check makes one round trip for the variables (counted from the server's
Com_show_variables), and its wall time is reported beside the mysql client's, interleaved.

    .venv/bin/python bench/mysql_check.py [--rounds 15] [--json]
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


def main() -> int:
    from tests.mariadb import PASSWORD, MariaDBServer

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    server = MariaDBServer(tls=False).start()
    try:
        with tempfile.TemporaryDirectory() as home:
            env = clean_env(WBCTL_MYSQL_URL=server.url, WBCTL_MYSQL_PASSWORD=PASSWORD, HOME=home, XDG_CONFIG_HOME=home)
            client = Case(
                "a",
                "mysql -e 'SHOW GLOBAL VARIABLES'",
                lambda _: [
                    "mysql",
                    "-h",
                    "127.0.0.1",
                    "-P",
                    str(server.port),
                    "-u",
                    "wandb",
                    f"-p{PASSWORD}",
                    "-e",
                    "SHOW GLOBAL VARIABLES",
                ],
                env,
            )
            # exit 1 is the check's verdict on the fixture's wrong flags: time it all the same
            wbctl = Case(
                "b",
                "wbctl mysql check",
                lambda _: ["sh", "-c", f"{sys.executable} -m wbctl mysql check >/dev/null; test $? -le 1"],
                env,
            )
            with server.root_connection() as root, root.cursor() as cursor:
                cursor.execute("SHOW GLOBAL STATUS LIKE 'Com_show_variables'")
                before = int(cursor.fetchone()[1])
                interleave([wbctl], 1, 0, str(REPO), progress=False)
                cursor.execute("SHOW GLOBAL STATUS LIKE 'Com_show_variables'")
                round_trips = int(cursor.fetchone()[1]) - before
            interleave([client, wbctl], args.rounds, args.warmup, str(REPO), progress=not args.json)
    finally:
        server.stop()
        server.cleanup()
    ok = round_trips == 1
    if args.json:
        print(
            json.dumps(
                {
                    "machine": machine(),
                    "show_variables_per_check": round_trips,
                    "cases": [client.summary(), wbctl.summary()],
                    "ok": ok,
                },
                indent=2,
            )
        )
        return 0 if ok else 1
    print(f"python {machine()['python']}, {machine()['cpus']} CPUs, {args.rounds} interleaved rounds\n")
    print_table(
        ("", "command", "median ms", "min ms"), [(c.key, c.label, ms(c.median), ms(c.minimum)) for c in (client, wbctl)]
    )
    print(f"\nSHOW GLOBAL VARIABLES per `wbctl mysql check`: {round_trips} (target 1)")
    print(f"wbctl / mysql client: {wbctl.median / client.median:.2f}x (reported, no target)")
    print(f"\n{'all targets met' if ok else 'TARGET MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    run_main(main)
