"""Exit statuses and the exceptions that carry them.

Every failure wbctl reports is one of these exceptions; the CLI's single error boundary
(`wbctl.cli.main`) turns them into one line on stderr and the matching exit status, so no
command needs a try/except of its own.
"""

from __future__ import annotations

from enum import IntEnum
from typing import TYPE_CHECKING


class ExitStatus(IntEnum):
    SUCCESS = 0
    PROBLEMS = 1  # a check found failing findings, or --check found drift
    USAGE = 2  # bad input or usage (Click's own convention)
    BACKEND = 3  # unreachable, timed out, auth/permission refused, named resource missing
    REFUSED = 4  # confirmation declined or impossible, read-only context, conflicting state
    INTERNAL = 70  # a bug in wbctl: an exception nobody anticipated (sysexits.h EX_SOFTWARE)
    INTERRUPTED = 130  # Ctrl-C
    TERMINATED = 143  # SIGTERM (`kill PID`), handled as Ctrl-C: 128 + 15
    CLOSED_PIPE = 141  # stdout's reader left (`| head -1`) before the command finished: 128 + SIGPIPE


class WbctlError(Exception):
    """A failure with a message meant for the operator, printed as one line."""

    exit_status: ExitStatus = ExitStatus.USAGE

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class UsageError(WbctlError):
    """Bad input: a value, option or configuration wbctl cannot act on. Nothing was sent."""

    exit_status = ExitStatus.USAGE


class ConfigError(UsageError):
    """The configuration file or environment is malformed; the message names file and line."""


class BackendError(WbctlError):
    """A backend could not be reached, timed out, refused us, or lacks the named resource."""

    exit_status = ExitStatus.BACKEND


class VerificationError(BackendError):
    """The read-back after a change did not show what was written."""


class RefusedError(WbctlError):
    """wbctl declined to change anything: no confirmation, read-only, or a conflicting state."""

    exit_status = ExitStatus.REFUSED


class ConflictError(RefusedError):
    """The object changed between the diff and the write; nothing was written.

    The mutation path re-reads, shows the new diff and asks again instead of overwriting.
    """


# --- a write that stopped midway (appended as one block: errors.py is edited by several hands)

if TYPE_CHECKING:
    from collections.abc import Iterable

    from wbctl.core.model import Change


class PartialWriteError(BackendError):
    """A write of several changes stopped midway and the backend kept those made before it.

    For backends that take changes one at a time (MySQL's SET statements, Bigtable cluster by
    cluster). `applied` were made, `not_applied` were not (the refused one first), `unknown`
    were sent but their outcome was lost (a dropped connection). The message names each group;
    the mutation path writes them to the audit log (result "partial", or "failed" when nothing
    was applied)."""

    def __init__(
        self,
        cause: str,
        applied: Iterable[Change] = (),
        not_applied: Iterable[Change] = (),
        unknown: Iterable[Change] = (),
    ) -> None:
        self.cause = cause
        self.applied, self.not_applied, self.unknown = tuple(applied), tuple(not_applied), tuple(unknown)
        everything = self.applied + self.not_applied + self.unknown
        several = len({change.target for change in everything}) > 1

        def names(changes: tuple[Change, ...]) -> str:
            return ", ".join(f"{c.target} {c.key}" if several else c.key for c in changes) or "none"

        told = [f"not applied {names(self.not_applied)}"]
        if self.applied:
            told.insert(0, f"partial write: applied {names(self.applied)}")
        elif not self.unknown:
            told.insert(0, "nothing changed")
        if self.unknown:
            told.append(f"unknown whether applied {names(self.unknown)}")
        super().__init__(f"{cause}; {'; '.join(told)}")
