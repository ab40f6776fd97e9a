"""Small assertions on what wbctl printed."""

from __future__ import annotations


def one_line(stderr: str, *, ignore_warnings: bool = False) -> str:
    """The one line of a failure on stderr, with no traceback: wbctl's contract for errors.
    With ignore_warnings, `warning: ...` lines printed before it are left out."""
    lines = stderr.strip().splitlines()
    if ignore_warnings:
        lines = [line for line in lines if not line.startswith("warning:")]
    assert len(lines) == 1, stderr
    assert "Traceback" not in stderr
    return lines[0]


def commands_listed(help_text: str) -> list[str]:
    """The command names a group's help lists under `Commands:`, in order."""
    section = help_text.split("\nCommands:\n", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.startswith("  ") and not line.startswith("   ")]
