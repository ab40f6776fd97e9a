"""The certificate files a setting or a URL names, checked before any connection.

A CA file that is missing, a directory, unreadable, empty or not a certificate is bad input:
one line naming the setting, the file and what is wrong with it, exit 2, nothing sent. Left to
the client libraries it surfaces mid-connection as an `ssl.SSLError` (an internal error) or as
a connection failure that blames the server.
"""

from __future__ import annotations

import os
import ssl

from wbctl.errors import UsageError


def _readable_file(path: str, setting: str) -> None:
    if not os.path.exists(path):
        raise UsageError(f"{setting} {path}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{setting} {path}: is a directory, not a certificate file")
    try:
        with open(path, "rb") as handle:
            head = handle.read(1)
    except OSError as exc:
        raise UsageError(f"{setting} {path}: cannot be read ({exc.strerror or exc})") from None
    if not head:
        raise UsageError(f"{setting} {path}: is empty")


def _reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.args[-1] if exc.args else exc)


def ca_file(path: str, setting: str) -> str:
    """`path` when it holds at least one CA certificate OpenSSL can load (PEM)."""
    _readable_file(path, setting)
    try:
        ssl.create_default_context(cafile=path)
    except ssl.SSLError as exc:
        raise UsageError(f"{setting} {path}: not a PEM certificate ({_reason(exc)})") from None
    except (OSError, ValueError) as exc:
        raise UsageError(f"{setting} {path}: not a certificate file ({exc})") from None
    return path


def client_pair(cert: str, key: str, cert_setting: str, key_setting: str) -> None:
    """A client certificate and its key that OpenSSL accepts as a pair."""
    _readable_file(cert, cert_setting)
    _readable_file(key, key_setting)
    try:
        ssl.create_default_context().load_cert_chain(cert, key)
    except ssl.SSLError as exc:
        raise UsageError(
            f"{cert_setting} {cert} with {key_setting} {key}: not a certificate and its key ({_reason(exc)})"
        ) from None
