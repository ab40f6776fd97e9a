"""Each pod condition `services.<service>.health` judges (wbctl.core.pod_health), with its
status, its words and its remedy; and the quantity parser the memory judgement reads."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.kube import Generation, Pod
from wbctl.core.model import Status
from wbctl.core.pod_health import PodProblem, Settings, pod_problems, worst
from wbctl.core.quantities import bytes_of

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)
APP = Settings("wandb-app", "app")
KUBECTL = "kubectl -n wandb"
HEALTHY = Pod("wandb-app-1", {}, "n1", "Running", True, 0, NOW - timedelta(days=1), False)


def one(pod: Pod, settings: Settings = APP, **options) -> PodProblem | None:
    found = pod_problems([pod], settings, kubectl=KUBECTL, now=NOW, window=3600, **options)
    assert len(found) <= 1
    return found[0] if found else None


def test_a_healthy_pod_has_no_problem() -> None:
    assert one(HEALTHY) is None
    assert worst([]) is Status.OK


def test_crash_loop_back_off_fails_and_points_at_the_previous_log() -> None:
    found = one(replace(HEALTHY, ready=False, restarts=7, waiting=("CrashLoopBackOff",)))
    assert found is not None and found.status is Status.FAIL and found.what == "CrashLoopBackOff"
    assert found.text == "wandb-app-1: CrashLoopBackOff (7 restarts)"
    assert found.next == f"{KUBECTL} logs wandb-app-1 --previous; {KUBECTL} describe pod wandb-app-1"


def test_a_crash_loop_of_oom_kills_names_the_memory_to_raise() -> None:
    pod = replace(HEALTHY, ready=False, restarts=4, waiting=("CrashLoopBackOff",), last_terminated=("OOMKilled",))
    found = one(pod, limits={"app": "1Gi"})
    assert found is not None and found.text.endswith("its last run was OOMKilled")
    assert found.remedy == "raise its memory limit: values.app.resources.limits.memory in the WeightsAndBiases resource"


@pytest.mark.parametrize("reason", ["ImagePullBackOff", "ErrImagePull"])
def test_an_image_that_cannot_be_pulled_fails(reason: str) -> None:
    found = one(replace(HEALTHY, ready=False, waiting=(reason,), waiting_messages=("manifest unknown",)))
    assert found is not None and found.status is Status.FAIL
    assert found.text == f"wandb-app-1: {reason}: manifest unknown"
    assert found.remedy == "check values.app.image (repository, tag) and the image pull secret"


def test_an_oom_kill_within_the_window_fails_and_one_before_it_does_not() -> None:
    recent = replace(HEALTHY, restarts=3, last_terminated=("OOMKilled",), last_terminated_at=NOW - timedelta(minutes=4))
    found = one(recent, limits={"app": "2Gi"})
    assert found is not None and found.status is Status.FAIL and found.what == "OOMKilled"
    assert found.text == "wandb-app-1: OOMKilled 4m ago (3 restarts)"
    assert found.next.startswith("raise its memory limit: values.app.resources.limits.memory")
    assert found.look == f"{KUBECTL} describe pod wandb-app-1; {KUBECTL} logs wandb-app-1 --previous"
    assert one(replace(recent, last_terminated_at=NOW - timedelta(hours=3))) is None


def test_an_oom_kill_of_a_time_unknown_counts() -> None:
    found = one(replace(HEALTHY, restarts=1, last_terminated=("OOMKilled",)))
    assert found is not None and found.status is Status.FAIL and found.text == "wandb-app-1: OOMKilled (1 restart)"


def test_an_oom_kill_without_a_memory_limit_names_the_request_and_limit_to_set() -> None:
    found = one(replace(HEALTHY, restarts=1, last_terminated=("OOMKilled",)))
    assert found is not None and found.remedy.startswith("it has no memory limit, so its node ran short")


def test_the_v2_operator_s_remedy_is_its_size() -> None:
    v2 = Settings("wandb-api", "api", Generation.V2)
    found = one(replace(HEALTHY, restarts=1, last_terminated=("OOMKilled",)), v2)
    assert found is not None and found.remedy.startswith("raise spec.size in the WeightsAndBiases resource")


def test_pending_carries_the_scheduler_s_reason() -> None:
    message = "0/3 nodes are available: 3 Insufficient memory."
    found = one(replace(HEALTHY, phase="Pending", ready=False, node=None, unschedulable=message))
    assert found is not None and found.status is Status.FAIL
    assert found.text == f"wandb-app-1: Pending ({message})"
    assert found.remedy.endswith("or lower values.app.resources.requests in the WeightsAndBiases resource")
    assert found.look == f"{KUBECTL} describe pod wandb-app-1"


def test_pending_while_its_containers_are_created_only_warns() -> None:
    found = one(replace(HEALTHY, phase="Pending", ready=False, waiting=("ContainerCreating",)))
    assert found is not None and found.status is Status.WARN


def test_restarts_within_the_window_warn() -> None:
    pod = replace(HEALTHY, restarts=2, last_terminated=("Error",), last_terminated_at=NOW - timedelta(minutes=10))
    found = one(pod)
    assert found is not None and found.status is Status.WARN and found.what == "restarts"
    assert found.text == "wandb-app-1: 2 restarts, last ended Error, the last 10m ago"
    assert found.look == f"{KUBECTL} logs wandb-app-1 --previous"
    assert one(replace(pod, last_terminated_at=NOW - timedelta(hours=2))) is None


def test_readiness_failing_warns() -> None:
    found = one(replace(HEALTHY, ready=False))
    assert found is not None and found.status is Status.WARN and found.text == "wandb-app-1: running, not ready"


def test_memory_near_its_limit_warns_and_under_it_does_not() -> None:
    limits = {"app": "1Gi"}
    found = one(HEALTHY, memory={"wandb-app-1": {"app": 1000 * 2**20}}, limits=limits)
    assert found is not None and found.status is Status.WARN and found.what == "memory"
    assert found.text == "wandb-app-1: container app uses 98% of its 1Gi memory limit"
    assert one(HEALTHY, memory={"wandb-app-1": {"app": 512 * 2**20}}, limits=limits) is None
    assert one(HEALTHY, memory={"wandb-app-1": {"app": 2**31}}, limits={}) is None  # no limit: nothing to be near


def test_a_finished_job_pod_is_not_trouble() -> None:
    done = replace(HEALTHY, phase="Succeeded", ready=False, job_pod=True)
    assert one(done) is None


def test_the_worst_pods_come_first() -> None:
    pods = [replace(HEALTHY, name="a", ready=False), replace(HEALTHY, name="b", waiting=("CrashLoopBackOff",))]
    found = pod_problems(pods, APP, now=NOW, window=3600)
    assert [p.pod for p in found] == ["b", "a"] and worst(found) is Status.FAIL


# --- quantities -----------------------------------------------------------------------------

UNITS = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40, "k": 10**3, "M": 10**6, "G": 10**9, "": 1}


@pytest.mark.parametrize(
    ("text", "expected"),
    [("512Mi", 512 * 2**20), ("1Gi", 2**30), ("2e9", 2 * 10**9), ("29094932Ki", 29094932 * 1024), ("1.5Gi", 3 * 2**29)],
)
def test_memory_quantities(text: str, expected: int) -> None:
    assert bytes_of(text) == expected


@pytest.mark.parametrize("text", ["", "Gi", "1 Gi", "1GiB", "-1Gi", "1e999999999", "abc", None])
def test_what_is_not_a_quantity_is_none(text: str | None) -> None:
    assert bytes_of(text) is None


@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(sorted(UNITS)))
def test_a_whole_number_and_its_suffix(number: int, unit: str) -> None:
    assert bytes_of(f"{number}{unit}") == number * UNITS[unit]


@given(st.text(max_size=24))
def test_any_text_is_a_size_or_none(text: str) -> None:
    found = bytes_of(text)
    assert found is None or found >= 0


# --- services.<service>.health ----------------------------------------------------------------


def test_every_service_of_the_guide_has_a_health_id() -> None:
    from wbctl.core import catalog, services

    ids = services.check_ids()
    assert [i for i in ids if i.endswith(".health")] == [f"services.{s.name}.health" for s in catalog.CATALOG]
    assert len(catalog.CATALOG) == 12


def test_a_service_not_part_of_the_v2_generation_has_no_health_to_judge() -> None:
    from wbctl.core import services
    from wbctl.core.kube import KubeObservation

    observation = KubeObservation("https://k8s", "wandb", "wandb", generation=Generation.V2)
    findings = {f.check: f for f in services.check(observation, now=NOW).findings}
    assert findings["services.wandb-app.present"].status is Status.OK
    assert "services.wandb-app.health" not in findings
