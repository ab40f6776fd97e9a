"""Versions as the chart and images write them: 0.22.3, v0.65.0, 0.65.0-rc1, 0.100.0."""

from __future__ import annotations

import re

_VERSION = re.compile(r"^v?(\d+)\.(\d+)(?:\.(\d+))?(?:[-+].*)?$")


def parse_version(text: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch), or None for what is not a version (latest, a digest, empty)."""
    if not text:
        return None
    match = _VERSION.match(text.strip())
    if not match:
        return None
    major, minor, patch = match.groups()
    return int(major), int(minor), int(patch or 0)
