"""Masking of secrets in anything wbctl prints or records.

Secrets reach wbctl as passwords inside URLs and as WBCTL_*_PASSWORD variables. Every text
that leaves the process (stdout, stderr, JSON, the audit log) passes through `Redactor`, so a
secret that slips into an exception message or a command line is still masked.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit, urlunsplit

MASK = "***"

_URL_PASSWORD = re.compile(r"(?P<prefix>\b[a-zA-Z][a-zA-Z0-9+.-]*://[^\s:/@]*:)(?P<password>[^\s@/]+)@")


def mask_url(url: str) -> str:
    """The URL with its password (if any) replaced by ***."""
    return _URL_PASSWORD.sub(lambda m: f"{m['prefix']}{MASK}@", url)


def url_password(url: str) -> str | None:
    try:
        return urlsplit(url).password
    except ValueError:
        return None


def url_without_credentials(url: str) -> str:
    """scheme://host:port/path, for naming a target without any user or password."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        netloc = f"{host}:{parts.port}" if parts.port else host
        return urlunsplit((parts.scheme, netloc, parts.path, "", ""))
    except ValueError:
        return mask_url(url)


class Redactor:
    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret:
            self._secrets.add(secret)

    def __call__(self, text: str) -> str:
        text = mask_url(text)
        # longest first, so a secret that contains another is masked whole
        for secret in sorted(self._secrets, key=len, reverse=True):
            text = text.replace(secret, MASK)
        return text

    def value(self, value: object) -> object:
        """Mask secrets inside a JSON-able value (str, list, dict), keeping its shape."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, list):
            return [self.value(item) for item in value]
        if isinstance(value, tuple):
            return [self.value(item) for item in value]
        if isinstance(value, dict):
            return {key: self.value(item) for key, item in value.items()}
        return value
