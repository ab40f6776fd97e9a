"""The per-run filestream rate limit, read from what the chart renders, and the patch that sets it."""

from __future__ import annotations

import json
import shlex

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.kube import Container, EnvVar, KubeObservation, WandbResource, Workload
from wbctl.core.rate_limits import LIMITER_ENV, PER_RUN_ENV, PerRunLimit, advice, enable_patch, per_run_limit

KUBECTL = "kubectl --context gke-prod -n wandb"


def observed(*env: EnvVar, chart: str | None = "0.43.8") -> KubeObservation:
    api = Workload("Deployment", "wandb-api", {}, {}, 2, 2, (Container("api", "wandb/megabinary:0.70.0", {}, {}, env),))
    updater = Workload("Deployment", "wandb-flat-run-fields-updater-bc", {}, {}, 3, 3, ())
    observation = KubeObservation("https://k8s", "wandb", "wandb", workloads=[updater, api])
    observation.cr = WandbResource("wandb", chart, {}, "Completed", "1")
    return observation


# the chart's env with the limits on and off (templates/_env.tpl, `wandb.rateLimitEnvs`)
ON = (EnvVar(LIMITER_ENV, "redis://:$(REDIS_PASSWORD)@redis:6379"), EnvVar(PER_RUN_ENV, "2"))
OFF = (EnvVar(LIMITER_ENV, "noop://"),)


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        pytest.param(ON, PerRunLimit(True, 2.0, f"deployment/wandb-api env {PER_RUN_ENV}"), id="on"),
        pytest.param(OFF, PerRunLimit(True, None, f"deployment/wandb-api env {LIMITER_ENV}"), id="off"),
        pytest.param(
            (EnvVar(LIMITER_ENV, "redis://r:6379"), EnvVar(PER_RUN_ENV, "0")),
            PerRunLimit(True, None, f"deployment/wandb-api env {PER_RUN_ENV}"),
            id="zero-is-no-limit",
        ),
    ],
)
def test_the_limit_is_read_from_the_api_deployments_env(env: tuple[EnvVar, ...], expected: PerRunLimit) -> None:
    assert per_run_limit(observed(*env)) == expected


@pytest.mark.parametrize(
    ("observation", "reason"),
    [
        pytest.param(None, "not read", id="kubernetes-unread"),
        pytest.param(observed(), "another chart generation", id="no-limiter-variable"),
        pytest.param(
            observed(EnvVar(LIMITER_ENV, "redis://r"), EnvVar(PER_RUN_ENV, "lots")), "is 'lots'", id="not-a-number"
        ),
    ],
)
def test_an_unreadable_limit_is_unknown_with_the_reason(observation: KubeObservation | None, reason: str) -> None:
    limit = per_run_limit(observation)
    assert not limit.known and reason in limit.where


def test_advice_with_the_limits_off_is_the_pasteable_patch_and_what_else_it_turns_on() -> None:
    first, second = advice(observed(*OFF), KUBECTL)
    command = first.split(": ", 1)[1]
    argv = shlex.split(command)
    assert argv[:8] == ["kubectl", "--context", "gke-prod", "-n", "wandb", "patch", "weightsandbiases", "wandb"]
    assert argv[8:10] == ["--type", "merge"] and argv[10] == "-p"
    limits = json.loads(argv[11])["spec"]["values"]["global"]["api"]["rateLimits"]
    assert limits == {"enabled": True, "fileStreamPerRunCount": 2}
    assert "project limits" in second and "500 requests/s" in second


def test_advice_with_the_limits_on_says_the_limit() -> None:
    assert advice(observed(*ON), KUBECTL) == [
        f"every run is limited to 2 filestream requests/s (HTTP 429 past it; deployment/wandb-api env {PER_RUN_ENV})"
    ]


def test_advice_without_a_chart_cr_proposes_no_patch() -> None:
    [line] = advice(observed(*OFF, chart=None), KUBECTL)
    assert "patch" not in line and "fileStreamPerRunCount" in line


@given(st.text(min_size=1, max_size=40), st.integers(min_value=1, max_value=10**6))
def test_the_patch_survives_the_shell_for_any_name(name: str, per_run: int) -> None:
    argv = shlex.split(enable_patch(name, KUBECTL, per_run))
    assert argv[7] == name
    assert json.loads(argv[11])["spec"]["values"]["global"]["api"]["rateLimits"]["fileStreamPerRunCount"] == per_run
