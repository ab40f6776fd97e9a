"""Durations as operators type them (`30m`, `2h`, `1d`, `1h30m`) and as wbctl prints them."""

from __future__ import annotations

import re
from itertools import pairwise

from wbctl.errors import UsageError

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
_PART = re.compile(r"([0-9]{1,12})([smhdw])")  # ASCII digits only; 12 of them already exceed any limit
_MAX_SECONDS = 365 * 86400
_ORDER = "give each unit once, largest first, e.g. 1h30m"


def parse_duration(text: str) -> int:
    """Seconds in `text`; UsageError with a message an operator can act on.

    Units go largest first, each at most once (`1h30m`, `2d4h`): `2h2h` or `30m1h` is more
    likely a typo than a sum, so it is refused rather than added up.
    """
    cleaned = text.strip().lower()
    if not cleaned or _PART.sub("", cleaned) != "":
        raise UsageError(f"invalid duration {text!r}: use a positive number with a unit, e.g. 30m, 2h, 1d, 1h30m")
    parts = _PART.findall(cleaned)
    units = [unit for _, unit in parts]
    repeated = next((unit for index, unit in enumerate(units) if unit in units[:index]), None)
    if repeated is not None:
        raise UsageError(f"invalid duration {text!r}: the unit {repeated} is given twice; {_ORDER}")
    for before, after in pairwise(units):
        if _UNITS[after] > _UNITS[before]:
            raise UsageError(f"invalid duration {text!r}: {after} is given after {before}; {_ORDER}")
    seconds = sum(int(number) * _UNITS[unit] for number, unit in parts)
    if seconds <= 0:
        raise UsageError(f"invalid duration {text!r}: must be longer than zero")
    if seconds > _MAX_SECONDS:
        raise UsageError(f"invalid duration {text!r}: at most 365d")
    return seconds


def format_duration(seconds: int | float) -> str:
    """Two most significant units: 1d 2h, 29m 59s, 45s."""
    remaining = max(0, int(seconds))
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        if remaining >= size or (unit == "s" and not parts):
            parts.append(f"{remaining // size}{unit}")
            remaining %= size
        if len(parts) == 2:
            break
    return " ".join(parts)
