"""What the Google adapters share: how to reach an API, and how its failures read.

`WBCTL_GCP_EMULATOR_HOST` (setting `gcp-emulator-host`; else Google's `BIGTABLE_EMULATOR_HOST`,
resolved by wbctl.config, never read here) points every Google adapter at one
plaintext gRPC endpoint with no credentials (emulators, the tests, the sandbox); otherwise
Application Default Credentials over TLS, to the default endpoint or an override (Private
Service Connect). Calls pass an explicit timeout and no client-side retry loop: the clients'
default is to retry for up to 90 s.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from typing import Any

from wbctl.errors import BackendError


def transport(transport_class: Any, *, emulator_host: str | None, endpoint: str | None, service: str) -> Any:
    """A gRPC transport for `transport_class`: plaintext to the emulator, else TLS with ADC."""
    if emulator_host:
        import grpc

        return transport_class(channel=grpc.insecure_channel(emulator_host))
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        credentials, _ = google.auth.default()
    except DefaultCredentialsError as exc:
        raise BackendError(
            f"no Google Cloud credentials for {service} ({_first_sentence(str(exc))}): "
            "run 'gcloud auth application-default login' or set GOOGLE_APPLICATION_CREDENTIALS"
        ) from None
    options: dict[str, Any] = {"credentials": credentials}
    if endpoint:
        options["host"] = endpoint
    return transport_class(**options)


# the IAM permission a call needs -> the role of docs/permissions.md that holds it
ROLES = {
    "bigtable.instances.get": "roles/bigtable.viewer",
    "bigtable.clusters.list": "roles/bigtable.viewer",
    "bigtable.clusters.get": "roles/bigtable.viewer",
    "bigtable.clusters.update": "roles/bigtable.admin",
    "monitoring.timeSeries.list": "roles/monitoring.viewer",
    "monitoring.dashboards.get": "roles/monitoring.dashboardViewer",
    "monitoring.dashboards.create": "roles/monitoring.dashboardEditor",
    "monitoring.dashboards.update": "roles/monitoring.dashboardEditor",
}


@contextlib.contextmanager
def translated(doing: str, target: str, timeout: float, *, permission: str | None = None) -> Iterator[None]:
    """google.api_core exceptions -> one-line wbctl errors naming what was refused; a refusal
    names the IAM permission the call needs and the role that holds it (Google's own message
    does not always say)."""
    from google.api_core import exceptions as gexc

    try:
        yield
    except gexc.PermissionDenied as exc:
        said = re.search(r"[Pp]ermission '?([a-z]+\.[A-Za-z]+\.[A-Za-z]+)'?", exc.message or "")
        needed = permission or (said.group(1) if said else None)
        role = ROLES.get(needed or "")
        hint = (
            f" (needs IAM permission {needed}" + (f", in {role}" if role else "") + "; see docs/permissions.md)"
            if needed
            else " (see docs/permissions.md)"
        )
        raise BackendError(f"permission denied: {doing} {target}{hint}: {_first_sentence(exc.message)}") from exc
    except gexc.Unauthenticated as exc:
        raise BackendError(
            f"unauthenticated: {doing} {target}: {_first_sentence(exc.message)}; refresh your credentials"
        ) from exc
    except gexc.NotFound as exc:
        raise BackendError(f"not found: {doing} {target}: {_first_sentence(exc.message)}") from exc
    except gexc.DeadlineExceeded as exc:
        raise BackendError(
            f"{doing} {target}: no answer within {timeout:g}s (raise --timeout if the API is slow)"
        ) from exc
    except gexc.ServiceUnavailable as exc:
        refused = re.search(r"(?:ipv4|ipv6|dns):([^ ]+?): [^;]*?[Cc]onnection refused", exc.message or "")
        why = f"connection refused at {refused.group(1)}" if refused else _first_sentence(exc.message)
        raise BackendError(f"{doing} {target}: the service is unavailable ({why})") from exc
    except gexc.InvalidArgument as exc:
        raise BackendError(f"{doing} {target}: the API rejected the request: {_first_sentence(exc.message)}") from exc
    except gexc.GoogleAPICallError as exc:
        raise BackendError(f"{doing} {target} failed: {type(exc).__name__}: {_first_sentence(exc.message)}") from exc
    except gexc.RetryError as exc:
        raise BackendError(f"{doing} {target}: no answer within {timeout:g}s") from exc


def _first_sentence(text: str | None) -> str:
    return " ".join((text or "").split())[:300]
