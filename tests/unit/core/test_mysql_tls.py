"""The MySQL TLS mode is a stated choice that never silently drops to plain text (issue 17, item 2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.mysql_tls import MODES, OFF, UNVERIFIED, VERIFY, choose, loopback, unverified_warning
from wbctl.errors import UsageError

URL_MODES = (None, "true", "false", "skip-verify", "preferred", "custom")
HOSTS = ("127.0.0.1", "localhost", "::1", "10.0.0.4", "db.internal", "[::1]")


@pytest.mark.parametrize(
    ("setting", "url_mode", "has_ca", "host", "mode", "hostname"),
    [
        (None, None, True, "10.0.0.4", VERIFY, False),
        (None, None, False, "127.0.0.1", OFF, False),  # the Cloud SQL Auth Proxy
        (None, None, False, "10.0.0.4", UNVERIFIED, False),  # never plain text to a remote server
        (None, "true", False, "db.internal", VERIFY, True),  # the system's CAs and the host name
        (None, "preferred", False, "127.0.0.1", UNVERIFIED, False),  # preferred is TLS, even on loopback
        (None, "preferred", True, "10.0.0.4", VERIFY, False),
        (None, "skip-verify", True, "10.0.0.4", VERIFY, False),
        (None, "false", False, "10.0.0.4", OFF, False),
        ("required-unverified", "true", True, "10.0.0.4", UNVERIFIED, False),  # the setting wins
        ("off", "true", False, "10.0.0.4", OFF, False),
    ],
)
def test_the_mode(setting, url_mode, has_ca, host, mode, hostname) -> None:
    choice = choose(setting, url_mode, has_ca=has_ca, host=host)
    assert (choice.mode, choice.check_hostname) == (mode, hostname)


@pytest.mark.parametrize(
    ("setting", "url_mode", "has_ca", "message"),
    [
        ("off", None, True, "a CA file is set: drop one"),
        (None, "false", True, "a CA file is set: drop one"),
        (None, "custom", False, "tls=custom but gives no CA"),
        ("verfy", None, False, "expected one of verify, required-unverified, off"),
    ],
)
def test_contradictions_are_bad_input(setting, url_mode, has_ca, message) -> None:
    with pytest.raises(UsageError, match=message):
        choose(setting, url_mode, has_ca=has_ca, host="10.0.0.4")


@given(
    st.sampled_from((None, *MODES)),
    st.sampled_from(URL_MODES),
    st.booleans(),
    st.one_of(st.sampled_from(HOSTS), st.text(max_size=30)),
)
def test_plain_text_only_when_asked_for_or_on_loopback(setting, url_mode, has_ca, host) -> None:
    try:
        choice = choose(setting, url_mode, has_ca=has_ca, host=host)
    except UsageError:
        return
    if choice.mode == OFF:
        assert setting == OFF or (setting is None and (url_mode == "false" or (url_mode is None and loopback(host))))
    if choice.mode == UNVERIFIED:
        assert "verified" in unverified_warning("mysql://h:3306/db", choice)
    assert choice.check_hostname is (choice.mode == VERIFY and not has_ca)


@pytest.mark.parametrize(
    ("host", "expected"), [("127.0.0.2", True), ("LOCALHOST", True), ("::1", True), ("1.2.3.4", False), ("", False)]
)
def test_loopback(host: str, expected: bool) -> None:
    assert loopback(host) is expected
