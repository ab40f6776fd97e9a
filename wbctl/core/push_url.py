"""The Pushgateway's URL, as `check --push` and `deploy auditor --push-url` take it.

One parser for both, so a URL one accepts the other accepts too. Strict because urllib is not:
it drops tabs and newlines without a word (`http://gate\\nway` would reach another host than
the one shown) and takes almost anything as a host. An error never repeats a password: the
URL is shown without its credentials, or not at all when it cannot be parsed.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from wbctl.errors import UsageError
from wbctl.redact import url_without_credentials

EXAMPLE = "http://prometheus-pushgateway.monitoring.svc:9091"
_HOST = re.compile(
    r"^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$"
)


def parse_push_url(text: str, option: str, *, credentials: bool) -> str:
    """http(s), a host, an optional port and path; no query or fragment (the client appends
    /metrics/job/...). `credentials`: whether `user:password@` may be in it (basic auth on the
    command line, never in manifests that are printed and committed)."""
    problem = f"expected an http:// or https:// URL with a host, e.g. {EXAMPLE}"
    if not text.isascii() or any(char.isspace() or not char.isprintable() for char in text):
        raise UsageError(f"{option}: the URL holds a space, an invisible or a non-ASCII character; {problem}")
    try:
        parts = urlsplit(text)
        port = parts.port
    except ValueError:
        raise UsageError(f"{option}: {problem}") from None
    shown = url_without_credentials(text)
    if not credentials and (parts.username is not None or "@" in parts.netloc):
        raise UsageError(
            f"{option}: a user or password in the URL would be printed in the manifests: "
            "give the Pushgateway's address without credentials"
        )
    host = parts.hostname or ""
    ip6 = ":" in host
    if parts.scheme not in ("http", "https") or not host or (not ip6 and not _HOST.fullmatch(host)) or port == 0:
        raise UsageError(f"{option} {shown}: {problem}")
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        raise UsageError(f"{option} {shown}: expected no query or fragment (the client adds /metrics/job/wbctl/...)")
    return text
