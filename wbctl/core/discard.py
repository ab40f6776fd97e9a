"""Discarding one noisy run's metric updates (the guide's last runbook step), reversibly.

`gorilla.DiscardV2UpdatesForRun` holds a single run id: whoever sets it replaces the run that
was being discarded, so the plan refuses to replace another engineer's discard unless asked.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import ClassVar

from wbctl.core.durations import format_duration
from wbctl.core.model import Change, Expiry, Plan
from wbctl.core.redis_settings import DISCARD_KEY, DiscardState
from wbctl.errors import RefusedError, UsageError

MAX_RUN_ID_LENGTH = 256
RUN_ID_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
# what the README, `--help` and the guide ("set gorilla.DiscardV2UpdatesForRun <id-for-run>")
# write where a run id goes: pasted as is, `RUN_ID` would be stored and match no run
PLACEHOLDERS = frozenset({"RUN_ID", "<RUN_ID>", "id-for-run", "<id-for-run>"})


def validate_run_id(run_id: str) -> None:
    """UsageError for an id outside W&B's run-id alphabet (ASCII letters, digits, `-`, `_`),
    or for the docs' placeholder where the id should be.

    A zero-width space, a right-to-left override (it reverses the diff on screen), `*`, `$(id)`
    or `rün` would be stored as written and then never match the noisy run: refused, with the
    offending character named by its code point (never echoed: it may be invisible or
    rearrange the line it is printed in).
    """
    if run_id == "":
        raise UsageError("run id is empty")
    if run_id in PLACEHOLDERS:
        raise UsageError(
            f"run id {run_id!r} is a placeholder: put the noisy run's id there (copy it from the run's URL)"
        )
    if len(run_id) > MAX_RUN_ID_LENGTH:
        raise UsageError(f"run id is {len(run_id)} characters long; at most {MAX_RUN_ID_LENGTH}")
    for position, character in enumerate(run_id, start=1):
        if character not in RUN_ID_ALPHABET:
            name = unicodedata.name(character, "a control character" if ord(character) < 0x20 else "unnamed")
            shown = f" {character!r}" if character.isascii() and character.isprintable() else ""
            raise UsageError(
                f"run id: character {position} is U+{ord(character):04X} ({name}){shown}: a W&B run id holds only "
                "ASCII letters, digits, - and _ (copy it from the run's URL)"
            )


def _describe(state: DiscardState) -> str:
    if state.ttl_seconds:
        return f"run {state.run_id} (expires in {format_duration(state.ttl_seconds)})"
    return f"run {state.run_id} (no expiry)"


def plan_discard(
    state: DiscardState,
    run_id: str,
    *,
    ttl_seconds: int | None,
    replace: bool,
    context: str,
    target: str,
) -> Plan:
    # what is dropped is lost for good: the discard's end only means later updates are processed
    summary = f"metric updates of run {run_id} will be DROPPED by the metrics processing service " + (
        f"for {format_duration(ttl_seconds)} and lost for good; updates sent after the "
        f"{format_duration(ttl_seconds)} are processed"
        if ttl_seconds
        else f"until you run 'wbctl run restore {run_id}'"
    )
    if state.run_id == run_id and ttl_seconds is None and state.ttl_seconds is None:
        return Plan(context, target, (), summary, nothing_to_do=f"no changes: {_describe(state)} is already discarded")
    if state.run_id is not None and state.run_id != run_id and not replace:
        raise RefusedError(
            f"{_describe(state)} is being discarded now and the key holds one run: "
            f"add --replace to discard {run_id} instead (its updates resume), or restore it first"
        )
    notes: list[str] = []
    if state.run_id not in (None, run_id):
        notes.append(f"replaces {_describe(state)}: its metric updates are processed again")
    if state.ttl_seconds and ttl_seconds is None:
        notes.append(
            f"the expiry ({format_duration(state.ttl_seconds)} left) is removed: the discard lasts until "
            f"'wbctl run restore {run_id}'; add --ttl to keep one"
        )
    expiry = Expiry(state.ttl_seconds, ttl_seconds) if (ttl_seconds or state.ttl_seconds) else None
    change = Change(target, DISCARD_KEY, state.run_id, run_id, expiry)
    return Plan(context, target, (change,), summary, tuple(notes))


def plan_restore(state: DiscardState, run_id: str | None, *, context: str, target: str) -> Plan:
    if state.run_id is None:
        return Plan(context, target, (), "", nothing_to_do="no changes: no run is discarded")
    if run_id is not None and state.run_id != run_id:
        raise RefusedError(
            f"{DISCARD_KEY} holds {_describe(state)}, not run {run_id}: nothing restored "
            f"(run 'wbctl run restore {state.run_id}' to restore that one)"
        )
    expiry = Expiry(state.ttl_seconds, None) if state.ttl_seconds else None
    change = Change(target, DISCARD_KEY, state.run_id, None, expiry)
    summary = f"metric updates of run {state.run_id} will be processed again"
    return Plan(context, target, (change,), summary)


@dataclass(frozen=True)
class DiscardRequest:
    """`wbctl run discard`: proposed by the runbook for a run that dominates the load, but only
    ever applied when an engineer types it (the runbook's `--fix` never discards a run)."""

    run_id: str
    ttl_seconds: int | None = None
    replace: bool = False
    backend: ClassVar[str] = "redis"

    def validate(self) -> None:
        validate_run_id(self.run_id)

    def argv(self) -> tuple[str, ...]:
        args = ["run", "discard", self.run_id]
        if self.ttl_seconds:
            args += ["--ttl", format_duration(self.ttl_seconds).replace(" ", "")]
        if self.replace:
            args.append("--replace")
        return tuple(args)

    def plan(self, state: DiscardState, context: str, target: str) -> Plan:
        return plan_discard(
            state, self.run_id, ttl_seconds=self.ttl_seconds, replace=self.replace, context=context, target=target
        )
