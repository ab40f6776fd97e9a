"""config init's derivation, pure: what each source of the cluster gives, in which order they
win, TLS from the port or the params, and never a password in a URL, whatever the input."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wbctl.core.context_init import FoundResource, choose, derive
from wbctl.core.kube import Container, EnvVar, WandbResource, Workload
from wbctl.errors import BackendError, UsageError


def found(values: dict[str, Any], namespace: str = "wb", name: str = "wandb") -> FoundResource:
    return FoundResource(namespace, 1, WandbResource(name, "0.43.8", values, "Running", "1"))


def workload(name: str, env: dict[str, str | None], env_from: tuple[str, ...] = ()) -> Workload:
    container = Container(name, "img:1", {}, {}, tuple(EnvVar(k, v) for k, v in env.items()), env_from)
    return Workload("Deployment", name, {}, {}, 1, 1, (container,))


def test_the_workloads_variables_win_over_the_values_and_configmaps_expand() -> None:
    values = {"global": {"redis": {"host": "from-values"}, "mysql": {"host": "m-values"}}}
    api = workload(
        "wandb-api",
        {
            "MYSQL_HOST": "$(DB)",
            "MYSQL_PORT": "3307",
            "MYSQL_USER": "wb",
            "MYSQL_DATABASE": "d",
            "MYSQL_PASSWORD": None,
        },
        env_from=("redis-cm", "db-cm"),
    )
    derived = derive(
        found(values),
        [api],
        {"redis-cm": {"REDIS_HOST": "10.0.0.3", "REDIS_PORT": "6379"}, "db-cm": {"DB": "10.1.0.2"}},
        kube_context="gke",
    )
    assert derived.values["redis-url"] == "redis://10.0.0.3:6379/0"
    assert derived.values["mysql-url"] == "mysql://wb@10.1.0.2:3307/d"
    assert "redis-ca-file" not in derived.to_fill and "mysql-password" in derived.to_fill
    assert list(derived.values)[:3] == ["kube-context", "namespace", "instance"]


@pytest.mark.parametrize(
    ("redis", "url", "ca"),
    [
        ({"host": "h", "port": 6378}, "rediss://h:6378/0", True),
        ({"host": "h", "caCert": "-----BEGIN"}, "rediss://h:6379/0", True),
        ({"host": "h", "password": "pw"}, "redis://h:6379/0", False),
        ({}, None, False),
    ],
)
def test_redis_from_the_values(redis: dict[str, Any], url: str | None, ca: bool) -> None:
    derived = derive(found({"global": {"redis": redis}}), [], {}, kube_context=None)
    assert derived.values.get("redis-url") == url
    assert ("redis-ca-file" in derived.to_fill) is ca
    assert "kube-context" not in derived.values


@settings(max_examples=100, deadline=None)
@given(suffix=st.text(max_size=20))
def test_no_password_reaches_a_value(suffix: str) -> None:
    password = "SeCrEt" + suffix  # the marker cannot occur in a URL built from the hosts
    values = {"global": {"redis": {"host": "r", "password": password}, "mysql": {"host": "m", "password": password}}}
    api = workload("wandb-api", {"REDIS_PASSWORD": password, "MYSQL_PASSWORD": password, "REDIS_HOST": "r"})
    derived = derive(found(values), [api], {}, kube_context=None)
    assert not any("SeCrEt" in str(value) for value in [*derived.values.values(), *derived.to_fill.values()])
    assert derived.values["redis-url"] == "redis://r:6379/0" and derived.values["mysql-url"] == "mysql://m:3306/"


def test_choose_one() -> None:
    with pytest.raises(BackendError, match="no WeightsAndBiases resource in namespace x"):
        choose([], "x")
    with pytest.raises(UsageError, match=r"several WeightsAndBiases resources \(a/wandb, b/wandb\)"):
        choose([found({}, "b"), found({}, "a")], None)
    one = found({})
    assert choose([one], None) is one


@pytest.mark.parametrize(
    ("env", "host", "variable"),
    [
        ({"BIGTABLE_EMULATOR_HOST": "127.0.0.1:8086"}, "127.0.0.1:8086", "BIGTABLE_EMULATOR_HOST"),
        ({"PUBSUB_EMULATOR_HOST": "pubsub:8085"}, "pubsub:8085", "PUBSUB_EMULATOR_HOST"),
        (
            {"PUBSUB_EMULATOR_HOST": "pubsub:8085", "BIGTABLE_EMULATOR_HOST": "bt:8086"},
            "bt:8086",
            "BIGTABLE_EMULATOR_HOST",
        ),
        ({"BIGTABLE_EMULATOR_HOST": ""}, None, None),
        ({}, None, None),
    ],
)
def test_a_workloads_emulator_variable_is_the_emulator_host(
    env: dict[str, str | None], host: str | None, variable: str | None
) -> None:
    derived = derive(found({}), [workload("wandb-api", env)], {}, kube_context=None)
    assert derived.values.get("gcp-emulator-host") == host
    if variable is not None:
        assert derived.origins["gcp-emulator-host"] == f"deployment/wandb-api env {variable}"


def test_the_emulator_host_may_come_from_a_configmap() -> None:
    api = workload("wandb-api", {}, env_from=("google-cm",))
    derived = derive(found({}), [api], {"google-cm": {"BIGTABLE_EMULATOR_HOST": "10.0.0.9:8086"}}, kube_context=None)
    assert derived.values["gcp-emulator-host"] == "10.0.0.9:8086"
