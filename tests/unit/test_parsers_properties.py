"""Property tests of the parsers of what operators type: durations, the queue's config keys,
Redis KEY=VALUE settings and run ids. Whatever the input, a parser answers with a value or
with wbctl's own error (UsageError / ConfigError, exit status 2), never a traceback."""

from __future__ import annotations

import math
import re

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from wbctl import config
from wbctl.core.discard import validate_run_id
from wbctl.core.durations import parse_duration
from wbctl.core.redis_settings import (
    DISCARD_KEY,
    MAX_SETTING,
    RECOMMENDED,
    parse_assignment,
    validate_setting,
)
from wbctl.environment import Environment
from wbctl.errors import ConfigError, UsageError

FAST = settings(max_examples=200, deadline=None)
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_SECONDS = 365 * 86400
HOME = "/nonexistent/wbctl-property-tests"  # no config file: only the environment counts


# --- parse_duration -------------------------------------------------------------------

LARGEST_FIRST = sorted(UNITS, key=UNITS.__getitem__, reverse=True)  # w, d, h, m, s


def _largest_first(units: list[str]) -> list[str]:
    return sorted(units, key=UNITS.__getitem__, reverse=True)


# a composition as operators write it: each unit at most once, largest first (1h30m, 2d4h)
UNIT_SETS = st.lists(st.sampled_from(LARGEST_FIRST), min_size=1, max_size=4, unique=True).map(_largest_first)
PARTS = UNIT_SETS.flatmap(
    lambda units: st.tuples(*(st.integers(0, 400) for _ in units)).map(lambda numbers: list(zip(numbers, units)))
)


@FAST
@given(PARTS)
def test_a_valid_composition_parses_to_its_sum(parts: list[tuple[int, str]]) -> None:
    text = "".join(f"{number}{unit}" for number, unit in parts)
    total = sum(number * UNITS[unit] for number, unit in parts)
    if 0 < total <= MAX_SECONDS:
        assert parse_duration(text) == total
    else:
        with pytest.raises(UsageError):
            parse_duration(text)


@FAST
@given(PARTS, st.sampled_from(["", " ", "\t", "  \n"]), st.sampled_from(["", " ", "\n"]), st.booleans())
def test_surrounding_whitespace_and_case_do_not_matter(
    parts: list[tuple[int, str]], before: str, after: str, upper: bool
) -> None:
    text = "".join(f"{number}{unit}" for number, unit in parts)
    total = sum(number * UNITS[unit] for number, unit in parts)
    assume(0 < total <= MAX_SECONDS)
    typed = before + (text.upper() if upper else text) + after
    assert parse_duration(typed) == total


@FAST
@given(
    st.one_of(
        st.text(),
        st.from_regex(r"\s*[0-9smhdw .,+-]{0,12}\s*", fullmatch=True),
        st.text(alphabet="0123456789smhdwSMHDW", max_size=30),
    )
)
@example("5 m")
@example("1.5h")
@example("-5m")
def test_parse_duration_answers_a_positive_duration_or_usage_error(text: str) -> None:
    try:
        seconds = parse_duration(text)
    except UsageError:
        return
    assert isinstance(seconds, int) and 0 < seconds <= MAX_SECONDS


# a unit given twice, or a smaller unit before a larger one: refused, never added up


@FAST
@given(PARTS, st.data())
def test_a_unit_given_twice_is_refused(parts: list[tuple[int, str]], data: st.DataObject) -> None:
    number, unit = data.draw(st.sampled_from(parts), label="repeated part")
    position = data.draw(st.integers(0, len(parts)), label="where it goes again")
    text = "".join(f"{n}{u}" for n, u in [*parts[:position], (number, unit), *parts[position:]])
    with pytest.raises(UsageError, match=rf"invalid duration '{text}': the unit [smhdw] is given twice"):
        parse_duration(text)


@FAST
@given(st.lists(st.sampled_from(LARGEST_FIRST), min_size=2, max_size=5, unique=True), st.data())
def test_units_out_of_order_are_refused(units: list[str], data: st.DataObject) -> None:
    assume(units != _largest_first(units))
    numbers = data.draw(st.lists(st.integers(0, 400), min_size=len(units), max_size=len(units)), label="numbers")
    text = "".join(f"{n}{u}" for n, u in zip(numbers, units))
    with pytest.raises(
        UsageError,
        match=rf"invalid duration '{text}': [smhdw] is given after [smhdw]; "
        "give each unit once, largest first",
    ):
        parse_duration(text)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2h2h", "the unit h is given twice"),
        ("1h30m1h", "the unit h is given twice"),
        ("30m1h", "h is given after m"),
        ("5s1m", "m is given after s"),
        ("1d1w", "w is given after d"),
    ],
)
def test_repeated_or_misordered_units_examples(text: str, message: str) -> None:
    with pytest.raises(UsageError) as error:
        parse_duration(text)
    assert (
        error.value.message == f"invalid duration {text!r}: {message}; give each unit once, largest first, e.g. 1h30m"
    )


@pytest.mark.parametrize("digits", [4300, 4301, 5000])
def test_parse_duration_of_a_very_long_number_is_a_usage_error(digits: int) -> None:
    """int() refuses a string of more than 4300 digits with ValueError (Python >= 3.11)."""
    with pytest.raises(UsageError):
        parse_duration("1" * digits + "s")


# --- the queue's configuration keys ---------------------------------------------------


def load(**environ: str) -> config.Settings:
    return config.load(Environment(environ={"HOME": HOME, "XDG_CONFIG_HOME": HOME, **environ}))


DURATIONS = PARTS.map(lambda parts: "".join(f"{n}{u}" for n, u in parts))


@FAST
@given(st.one_of(DURATIONS, st.integers(1, MAX_SECONDS).map(str)))
def test_queue_durations_load(text: str) -> None:
    total = int(text) if text.isdigit() else sum(int(n) * UNITS[u] for n, u in re.findall(r"(\d+)([smhdw])", text))
    assume(0 < total <= MAX_SECONDS)
    settings_ = load(WBCTL_QUEUE_RETENTION=text, WBCTL_QUEUE_ALLOWED_AGE=text)
    assert settings_["queue-retention"] == total
    assert settings_["queue-allowed-age"] == total
    assert settings_.values["queue-retention"].origin == "env WBCTL_QUEUE_RETENTION"


@pytest.mark.parametrize(
    ("text", "seconds"), [("7d", 604800), ("3600", 3600), (" 90m ", 5400), ("1h30m", 5400), ("2W", 1209600)]
)
def test_queue_retention_examples(text: str, seconds: int) -> None:
    assert load(WBCTL_QUEUE_RETENTION=text)["queue-retention"] == seconds


def test_queue_defaults() -> None:
    loaded = load()
    assert loaded["queue-retention"] is None
    assert loaded["queue-allowed-backlog"] == 0
    assert loaded["queue-allowed-age"] == 300
    assert loaded["queue-source"] is None


@pytest.mark.parametrize("text", ["", "0", "0s", "-1", "7 days", "1.5h", "forever", "400d", "2e3"])
@pytest.mark.parametrize("variable", ["WBCTL_QUEUE_RETENTION", "WBCTL_QUEUE_ALLOWED_AGE"])
def test_invalid_queue_durations(variable: str, text: str) -> None:
    with pytest.raises(ConfigError, match=variable):
        load(**{variable: text})


@FAST
@given(st.integers(0, 10**12))
def test_allowed_backlog_loads_a_whole_number(number: int) -> None:
    assert load(WBCTL_QUEUE_ALLOWED_BACKLOG=str(number))["queue-allowed-backlog"] == number


@pytest.mark.parametrize("text", ["-1", "1.5", "1e3", "", "many", str(10**12 + 1), "\u00b2", "\u0663"])
def test_invalid_allowed_backlog(text: str) -> None:
    with pytest.raises(ConfigError, match="WBCTL_QUEUE_ALLOWED_BACKLOG"):
        load(WBCTL_QUEUE_ALLOWED_BACKLOG=text)


@pytest.mark.parametrize("source", ["pubsub", "kafka", "none"])
def test_queue_source_loads(source: str) -> None:
    assert load(WBCTL_QUEUE_SOURCE=source)["queue-source"] == source


ENV_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"))


@FAST
@given(
    ENV_TEXT,
    st.sampled_from(
        ["WBCTL_QUEUE_RETENTION", "WBCTL_QUEUE_ALLOWED_BACKLOG", "WBCTL_QUEUE_ALLOWED_AGE", "WBCTL_QUEUE_SOURCE"]
    ),
)
@example("1" * 5000, "WBCTL_QUEUE_RETENTION")
@example("1" * 5000 + "s", "WBCTL_QUEUE_ALLOWED_AGE")
@example("\u00b2", "WBCTL_QUEUE_ALLOWED_AGE")
@example("PubSub", "WBCTL_QUEUE_SOURCE")
def test_queue_keys_load_or_raise_config_error(text: str, variable: str) -> None:
    try:
        loaded = load(**{variable: text})
    except ConfigError as exc:
        assert variable in exc.message
        return
    key = variable.removeprefix("WBCTL_").lower().replace("_", "-")
    value = loaded[key]
    if key == "queue-source":
        assert value in ("pubsub", "kafka", "none")
    elif key == "queue-allowed-backlog":
        assert isinstance(value, int) and 0 <= value <= 10**12
    else:
        assert isinstance(value, int) and 0 < value <= MAX_SECONDS and math.isfinite(value)


# --- Redis KEY=VALUE ------------------------------------------------------------------

KEY_TEXT = st.text(alphabet=st.characters(blacklist_characters="=", blacklist_categories=("Cs",)), max_size=20)


@FAST
@given(KEY_TEXT, st.text(max_size=20))
def test_parse_assignment_splits_at_the_first_equals(key: str, value: str) -> None:
    assert parse_assignment(f"{key}={value}") == (key.strip(), value.strip())


@FAST
@given(KEY_TEXT)
def test_parse_assignment_without_equals_is_a_usage_error(text: str) -> None:
    with pytest.raises(UsageError, match="KEY=VALUE"):
        parse_assignment(text)


TUNABLE = st.from_regex(r"bigtablev3\.[a-z_]{1,12}(\.[a-z_]{1,12}){0,2}", fullmatch=True)


GUIDE_KEYS = [r.key for r in RECOMMENDED]


@FAST
@given(st.sampled_from(GUIDE_KEYS), st.integers(1, MAX_SETTING), st.booleans())
def test_a_guide_key_with_a_positive_number_is_accepted(key: str, number: int, force: bool) -> None:
    validate_setting(*parse_assignment(f"{key}={number}"), force=force)


@FAST
@given(TUNABLE, st.integers(1, 10**12))
def test_another_tunable_key_is_accepted_with_force_and_refused_without(key: str, number: int) -> None:
    assume(key not in GUIDE_KEYS)
    validate_setting(*parse_assignment(f"{key}={number}"), force=True)
    with pytest.raises(UsageError, match="is not one of the guide's keys"):
        validate_setting(*parse_assignment(f"{key}={number}"), force=False)


@FAST
@given(st.sampled_from([r.key for r in RECOMMENDED]), st.text(max_size=12))
def test_a_recommended_key_takes_only_a_positive_whole_number(key: str, value: str) -> None:
    try:
        validate_setting(key, value, force=False)
    except UsageError:
        return
    assert value.isascii() and value.isdigit() and not value.startswith("0")


@FAST
@given(st.text(max_size=30), st.text(max_size=30), st.booleans())
@example(DISCARD_KEY, "run-a", True)
@example("bigtablev3.x", "", False)
@example("other.key", "1", False)
def test_validate_setting_raises_only_usage_errors(key: str, value: str, force: bool) -> None:
    try:
        validate_setting(key, value, force=force)
    except UsageError:
        return
    assert key and key != DISCARD_KEY and value
    assert force or key.startswith("bigtablev3.")


@FAST
@given(st.text(max_size=60))
@example("a = b = c")
def test_an_assignment_parses_and_validates_or_is_a_usage_error(text: str) -> None:
    try:
        validate_setting(*parse_assignment(text), force=True)
    except UsageError:
        pass


def test_the_discard_key_is_refused_even_with_force() -> None:
    with pytest.raises(UsageError, match="run discard"):
        validate_setting(*parse_assignment(f"{DISCARD_KEY}=run-a"), force=True)


# --- run ids --------------------------------------------------------------------------

RUN_IDS = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_", min_size=1, max_size=256)


@FAST
@given(RUN_IDS)
def test_a_run_id_of_letters_digits_dash_underscore_is_accepted(run_id: str) -> None:
    validate_run_id(run_id)  # no UsageError


@FAST
@given(st.text(max_size=300))
@example("")
@example("a" * 257)
@example("run id")
@example("run\x00id")
@example("run/1")
def test_validate_run_id_raises_only_usage_errors(run_id: str) -> None:
    try:
        validate_run_id(run_id)
    except UsageError:
        return
    assert 1 <= len(run_id) <= 256
    assert all(c.isascii() and (c.isalnum() or c in "-_") for c in run_id)


# --- check --push URL / --textfile PATH ---------------------------------------------------

from wbctl.cli.check import parse_push_url, parse_textfile  # noqa: E402
from wbctl.redact import url_password  # noqa: E402


@FAST
@given(st.text(max_size=60))
@example("http://gate\nway:9091")
@example("http://gateway:9091\u200b")
@example("http://[::1]:9091")
@example("https://user:p%40ss@gateway:9091/prefix")
@example("http://user:s3cret@gateway:9091?q")
def test_parse_push_url_answers_the_url_or_usage_error(text: str) -> None:
    try:
        url = parse_push_url(text)
    except UsageError as exc:
        assert exc.message.startswith("--push") and "\n" not in exc.message
        password = url_password(text)
        assert not password or password not in exc.message  # the password is never repeated
        return
    assert url == text and url.startswith(("http://", "https://"))
    assert url.isprintable() and not any(char.isspace() for char in url)


@FAST
@given(
    host=st.from_regex(r"[a-z]([a-z0-9-]{0,18}[a-z0-9])?(\.[a-z]([a-z0-9-]{0,8}[a-z0-9])?){0,2}", fullmatch=True),
    port=st.integers(1, 65535),
    scheme=st.sampled_from(["http", "https"]),
)
def test_a_plain_gateway_url_is_accepted(host: str, port: int, scheme: str) -> None:
    assert parse_push_url(f"{scheme}://{host}:{port}") == f"{scheme}://{host}:{port}"


@FAST
@given(st.text(max_size=40))
@example("wbctl.prom")
@example(".prom")
@example("/nonexistent/wbctl.prom")
@example("a\x00.prom")
def test_parse_textfile_answers_a_prom_path_or_usage_error(text: str) -> None:
    try:
        path = parse_textfile(text)
    except UsageError as exc:
        assert exc.message.startswith("--textfile ")
        return
    assert path.suffix == ".prom" and path.parent.is_dir()
