"""W&B's connection strings, read as W&B writes them (wbctl/core/connection_url.py).

The fixtures are W&B's own URLs: terraform-google-wandb's Memorystore and in-cluster Sentinel
URLs, the chart's MySQL URLs, and what the v2 operator writes for an external Redis or MySQL
(docs/sources.md, "W&B's connection strings").
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.connection_url import (
    MYSQL_PARAMS,
    REDIS_PARAMS,
    ConnectionURLError,
    parse_mysql_url,
    parse_redis_url,
    redis_userinfo,
    secrets_in,
)

AUTH = "0f9d-Auth-String-7c1e"
TERRAFORM_MEMORYSTORE = (
    f"redis://:{AUTH}@10.12.0.4:6378?tls=true&ttlInSeconds=604800&caCertPath=/etc/ssl/certs/server_ca.pem"
)
TERRAFORM_SENTINEL = "redis://redis.redis.svc.cluster.local:26379?master=gorilla"


def test_terraforms_memorystore_url() -> None:
    url = parse_redis_url(TERRAFORM_MEMORYSTORE)
    assert (url.host, url.port, url.db, url.password, url.tls) == ("10.12.0.4", 6378, 0, AUTH, True)
    assert url.ca_path == "/etc/ssl/certs/server_ca.pem"
    assert url.master is None
    assert url.target == "redis://10.12.0.4:6378"


def test_terraforms_in_cluster_sentinel() -> None:
    url = parse_redis_url(TERRAFORM_SENTINEL)
    assert (url.host, url.port, url.master, url.tls, url.password) == (
        "redis.redis.svc.cluster.local",
        26379,
        "gorilla",
        False,
        None,
    )
    assert url.target == "redis://redis.redis.svc.cluster.local:26379/0?master=gorilla"


def test_a_sentinel_url_without_a_port_means_sentinels_port() -> None:
    assert parse_redis_url("redis://redis.redis.svc.cluster.local?master=gorilla").port == 26379
    assert parse_redis_url("redis://redis.redis.svc.cluster.local").port == 6379


def test_terraforms_empty_master_is_no_sentinel() -> None:
    # terraform-google-wandb writes `params = { master = "" }` for Memorystore
    url = parse_redis_url("redis://10.0.0.3:6379?master=")
    assert url.master is None and url.port == 6379


def test_the_charts_tls_form_and_rediss_are_the_same_tls() -> None:
    chart = parse_redis_url(
        "redis://:pw@redis:6379?tls=true&caCertPath=/etc/ssl/certs/redis_ca.pem&ttlInSeconds=604800"
    )
    assert chart.tls and chart.ca_path == "/etc/ssl/certs/redis_ca.pem"
    assert parse_redis_url("rediss://10.0.0.3:6378/0").tls
    assert parse_redis_url("rediss://10.0.0.3:6378/0?tls=true").tls
    assert not parse_redis_url("redis://10.0.0.3:6379?tls=false").tls


def test_the_v2_operators_password_as_name_form() -> None:
    # internal/controller/infra/external/redis/redis.go: url.UserPassword(password, "")
    url = parse_redis_url(f"redis://{AUTH}:@redis.example.com:6379?tls=true&caCertPath=/etc/ssl/certs/redis_ca.pem")
    assert (url.username, url.password) == (None, AUTH)
    assert secrets_in(f"redis://{AUTH}:@redis.example.com:6379") == [AUTH]


def test_an_acl_user_and_password_stay_apart() -> None:
    assert (redis_userinfo("redis://ops:pa%40ss@h:6379/0").username, redis_userinfo("redis://ops:@h").username) == (
        "ops",
        None,
    )
    url = parse_redis_url("redis://ops:pa%40ss@h:6379/2")
    assert (url.username, url.password, url.db) == ("ops", "pa@ss", 2)


def test_a_mysql_user_without_password_is_not_a_secret() -> None:
    assert secrets_in("mysql://wandb:@127.0.0.1:3306/wandb_local") == []
    assert secrets_in("mysql://wandb:pw@127.0.0.1:3306/wandb_local") == ["pw"]


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://h:6379?foo=1", "unknown query parameter foo"),
        (f"redis://:{AUTH}@h:6379?password={AUTH}", "unknown query parameter password"),
        ("redis://h:6379?TLS=true", "unknown query parameter TLS"),
        ("redis://h:6379?tls=yes", "tls must be true or false"),
        ("redis://h:6379?tls=true&tls=false", "tls is given twice"),
        ("rediss://h:6379?tls=false", "rediss:// is TLS, but tls=false"),
        ("redis://h:6379?caCertPath=/ca.pem", "caCertPath is set but TLS is off"),
        ("redis://h:6379?ttlInSeconds=week", "ttlInSeconds must be a whole number"),
        ("redis://h:6379?cluster=true", "cluster=true (Redis Cluster) is not supported"),
        ("redis://h:6379/abc", "database number"),
        ("redis://", "expected a URL with a host"),
        ("http://h", "expected a URL starting with redis:// or rediss://"),
    ],
)
def test_what_redis_urls_refuse(url: str, message: str) -> None:
    with pytest.raises(ConnectionURLError) as raised:
        parse_redis_url(url, "redis-url")
    assert message in str(raised.value)
    assert str(raised.value).startswith("redis-url ")
    assert AUTH not in str(raised.value)


def test_w_and_bs_client_tuning_parameters_are_read_past() -> None:
    url = parse_redis_url("redis://h:6379?poolSize=20&dialTimeout=5s&maxRetries=3&cluster=false")
    assert (url.host, url.port, url.tls, url.master) == ("h", 6379, False, None)


def test_the_charts_mysql_urls() -> None:
    preferred = parse_mysql_url("mysql://wandb:pw@10.0.0.5:3306/wandb_local?tls=preferred")
    assert (preferred.username, preferred.password, preferred.database, preferred.tls) == (
        "wandb",
        "pw",
        "wandb_local",
        "preferred",
    )
    assert preferred.target == "mysql://10.0.0.5:3306/wandb_local"


def test_the_v2_operators_mysql_url() -> None:
    url = parse_mysql_url(
        "mysql://wandb:pw@db:3306/wandb?ssl-ca=%2Fetc%2Fssl%2Fcerts%2Fmysql_ca.pem"
        "&ssl-cert=%2Fetc%2Fssl%2Fcerts%2Fmysql_ssl_cert.pem&ssl-key=%2Fetc%2Fssl%2Fcerts%2Fmysql_ssl_key.pem&tls=custom"
    )
    assert (url.tls, url.ca_path, url.cert_path, url.key_path) == (
        "custom",
        "/etc/ssl/certs/mysql_ca.pem",
        "/etc/ssl/certs/mysql_ssl_cert.pem",
        "/etc/ssl/certs/mysql_ssl_key.pem",
    )


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("mysql://u:secretpw@h/db?charset=utf8mb4", "unknown query parameter charset"),
        ("mysql://u:secretpw@h/db?tls=required", "tls must be one of true, false, skip-verify, preferred, custom"),
        (
            "mysql://u@h/db?tls=custom&ssl-ca=/ca.pem&rds-iam-auth=true&aws-region=us-east-1",
            "rds-iam-auth=true (AWS IAM sign-in) is not supported",
        ),
        ("mysql://u:secretpw@h/db?ssl-cert=/c.pem", "ssl-cert and ssl-key go together"),
        ("mysql://u:secretpw@h/db?tls=false&ssl-ca=/ca.pem", "tls=false, but ssl-ca"),
        ("mysql://u:secretpw@h/db?tls=true&tls=true", "tls is given twice"),
    ],
)
def test_what_mysql_urls_refuse(url: str, message: str) -> None:
    with pytest.raises(ConnectionURLError) as raised:
        parse_mysql_url(url)
    assert message in str(raised.value)
    assert "secretpw" not in str(raised.value)


# --- properties ---------------------------------------------------------------------------

# a password that cannot be mistaken for any other part of the URL or message
passwords = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~!$&'()*+,;=%@:/?#", min_size=1, max_size=30).map(
    lambda text: f"Zq{text}Xj"
)
hosts = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z][a-z0-9-]{0,10}){0,3}", fullmatch=True)
names = st.text(alphabet=st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)


@given(name=names, password=passwords, host=hosts)
def test_any_unknown_redis_parameter_is_refused_by_name_and_never_shows_the_password(
    name: str, password: str, host: str
) -> None:
    if name in REDIS_PARAMS:
        return
    url = f"redis://:{quote(password, safe='')}@{host}:6378?{urlencode({name: password})}"
    with pytest.raises(ConnectionURLError) as raised:
        parse_redis_url(url, "redis-url")
    message = str(raised.value)
    assert "unknown query parameter" in message
    assert name in message or repr(name) in message
    assert password not in message and quote(password, safe="") not in message


@given(name=names, password=passwords, host=hosts)
def test_any_unknown_mysql_parameter_is_refused_by_name_and_never_shows_the_password(
    name: str, password: str, host: str
) -> None:
    if name in MYSQL_PARAMS:
        return
    url = f"mysql://wandb:{quote(password, safe='')}@{host}:3306/wandb?{urlencode({name: password})}"
    with pytest.raises(ConnectionURLError) as raised:
        parse_mysql_url(url, "mysql-url")
    message = str(raised.value)
    assert name in message or repr(name) in message
    assert password not in message and quote(password, safe="") not in message


@given(
    password=passwords,
    host=hosts,
    value=st.text(max_size=12),
    name=st.sampled_from(["tls", "ttlInSeconds", "cluster", "caCertPath"]),
)
def test_no_redis_error_shows_the_password(password: str, host: str, value: str, name: str) -> None:
    url = f"redis://:{quote(password, safe='')}@{host}:6379?{urlencode({name: value})}"
    try:
        parse_redis_url(url, "redis-url")
    except ConnectionURLError as exc:
        assert password not in str(exc) and quote(password, safe="") not in str(exc)


@given(
    host=hosts,
    port=st.none() | st.integers(1, 65535),
    db=st.integers(0, 15),
    password=st.none() | passwords,
    tls=st.booleans(),
    ca=st.none() | st.from_regex(r"/[a-z_/]{1,30}\.pem", fullmatch=True),
    master=st.none() | st.from_regex(r"[a-z][a-z0-9-]{0,15}", fullmatch=True),
    ttl=st.none() | st.integers(0, 10**9),
)
def test_redis_round_trip(
    host: str,
    port: int | None,
    db: int,
    password: str | None,
    tls: bool,
    ca: str | None,
    master: str | None,
    ttl: int | None,
) -> None:
    """W&B's URL built from its parts reads back as those parts."""
    ca = ca if tls else None
    query = {"tls": str(tls).lower()}
    if ca:
        query["caCertPath"] = ca
    if master:
        query["master"] = master
    if ttl is not None:
        query["ttlInSeconds"] = str(ttl)
    auth = f":{quote(password, safe='')}@" if password else ""
    url = f"redis://{auth}{host}{f':{port}' if port else ''}/{db}?{urlencode(query)}"
    parsed = parse_redis_url(url)
    default_port = 26379 if master else 6379
    assert (parsed.host, parsed.port, parsed.db) == (host, port or default_port, db)
    assert (parsed.password, parsed.tls, parsed.ca_path, parsed.master) == (password, tls, ca, master)
    assert password is None or password not in parsed.target
    assert secrets_in(url) == ([password] if password else [])


@given(
    host=hosts,
    port=st.none() | st.integers(1, 65535),
    user=st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    password=st.none() | passwords,
    database=st.none() | st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True),
    tls=st.none() | st.sampled_from(["true", "skip-verify", "preferred", "custom"]),
    ca=st.none() | st.from_regex(r"/[a-z_/]{1,30}\.pem", fullmatch=True),
)
def test_mysql_round_trip(
    host: str,
    port: int | None,
    user: str,
    password: str | None,
    database: str | None,
    tls: str | None,
    ca: str | None,
) -> None:
    query = {k: v for k, v in (("tls", tls), ("ssl-ca", ca)) if v is not None}
    auth = f"{user}:{quote(password, safe='')}@" if password else f"{user}@"
    url = f"mysql://{auth}{host}{f':{port}' if port else ''}/{database or ''}?{urlencode(query)}"
    parsed = parse_mysql_url(url)
    assert (parsed.host, parsed.port, parsed.username, parsed.password) == (host, port or 3306, user, password)
    assert (parsed.database, parsed.tls, parsed.ca_path) == (database, tls, ca)
    assert password is None or password not in parsed.target
