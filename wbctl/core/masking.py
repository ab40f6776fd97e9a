"""Masking for what leaves the company: a support bundle is sent to W&B, so every credential in
it is masked before it is written, in two passes.

1. `mask_values`: a JSON-able value (the CR's values, the settings, env variables rendered as a
   name -> value mapping) walked recursively; a value whose key names a credential (password,
   secret, token, key, license, credentials, auth...) is masked whole, subtree included, and
   every string has its URL credentials (`scheme://user:password@`) masked. It returns the
   paths it masked, so the bundle's MANIFEST can say what was redacted.
2. `mask_text`: free text (pod logs, Events' messages, every file as a last pass): anything that
   looks like a credential, whatever its key: bearer/basic tokens, `password=...`, URL
   userinfo, AWS and GCP key shapes, private-key blocks, JWTs, long hex or base64 strings.

Pure, no I/O: what is masked is decided here once and unit-tested (with hypothesis) without a
cluster. wbctl/redact.py stays what it is (the terminal's redactor of known secrets); the
bundle applies both.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

MASK = "***"

# a key naming a credential: its value is masked whole (case-insensitive, anywhere in the key)
_SENSITIVE_WORDS = (
    "passw",  # password, passwd
    "pwd",
    "secret",
    "token",
    "credential",
    "licen",  # license, licence
    "apikey",
    "api_key",
    "api-key",
    "privatekey",
    "private_key",
    "private-key",
    "accesskey",
    "access_key",
    "auth",  # authorization, basicAuth, oauth
    "cookie",
    "session_key",
    "signing",
    "salt",
    "dsn",
)
_KEY_SUFFIX = re.compile(r"(?:^|[a-z0-9_.\-])(?:key|Key|KEY)$")  # accessKey, SECRET_KEY, key, a.key


def sensitive_key(key: str) -> bool:
    """Whether a key names a credential (its value is then never written)."""
    lowered = key.lower()
    return any(word in lowered for word in _SENSITIVE_WORDS) or bool(_KEY_SUFFIX.search(key))


# --- free text --------------------------------------------------------------------------------

_URL_USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.\-]*://)(?P<userinfo>[^\s/@?#\"<>]+)@")
_PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----.*?(?:-----END [A-Z0-9 ]*PRIVATE KEY-----|\Z)", re.S)
_BEARER = re.compile(r"(?i)\b(?P<kind>bearer|basic|token)(?P<space>\s+)(?P<value>[A-Za-z0-9._~+/=\-]{8,})")
_ASSIGNED = re.compile(
    r"(?i)(?P<name>[\w.\-]*(?:passw|pwd|secret|token|api[_\-]?key|access[_\-]?key|private[_\-]?key|credential|"
    r"authorization|licen[cs]e)[\w.\-]*)(?P<sep>\"?\s*[:=]\s*\"?)(?P<value>[^\s\"',;&}\]]+)"
)
_AWS_KEY = re.compile(r"\b(?:AKIA|ASIA|AIDA|AROA)[0-9A-Z]{16}\b")
_GCP_API_KEY = re.compile(r"\bAIza[0-9A-Za-z_\-]{35}")
_GCP_OAUTH = re.compile(r"\bya29\.[0-9A-Za-z_\-.]{20,}")
_JWT = re.compile(r"\beyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*")
_LONG_HEX = re.compile(r"(?<![0-9a-fA-F:])(?<!sha256:)(?<!sha1:)[0-9a-fA-F]{32,}(?![0-9a-fA-F])")
_LONG_BASE64 = re.compile(
    r"(?<![A-Za-z0-9+/_\-])(?=[A-Za-z0-9+/_\-]*[0-9])(?=[A-Za-z0-9+/_\-]*[a-z])(?=[A-Za-z0-9+/_\-]*[A-Z])[A-Za-z0-9+/_\-]{40,}={0,2}"
)


@dataclass(frozen=True)
class Masked:
    """A text with its credentials masked, and how many were."""

    text: str
    count: int


_ENV_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")


def _userinfo(match: re.Match[str]) -> str:
    """`scheme://***@`; kept when the userinfo is only Kubernetes `$(VAR)` references (the
    chart's `redis://:$(REDIS_PASSWORD)@...`: a name, not a value) or already masked."""
    userinfo = match["userinfo"]
    if userinfo == MASK or not _ENV_REFERENCE.sub("", userinfo).strip(":"):
        return match[0]
    return f"{match['scheme']}{MASK}@"


def mask_text(text: str) -> Masked:
    """`text` with everything that looks like a credential replaced by ***: the second pass
    over logs and messages, where no key name says what a value is."""
    count = 0

    def sub(pattern: re.Pattern[str], replace: Any, value: str) -> str:
        def counted(match: re.Match[str]) -> str:
            nonlocal count
            out: str = replace(match) if callable(replace) else replace
            count += out != match[0]
            return out

        return pattern.sub(counted, value)

    text = sub(_PRIVATE_KEY, MASK, text)
    text = sub(_URL_USERINFO, _userinfo, text)
    text = sub(_BEARER, lambda m: m[0] if m["value"] == MASK else f"{m['kind']}{m['space']}{MASK}", text)
    text = sub(_ASSIGNED, lambda m: m[0] if m["value"] == MASK else f"{m['name']}{m['sep']}{MASK}", text)
    for shape in (_AWS_KEY, _GCP_API_KEY, _GCP_OAUTH, _JWT, _LONG_HEX, _LONG_BASE64):
        text = sub(shape, MASK, text)
    return Masked(text, count)


# --- values -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class MaskedValue:
    """A value with its credentials masked, and the paths (`a.b[2].c`) that were."""

    value: Any
    paths: tuple[str, ...]


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _mask_all(value: Any) -> Any:
    """Every scalar in a subtree under a sensitive key: masked (empty values and booleans stay,
    so `password: ""` still says that none is set and `tokenEnabled: true` that it is on)."""
    if isinstance(value, dict):
        return {key: _mask_all(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [_mask_all(item) for item in value]
    if value is None or isinstance(value, bool) or value == "":
        return value
    return MASK


def mask_values(value: Any) -> MaskedValue:
    """A JSON-able value with every credential masked, by key name and by URL userinfo."""
    paths: list[str] = []

    def walk(item: Any, path: str) -> Any:
        if isinstance(item, dict):
            out: dict[Any, Any] = {}
            for key, child in item.items():
                where = _join(path, str(key))
                if sensitive_key(str(key)) and _has_secret(child):
                    out[key] = _mask_all(child)
                    paths.append(where)
                else:
                    out[key] = walk(child, where)
            return out
        if isinstance(item, (list, tuple)):
            return [walk(child, f"{path}[{index}]") for index, child in enumerate(item)]
        if isinstance(item, str):
            masked = mask_text(item)
            if masked.count:
                paths.append(path or "(value)")
            return masked.text
        return item

    result = walk(value, "")
    return MaskedValue(result, tuple(paths))


def _has_secret(value: Any) -> bool:
    return bool(_mask_all(value) != value)
