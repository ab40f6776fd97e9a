"""The one path every change takes: plan -> diff -> confirm -> apply -> verify -> audit.

Commands build a `Plan` in the core and hand it here with an `Applier` (an adapter). Nothing
reaches a backend except through `execute`, so dry-run, confirmation, read-only contexts and
the audit log behave the same for every command. When the backend reports that the target
changed after the diff was made (a `ConflictError`), the plan is made again from a fresh
read and the new diff is shown and confirmed: never a blind overwrite.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from wbctl.app.audit import AuditLog
from wbctl.core.model import Plan
from wbctl.errors import ConflictError, PartialWriteError, RefusedError, WbctlError
from wbctl.output import Terminal, render_diff, render_plan_result

MAX_ATTEMPTS = 3


class Applier(Protocol):
    def apply(self, plan: Plan) -> None:
        """Write every change, or nothing; ConflictError when a precondition no longer holds.

        A backend that writes change by change raises PartialWriteError naming what it wrote."""

    def read_back(self, plan: Plan) -> bool | None:
        """Raise VerificationError unless the backend now holds every change's `after`.

        False: the change was accepted but is not done yet (e.g. --no-wait), so not verified."""


@dataclass(frozen=True)
class MutationOptions:
    dry_run: bool = False
    yes: bool = False


def execute(
    plan: Plan,
    applier: Applier,
    *,
    options: MutationOptions,
    read_only: bool,
    term: Terminal,
    audit: AuditLog,
    replan: Callable[[], Plan] | None = None,
) -> bool:
    """Apply `plan` if the operator agrees; True when something was written."""
    for attempt in range(1, MAX_ATTEMPTS + 1):
        if plan.empty:
            term.info(plan.nothing_to_do)
            render_plan_result(term, plan, applied=False)
            return False
        render_diff(term, plan)
        if options.dry_run:
            validate = getattr(applier, "validate", None)
            if validate is not None:  # the backend's own dry run, e.g. Kubernetes dryRun=All
                validate(plan)
                term.info("dry run: the server accepted the change; nothing changed")
            else:
                term.info("dry run: nothing changed")
            render_plan_result(term, plan, applied=False)
            return False
        _confirm(plan, options, read_only, term)
        try:
            verified = _apply(plan, applier, audit)
        except ConflictError as exc:
            if replan is None or attempt == MAX_ATTEMPTS:
                raise
            term.warn(f"{exc.message}; reading it again")
            plan = replan()
            continue
        render_plan_result(term, plan, applied=True, verified=verified)
        return True
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


def _confirm(plan: Plan, options: MutationOptions, read_only: bool, term: Terminal) -> None:
    if read_only:
        raise RefusedError(f"context {plan.context} is read-only: nothing changed")
    confirm_or_refuse(term, f"{plan.summary}.\nApply to {plan.target} (context {plan.context})?", yes=options.yes)


def confirm_or_refuse(term: Terminal, question: str, *, yes: bool, unchanged: str = "nothing changed") -> None:
    """The one confirmation: `--yes` skips it; without a terminal to ask on it refuses (exit 4),
    and so does a no. Every write wbctl makes, to a deployment or to its own config file, asks here."""
    if yes:
        return
    if not term.env.stdin_isatty:
        raise RefusedError("confirmation needed but there is no terminal to ask on: re-run with --yes")
    if not term.confirm(question):
        raise RefusedError(f"not confirmed: {unchanged}")


def _apply(plan: Plan, applier: Applier, audit: AuditLog) -> bool:
    with audit.open() as log:
        try:
            applier.apply(plan)
            verified = applier.read_back(plan) is not False
        except PartialWriteError as exc:  # stopped midway: the audit says which changes were made
            audit.record(log, plan, "partial" if exc.applied else "failed", exc.message, written=exc)
            raise
        except WbctlError as exc:
            # a RefusedError here is a precondition that failed: nothing was written
            audit.record(log, plan, "refused" if isinstance(exc, RefusedError) else "failed", exc.message)
            raise
        except BaseException as exc:  # interrupted or unexpected: the backend state is unknown
            audit.record(log, plan, "failed", f"{type(exc).__name__}: {exc}")
            raise
        audit.record(log, plan, "applied" if verified else "accepted")
    return verified


@dataclass
class Staged:
    """One plan of several applied together (the runbook's `--fix`), with its applier."""

    plan: Plan
    applier: Applier
    replan: Callable[[], Plan] | None = None


@dataclass
class Outcome:
    """What a multi-plan change did: applied in order until the first failure."""

    applied: list[Plan] = field(default_factory=list)
    unchanged: list[Plan] = field(default_factory=list)  # nothing to do
    not_applied: list[Plan] = field(default_factory=list)
    failed: Plan | None = None
    error: WbctlError | None = None

    @property
    def complete(self) -> bool:
        return self.error is None


def execute_all(
    staged: list[Staged], *, options: MutationOptions, read_only: bool, term: Terminal, audit: AuditLog
) -> Outcome:
    """Every change of every plan in one diff and one confirmation, then each plan in order
    through the same steps as `execute` (apply, read back, audit); on the first failure it
    stops, and the outcome says what was applied and what was not."""
    outcome = Outcome()
    pending = [item for item in staged if not item.plan.empty]
    outcome.unchanged = [item.plan for item in staged if item.plan.empty]
    for plan in outcome.unchanged:
        term.info(f"{plan.target}: {plan.nothing_to_do}")
    if not pending:
        return outcome
    for item in pending:
        render_diff(term, item.plan)
    if options.dry_run:
        for item in pending:
            validate = getattr(item.applier, "validate", None)
            if validate is not None:
                validate(item.plan)
        term.info("dry run: nothing changed")
        outcome.not_applied = [item.plan for item in pending]
        return outcome
    summary = ";\n".join(item.plan.summary for item in pending)
    first = pending[0].plan
    _confirm(
        Plan(first.context, ", ".join(dict.fromkeys(i.plan.target for i in pending)), first.changes, summary),
        options,
        read_only,
        term,
    )
    for index, item in enumerate(pending):
        plan = item.plan
        try:
            for attempt in range(1, MAX_ATTEMPTS + 1):
                try:
                    verified = _apply(plan, item.applier, audit)
                    break
                except ConflictError as exc:
                    if item.replan is None or attempt == MAX_ATTEMPTS:
                        raise
                    term.warn(f"{exc.message}; reading it again")
                    plan = item.replan()
                    if plan.empty:
                        verified = None
                        break
                    render_diff(term, plan)
                    _confirm(plan, options, read_only, term)
        except WbctlError as exc:
            outcome.failed, outcome.error = plan, exc
            outcome.not_applied = [later.plan for later in pending[index + 1 :]]
            return outcome
        if verified is None:
            outcome.unchanged.append(plan)
            continue
        outcome.applied.append(plan)
        if not term.json_mode:
            render_plan_result(term, plan, applied=True, verified=verified)
    return outcome
