"""The configuration's keys: each one's name, default, meaning and value parser.

One table (`KEYS`) serves loading (wbctl/config/__init__.py), `config show` and the docs. A parser
raises ValueError with what it expected; the loader turns that into a one-line ConfigError
naming the file and line, the variable, or the flag.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from wbctl.core.connection_url import parse_mysql_url, parse_redis_url
from wbctl.core.queue_source import SOURCES
from wbctl.errors import UsageError


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError("expected a string")
    return value


TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"", "0", "false", "no", "off"})


def parse_bool(value: Any) -> bool:
    """The one reading of a yes/no value (the config's booleans, WBCTL_SANDBOX): TOML's true
    and false, or their usual spellings; anything else is refused, never taken as false, so a
    misspelt `WBCTL_SANDBOX=ture` cannot send a rehearsal to the real deployment."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in TRUE_WORDS:
        return True
    if isinstance(value, str) and value.strip().lower() in FALSE_WORDS:
        return False
    raise ValueError("expected true or false")


_SECONDS = "expected a number of seconds, more than 0 and at most 3600"


def _seconds(value: Any) -> float:
    try:
        number = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        raise ValueError(_SECONDS) from None
    if not math.isfinite(number) or number <= 0 or number > 3600:
        raise ValueError(_SECONDS)
    return number


def _duration(value: Any) -> int:
    """A duration as `7d`, `90m`, `1h30m`, or a whole number of seconds."""
    from wbctl.core.durations import parse_duration

    if isinstance(value, bool):
        raise ValueError("expected a duration such as 30m, 2h or 7d")
    if isinstance(value, int):
        text = f"{value}s"
    elif isinstance(value, str):
        text = f"{value.strip()}s" if value.strip().isdigit() else value
    else:
        raise ValueError("expected a duration such as 30m, 2h or 7d")
    try:
        return parse_duration(text)
    except UsageError as exc:
        raise ValueError(exc.message.removeprefix("invalid duration ")) from None


def _count(limit: int) -> Callable[[Any], int]:
    def parse(value: Any) -> int:
        text = str(value).strip() if not isinstance(value, bool) else ""
        if isinstance(value, float) or not text.isdigit() or not text.isascii():
            raise ValueError(f"expected a whole number from 0 to {limit:,}")
        number = int(text)
        if number > limit:
            raise ValueError(f"expected a whole number from 0 to {limit:,}")
        return number

    return parse


def _choice(*choices: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        if value not in choices:
            raise ValueError(f"expected one of {', '.join(choices)}")
        return value

    return parse


def _url(*schemes: str) -> Callable[[Any], str]:
    def parse(value: Any) -> str:
        text = _str(value)
        if not any(text.startswith(f"{scheme}://") for scheme in schemes):
            raise ValueError(f"expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
        try:
            parts = urlsplit(text)
            parts.port  # noqa: B018 - raises ValueError for a port that is not a number
        except ValueError:
            raise ValueError("expected a URL with a valid host and port") from None
        if not parts.hostname:
            raise ValueError("expected a URL with a host")
        return text

    return parse


def _connection_url(parse_url: Callable[[str], object]) -> Callable[[Any], str]:
    """redis-url / mysql-url: read as W&B writes them (core/connection_url.py), so a query
    parameter wbctl does not know is refused when the setting is loaded, before any connection."""

    def parse(value: Any) -> str:
        text = _str(value)
        parse_url(text)  # raises ConnectionURLError (a ValueError) naming the problem
        return text

    return parse


@dataclass(frozen=True)
class Key:
    name: str
    parse: Callable[[Any], Any]
    default: Any
    help: str
    # another tool's variable for the same thing (Google's BIGTABLE_EMULATOR_HOST), read after
    # the config file: wbctl's own flag, variable and file say what wbctl was told on purpose
    convention: str | None = None

    @property
    def env_var(self) -> str:
        return "WBCTL_" + self.name.upper().replace("-", "_")


KEYS: dict[str, Key] = {
    key.name: key
    for key in (
        Key("namespace", _str, "default", "namespace of the WeightsAndBiases CR and the W&B services"),
        Key("instance", _str, "wandb", "the CR name (= Helm release = app.kubernetes.io/instance)"),
        Key("kube-context", _str, None, "kubeconfig context (default: kubeconfig's current context)"),
        Key("gcp-project", _str, None, "Google Cloud project (default: the WeightsAndBiases resource's)"),
        Key(
            "bigtable-instance",
            _str,
            None,
            "Bigtable instance (default: the WeightsAndBiases resource's, else derived like W&B's Terraform)",
        ),
        Key("bigtable-cluster", _str, None, "Bigtable cluster (default: <instance>-c1)"),
        Key(
            "queue-source",
            _choice(*SOURCES),
            None,
            f"{', '.join(SOURCES[:-1])} or {SOURCES[-1]} (default: what the updater's Deployment says)",
        ),
        Key("queue-subscription", _str, None, "Pub/Sub subscription of the flat-run-fields-updater"),
        Key("queue-topic", _str, None, "the run-updates topic (Pub/Sub topic or Kafka topic)"),
        Key("queue-partitions", _count(100_000), None, "Kafka: partitions of the topic (default: from the Deployment)"),
        Key(
            "queue-retention",
            _duration,
            None,
            "how long the queue keeps a message (default: 7d on Pub/Sub, unknown on Kafka)",
        ),
        Key("queue-allowed-backlog", _count(10**12), 0, "a backlog up to this many messages counts as none"),
        Key("queue-allowed-age", _duration, 300, "an oldest message up to this age counts as none"),
        Key(
            "alerts-auditor-interval",
            _duration,
            300,
            "how often the auditor (wbctl check -o prometheus) runs: alerts rules",
        ),
        Key("alerts-runbook-url", _url("http", "https"), None, "base URL of wbctl's docs/ for the alerts' runbook_url"),
        Key("metrics-source", _choice("cloud-monitoring", "prometheus"), "cloud-monitoring", "where metrics come from"),
        Key("prometheus-url", _url("http", "https"), "http://127.0.0.1:9090", "Prometheus base URL"),
        Key(
            "gcp-emulator-host",
            _str,
            None,
            "host:port of one plaintext gRPC endpoint for every Google API",
            convention="BIGTABLE_EMULATOR_HOST",
        ),
        Key("gcp-monitoring-endpoint", _str, None, "Cloud Monitoring endpoint override"),
        Key("gcp-bigtable-admin-endpoint", _str, None, "Bigtable admin endpoint override"),
        Key(
            "redis-url",
            _connection_url(parse_redis_url),
            "redis://127.0.0.1:6379/0",
            "Redis (Memorystore) URL; W&B's ?tls=true&caCertPath=...&master=... understood",
        ),
        Key("redis-ca-file", _str, None, "CA certificate for TLS Redis (Memorystore server CA); wins over caCertPath"),
        Key(
            "mysql-url",
            _connection_url(parse_mysql_url),
            "mysql://wandb@127.0.0.1:3306/wandb_local",
            "MySQL URL; W&B's ?tls=...&ssl-ca=... understood",
        ),
        Key("mysql-ca-file", _str, None, "CA certificate for MySQL TLS (Cloud SQL server CA); wins over ssl-ca"),
        Key(
            "noisy-run-query", _str, "", "promql:<counter selector> or filter:<Cloud Monitoring filter> of per-run load"
        ),
        Key("noisy-run-label", _str, "run_id", "the label of the noisy-run query's series that holds the run id"),
        Key("read-only", parse_bool, False, "refuse every change in this context"),
        Key("timeout", _seconds, 10.0, "seconds allowed for each backend call"),
        Key("output", _choice("table", "json"), "table", "output format"),
        *(
            Key(
                f"prometheus-query-{signal}",
                _str,
                None,
                f"PromQL for the {signal} signal ({{value}}: instance or subscription)",
            )
            for signal in (
                "bigtable-cpu",
                "bigtable-cpu-hottest",
                "bigtable-nodes",
                "bigtable-storage",
                "queue-undelivered",
                "queue-oldest-age",
                "queue-acked",
                "queue-published",
                "queue-expired",
                "queue-lag",
                "queue-lag-partitions",
                "queue-consumed",
            )
        ),
    )
}

# Secrets are never read from the config file: only from the environment, or inside a URL
# given by the environment or a flag. A URL key in the file must not hold a password.
SECRET_ENV = {"redis-password": "WBCTL_REDIS_PASSWORD", "mysql-password": "WBCTL_MYSQL_PASSWORD"}
URL_SECRET = {"redis-url": "redis-password", "mysql-url": "mysql-password"}
