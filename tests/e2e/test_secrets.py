"""No password reaches stdout, stderr, JSON or the audit log, whatever the command does."""

from __future__ import annotations

from pathlib import Path

from tests.support.net import free_port
from tests.support.redis import REDIS_PASSWORD


def test_password_never_printed_or_audited(wbctl, redis_auth, redis_tls, audit_log: Path, isolated_env: Path) -> None:
    redis_auth.client().flushall()
    in_url = redis_auth.url.replace("redis://", f"redis://:{REDIS_PASSWORD}@")
    config = isolated_env / "c.toml"
    config.write_text(f'[contexts.prod]\nredis-url = "{redis_auth.url}"\n')  # never a password in the file
    password = {"WBCTL_REDIS_PASSWORD": REDIS_PASSWORD}
    env_password = {"WBCTL_REDIS_URL": redis_auth.url, "WBCTL_REDIS_PASSWORD": REDIS_PASSWORD}
    url_password = {"WBCTL_REDIS_URL": in_url}
    unreachable = {"WBCTL_REDIS_URL": f"redis://:{REDIS_PASSWORD}@127.0.0.1:{free_port()}/0"}
    runs = [
        wbctl("redis", "show", "-o", "json", env=env_password),
        wbctl("redis", "show", env=url_password),
        wbctl("redis", "tune", "--yes", "-o", "json", env=url_password),
        wbctl("run", "discard", "r1", "--ttl", "1h", "--yes", env=env_password),
        wbctl("run", "discarded", "-o", "json", env=url_password),
        wbctl("run", "restore", "r1", "--yes", "-o", "json", env=env_password),
        wbctl("--config", str(config), "redis", "tune", "--yes", "--force", "--set", "bigtablev3.x=1", env=password),
        wbctl("--config", str(config), "config", "show", "--origin", env=password),
        wbctl("--config", str(config), "config", "show", "-o", "json", env=password),
        wbctl("config", "show", "--origin", env={**env_password, "WBCTL_MYSQL_PASSWORD": REDIS_PASSWORD}),
        wbctl("--debug", "redis", "show", env=unreachable),
        wbctl("redis", "show", env={"WBCTL_REDIS_URL": redis_auth.url, "WBCTL_REDIS_PASSWORD": REDIS_PASSWORD + "x"}),
        wbctl("--debug", "run", "discard", "r1", "--yes", env={**unreachable, "WBCTL_REDIS_PASSWORD": REDIS_PASSWORD}),
    ]
    assert [r.returncode for r in runs] == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 3, 3]
    for result in runs:
        assert REDIS_PASSWORD not in result.stdout
        assert REDIS_PASSWORD not in result.stderr
    assert "***" in runs[7].stdout and "***" in runs[9].stdout
    audit = audit_log.read_text()
    assert audit.count("\n") == 4  # tune, discard, restore, tune --set
    assert REDIS_PASSWORD not in audit
    assert redis_auth.client().get("bigtablev3.x") == "1"  # the config-file URL did authenticate
