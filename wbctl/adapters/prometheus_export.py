"""wbctl's metrics out through the official prometheus-client: exposition, Pushgateway, textfile.

The client writes the formats (Prometheus text 0.0.4 and OpenMetrics 1.0) and does the
Pushgateway's protocol, so wbctl never writes the format by hand. A push is a PUT of the whole
group (job `wbctl`, the context as a grouping label): each run replaces the previous one, so a
finding that disappeared does not linger on the gateway. A textfile is written by the client
to a temporary file and renamed over the target, so node-exporter's textfile collector never
reads half a file (https://github.com/prometheus/node_exporter#textfile-collector).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily

from wbctl.core.measurements import FAMILIES, Sample
from wbctl.errors import BackendError, WbctlError
from wbctl.redact import url_without_credentials

JOB = "wbctl"


class _Samples:
    """A collector over samples read once: the registry asks it at exposition time."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self._samples = samples

    def collect(self) -> Iterator[GaugeMetricFamily]:
        families: dict[str, GaugeMetricFamily] = {}
        for sample in self._samples:
            labels = [key for key, _ in sample.labels]
            family = families.get(sample.name)
            if family is None:
                family = families[sample.name] = GaugeMetricFamily(sample.name, FAMILIES[sample.name], labels=labels)
            family.add_metric([value for _, value in sample.labels], sample.value)
        yield from families.values()


def registry(samples: Sequence[Sample]) -> CollectorRegistry:
    built = CollectorRegistry(auto_describe=False)
    built.register(_Samples(samples))  # type: ignore[arg-type]
    return built


def exposition(samples: Sequence[Sample], *, openmetrics: bool = False) -> str:
    if openmetrics:
        from prometheus_client.openmetrics.exposition import (
            generate_latest as generate_openmetrics,
        )

        return generate_openmetrics(registry(samples)).decode()
    from prometheus_client import generate_latest

    return generate_latest(registry(samples)).decode()


def push(url: str, samples: Sequence[Sample], *, context: str, timeout: float) -> str:
    """PUT the samples to the Pushgateway at `url` as the group {job="wbctl", context=...};
    returns where they went (without credentials). Credentials in the URL become basic auth."""
    import urllib.error

    from prometheus_client.exposition import (
        basic_auth_handler,
        default_handler,
        push_to_gateway,
    )

    parts = urlsplit(url)
    gateway = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    handler: Any = default_handler
    if parts.username is not None:
        from urllib.parse import unquote

        username, password = unquote(parts.username), unquote(parts.password or "")

        def handler(url: str, method: str, timeout: float | None, headers: list, data: bytes) -> Any:
            return basic_auth_handler(url, method, timeout, headers, data, username, password)

    where = f'{url_without_credentials(url)} as job="{JOB}", context="{context}"'
    try:
        push_to_gateway(
            gateway,
            job=JOB,
            registry=registry(samples),
            grouping_key={"context": context},
            timeout=timeout,
            handler=handler,
        )
    except urllib.error.HTTPError as exc:
        body = exc.read().decode(errors="replace").strip()
        raise BackendError(
            f"push to {where}: the Pushgateway answered {exc.code} {exc.reason}" + (f": {body}" if body else "")
        ) from None
    except urllib.error.URLError as exc:
        raise BackendError(f"push to {where}: {exc.reason}") from None
    except OSError as exc:  # a timeout, a reset connection
        raise BackendError(f"push to {where}: {exc}") from None
    return where


def write_textfile(path: str, samples: Sequence[Sample]) -> None:
    from prometheus_client import write_to_textfile

    try:
        write_to_textfile(path, registry(samples))
    except OSError as exc:
        raise WbctlError(f"--textfile {path}: {exc.strerror or exc}") from None
