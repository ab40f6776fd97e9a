"""Exit statuses and the exceptions that carry them.

Every failure wbctl reports is one of these exceptions; the CLI's single error boundary
(`wbctl.cli.main`) turns them into one line on stderr and the matching exit status, so no
command needs a try/except of its own.
"""

from __future__ import annotations

from enum import IntEnum


class ExitStatus(IntEnum):
    SUCCESS = 0
    PROBLEMS = 1  # a check found failing findings, or --check found drift
    USAGE = 2  # bad input or usage (Click's own convention)
    BACKEND = 3  # unreachable, timed out, auth/permission refused, named resource missing
    REFUSED = 4  # confirmation declined or impossible, read-only context, conflicting state
    INTERRUPTED = 130  # Ctrl-C


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
