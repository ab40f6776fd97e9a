"""The adapter factory: one adapter per backend, built from the settings, closed together."""

from __future__ import annotations

import importlib
import socket

import pytest

from wbctl.adapters.kube import KubeAdapter
from wbctl.adapters.metrics import CloudMonitoring, Prometheus
from wbctl.adapters.redis import RedisAdapter
from wbctl.app.backends import SDK_MODULES, sdk_modules
from wbctl.errors import UsageError


def test_each_adapter_is_built_once_and_shared(make_session) -> None:
    session = make_session(WBCTL_REDIS_URL="redis://127.0.0.1:1/0")
    backends = session.backends
    assert backends.redis() is backends.redis()
    assert isinstance(backends.redis(), RedisAdapter) and backends.redis().url == "redis://127.0.0.1:1/0"
    assert isinstance(backends.kube(), KubeAdapter)
    assert session.backends is backends


def test_close_closes_every_adapter_and_the_next_use_builds_afresh(make_session) -> None:
    with socket.socket() as listener:  # a Redis-shaped port that accepts and says nothing
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        session = make_session(WBCTL_REDIS_URL=f"redis://127.0.0.1:{port}/0")
        first = session.backends.redis()
        session.backends.close()
        assert session.backends.redis() is not first


def test_the_metrics_source_follows_the_setting_and_the_kind_asked(make_session) -> None:
    session = make_session(
        WBCTL_GCP_PROJECT="proj",
        WBCTL_METRICS_SOURCE="prometheus",
        WBCTL_PROMETHEUS_URL="http://127.0.0.1:9/",
    )
    assert isinstance(session.backends.metrics(), Prometheus)
    assert isinstance(session.backends.metrics("cloud-monitoring"), CloudMonitoring)
    assert session.backends.metrics("prometheus") is session.backends.metrics()


def test_google_backends_need_a_project(make_session) -> None:
    session = make_session()
    with pytest.raises(UsageError, match="gcp-project is not set"):
        session.backends.bigtable()
    with pytest.raises(UsageError, match="gcp-project is not set"):
        session.backends.metrics("cloud-monitoring")


def test_the_bigtable_instance_is_the_setting_or_derived_like_terraform(make_session) -> None:
    assert make_session(WBCTL_BIGTABLE_INSTANCE="mine").backends.bigtable_instance() == "mine"
    derived = make_session(WBCTL_INSTANCE="wandb").backends.bigtable_instance()
    assert derived and derived != "mine"


def test_sdk_modules_are_ordered_once_and_all_importable() -> None:
    names = sdk_modules("kube", "bigtable", "cloud-monitoring", "prometheus", "kube")
    assert len(names) == len(set(names))
    assert names[: len(SDK_MODULES["kube"])] == list(SDK_MODULES["kube"])
    assert set(SDK_MODULES["google"]) <= set(names) and set(SDK_MODULES["monitoring"]) <= set(names)
    for module in {m for modules in SDK_MODULES.values() for m in modules}:
        importlib.import_module(module)  # a misspelt module would only fail at the first gather
