"""`wbctl check`: every check of every backend in one report."""

from __future__ import annotations

from typing import Annotated

import typer

from wbctl.cli.options import Output
from wbctl.cli.state import State
from wbctl.core.durations import parse_duration
from wbctl.core.model import Report, Status
from wbctl.errors import ExitStatus, UsageError
from wbctl.output import render_report
from wbctl.overview import Section, check_all
from wbctl.redact import url_without_credentials

app = typer.Typer(name="check", add_completion=False)


@app.command(name="check")
def check(
    ctx: typer.Context,
    window: Annotated[str, typer.Option("--window", metavar="DURATION", help="How far back to read metrics.")] = "1h",
    fail_on: Annotated[str, typer.Option("--fail-on", metavar="LEVEL", help="fail (default) or warn: what exits 1.")] = "fail",
    output: Output = None,
) -> None:
    """Every backend against the guide: Redis, services, GCS FUSE, Bigtable, MySQL (unreachable = unknown)."""
    from wbctl.adapters.kube import ALL_KINDS
    from wbctl.core import bigtable, mysql, parquet, redis_settings, services

    seconds = parse_duration(window)
    if fail_on not in ("fail", "warn"):
        raise UsageError(f"--fail-on {fail_on}: expected fail or warn")
    state = State.of(ctx)
    settings = state.settings(output=output)
    desired = list(redis_settings.desired_settings(settings.redis_overrides, [], force=True))

    def read_redis() -> list[Report]:
        return [redis_settings.report(state.redis().observe([d.key for d in desired]), desired)]

    def read_kube() -> list[Report]:
        observation = state.kube().observe((*ALL_KINDS, "csidrivers"))
        return [services.check(observation), parquet.check(observation)]

    def read_bigtable() -> list[Report]:
        admin = state.bigtable()
        cpu = state.metrics().fetch({"bigtable-cpu": admin.instance_id}, seconds, state.env.now())["bigtable-cpu"]
        return [bigtable.check(admin.observe(), cpu, window)]

    def read_mysql() -> list[Report]:
        return [mysql.check(state.mysql().observe())]

    report = check_all(
        [
            Section(("redis",), url_without_credentials(settings["redis-url"]), read_redis),
            Section(("services", "parquet"), f"namespace {settings['namespace']}", read_kube),
            Section(("bigtable",), f"projects/{settings['gcp-project'] or '?'}", read_bigtable),
            Section(("mysql",), url_without_credentials(settings["mysql-url"]), read_mysql),
        ],
        desired,
    )
    render_report(state.terminal(), report)
    failing = (Status.FAIL, Status.WARN) if fail_on == "warn" else (Status.FAIL,)
    if report.has(*failing):
        raise typer.Exit(ExitStatus.PROBLEMS)
