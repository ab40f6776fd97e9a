"""How wbctl protects its MySQL connection: a stated choice, never a silent downgrade.

PyMySQL left to itself uses TLS when the server offers it and verifies nothing: a user who
sees "TLS" believes the connection is protected when anyone on the path could read it. So the
mode is one of three, said in docs/configuration.md ("MySQL TLS"):

- `verify`: TLS required, the server's certificate verified against `mysql-ca-file` (or the
  URL's `ssl-ca`), else against the system's CAs with the host name;
- `required-unverified`: TLS required, the certificate not verified (a warning line says so on
  every connection);
- `off`: no TLS: for the Cloud SQL Auth Proxy or a port-forward on loopback, which carry the
  encryption themselves.

The `mysql-tls` setting chooses; without it, the URL's `tls=` (W&B's modes: `true`/`custom`
verify, `skip-verify` and `preferred` require TLS unverified, or verified when a CA is given,
`false` is off; `preferred` never falls back to plain text); without either, `verify` with a CA,
`off` on a loopback host, else `required-unverified` (TLS is never dropped because it was not
asked for).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass

from wbctl.errors import UsageError

MODES = ("verify", "required-unverified", "off")
VERIFY, UNVERIFIED, OFF = MODES
_URL_MODES = {"true": VERIFY, "custom": VERIFY, "skip-verify": UNVERIFIED, "preferred": UNVERIFIED, "false": OFF}


@dataclass(frozen=True)
class TlsChoice:
    mode: str  # one of MODES
    origin: str  # what chose it, for messages
    check_hostname: bool = False  # verify against the system's CAs: the name must match too

    @property
    def unverified(self) -> bool:
        return self.mode == UNVERIFIED


def loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def choose(setting: str | None, url_mode: str | None, *, has_ca: bool, host: str) -> TlsChoice:
    """The mode for one connection; UsageError where the choices contradict each other."""
    if setting is not None:
        mode, origin = setting, f"mysql-tls = {setting}"
    elif url_mode is not None and url_mode in _URL_MODES:
        mode, origin = _URL_MODES[url_mode], f"mysql-url tls={url_mode}"
        if url_mode == "custom" and not has_ca:
            raise UsageError("mysql-url says tls=custom but gives no CA: set mysql-ca-file or ssl-ca")
        if url_mode in ("skip-verify", "preferred") and has_ca:  # a CA given is used
            mode = VERIFY
    elif has_ca:
        mode, origin = VERIFY, "a CA file is set"
    elif loopback(host):
        mode, origin = OFF, f"{host} is loopback (the Cloud SQL Auth Proxy, a port-forward)"
    else:
        mode, origin = UNVERIFIED, "no mysql-tls and no CA file"
    if mode not in MODES:
        raise UsageError(f"mysql-tls = {mode}: expected one of {', '.join(MODES)}")
    if mode == OFF and has_ca:
        raise UsageError(f"{origin} turns TLS off, but a CA file is set: drop one")
    return TlsChoice(mode, origin, check_hostname=mode == VERIFY and not has_ca)


def unverified_warning(target: str, choice: TlsChoice) -> str:
    return (
        f"MySQL connection to {target} is encrypted but not verified ({choice.origin}): "
        "set mysql-ca-file to the server's CA to verify it"
    )
