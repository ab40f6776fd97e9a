"""The support bundle's masking: no credential survives, by key name, by URL userinfo or by shape."""

from __future__ import annotations

import json
import string

from hypothesis import assume, given
from hypothesis import strategies as st

from wbctl.core.masking import MASK, mask_text, mask_values, sensitive_key

# prefixed so a secret is never part of a key's own name ("privat" is in "private_key")
SECRET = st.text(alphabet=string.ascii_letters + string.digits + "!%^*_+~", min_size=6, max_size=30).map(
    lambda text: f"Zq9{text}"
)
KEYS = st.sampled_from(
    [
        "password",
        "MYSQL_PASSWORD",
        "secretKey",
        "accessKey",
        "token",
        "apiKey",
        "GORILLA_LICENSE",
        "credentials",
        "private_key",
        "key",
        "redis.password",
        "bearerToken",
        "Authorization",
    ]
)
PLAIN_KEYS = st.sampled_from(["host", "replicas", "image", "chart", "name", "enabled", "BUCKET_NAME"])
SCHEMES = st.sampled_from(["redis", "rediss", "mysql", "https", "s3", "gs", "postgres"])
USER = st.text(alphabet=string.ascii_letters + string.digits + "-_.", min_size=1, max_size=12)
PASSWORD = st.text(alphabet=string.ascii_letters + string.digits + "-_.~!$&'()*+,;=%", min_size=4, max_size=20)


def values(secret: st.SearchStrategy[str]) -> st.SearchStrategy[object]:
    """Nested CR-like values with `secret` planted under credential keys."""
    leaf = st.one_of(st.integers(0, 100), st.booleans(), st.sampled_from(["a", "wandb", "10Gi"]))
    return st.recursive(
        st.one_of(leaf, st.builds(lambda k, s: {k: s}, KEYS, secret)),
        lambda children: st.one_of(
            st.lists(children, max_size=3),
            st.dictionaries(PLAIN_KEYS, children, max_size=3),
            st.builds(
                lambda k, s, rest: {**rest, k: s}, KEYS, secret, st.dictionaries(PLAIN_KEYS, children, max_size=2)
            ),
        ),
        max_leaves=12,
    )


@given(st.data(), SECRET)
def test_a_value_under_a_credential_key_never_survives(data: st.DataObject, secret: str) -> None:
    tree = data.draw(values(st.just(secret)))
    masked = mask_values(tree)
    assert secret not in json.dumps(masked.value)
    assert (secret in json.dumps(tree)) == bool(masked.paths)


@given(st.data(), SECRET)
def test_masking_keeps_the_shape_and_is_idempotent(data: st.DataObject, secret: str) -> None:
    tree = data.draw(values(st.just(secret)))
    once = mask_values(tree).value
    assert mask_values(once).value == once
    assert type(once) is type(tree)
    if isinstance(tree, dict):
        assert set(once) == set(tree)


@given(SCHEMES, USER, PASSWORD, st.sampled_from(["db:3306/wandb", "10.0.0.3:6379/0?tls=true", "host"]))
def test_url_credentials_never_survive(scheme: str, user: str, password: str, rest: str) -> None:
    assume(
        password not in f"{scheme}://{user}:" and password not in rest
    )  # a password that is not also the URL's own text
    url = f"{scheme}://{user}:{password}@{rest}"
    for text in (url, f"connecting to {url} now", json.dumps({"url": url})):
        masked = mask_text(text).text
        assert f"{user}:{password}@" not in masked and f"{MASK}@" in masked
    assert password not in json.dumps(mask_values({"GORILLA_RUN_STORE": url}).value)


@given(st.text(max_size=200))
def test_mask_text_is_idempotent_and_never_grows_a_clean_line(text: str) -> None:
    once = mask_text(text)
    assert mask_text(once.text).text == once.text
    if once.count == 0:
        assert once.text == text


def test_credential_shapes_in_free_text_are_masked() -> None:
    aws = "AKIA" + "ABCDEFGHIJKLMNOP"
    gcp = "AIza" + "S" * 35
    jwt = "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U"
    hex_secret = "0123456789abcdef" * 3
    b64 = "Zm9vYmFyYmF6cXV4" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3"
    lines = [
        f"Authorization: Bearer {jwt}",
        "msg=login password=hunter2hunter user=alice",
        f'{{"apiKey": "{gcp}"}}',
        f"aws key {aws} used",
        f"session {hex_secret}",
        f"blob {b64}",
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----",
        "token=ghp_abcdefghij1234567890",
    ]
    masked = mask_text("\n".join(lines)).text
    for secret in (jwt, "hunter2hunter", gcp, aws, hex_secret, b64, "MIIEvQIBADANBg", "ghp_abcdefghij1234567890"):
        assert secret not in masked
    assert "user=alice" in masked  # the rest of the line stays readable


def test_what_is_not_a_credential_is_kept() -> None:
    line = 'time=2026-01-01T00:00:00Z level=INFO msg="run updates written" pod=wandb-api-7d9f messages=600'
    digest = "us-docker.pkg.dev/wandb/local@sha256:" + "a" * 64
    assert mask_text(line).text == line
    assert mask_text(digest).text == digest  # an image digest names a build, not a secret
    chart = "redis://:$(REDIS_PASSWORD)@$(REDIS_HOST):$(REDIS_PORT)"  # a reference, not a value
    assert mask_text(chart).text == chart


def test_key_names() -> None:
    assert all(sensitive_key(k) for k in ("password", "SMTP_PASSWORD", "secretKey", "GORILLA_LICENSE", "key", "a.key"))
    assert not any(sensitive_key(k) for k in ("host", "replicas", "BUCKET", "monkeys", "keys", "bigtable"))


def test_paths_say_what_was_masked() -> None:
    masked = mask_values({"global": {"mysql": {"password": "p", "host": "h"}, "redis": {"url": "redis://:x@h"}}})
    assert masked.value == {"global": {"mysql": {"password": MASK, "host": "h"}, "redis": {"url": f"redis://{MASK}@h"}}}
    assert masked.paths == ("global.mysql.password", "global.redis.url")
    assert mask_values({"password": "", "tokenEnabled": True}).paths == ()  # nothing set: nothing hidden
