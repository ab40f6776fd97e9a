from __future__ import annotations

from pathlib import Path

import pytest

from wbctl import config
from wbctl.environment import Environment
from wbctl.errors import ConfigError


def env_with(home: Path, **variables: str) -> Environment:
    return Environment(environ={"HOME": str(home), "XDG_CONFIG_HOME": str(home / ".config"), **variables})


def write_config(home: Path, text: str) -> Path:
    path = home / ".config" / "wbctl" / "config.toml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


CONFIG = """\
current-context = "prod"

[contexts.prod]
namespace = "wandb-prod"
redis-url = "rediss://10.0.0.3:6378/0"
timeout = 5

[contexts.staging]
namespace = "wandb-staging"
read-only = true
"""


def test_defaults_without_a_file(isolated_env: Path) -> None:
    settings = config.load(env_with(isolated_env))
    assert settings.context is None
    assert settings.config_file is None
    assert settings["namespace"] == "default"
    assert settings["redis-url"] == "redis://127.0.0.1:6379/0"
    assert settings.timeout == 10.0
    assert settings.values["namespace"].origin == "default"


def test_precedence_flag_over_env_over_file_over_default(isolated_env: Path) -> None:
    path = write_config(isolated_env, CONFIG)
    env = env_with(isolated_env, WBCTL_TIMEOUT="7", WBCTL_NAMESPACE="from-env")
    settings = config.load(env, flags={"timeout": "3"})
    assert settings.context == "prod"
    assert settings.timeout == 3.0 and settings.values["timeout"].origin == "flag --timeout"
    assert settings["namespace"] == "from-env" and settings.values["namespace"].origin == "env WBCTL_NAMESPACE"
    assert settings["redis-url"].startswith("rediss://")
    assert settings.values["redis-url"].origin == f"file {path} [contexts.prod]"
    assert settings["instance"] == "wandb" and settings.values["instance"].origin == "default"
    # env beats file even without a flag
    assert config.load(env).timeout == 7.0


def test_context_selection_by_flag_and_env(isolated_env: Path) -> None:
    write_config(isolated_env, CONFIG)
    assert config.load(env_with(isolated_env), context="staging").read_only is True
    assert config.load(env_with(isolated_env, WBCTL_CONTEXT="staging"))["namespace"] == "wandb-staging"
    # the flag wins over the environment
    assert config.load(env_with(isolated_env, WBCTL_CONTEXT="staging"), context="prod")["namespace"] == "wandb-prod"


def test_single_context_is_used_without_current_context(isolated_env: Path) -> None:
    write_config(isolated_env, '[contexts.only]\nnamespace = "x"\n')
    assert config.load(env_with(isolated_env)).context == "only"


def test_several_contexts_without_selection_is_an_error(isolated_env: Path) -> None:
    write_config(isolated_env, "[contexts.a]\n[contexts.b]\n")
    with pytest.raises(ConfigError, match="several contexts"):
        config.load(env_with(isolated_env))


def test_unknown_context_names_the_file_and_known_contexts(isolated_env: Path) -> None:
    path = write_config(isolated_env, CONFIG)
    with pytest.raises(ConfigError) as error:
        config.load(env_with(isolated_env), context="nope")
    assert str(path) in error.value.message
    assert "unknown context 'nope'" in error.value.message
    assert "prod, staging" in error.value.message


def test_unknown_current_context_names_its_line(isolated_env: Path) -> None:
    path = write_config(isolated_env, '\ncurrent-context = "gone"\n[contexts.a]\n')
    with pytest.raises(ConfigError, match=rf"config {path}, line 2: unknown context 'gone'"):
        config.load(env_with(isolated_env))


def test_unknown_key_names_file_and_line(isolated_env: Path) -> None:
    path = write_config(isolated_env, '[contexts.prod]\nnamespace = "x"\nredis_url = "redis://x"\n')
    with pytest.raises(
        ConfigError,
        match=rf"config {path}, line 3: unknown key 'redis_url' in \[contexts.prod\] \(did you mean 'redis-url'\?\)",
    ):
        config.load(env_with(isolated_env))


def test_password_in_the_file_points_to_the_environment(isolated_env: Path) -> None:
    write_config(isolated_env, '[contexts.prod]\nredis-password = "x"\n')
    with pytest.raises(ConfigError, match="passwords are never read from the file: set WBCTL_REDIS_PASSWORD"):
        config.load(env_with(isolated_env))


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("redis://", "expected a URL with a host"),
        ("redis://host:6379/abc", "database number"),
        ("redis://host:port/0", "valid host and port"),
    ],
)
def test_malformed_redis_urls(isolated_env: Path, url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(env_with(isolated_env, WBCTL_REDIS_URL=url))


def test_unknown_top_level_key(isolated_env: Path) -> None:
    path = write_config(isolated_env, 'current-context = "a"\ncolour = true\n[contexts.a]\n')
    with pytest.raises(ConfigError, match=rf"config {path}, line 2: unknown key 'colour'"):
        config.load(env_with(isolated_env))


def test_malformed_toml_names_file_and_line(isolated_env: Path) -> None:
    path = write_config(isolated_env, '[contexts.prod]\nnamespace = "unterminated\n')
    with pytest.raises(ConfigError, match=rf"config {path}, line 2: invalid TOML"):
        config.load(env_with(isolated_env))


def test_wrong_type_names_file_and_line(isolated_env: Path) -> None:
    path = write_config(isolated_env, '[contexts.prod]\n\nread-only = "maybe"\n')
    with pytest.raises(ConfigError, match=rf"config {path}, line 3: read-only: expected true or false"):
        config.load(env_with(isolated_env))


def test_bad_url_scheme_in_file(isolated_env: Path) -> None:
    write_config(isolated_env, '[contexts.prod]\nredis-url = "http://x"\n')
    with pytest.raises(ConfigError, match="line 2: redis-url: expected a URL starting with redis:// or rediss://"):
        config.load(env_with(isolated_env))


def test_explicit_missing_file_is_an_error_but_default_missing_is_not(isolated_env: Path) -> None:
    with pytest.raises(ConfigError, match="no such file"):
        config.load(env_with(isolated_env), config_path=str(isolated_env / "missing.toml"))
    with pytest.raises(ConfigError, match="no such file"):
        config.load(env_with(isolated_env, WBCTL_CONFIG=str(isolated_env / "missing.toml")))
    assert config.load(env_with(isolated_env)).config_file is None


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("WBCTL_TIMEOUT", "abc", "WBCTL_TIMEOUT: expected a number of seconds"),
        ("WBCTL_TIMEOUT", "-1", "WBCTL_TIMEOUT: expected a number of seconds, more than 0 and at most 3600"),
        ("WBCTL_TIMEOUT", "0", "WBCTL_TIMEOUT: expected a number of seconds, more than 0 and at most 3600"),
        ("WBCTL_TIMEOUT", "3600.5", "WBCTL_TIMEOUT: expected a number of seconds, more than 0 and at most 3600"),
        ("WBCTL_OUTPUT", "yaml", "WBCTL_OUTPUT: expected one of table, json"),
        ("WBCTL_READ_ONLY", "perhaps", "WBCTL_READ_ONLY: expected true or false"),
    ],
)
def test_bad_environment_values(isolated_env: Path, variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config.load(env_with(isolated_env, **{variable: value}))


@pytest.mark.parametrize(("value", "seconds"), [("0.5", 0.5), ("3600", 3600.0)])
def test_timeout_bounds_are_allowed(isolated_env: Path, value: str, seconds: float) -> None:
    assert config.load(env_with(isolated_env), flags={"timeout": value}).timeout == seconds


def test_bad_flag_value(isolated_env: Path) -> None:
    with pytest.raises(ConfigError, match="--output: expected one of table, json"):
        config.load(env_with(isolated_env), flags={"output": "xml"})


def test_redis_settings_table_top_level_and_per_context(isolated_env: Path) -> None:
    path = write_config(
        isolated_env,
        'current-context = "prod"\n'
        "[redis.settings]\n"
        '"bigtablev3.filestream.metric_points_chunk_size" = 30000\n'
        "bigtablev3.filestream.write_cache_size = 5000000\n"
        "[contexts.prod.redis.settings]\n"
        '"bigtablev3.filestream.metric_points_chunk_size" = "40000"\n'
        "[contexts.prod]\n",
    )
    settings = config.load(env_with(isolated_env))
    overrides = settings.redis_overrides
    assert overrides["bigtablev3.filestream.metric_points_chunk_size"] == (
        "40000",
        f"file {path} [contexts.prod.redis.settings]",
    )
    assert overrides["bigtablev3.filestream.write_cache_size"] == ("5000000", f"file {path} [redis.settings]")


def test_bad_redis_setting_in_file_names_line(isolated_env: Path) -> None:
    path = write_config(
        isolated_env, '[redis.settings]\n"bigtablev3.filestream.metric_points_parallelization" = "four"\n'
    )
    with pytest.raises(ConfigError, match=rf"config {path}, line 2: invalid value 'four'"):
        config.load(env_with(isolated_env))


def test_secrets_come_from_environment_and_urls_and_are_redacted(isolated_env: Path) -> None:
    write_config(isolated_env, CONFIG)
    env = env_with(
        isolated_env,
        WBCTL_REDIS_PASSWORD="env-secret",
        WBCTL_MYSQL_PASSWORD="db-secret",
        WBCTL_REDIS_URL="rediss://:url-secret@10.0.0.3:6378/0",
    )
    settings = config.load(env)
    assert settings.secret("redis-password") == "env-secret"
    assert settings["redis-url"] == "rediss://:url-secret@10.0.0.3:6378/0"  # a password in an env URL is taken
    redact = settings.redactor()
    text = redact("env-secret db-secret url-secret rediss://:url-secret@10.0.0.3:6378/0")
    assert "secret" not in text.replace("***", "")
    assert text.count("***") == 4


@pytest.mark.parametrize("flag", [False, True])
def test_a_password_in_a_url_from_a_flag_or_the_environment_is_taken(isolated_env: Path, flag: bool) -> None:
    url = "mysql://wandb:db-secret@10.0.0.4:3306/wandb_local"
    settings = (
        config.load(env_with(isolated_env), flags={"mysql-url": url})
        if flag
        else config.load(env_with(isolated_env, WBCTL_MYSQL_URL=url))
    )
    assert settings["mysql-url"] == url
    assert "db-secret" not in settings.redactor()(url)


@pytest.mark.parametrize(
    ("key", "url", "variable", "url_variable"),
    [
        ("redis-url", "rediss://:file-secret@10.0.0.3:6378/0", "WBCTL_REDIS_PASSWORD", "WBCTL_REDIS_URL"),
        ("redis-url", "redis://default:file-secret@10.0.0.3:6379/0", "WBCTL_REDIS_PASSWORD", "WBCTL_REDIS_URL"),
        ("mysql-url", "mysql://wandb:file-secret@10.0.0.4:3306/wandb_local", "WBCTL_MYSQL_PASSWORD", "WBCTL_MYSQL_URL"),
    ],
)
def test_a_password_in_a_url_in_the_file_is_refused(
    isolated_env: Path, key: str, url: str, variable: str, url_variable: str
) -> None:
    path = write_config(isolated_env, f'current-context = "prod"\n[contexts.prod]\nnamespace = "x"\n{key} = "{url}"\n')
    with pytest.raises(ConfigError) as error:
        config.load(env_with(isolated_env))
    assert error.value.message == (
        f"config {path}, line 4: {key} holds a password, and passwords are never read from the file: "
        f"remove it from the URL and set {variable} (or give the whole URL in {url_variable})"
    )
    assert "file-secret" not in error.value.message


def test_a_password_in_the_file_is_refused_in_any_context_and_whatever_overrides_it(isolated_env: Path) -> None:
    """The file must not hold the secret at all: not in another context, not under an env override."""
    path = write_config(
        isolated_env,
        '[contexts.prod]\nredis-url = "redis://127.0.0.1:6379/0"\n'
        '[contexts.old]\nredis-url = "redis://:file-secret@10.0.0.9:6379/0"\n',
    )
    env = env_with(isolated_env, WBCTL_REDIS_URL="redis://127.0.0.1:6379/0")
    with pytest.raises(ConfigError, match=rf"config {path}, line 4: redis-url holds a password"):
        config.load(env, context="prod")


def test_a_user_without_a_password_in_the_file_is_fine(isolated_env: Path) -> None:
    write_config(
        isolated_env,
        '[contexts.prod]\nmysql-url = "mysql://wandb@10.0.0.4:3306/wandb_local"\n'
        'redis-url = "redis://default@10.0.0.3:6379/0"\n',
    )
    settings = config.load(env_with(isolated_env))
    assert settings["mysql-url"] == "mysql://wandb@10.0.0.4:3306/wandb_local"
    assert settings["redis-url"] == "redis://default@10.0.0.3:6379/0"


def test_bigtable_emulator_host_is_the_last_word_before_the_default(isolated_env: Path) -> None:
    """Google's own convention (what `cbt` and the client libraries read) counts for
    gcp-emulator-host after wbctl's flag, variable and config file: those name wbctl's choice."""
    alone = config.load(env_with(isolated_env, BIGTABLE_EMULATOR_HOST="127.0.0.1:8086"))
    assert alone.values["gcp-emulator-host"] == config.Setting("127.0.0.1:8086", "env BIGTABLE_EMULATOR_HOST")
    both = env_with(isolated_env, BIGTABLE_EMULATOR_HOST="127.0.0.1:8086", WBCTL_GCP_EMULATOR_HOST="127.0.0.1:9000")
    assert config.load(both).values["gcp-emulator-host"] == config.Setting(
        "127.0.0.1:9000", "env WBCTL_GCP_EMULATOR_HOST"
    )
    path = write_config(isolated_env, '[contexts.dev]\ngcp-emulator-host = "127.0.0.1:7000"\n')
    from_file = config.load(env_with(isolated_env, BIGTABLE_EMULATOR_HOST="127.0.0.1:8086"))
    assert from_file.values["gcp-emulator-host"] == config.Setting("127.0.0.1:7000", f"file {path} [contexts.dev]")


def test_an_empty_bigtable_emulator_host_is_unset(isolated_env: Path) -> None:
    settings = config.load(env_with(isolated_env, BIGTABLE_EMULATOR_HOST=""))
    assert settings.values["gcp-emulator-host"] == config.Setting(None, "default")


def test_the_sandbox_ignores_bigtable_emulator_host(isolated_env: Path) -> None:
    env = env_with(isolated_env, BIGTABLE_EMULATOR_HOST="10.9.9.9:8086")
    settings = config.load(env, sandbox=("healthy", {"gcp-emulator-host": "127.0.0.1:5555"}))
    assert settings.values["gcp-emulator-host"] == config.Setting("127.0.0.1:5555", "sandbox healthy")
