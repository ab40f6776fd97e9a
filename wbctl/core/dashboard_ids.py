"""A dashboard's id from the context's name: readable where the name is safe, unique where not.

Grafana's uid and a Cloud Monitoring dashboard's id allow fewer characters than a context's
name, so the unsafe ones become `-`; when that (or the length limit) changed the name, a short
hash of the whole name is added, so `prod "eu"` and `prod eu` never share one dashboard.
"""

from __future__ import annotations

import hashlib
import re

HASH_LENGTH = 6


def context_id(base: str, context: str | None, unsafe: re.Pattern[str], limit: int, *, lower: bool = False) -> str:
    if not context:
        return base
    text = context.lower() if lower else context
    slug = unsafe.sub("-", text).strip("-") or "context"
    name = f"{base}-{slug}"
    if slug != context or len(name) > limit:
        digest = hashlib.sha256(context.encode("utf-8")).hexdigest()[:HASH_LENGTH]
        name = f"{name[: limit - HASH_LENGTH - 1].rstrip('-')}-{digest}"
    return name
