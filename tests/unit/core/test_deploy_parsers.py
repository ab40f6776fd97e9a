"""Property tests of `wbctl deploy auditor`'s option parsers (wbctl/core/deploy.py): the cron
schedule, the namespace, the Pushgateway URL, the image and the service account's email.
Whatever the input, a parser answers with the value or with UsageError (exit 2) and a message
on one line, never a traceback; what it accepts, the API server and the cron controller would."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from wbctl.core.deploy import (
    parse_email,
    parse_image,
    parse_namespace,
    parse_push_url,
    parse_schedule,
)
from wbctl.errors import UsageError

FAST = settings(max_examples=300, deadline=None)
PARSERS: list[Callable[[str], str]] = [parse_schedule, parse_namespace, parse_push_url, parse_image, parse_email]


@FAST
@given(st.sampled_from(PARSERS), st.text(max_size=80))
@example(parse_schedule, "* * * * * *")
@example(parse_push_url, "http://[::1")
@example(parse_push_url, "http://h:99999")
@example(parse_image, "a" * 300)
@example(parse_email, "\x00@x.com")
def test_any_text_is_a_value_or_a_one_line_usage_error(parser: Callable[[str], str], text: str) -> None:
    try:
        assert parser(text)
    except UsageError as exc:
        assert "\n" not in exc.message and exc.message.startswith(("--", "-o"))


# --- cron -----------------------------------------------------------------------------------

RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]


def cron_field(low: int, high: int) -> st.SearchStrategy[str]:
    value = st.integers(low, high)
    single = st.one_of(
        st.just("*"),
        value.map(str),
        st.tuples(value, value).map(lambda ab: f"{min(ab)}-{max(ab)}"),
    )
    stepped = st.tuples(single, st.none() | st.integers(1, high - low + 1)).map(
        lambda part: part[0] if part[1] is None else f"{part[0]}/{part[1]}"
    )
    return st.lists(stepped, min_size=1, max_size=3).map(",".join)


SCHEDULES = st.tuples(*(cron_field(low, high) for low, high in RANGES)).map(" ".join)


@FAST
@given(SCHEDULES)
@example("*/5 * * * *")
@example("0 3 * JAN-DEC mon-fri")
def test_a_valid_schedule_is_accepted_as_written(schedule: str) -> None:
    assert parse_schedule(schedule) == schedule


@FAST
@given(
    SCHEDULES, st.integers(0, 4), st.sampled_from(["60", "-1", "5-2", "*/0", "x", "1--2", "", "1-", "/5", "**", "1/"])
)
def test_a_bad_field_is_refused_naming_it(schedule: str, index: int, bad: str) -> None:
    fields = schedule.split(" ")
    low, high = RANGES[index]
    if bad == "60" and high >= 60 or bad == "":
        bad = str(high + 1)
    fields[index] = bad
    with pytest.raises(UsageError, match="invalid .* field|five cron fields"):
        parse_schedule(" ".join(fields))


@pytest.mark.parametrize("text", ["* * * *", "* * * * * *", "@hourly", "", " * * * * *", "0 0 31 2 8"])
def test_not_five_valid_fields(text: str) -> None:
    with pytest.raises(UsageError):
        parse_schedule(text)


# --- namespace ------------------------------------------------------------------------------

LABELS = st.from_regex(r"\A[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?\Z")


@FAST
@given(LABELS)
def test_a_dns_label_is_a_namespace(name: str) -> None:
    assert parse_namespace(name) == name


@FAST
@given(st.text(min_size=1, max_size=70))
def test_a_namespace_is_exactly_a_dns_label(text: str) -> None:
    valid = len(text) <= 63 and re.fullmatch(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", text) is not None
    if valid:
        assert parse_namespace(text) == text
    else:
        with pytest.raises(UsageError):
            parse_namespace(text)


# --- push URL -------------------------------------------------------------------------------

HOSTS = st.lists(LABELS.filter(lambda label: len(label) <= 20), min_size=1, max_size=4).map(".".join)


@FAST
@given(
    st.sampled_from(["http", "https"]),
    HOSTS,
    st.none() | st.integers(1, 65535),
    st.sampled_from(["", "/", "/pushgateway"]),
)
def test_an_http_url_with_a_host_is_accepted(scheme: str, host: str, port: int | None, path: str) -> None:
    url = f"{scheme}://{host}{'' if port is None else f':{port}'}{path}"
    assert parse_push_url(url) == url


@FAST
@given(HOSTS, st.text(alphabet="abcxyz019", min_size=1, max_size=8))
def test_credentials_or_other_schemes_are_refused(host: str, secret: str) -> None:
    for url in (
        f"http://user:{secret}@{host}",
        f"https://{secret}@{host}",
        f"ftp://{host}",
        f"{host}:9091",
        "http://",
        f"http://{host}/?x={secret}",
    ):
        with pytest.raises(UsageError) as info:
            parse_push_url(url)
        assert f":{secret}@" not in info.value.message


# --- image ----------------------------------------------------------------------------------

COMPONENT = st.from_regex(r"\A[a-z0-9]+((\.|_|__|-+)[a-z0-9]+){0,2}\Z")
TAGS = st.from_regex(r"\A[A-Za-z0-9_][A-Za-z0-9_.-]{0,20}\Z")


@FAST
@given(
    st.none() | st.sampled_from(["gcr.io", "us-docker.pkg.dev", "localhost:5000", "registry.example.com"]),
    st.lists(COMPONENT, min_size=1, max_size=3),
    st.none() | TAGS,
    st.booleans(),
)
def test_a_reference_is_accepted(registry: str | None, path: list[str], tag: str | None, digest: bool) -> None:
    image = (
        (f"{registry}/" if registry else "")
        + "/".join(path)
        + (f":{tag}" if tag else "")
        + ("@sha256:" + "a" * 64 if digest else "")
    )
    assert parse_image(image) == image


@pytest.mark.parametrize(
    "image",
    [
        "",
        "Wbctl",
        "wbctl:",
        "wbctl:-x",
        "/wbctl",
        "wbctl/",
        "wb ctl",
        "wbctl@sha256:xyz",
        "registry.example.com/Team/wbctl:1",
        "wbctl:" + "a" * 129,
    ],
)
def test_a_bad_reference_is_refused(image: str) -> None:
    with pytest.raises(UsageError):
        parse_image(image)


# --- email ----------------------------------------------------------------------------------


@FAST
@given(st.from_regex(r"\A[a-z][a-z0-9-]{4,28}[a-z0-9]\Z"), st.from_regex(r"\A[a-z][a-z0-9-]{4,28}[a-z0-9]\Z"))
def test_a_service_account_email_is_accepted(name: str, project: str) -> None:
    email = f"{name}@{project}.iam.gserviceaccount.com"
    assert parse_email(email) == email


@pytest.mark.parametrize(
    "email", ["", "wbctl", "wbctl@", "@p.iam.gserviceaccount.com", "a@b", "a b@c.com", "a@@c.com", "a@c.com\n"]
)
def test_a_bad_email_is_refused(email: str) -> None:
    with pytest.raises(UsageError):
        parse_email(email)
