"""The audit log: one JSON line per applied (or failed) plan, for the post-incident review.

The file is opened before anything is written to the backend, so a change that cannot be
audited is refused rather than made silently.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any

from wbctl.core.model import AuditRecord, Plan
from wbctl.environment import Environment
from wbctl.errors import BackendError, PartialWriteError, RefusedError
from wbctl.redact import Redactor


def audit_path(env: Environment) -> Path:
    return env.xdg_dir("XDG_STATE_HOME", ".local/state") / "wbctl" / "audit.jsonl"


@dataclass
class AuditLog:
    path: Path
    env: Environment
    redact: Redactor
    command: list[str]

    def open(self) -> IO[str]:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            return os.fdopen(fd, "a", encoding="utf-8")
        except OSError as exc:
            raise RefusedError(
                f"cannot write the audit log {self.path} ({exc.strerror or exc}): nothing changed; "
                "fix its permissions or set XDG_STATE_HOME"
            ) from None

    def record(
        self,
        stream: IO[str],
        plan: Plan,
        result: str,
        error: str | None = None,
        written: PartialWriteError | None = None,
    ) -> None:
        """One line; `written` (a write that stopped midway) adds which changes were applied,
        which not, and which unknown (only when some are)."""
        entry: dict[str, Any] = {
            "time": self.env.now().isoformat(timespec="seconds").replace("+00:00", "Z"),
            "user": self.env.user(),
            "context": plan.context,
            "command": self.command,
            "target": plan.target,
            "changes": [change.to_json() for change in plan.changes],
            "result": result,
        }
        if error:
            entry["error"] = error
        if written is not None:
            entry["applied"] = [change.to_json() for change in written.applied]
            entry["not_applied"] = [change.to_json() for change in written.not_applied]
            if written.unknown:
                entry["unknown"] = [change.to_json() for change in written.unknown]
        stream.write(json.dumps(self.redact.value(entry), default=str) + "\n")
        stream.flush()


TAIL_BYTES = 1 << 20  # the window's changes are at the end: read the last MiB, not a year of history


def read_since(path: Path, since: datetime) -> list[AuditRecord]:
    """The audit entries written at or after `since`, oldest first (unparseable lines skipped)."""
    try:
        with path.open("rb") as stream:
            stream.seek(0, os.SEEK_END)
            size = stream.tell()
            stream.seek(max(0, size - TAIL_BYTES))
            text = stream.read().decode("utf-8", errors="replace")
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise BackendError(f"cannot read the audit log {path}: {exc.strerror or exc}") from None
    lines = text.splitlines()[1:] if size > TAIL_BYTES else text.splitlines()
    records = []
    for line in lines:
        try:
            entry = json.loads(line)
            moment = datetime.fromisoformat(str(entry["time"]).replace("Z", "+00:00"))
        except (ValueError, KeyError, TypeError):
            continue
        if moment >= since:
            command = " ".join(str(word) for word in entry.get("command") or [])
            records.append(AuditRecord(moment, str(entry.get("user", "?")), command, str(entry.get("result", "?"))))
    return records
