"""Kubernetes resource quantities ("512Mi", "1Gi", "2e9", "29094932Ki") in bytes.

A container's memory limit (its spec) and its use (metrics.k8s.io's PodMetrics) are written as
quantities; the health check compares them, so both are read with the API's own grammar
(k8s.io/apimachinery pkg/api/resource: a signed decimal, then a binary suffix Ki..Ei, a decimal
suffix n u m k M G T P E, or a decimal exponent). Anything else is None, never a guess.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

__all__ = ["bytes_of"]

_QUANTITY = re.compile(r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]|[eE][+-]?\d+)?")
_SUFFIX = {
    "Ki": Decimal(2**10),
    "Mi": Decimal(2**20),
    "Gi": Decimal(2**30),
    "Ti": Decimal(2**40),
    "Pi": Decimal(2**50),
    "Ei": Decimal(2**60),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "": Decimal(1),
    "k": Decimal(10**3),
    "M": Decimal(10**6),
    "G": Decimal(10**9),
    "T": Decimal(10**12),
    "P": Decimal(10**15),
    "E": Decimal(10**18),
}
_MAX_EXPONENT = 30  # beyond any memory; keeps a hostile "1e999999999" from costing anything


def bytes_of(quantity: object) -> int | None:
    """The quantity in bytes (rounded up, as the API server rounds), or None when it is not one."""
    text = str(quantity).strip() if quantity is not None else ""
    match = _QUANTITY.fullmatch(text)
    if match is None:
        return None
    number, suffix = match.group(1), match.group(2) or ""
    try:
        if suffix[:1] in ("e", "E"):
            exponent = int(suffix[1:])
            if abs(exponent) > _MAX_EXPONENT:
                return None
            scale = Decimal(10) ** exponent
        else:
            scale = _SUFFIX[suffix]
        value = Decimal(number) * scale
    except (InvalidOperation, ValueError):
        return None
    if value < 0:
        return None
    whole = int(value.to_integral_value(rounding="ROUND_CEILING"))
    return whole
