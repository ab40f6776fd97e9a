"""Reading the audit log wbctl writes (one JSON object a line)."""

from __future__ import annotations

import json
from pathlib import Path


def read_audit(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
