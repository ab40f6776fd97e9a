"""The one path every change takes: plan -> diff -> confirm -> apply -> verify -> audit.

Commands build a `Plan` in the core and hand it here with an `Applier` (an adapter). Nothing
reaches a backend except through `execute`, so dry-run, confirmation, read-only contexts and
the audit log behave the same for every command.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from wbctl.audit import AuditLog
from wbctl.core.model import Plan
from wbctl.errors import RefusedError, WbctlError
from wbctl.output import Terminal, render_diff, render_plan_result


class Applier(Protocol):
    def apply(self, plan: Plan) -> None: ...

    def read_back(self, plan: Plan) -> None:
        """Raise VerificationError unless the backend now holds every change's `after`."""


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
) -> bool:
    """Apply `plan` if the operator agrees; True when something was written."""
    if plan.empty:
        term.info(plan.nothing_to_do)
        render_plan_result(term, plan, applied=False)
        return False

    render_diff(term, plan)
    if options.dry_run:
        term.info("dry run: nothing changed")
        render_plan_result(term, plan, applied=False)
        return False
    if read_only:
        raise RefusedError(f"context {plan.context} is read-only: nothing changed")
    if not options.yes:
        if not term.env.stdin_isatty:
            raise RefusedError("confirmation needed but there is no terminal to ask on: re-run with --yes")
        if not term.confirm(f"{plan.summary}.\nApply to {plan.target} (context {plan.context})?"):
            raise RefusedError("not confirmed: nothing changed")

    with audit.open() as log:
        try:
            applier.apply(plan)
            applier.read_back(plan)
        except WbctlError as exc:
            # a RefusedError here is the compare-and-set finding a conflict: nothing was written
            audit.record(log, plan, "refused" if isinstance(exc, RefusedError) else "failed", exc.message)
            raise
        except BaseException as exc:  # interrupted or unexpected: the backend state is unknown
            audit.record(log, plan, "failed", f"{type(exc).__name__}: {exc}")
            raise
        audit.record(log, plan, "applied")
    render_plan_result(term, plan, applied=True)
    return True
