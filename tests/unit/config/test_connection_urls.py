"""redis-url and mysql-url are checked as W&B writes them when the settings are loaded, before
anything connects: one ConfigError naming the variable or the file's line, never the password."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.unit.config.test_config import env_with, write_config
from wbctl import config
from wbctl.errors import ConfigError

AUTH = "Memorystore-Auth-4b1d"
TERRAFORM = f"redis://:{AUTH}@10.12.0.4:6378?tls=true&ttlInSeconds=604800&caCertPath=/etc/ssl/certs/server_ca.pem"


def test_terraforms_memorystore_url_loads_from_the_environment(isolated_env: Path) -> None:
    settings = config.load(env_with(isolated_env, WBCTL_REDIS_URL=TERRAFORM))
    assert settings["redis-url"] == TERRAFORM
    assert AUTH not in settings.redactor()(f"connecting to {TERRAFORM}")


def test_an_unknown_parameter_in_the_environment_names_the_variable_and_the_parameter(isolated_env: Path) -> None:
    with pytest.raises(ConfigError) as raised:
        config.load(env_with(isolated_env, WBCTL_REDIS_URL=TERRAFORM + "&sentinelPassword=" + AUTH))
    assert str(raised.value).startswith("WBCTL_REDIS_URL: unknown query parameter sentinelPassword (known: tls,")
    assert AUTH not in str(raised.value)


def test_an_unknown_parameter_in_the_file_names_the_line(isolated_env: Path) -> None:
    path = write_config(
        isolated_env, '[contexts.prod]\n\nmysql-url = "mysql://wandb@db:3306/wandb?tls=preferred&x=1"\n'
    )
    with pytest.raises(ConfigError, match=rf"config {path}, line 3: mysql-url: unknown query parameter x"):
        config.load(env_with(isolated_env))


def test_a_flag_is_checked_too(isolated_env: Path) -> None:
    with pytest.raises(ConfigError, match=r"^--redis-url: cluster=true \(Redis Cluster\) is not supported"):
        config.load(env_with(isolated_env), flags={"redis-url": "redis://h:6379?cluster=true"})


def test_the_v2_operators_password_form_is_masked_and_kept_out_of_the_file(isolated_env: Path) -> None:
    url = f"redis://{AUTH}:@redis.example.com:6379?tls=true"
    settings = config.load(env_with(isolated_env, WBCTL_REDIS_URL=url))
    assert settings.redactor()(url) == "redis://***:@redis.example.com:6379?tls=true"
    write_config(isolated_env, f'[contexts.prod]\nredis-url = "{url}"\n')
    with pytest.raises(ConfigError, match="redis-url holds a password") as raised:
        config.load(env_with(isolated_env))
    assert AUTH not in str(raised.value)
