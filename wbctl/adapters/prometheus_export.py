"""wbctl's metrics out through the official prometheus-client: exposition, Pushgateway, textfile.

The client writes the formats (Prometheus text 0.0.4 and OpenMetrics 1.0) and does the
Pushgateway's protocol, so wbctl never writes the format by hand. A push is a PUT of the whole
group (job `wbctl`, the context as a grouping label): each run replaces the previous one, so a
finding that disappeared does not linger on the gateway. A textfile is written by the client
to a temporary file and renamed over the target, so node-exporter's textfile collector never
reads half a file (https://github.com/prometheus/node_exporter#textfile-collector).
The client is imported on first use, never at module import: a command that does not export
loads none of it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING
from urllib.parse import unquote, urlsplit, urlunsplit

from wbctl.core.measurements import FAMILIES, Sample
from wbctl.errors import BackendError, WbctlError
from wbctl.redact import url_without_credentials

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import Collector

JOB = "wbctl"

#: how prometheus-client sends a push: (url, method, timeout, headers, data) -> the request to make
Handler = Callable[[str, str, float | None, list[tuple[str, str]], bytes], Callable[[], None]]


class _Samples:
    """A collector over samples read once: the registry asks it at exposition time."""

    def __init__(self, samples: Sequence[Sample]) -> None:
        self._samples = samples

    def collect(self) -> Iterator[GaugeMetricFamily]:
        from prometheus_client.core import GaugeMetricFamily

        families: dict[str, GaugeMetricFamily] = {}
        for sample in self._samples:
            labels = [key for key, _ in sample.labels]
            family = families.get(sample.name)
            if family is None:
                family = families[sample.name] = GaugeMetricFamily(sample.name, FAMILIES[sample.name], labels=labels)
            family.add_metric([value for _, value in sample.labels], sample.value)
        yield from families.values()


def registry(samples: Sequence[Sample]) -> CollectorRegistry:
    from prometheus_client import CollectorRegistry

    built = CollectorRegistry(auto_describe=False)
    built.register(_Samples(samples))
    return built


def exposition(samples: Sequence[Sample], *, openmetrics: bool = False) -> str:
    if openmetrics:
        from prometheus_client.openmetrics import exposition as openmetrics_exposition

        # the client's OpenMetrics writer carries no annotations: its signature, as wbctl calls it
        generate_openmetrics: Callable[[Collector], bytes] = openmetrics_exposition.generate_latest
        return generate_openmetrics(registry(samples)).decode()
    from prometheus_client import generate_latest

    return generate_latest(registry(samples)).decode()


def push(url: str, samples: Sequence[Sample], *, context: str, timeout: float) -> str:
    """PUT the samples to the Pushgateway at `url` as the group {job="wbctl", context=...};
    returns where they went (without credentials). Credentials in the URL become basic auth."""
    import urllib.error

    from prometheus_client.exposition import default_handler, push_to_gateway

    parts = urlsplit(url)
    gateway = urlunsplit((parts.scheme, parts.netloc.rpartition("@")[2], parts.path, "", ""))
    handler: Handler = default_handler
    if parts.username is not None:
        handler = _basic_auth(unquote(parts.username), unquote(parts.password or ""))
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


def _basic_auth(username: str, password: str) -> Handler:
    """The client's Pushgateway handler with basic auth, for credentials found in the URL."""
    from prometheus_client.exposition import basic_auth_handler

    def handler(
        url: str, method: str, timeout: float | None, headers: list[tuple[str, str]], data: bytes
    ) -> Callable[[], None]:
        return basic_auth_handler(url, method, timeout, headers, data, username, password)

    return handler


def write_textfile(path: str, samples: Sequence[Sample]) -> None:
    from prometheus_client import write_to_textfile

    try:
        write_to_textfile(path, registry(samples))
    except OSError as exc:
        raise WbctlError(f"--textfile {path}: {exc.strerror or exc}") from None
