"""W&B's own connection strings: the query parameters of `redis-url` and `mysql-url`.

W&B writes its Redis and MySQL addresses as URLs whose query holds *W&B's* options, not the
client library's: Terraform's Memorystore URL is
`redis://:<auth>@<host>:6378?tls=true&ttlInSeconds=604800&caCertPath=/etc/ssl/certs/server_ca.pem`,
the in-cluster Redis is a Sentinel (`redis://redis.redis.svc.cluster.local:26379?master=gorilla`),
and the chart's MySQL URL ends in `?tls=preferred` (docs/sources.md, "W&B's connection strings").
Handing such a query to redis-py or PyMySQL fails (redis-py passes `tls` on as a keyword
argument). This module reads the query the way W&B means it, into a plain description the
adapters connect with; anything it does not know is refused, naming the parameter, so a typo
or a new option is never silently read as something else.

Pure: no I/O (whether a named file exists is the adapter's business). Every error is a
`ConnectionURLError` (a ValueError, so the config loader reports it as one line naming the
variable or the file's line) whose text names the target without credentials and never
quotes a value that could be a secret.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import SplitResult, parse_qsl, unquote, urlsplit

from wbctl.redact import url_without_credentials

SENTINEL_PORT = 26379  # Redis Sentinel's own port, when a `master=` URL gives none
REDIS_PORT = 6379
MYSQL_PORT = 3306

# W&B's Redis query parameters (wandb/operator docs/infra-connection-settings.md).
REDIS_TLS, REDIS_CA, REDIS_TTL, REDIS_MASTER, REDIS_CLUSTER = "tls", "caCertPath", "ttlInSeconds", "master", "cluster"
# The rest of W&B's documented ones tune W&B's own Go client (its pool, timeouts, retries): they
# say nothing about where Redis is or how to reach it, so wbctl (one short connection, its own
# --timeout) reads past them like ttlInSeconds.
REDIS_CLIENT_TUNING = (
    "poolSize",
    "poolSizeMultiple",
    "minIdleConns",
    "dialTimeout",
    "readTimeout",
    "writeTimeout",
    "contextTimeoutEnabled",
    "poolTimeout",
    "connMaxIdleTime",
    "connMaxLifetime",
    "connMaxLifetimeJitter",
    "maxRetries",
    "dialerRetries",
    "maxConcurrentDials",
    "dialerRetryTimeout",
    "minRetryBackoff",
    "maxRetryBackoff",
    "minDialerRetryBackoff",
    "maxDialerRetryBackoff",
)
REDIS_PARAMS = (REDIS_TLS, REDIS_CA, REDIS_TTL, REDIS_MASTER, REDIS_CLUSTER, *REDIS_CLIENT_TUNING)

# W&B's MySQL query parameters (the operator's doc; the chart's `wandb.mysql` adds the RDS pair).
MYSQL_TLS, MYSQL_CA, MYSQL_CERT, MYSQL_KEY = "tls", "ssl-ca", "ssl-cert", "ssl-key"
MYSQL_IAM, MYSQL_REGION = "rds-iam-auth", "aws-region"
MYSQL_PARAMS = (MYSQL_TLS, MYSQL_CA, MYSQL_CERT, MYSQL_KEY, MYSQL_IAM, MYSQL_REGION)
MYSQL_TLS_MODES = ("true", "false", "skip-verify", "preferred", "custom")

# Go's strconv.ParseBool, which W&B's connectors read booleans with
_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})


class ConnectionURLError(ValueError):
    """A connection URL wbctl cannot use as written; the text is safe to print."""


@dataclass(frozen=True)
class Userinfo:
    username: str | None
    password: str | None


@dataclass(frozen=True)
class RedisURL:
    """Where Redis is and how to reach it, as W&B's URL says."""

    host: str
    port: int
    db: int
    username: str | None
    password: str | None
    tls: bool
    ca_path: str | None  # caCertPath: a path inside W&B's pods, which may not exist here
    master: str | None  # Sentinel's master name: host and port are then the Sentinel's
    target: str  # how messages and findings name it: no credentials, Sentinel's master named


@dataclass(frozen=True)
class MysqlURL:
    host: str
    port: int
    database: str | None
    username: str | None
    password: str | None
    tls: str | None  # one of MYSQL_TLS_MODES, None when the URL says nothing
    ca_path: str | None
    cert_path: str | None
    key_path: str | None
    target: str


def _lead(setting: str, url: str) -> str:
    """What an error starts with: the setting and its target without credentials, or nothing
    when the caller (the config loader) names the variable or the file's line itself."""
    return f"{setting} {url_without_credentials(url)}: " if setting else ""


def _split(url: str, setting: str, schemes: tuple[str, ...]) -> tuple[SplitResult, str, str]:
    target = url_without_credentials(url)
    lead = _lead(setting, url)
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number
    except ValueError:
        raise ConnectionURLError(f"{lead}expected a URL with a valid host and port") from None
    if parts.scheme not in schemes:
        raise ConnectionURLError(f"{lead}expected a URL starting with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise ConnectionURLError(f"{lead}expected a URL with a host")
    if parts.fragment:
        raise ConnectionURLError(f"{lead}unexpected #fragment")
    return parts, target, lead


def _query(raw: str, lead: str, known: tuple[str, ...]) -> dict[str, str]:
    """The query as name -> value; an unknown or repeated name is refused by name only (a
    value may be a secret: `?password=...` is refused without being quoted)."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw, keep_blank_values=True):
        if name not in known:
            shown = name if _printable(name) else repr(name)
            raise ConnectionURLError(f"{lead}unknown query parameter {shown} (known: {_known(known)})")
        if name in params:
            raise ConnectionURLError(f"{lead}query parameter {name} is given twice")
        params[name] = value
    return params


def _known(known: tuple[str, ...]) -> str:
    if known == REDIS_PARAMS:
        return (
            "tls, caCertPath, ttlInSeconds, master, cluster, and W&B's client tuning options: see docs/configuration.md"
        )
    return ", ".join(known)


def _printable(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9._~-]{1,64}", text))


def _bool(value: str, name: str, lead: str) -> bool:
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ConnectionURLError(f"{lead}{name} must be true or false")


def _userinfo(parts: SplitResult) -> Userinfo:
    username, password = parts.username, parts.password
    return Userinfo(unquote(username) if username else None, unquote(password) if password else None)


def redis_userinfo(url: str) -> Userinfo:
    """The username and password a Redis URL carries, W&B's forms included.

    `redis://:<auth>@host` (Terraform, the chart) is a password alone. W&B's v2 operator writes
    an external Redis's password as `url.UserPassword(password, "")`, i.e. `redis://<auth>:@host`:
    a name followed by an empty password is that form, and the name is the password.
    """
    try:
        parts = urlsplit(url)
        netloc = parts.netloc
    except ValueError:
        return Userinfo(None, None)
    info = _userinfo(parts)
    userinfo = netloc.rpartition("@")[0] if "@" in netloc else ""
    if info.username and info.password is None and userinfo.endswith(":"):
        return Userinfo(None, info.username)
    return info


def secrets_in(url: str) -> list[str]:
    """Every secret a Redis or MySQL URL may carry, in every form it may take, for masking."""
    try:
        parts = urlsplit(url)
        found = [unquote(parts.password or "")]
    except ValueError:
        return []
    if parts.scheme in ("redis", "rediss"):
        found.append(redis_userinfo(url).password or "")
    return sorted({secret for secret in found if secret})


def parse_redis_url(url: str, setting: str = "") -> RedisURL:
    parts, target, lead = _split(url, setting, ("redis", "rediss"))
    path = parts.path
    if not re.fullmatch(r"/?\d*", path):
        raise ConnectionURLError(f"{lead}expected a Redis database number after the host, e.g. redis://host:6379/0")
    params = _query(parts.query, lead, REDIS_PARAMS)
    scheme_tls = parts.scheme == "rediss"
    tls = scheme_tls
    if REDIS_TLS in params:
        tls = _bool(params[REDIS_TLS], REDIS_TLS, lead)
        if scheme_tls and not tls:
            raise ConnectionURLError(f"{lead}rediss:// is TLS, but tls=false says not: drop one")
    if REDIS_TTL in params and not re.fullmatch(r"-?\d{1,19}", params[REDIS_TTL]):
        raise ConnectionURLError(f"{lead}{REDIS_TTL} must be a whole number of seconds")
    if REDIS_CLUSTER in params and _bool(params[REDIS_CLUSTER], REDIS_CLUSTER, lead):
        raise ConnectionURLError(f"{lead}cluster=true (Redis Cluster) is not supported: give one node's URL without it")
    ca_path = params.get(REDIS_CA) or None
    if ca_path is not None and not tls:
        raise ConnectionURLError(f"{lead}{REDIS_CA} is set but TLS is off: add tls=true")
    master = params.get(REDIS_MASTER) or None  # Terraform writes `master = ""` for "no Sentinel"
    port = parts.port or (SENTINEL_PORT if master else REDIS_PORT)
    info = redis_userinfo(url)
    host = parts.hostname or ""
    shown_host = f"[{host}]" if ":" in host else host
    db = int(path.lstrip("/") or 0)
    named = f"{parts.scheme}://{shown_host}:{port}/{db}"  # the scheme as given, as for any target
    return RedisURL(
        host=host,
        port=port,
        db=db,
        username=info.username,
        password=info.password,
        tls=tls,
        ca_path=ca_path,
        master=master,
        target=f"{named}?master={master}" if master else target,
    )


def parse_mysql_url(url: str, setting: str = "") -> MysqlURL:
    parts, target, lead = _split(url, setting, ("mysql",))
    params = _query(parts.query, lead, MYSQL_PARAMS)
    tls = params.get(MYSQL_TLS)
    if tls is not None and tls not in MYSQL_TLS_MODES:
        raise ConnectionURLError(f"{lead}tls must be one of {', '.join(MYSQL_TLS_MODES)}")
    if MYSQL_IAM in params and _bool(params[MYSQL_IAM], MYSQL_IAM, lead):
        raise ConnectionURLError(
            f"{lead}rds-iam-auth=true (AWS IAM sign-in) is not supported: "
            "give a MySQL user and set WBCTL_MYSQL_PASSWORD"
        )
    ca_path = params.get(MYSQL_CA) or None
    cert_path = params.get(MYSQL_CERT) or None
    key_path = params.get(MYSQL_KEY) or None
    if (cert_path is None) != (key_path is None):
        raise ConnectionURLError(f"{lead}ssl-cert and ssl-key go together: give both or neither")
    if tls == "false" and (ca_path or cert_path):
        raise ConnectionURLError(f"{lead}tls=false, but ssl-ca/ssl-cert say TLS: drop one")
    info = _userinfo(parts)
    database = parts.path.lstrip("/") or None
    return MysqlURL(
        host=parts.hostname or "",
        port=parts.port or MYSQL_PORT,
        database=unquote(database) if database else None,
        username=info.username,
        password=info.password,
        tls=tls,
        ca_path=ca_path,
        cert_path=cert_path,
        key_path=key_path,
        target=target,
    )
