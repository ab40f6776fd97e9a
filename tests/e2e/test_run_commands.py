"""`wbctl run discard|discarded|restore` as a subprocess against a real redis-server."""

from __future__ import annotations

import pytest

from tests.support.audit import read_audit
from tests.support.redis import RedisServer
from tests.support.text import one_line

KEY = "gorilla.DiscardV2UpdatesForRun"


@pytest.fixture
def env(redis_server: RedisServer) -> dict[str, str]:
    return {"WBCTL_REDIS_URL": redis_server.url}


def test_discard_sets_the_key_with_a_ttl_and_audits(wbctl, redis_server, env, audit_log) -> None:
    result = wbctl("run", "discard", "3x9k2m1p", "--ttl", "30m", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    change = result.json()["changes"][0]
    assert (change["key"], change["before"], change["after"]) == (KEY, None, "3x9k2m1p")
    assert change["ttl_seconds"] == {"before": None, "after": 1800}
    client = redis_server.client()
    assert client.get(KEY) == "3x9k2m1p"
    assert 1790 <= client.ttl(KEY) <= 1800
    (entry,) = read_audit(audit_log)
    assert entry["changes"][0]["after"] == "3x9k2m1p" and entry["result"] == "applied"


def test_discard_confirmation_text_says_updates_are_dropped(wbctl, env) -> None:
    result = wbctl("run", "discard", "r1", "--dry-run", env=env)
    assert result.returncode == 0
    assert "gorilla.DiscardV2UpdatesForRun" in result.stdout and "r1" in result.stdout


def test_discarded_none_then_run_with_time_left(wbctl, redis_server, env) -> None:
    none = wbctl("run", "discarded", "-o", "json", env=env)
    assert none.json() == {"key": KEY, "target": redis_server.url, "run": None, "ttl_seconds": None}
    assert "none" in wbctl("run", "discarded", env=env).stdout
    redis_server.client().set(KEY, "r1", ex=7000)
    some = wbctl("run", "discarded", "-o", "json", env=env).json()
    assert some["run"] == "r1" and 6900 < some["ttl_seconds"] <= 7000
    table = wbctl("run", "discarded", env=env).stdout
    assert "r1" in table and "expires in 1h 56m" in table


def test_discard_refuses_to_replace_another_run_unless_asked(wbctl, redis_server, env) -> None:
    client = redis_server.client()
    client.set(KEY, "other-run")
    refused = wbctl("run", "discard", "mine", "--yes", env=env)
    assert refused.returncode == 4
    assert "run other-run (no expiry) is being discarded now" in one_line(refused.stderr)
    assert client.get(KEY) == "other-run"
    replaced = wbctl("run", "discard", "mine", "--replace", "--yes", env=env)
    assert replaced.returncode == 0, replaced.stderr
    assert client.get(KEY) == "mine"


def test_discard_same_run_again_is_no_change(wbctl, redis_server, env, audit_log) -> None:
    assert wbctl("run", "discard", "r1", "--yes", env=env).returncode == 0
    again = wbctl("run", "discard", "r1", "--yes", env=env)
    assert again.returncode == 0 and "already discarded" in again.stderr
    assert len(read_audit(audit_log)) == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["run", "discard", "r1", "--ttl", "abc"], "invalid duration 'abc'"),
        (["run", "discard", "r1", "--ttl", "-5m"], "invalid duration '-5m'"),
        (["run", "discard", "r1", "--ttl", "0s"], "must be longer than zero"),
        (["run", "discard", ""], "run id is empty"),
        (["run", "discard", "x" * 257], "at most 256"),
        (["run", "discard", "two words"], "a W&B run id holds only ASCII letters"),
        (["run", "discard", "tab\there"], "a W&B run id holds only ASCII letters"),
        (["run", "discard", "bell\x07"], "a W&B run id holds only ASCII letters"),
        (["run", "discard", "RUN_ID"], "run id 'RUN_ID' is a placeholder"),
        (["run", "discard", "<id-for-run>", "--ttl", "2h"], "run id '<id-for-run>' is a placeholder"),
        (["run", "discard"], "Missing argument"),
        (["run", "discard", "r1", "--bogus"], "No such option"),
        (["run", "restore", "bad id"], "a W&B run id holds only ASCII letters"),
    ],
)
def test_bad_input_exits_2_with_one_line_and_writes_nothing(wbctl, redis_server, env, audit_log, args, message) -> None:
    result = wbctl(*args, "--yes", env=env) if "--bogus" not in args and len(args) > 2 else wbctl(*args, env=env)
    assert result.returncode == 2, result
    assert message in one_line(result.stderr)
    assert result.stdout == ""
    assert redis_server.client().keys("*") == []
    assert read_audit(audit_log) == []


@pytest.mark.parametrize(
    ("run_id", "named"),
    [
        ("abc\u200bdef", "character 4 is U+200B (ZERO WIDTH SPACE)"),
        ("\u202eabc", "character 1 is U+202E (RIGHT-TO-LEFT OVERRIDE)"),
        ("*", "character 1 is U+002A (ASTERISK) '*'"),
        ("$(id)", "character 1 is U+0024 (DOLLAR SIGN) '$'"),
        ("r\u00fcn", "character 2 is U+00FC (LATIN SMALL LETTER U WITH DIAERESIS)"),
        ("entity/project/abc", "character 7 is U+002F (SOLIDUS) '/'"),
        ("\u0430bc", "character 1 is U+0430 (CYRILLIC SMALL LETTER A)"),  # looks like a Latin a
    ],
)
def test_run_ids_outside_the_alphabet_are_refused_by_code_point(
    wbctl, redis_server, env, audit_log, run_id, named
) -> None:
    for argv in (("run", "discard", run_id, "--yes"), ("run", "restore", run_id, "--yes")):
        result = wbctl(*argv, env=env)
        assert result.returncode == 2, result
        line = one_line(result.stderr)
        assert named in line and "ASCII letters, digits, - and _" in line
        assert "\u200b" not in line and "\u202e" not in line  # never echoed
    assert redis_server.client().keys("*") == [] and read_audit(audit_log) == []


def test_restore_removes_the_key(wbctl, redis_server, env, audit_log) -> None:
    client = redis_server.client()
    client.set(KEY, "r1", ex=600)
    result = wbctl("run", "restore", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["changes"][0]["before"] == "r1" and result.json()["changes"][0]["after"] is None
    assert client.exists(KEY) == 0
    assert read_audit(audit_log)[0]["result"] == "applied"
    nothing = wbctl("run", "restore", "--yes", env=env)
    assert nothing.returncode == 0 and "no run is discarded" in nothing.stderr


def test_restore_with_run_id_only_removes_that_run(wbctl, redis_server, env) -> None:
    client = redis_server.client()
    client.set(KEY, "r1")
    refused = wbctl("run", "restore", "r2", "--yes", env=env)
    assert refused.returncode == 4
    assert "not run r2" in one_line(refused.stderr)
    assert client.get(KEY) == "r1"
    assert wbctl("run", "restore", "r1", "--yes", env=env).returncode == 0
    assert client.exists(KEY) == 0


def test_restore_without_yes_off_a_terminal_refuses(wbctl, redis_server, env) -> None:
    redis_server.client().set(KEY, "r1")
    result = wbctl("run", "restore", env=env)
    assert result.returncode == 4
    assert redis_server.client().get(KEY) == "r1"


def test_discard_writes_with_one_watch_guarded_multi_exec(wbctl, redis_server, env) -> None:
    result = wbctl("run", "discard", "r1", "--yes", env=env)
    assert result.returncode == 0, result.stderr
    stats = redis_server.client().info("commandstats")
    assert {c: stats[f"cmdstat_{c}"]["calls"] for c in ("watch", "multi", "exec", "set")} == {
        "watch": 1,
        "multi": 1,
        "exec": 1,
        "set": 1,
    }
    assert "cmdstat_del" not in stats


def test_discard_again_without_ttl_removes_the_expiry(wbctl, redis_server, env) -> None:
    client = redis_server.client()
    assert wbctl("run", "discard", "r1", "--ttl", "1h", "--yes", env=env).returncode == 0
    result = wbctl("run", "discard", "r1", "--yes", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["changes"][0]["ttl_seconds"]["after"] is None
    assert client.get(KEY) == "r1" and client.ttl(KEY) == -1
