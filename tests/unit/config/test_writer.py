"""The config file's writer: edits that mean exactly what was asked, the rest of the file (its
comments too) kept, any name or value round-tripping through TOML, and an atomic replace."""

from __future__ import annotations

import stat
import tomllib
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbctl.config.writer import (
    add_context,
    context_block,
    set_current_context,
    toml_key,
    toml_string,
    write_atomically,
)
from wbctl.errors import ConfigError

FAST = settings(max_examples=200, deadline=None)
PATH = Path("/cfg/config.toml")
EXISTING = """\
# my wbctl file
current-context = "prod"   # the default

[redis.settings]
"bigtablev3.filestream.write_cache_size" = 20000000

[contexts.prod]
namespace = "default"  # prod's namespace
read-only = true

# staging follows
[contexts.staging]
namespace = "stg"

[contexts.staging.redis.settings]
"bigtablev3.filestream.metric_points_parallelization" = 8
"""

names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=20)
values = st.one_of(names, st.booleans(), st.integers(-(2**63), 2**63 - 1))


@FAST
@given(name=names)
def test_any_string_round_trips_as_key_and_value(name: str) -> None:
    assert tomllib.loads(f"{toml_key(name)} = {toml_string(name)}\n") == {name: name}


@FAST
@given(name=names, keys=st.dictionaries(st.sampled_from(["namespace", "instance", "x-y", "a.b"]), values))
def test_a_new_context_round_trips_and_keeps_the_rest(name: str, keys: dict[str, str | bool | int]) -> None:
    old = tomllib.loads(EXISTING)
    if name in old["contexts"]:
        return
    result = add_context(EXISTING, name, context_block(name, keys), keys, PATH, replace=False)
    assert result.startswith(EXISTING)  # every line, comments included, as it was
    assert tomllib.loads(result) == {**old, "contexts": {**old["contexts"], name: keys}}


@FAST
@given(name=names)
def test_current_context_round_trips(name: str) -> None:
    result = set_current_context(EXISTING, name, PATH)
    assert tomllib.loads(result) == {**tomllib.loads(EXISTING), "current-context": name}
    lines, before = result.split("\n"), EXISTING.split("\n")
    assert lines[:1] + lines[2:] == before[:1] + before[2:]  # only the current-context line changed


def test_current_context_is_added_on_top_when_absent() -> None:
    text = "[contexts.a]\n# hi\n"
    assert set_current_context(text, "a", PATH) == 'current-context = "a"\n[contexts.a]\n# hi\n'
    assert set_current_context("", "a", PATH) == 'current-context = "a"\n'


def test_an_existing_context_needs_replace_and_keeps_its_sub_tables_and_the_comments() -> None:
    block = context_block("staging", {"namespace": "new"})
    with pytest.raises(ConfigError, match="context 'staging' exists already: pass --force"):
        add_context(EXISTING, "staging", block, {"namespace": "new"}, PATH, replace=False)
    result = add_context(
        EXISTING, "prod", context_block("prod", {"namespace": "p2"}), {"namespace": "p2"}, PATH, replace=True
    )
    assert "# staging follows" in result and "# my wbctl file" in result
    assert tomllib.loads(result)["contexts"]["prod"] == {"namespace": "p2"}
    result = add_context(EXISTING, "staging", block, {"namespace": "new"}, PATH, replace=True)
    assert tomllib.loads(result)["contexts"]["staging"] == {
        "namespace": "new",
        "redis": {"settings": {"bigtablev3.filestream.metric_points_parallelization": 8}},
    }


def test_an_edit_that_would_mean_more_is_refused() -> None:
    inline = 'contexts = { prod = { namespace = "x" } }\n'
    with pytest.raises(ConfigError, match="edit"):
        add_context(inline, "qa", context_block("qa", {}), {}, PATH, replace=False)
    with pytest.raises(ConfigError, match="edit"):
        add_context(inline, "prod", context_block("prod", {}), {}, PATH, replace=True)
    with pytest.raises(ConfigError, match="edit it by hand"):
        set_current_context('current-context = """a\nb"""\n', "c", PATH)


def test_comments_are_written_after_the_keys() -> None:
    block = context_block("p", {"namespace": "n"}, {"redis-password": "set WBCTL_REDIS_PASSWORD\nor a file"})
    assert block == '[contexts.p]\nnamespace = "n"\n# set WBCTL_REDIS_PASSWORD\n# or a file\n'


def test_the_write_is_atomic_and_keeps_the_mode(tmp_path: Path) -> None:
    path = tmp_path / "new" / "config.toml"
    write_atomically(path, "a = 1\n")
    assert path.read_text() == "a = 1\n" and stat.S_IMODE(path.stat().st_mode) == 0o600
    path.chmod(0o644)
    write_atomically(path, "a = 2\n")
    assert path.read_text() == "a = 2\n" and stat.S_IMODE(path.stat().st_mode) == 0o644
    assert [p.name for p in path.parent.iterdir()] == ["config.toml"]  # no temporary left behind


@settings(max_examples=100, deadline=None)
@given(name=names, namespace=names)
def test_a_written_context_is_one_wbctl_loads(
    tmp_path_factory: pytest.TempPathFactory, name: str, namespace: str
) -> None:
    from wbctl.config import load
    from wbctl.environment import Environment

    path = tmp_path_factory.mktemp("cfg") / "config.toml"
    values = {"namespace": namespace, "read-only": True}
    text = add_context(EXISTING, name, context_block(name, values), values, path, replace=True)
    write_atomically(path, set_current_context(text, name, path))
    loaded = load(Environment(environ={}), config_path=str(path))
    assert loaded.context == name
    assert loaded["namespace"] == namespace and loaded.read_only is True


# --- check_target: a file wbctl is asked to write (--out, --output) --------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from wbctl.config.writer import check_target  # noqa: E402
from wbctl.errors import UsageError  # noqa: E402


@given(name=st.text(min_size=1, max_size=30).filter(lambda t: "/" not in t and "\x00" not in t))
def test_check_target_refuses_every_invisible_character_and_takes_the_rest(name: str) -> None:
    import tempfile

    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / name
        if not all(char.isprintable() for char in str(path)) or name in (".", ".."):
            with pytest.raises(UsageError, match="^--out "):
                check_target(path, "--out")
        else:
            check_target(path, "--out")  # a printable name in a writable directory


def test_check_target_names_the_flag_and_why(tmp_path: Path) -> None:
    for path, why in (
        (tmp_path, "is a directory"),
        (tmp_path / "missing" / "x.json", "does not exist"),
        (Path(""), "expected a file name"),
    ):
        with pytest.raises(UsageError, match=why) as caught:
            check_target(path, "--output")
        assert str(caught.value).startswith("--output ") and "\n" not in str(caught.value)
