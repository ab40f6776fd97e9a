"""Requests (the commands as data, `Proposal`s) to plans and their appliers.

A typed `wbctl bigtable autoscale ...` and the same request proposed by a check or the
runbook's `--fix` come through here: one reading of the target, one planning function,
one mutation path (Session.apply / mutation.execute_all).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from wbctl.app.mutation import Applier, Staged
from wbctl.app.session import Session
from wbctl.core.model import Plan, Proposal
from wbctl.errors import UsageError


def staged(session: Session, request: Proposal, *, wait: bool = True) -> Staged:
    """The request's plan from a fresh read of its target, its applier, and how to plan it
    again when the target changes between the diff and the write."""
    applier, plan = _planner(session, request, wait=wait)
    return Staged(plan(), applier, plan)


def _planner(session: Session, request: Any, *, wait: bool) -> tuple[Applier, Callable[[], Plan]]:
    context = session.settings().context_label
    if request.backend == "bigtable":
        admin = session.backends.bigtable(wait=wait)
        return admin, lambda: request.plan(admin.observe(), context)
    if request.backend == "kube":
        from wbctl.adapters.kube import SCALING_KINDS

        kube = session.backends.kube()
        return kube, lambda: request.plan(kube.observe(SCALING_KINDS), context)
    if request.backend == "redis":
        redis = session.backends.redis()
        return redis, lambda: request.plan(redis.discard_state(), context, redis.target)
    raise UsageError(f"no backend applies {type(request).__name__}")  # a request this module does not know


def run(session: Session, request: Any, *, dry_run: bool, yes: bool, wait: bool = True) -> bool:
    """Plan, diff, confirm, apply, read back, audit: what a typed command does with a request
    it has validated (wbctl/cli/requests.py)."""
    item = staged(session, request, wait=wait)
    return session.apply(item.plan, item.applier, dry_run=dry_run, yes=yes, replan=item.replan)


# --- what changed: `wbctl changes` and the runbook's changes before the rise -----------------
#
# (Here beside the requests because both are "changes": the requests wbctl makes, and the
# changes it reads back from every source. `changes_document` is the one entry point.)
