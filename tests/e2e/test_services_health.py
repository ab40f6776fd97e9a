"""`services.<service>.health` end to end: `services check`, `services status` and `check` over
the Kubernetes fake (pods made sick as the kubelet and the scheduler report them, metrics.k8s.io
served or not) and over the sandbox's misconfigured story (its OOM-killed wandb-app pod)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from wbctl.sandbox.kube.api import FakeKubeAPI
from wbctl.sandbox.kube.objects import chart_043
from wbctl.sandbox.kube.objects.pod_health import crash_looping, oom_killed, pending

NAME = "app.kubernetes.io/name"


@pytest.fixture
def env(kube_api: FakeKubeAPI, isolated_env: Path) -> dict[str, str]:
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    return {"KUBECONFIG": str(kubeconfig)}


def sick(objects: list[dict[str, Any]], service: str, make: Any) -> tuple[list[dict[str, Any]], str]:
    """The namespace with the first pod of `service` made sick; and that pod's name."""
    index = next(
        i for i, o in enumerate(objects) if o["kind"] == "Pod" and o["metadata"]["labels"].get(NAME) == service
    )
    objects[index] = make(objects[index])
    return objects, objects[index]["metadata"]["name"]


def health(result: Any) -> dict[str, dict[str, Any]]:
    return {f["check"]: f for f in result.json()["findings"] if f["check"].endswith(".health")}


class Usage:
    """metrics-server's answer: each pod's containers at `share` of their memory request, but
    the named pods' at the given bytes (a Telemetry for the fake, as the sandbox's is)."""

    def __init__(self, used: Mapping[str, int]) -> None:
        self.used = used

    def now(self) -> datetime:
        return datetime.now(UTC)

    def log(self, pod: Any, container: str) -> Sequence[tuple[datetime, str]]:
        return []

    def usage(self, pod: Any) -> Mapping[str, tuple[float, int]]:
        name = pod["metadata"]["name"]
        return {
            c["name"]: (0.01, self.used.get(name, 64 * 2**20)) for c in (pod.get("spec") or {}).get("containers") or []
        }

    def node_usage(self, node: Any, pods: Sequence[Any]) -> tuple[float, int]:
        return (0.5, 2**30)


def test_an_oom_killed_pod_fails_its_service_with_the_memory_limit_to_raise(wbctl, kube_api, env) -> None:
    objects, pod = sick(chart_043(), "console", oom_killed)
    kube_api.add_all(objects)
    result = wbctl("services", "check", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    found = health(result)["services.wandb-console.health"]
    assert found["status"] == "fail"
    assert f"{pod}: OOMKilled" in found["message"] and "(3 restarts)" in found["message"]
    assert found["remedy"].startswith(
        "raise its memory limit: values.console.resources.limits.memory in the WeightsAndBiases resource"
    )
    assert f"describe pod {pod}" in found["remedy"] and f"logs {pod} --previous" in found["remedy"]
    assert health(result)["services.wandb-api.health"]["status"] == "ok"


def test_a_crash_loop_and_an_unschedulable_pod_fail_with_their_looks(wbctl, kube_api, env) -> None:
    objects, looping = sick(chart_043(), "api", crash_looping)
    objects, waiting = sick(objects, "glue", lambda p: pending(p, nodes=3))
    kube_api.add_all(objects)
    result = wbctl("services", "check", "-o", "json", env=env)
    found = health(result)
    api, glue = found["services.wandb-api.health"], found["services.wandb-glue.health"]
    assert api["status"] == "fail" and f"{looping}: CrashLoopBackOff (7 restarts)" in api["message"]
    assert api["remedy"].startswith(f"kubectl -n default logs {looping} --previous")
    assert (
        glue["status"] == "fail"
        and f"{waiting}: Pending (0/3 nodes are available: 3 Insufficient cpu." in glue["message"]
    )
    assert "values.glue.resources.requests" in glue["remedy"] and f"describe pod {waiting}" in glue["remedy"]


def test_an_image_that_cannot_be_pulled_fails_naming_the_image_setting(wbctl, kube_api, env) -> None:
    def unpullable(pod: dict[str, Any]) -> dict[str, Any]:
        status = pod["status"]["containerStatuses"][0]
        status.update(
            ready=False,
            state={"waiting": {"reason": "ImagePullBackOff", "message": 'Back-off pulling image "wandb/local:9.9.9"'}},
        )
        return pod

    objects, pod = sick(chart_043(), "weave", unpullable)
    kube_api.add_all(objects)
    found = health(wbctl("services", "check", "-o", "json", env=env))["services.wandb-weave.health"]
    assert found["status"] == "fail"
    assert f'{pod}: ImagePullBackOff: Back-off pulling image "wandb/local:9.9.9"' in found["message"]
    assert found["remedy"].startswith("check values.weave.image (repository, tag) and the image pull secret")


def test_without_metrics_k8s_io_memory_is_unknown_with_the_reason(wbctl, kube_api, env) -> None:
    kube_api.add_all(chart_043())
    result = wbctl("services", "check", "-o", "json", env=env)
    found = health(result)["services.wandb-console.health"]
    assert found["status"] == "ok"
    assert found["message"] == (
        "3 pod(s) healthy; memory use unknown: the cluster does not serve metrics.k8s.io (no metrics-server): "
        "memory use unknown"
    )


def test_memory_near_its_limit_warns_from_metrics_k8s_io(wbctl, kube_api, env) -> None:
    objects = chart_043()
    kube_api.add_all(objects)
    console = next(o for o in objects if o["kind"] == "Pod" and o["metadata"]["labels"].get(NAME) == "console")
    name = console["metadata"]["name"]
    kube_api.telemetry = Usage({name: int(1.9 * 2**30)})  # of a 2Gi limit
    result = wbctl("services", "check", "-o", "json", env=env)
    found = health(result)
    assert found["services.wandb-console.health"]["status"] == "warn"
    assert found["services.wandb-console.health"]["message"] == (
        f"{name}: container console uses 95% of its 2Gi memory limit"
    )
    assert found["services.wandb-console.health"]["remedy"].startswith("raise its memory limit: values.console.")
    assert found["services.wandb-api.health"]["message"] == "3 pod(s) healthy; memory: no limit set"
    reads = [r for r in kube_api.requests if r.path.startswith("/apis/metrics.k8s.io/")]
    assert len(reads) == 1 and reads[0].query.get("labelSelector") == "app.kubernetes.io/instance=wandb"


def test_services_status_shows_the_health_of_each_service(wbctl, kube_api, env) -> None:
    objects, pod = sick(chart_043(), "console", oom_killed)
    kube_api.add_all(objects)
    result = wbctl("services", "status", "console", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    (service,) = result.json()["services"]
    assert service["health"]["status"] == "fail"
    [problem] = service["health"]["problems"]
    assert problem["pod"] == pod and problem["what"] == "OOMKilled"
    table = wbctl("services", "status", "console", env=env)
    assert "health: fail" in table.stdout and f"{pod}: OOMKilled" in table.stdout


def test_the_check_command_judges_health_in_its_services_area(wbctl, kube_api, env) -> None:
    objects, pod = sick(chart_043(), "console", oom_killed)
    kube_api.add_all(objects)
    result = wbctl("check", "--only", "services", "-o", "json", env=env)
    assert result.returncode == 1, result.stderr
    found = health(result)["services.wandb-console.health"]
    assert found["status"] == "fail" and f"{pod}: OOMKilled" in found["message"]


def test_the_sandbox_misconfigured_story_has_an_oom_killed_app_pod(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "services", "-o", "json")
    assert result.returncode == 1, result.stderr
    found = health(result)["services.wandb-app.health"]
    assert found["status"] == "fail"
    assert "OOMKilled" in found["message"] and "m ago" in found["message"]
    assert "values.app.resources.requests.memory and .limits.memory" in found["remedy"]
    assert " describe pod wandb-app-" in found["remedy"]
    others = {check: f["status"] for check, f in health(result).items() if check != "services.wandb-app.health"}
    assert set(others.values()) == {"ok"}
    text = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "services")
    assert "services.wandb-app.health" in text.stdout
    exported = wbctl("--sandbox", "--scenario", "misconfigured", "check", "--only", "services", "-o", "prometheus")
    assert 'check="services.wandb-app.health"' in exported.stdout
    line = next(
        line
        for line in exported.stdout.splitlines()
        if 'check="services.wandb-app.health"' in line
        and 'status="fail"' in line
        and line.startswith("wbctl_check_status")
    )
    assert line.endswith(" 1.0")


def test_on_a_v2_install_the_remedy_is_the_size_and_absent_services_are_not_judged(
    wbctl, kube_api, isolated_env: Path
) -> None:
    from wbctl.sandbox.kube.objects.operator_v2 import VERSIONS, operator_v2

    kube_api.serve_versions("weightsandbiases", VERSIONS)
    objects, pod = sick(operator_v2("wandb-prod", "wandb"), "api", oom_killed)
    kube_api.add_all(objects)
    env = {"KUBECONFIG": str(kube_api.write_kubeconfig(isolated_env / "kubeconfig")), "WBCTL_NAMESPACE": "wandb-prod"}
    result = wbctl("services", "check", "-o", "json", env=env)
    found = health(result)
    assert found["services.wandb-api.health"]["status"] == "fail"
    assert f"{pod}: OOMKilled" in found["services.wandb-api.health"]["message"]
    assert found["services.wandb-api.health"]["remedy"].startswith("raise spec.size in the WeightsAndBiases resource")
    assert "services.wandb-app.health" not in found  # not part of this generation: present says so
    present = {f["check"]: f for f in result.json()["findings"]}["services.wandb-app.present"]
    assert present["status"] == "ok" and present["expected"] == "absent from v2"
