"""Requests (the commands as data, `Proposal`s) to plans and their appliers.

A typed `wbctl bigtable autoscale ...` and the same request proposed by a check or the
runbook's `--fix` come through here: one reading of the target, one planning function,
one mutation path (State.apply / mutation.execute_all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wbctl.app.mutation import Applier, Staged
from wbctl.cli.state import State
from wbctl.core.model import Plan, Proposal
from wbctl.errors import UsageError


def staged(state: State, request: Proposal, *, wait: bool = True) -> Staged:
    """The request's plan from a fresh read of its target, its applier, and how to plan it
    again when the target changes between the diff and the write."""
    applier, plan = _planner(state, request, wait=wait)
    return Staged(plan(), applier, plan)


def _planner(state: State, request: Any, *, wait: bool) -> tuple[Applier, Callable[[], Plan]]:
    context = state.settings().context_label
    if request.backend == "bigtable":
        admin = state.bigtable(wait=wait)
        return admin, lambda: request.plan(admin.observe(), context)
    if request.backend == "kube":
        from wbctl.adapters.kube import SCALING_KINDS

        kube = state.kube()
        return kube, lambda: request.plan(kube.observe(SCALING_KINDS), context)
    if request.backend == "redis":
        redis = state.redis()
        return redis, lambda: request.plan(redis.discard_state(), context, redis.target)
    raise UsageError(f"no backend applies {type(request).__name__}")  # a request this module does not know


def run(state: State, request: Any, *, dry_run: bool, yes: bool, wait: bool = True) -> bool:
    """Validate, plan, diff, confirm, apply, read back, audit: what a typed command does."""
    request.validate()
    item = staged(state, request, wait=wait)
    return state.apply(item.plan, item.applier, dry_run=dry_run, yes=yes, replan=item.replan)
