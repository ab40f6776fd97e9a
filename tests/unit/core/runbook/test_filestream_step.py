"""Step 1 shows the filestream's own queue beside the run-updates queue when there is one: its
judgement (the same as check's queue.filestream.*), and while it does not clear the command
that adds filestream capacity; hidden when the filestream queue is `none`."""

from __future__ import annotations

from dataclasses import replace

from tests.support.points import NOW
from tests.unit.core.runbook.test_runbook import (
    GROWING,
    INVOCATION,
    KUBECTL,
    NONE,
    ROOM,
    STALLED,
    evidence,
    step,
)
from wbctl.core.kube import Autoscaler, Container, KubeObservation, Pod, Workload
from wbctl.core.model import Observed, Status
from wbctl.core.queue import Judgement
from wbctl.core.queue_source import QueueAddress
from wbctl.core.runbook import Evidence, diagnose
from wbctl.core.runbook.filestream import remedy
from wbctl.core.service_view import service_named

FILESTREAM = QueueAddress(
    "pubsub",
    "deployment/wandb-filestream-bc env GORILLA_FILE_STREAM_WORKER_SOURCE_ADDRESS",
    project="p",
    topic="wandb-filestream",
    subscription="wandb-filestream-gorilla",
)
NO_QUEUE = QueueAddress("none", "deployment/wandb-filestream-bc env X names mysql, not a queue")
LABELS = {"app.kubernetes.io/instance": "wandb", "app.kubernetes.io/name": "filestream"}
NAME = "wandb-filestream-bc"


def with_filestream(ready: int, autoscaler: tuple[int, int] | None) -> Observed[KubeObservation]:
    """ROOM's namespace (the updater with room) plus a filestream Deployment."""
    assert ROOM.value is not None
    workload = Workload(
        "Deployment",
        NAME,
        dict(LABELS),
        dict(LABELS),
        ready,
        ready,
        (Container("filestream", "wandb/megabinary:0.70.0", {}, {}),),
    )
    pods = [Pod(f"{NAME}-5c-{i}", dict(LABELS), f"n{i}", "Running", True, 0, NOW, False) for i in range(ready)]
    hpas = (
        [
            Autoscaler(
                "HorizontalPodAutoscaler", "wandb-filestream", NAME, autoscaler[0], autoscaler[1], ready, ready, 80
            )
        ]
        if autoscaler
        else []
    )
    observation = ROOM.value
    return Observed(
        replace(
            observation,
            workloads=[*observation.workloads, workload],
            pods=[*observation.pods, *pods],
            autoscalers=[*observation.autoscalers, *hpas],
        )
    )


def ev(run_updates: Judgement, filestream: Judgement | None, address: QueueAddress = FILESTREAM, **kube) -> Evidence:
    base = evidence(run_updates, kube_observed=with_filestream(**(kube or {"ready": 2, "autoscaler": (1, 4)})))
    return replace(base, filestream_address=address, filestream=filestream)


def test_a_growing_filestream_queue_names_its_autoscale_command() -> None:
    diagnosis = diagnose(ev(NONE, GROWING))
    first = step(diagnosis, 1)
    command = f"{INVOCATION} services autoscale wandb-filestream --min 4 --max 8"
    assert first.status is Status.FAIL and first.next == command
    assert [p.argv() for p in first.proposals] == [
        ("services", "autoscale", "wandb-filestream", "--min", "4", "--max", "8")
    ]
    assert any(
        line.startswith("filestream queue: Pub/Sub subscription wandb-filestream-gorilla") for line in first.evidence
    )
    assert "wandb-filestream: 2/2 ready, HorizontalPodAutoscaler 1-4" in first.evidence
    assert first.evidence[-1] == (
        "filestream is not keeping up with what the SDKs stream: its autoscaler has room it does not use "
        "(on CPU it does not see the queue): hold more replicas (the guide: autoscale it)"
    )
    # the run-updates queue is clear: the headline names the filestream queue and its command
    assert "filestream queue GROWING" in diagnosis.headline and diagnosis.headline.endswith(f"next: {command}")
    assert diagnosis.next == command
    assert diagnosis.fixes == ()  # --fix acts on the run-updates path only
    assert diagnosis.exit_status == 0  # the run-updates queue's verdict decides it


def test_the_run_updates_remedy_comes_first_in_the_headline() -> None:
    diagnosis = diagnose(ev(GROWING, GROWING))
    assert "services autoscale wandb-filestream" not in diagnosis.next
    assert step(diagnosis, 1).next.endswith("services autoscale wandb-filestream --min 4 --max 8")


def test_a_quiet_filestream_queue_is_shown_and_asks_nothing() -> None:
    diagnosis = diagnose(ev(NONE, NONE))
    first = step(diagnosis, 1)
    assert first.status is Status.OK and first.next == "" and first.proposals == ()
    assert any(line.startswith("filestream queue none:") for line in first.evidence)
    assert diagnosis.headline.endswith("nothing to do") and "filestream" not in diagnosis.headline


def test_no_filestream_queue_hides_it() -> None:
    for address, judgement in ((NO_QUEUE, None), (None, None)):
        base = evidence(NONE)
        diagnosis = diagnose(replace(base, filestream_address=address, filestream=judgement))
        assert not any("filestream" in line for line in step(diagnosis, 1).evidence)
        assert step(diagnosis, 1) == step(diagnose(base), 1)


def test_a_stalled_filestream_queue_points_at_its_logs() -> None:
    first = step(diagnose(ev(NONE, STALLED)), 1)
    assert first.status is Status.FAIL and first.proposals == ()
    assert first.next == f"{KUBECTL} logs deploy/{NAME} --since=15m --all-containers --prefix | tail -200"


def test_the_remedy_doubles_the_ceiling_or_autoscales_what_runs() -> None:
    def view(ready: int, autoscaler: tuple[int, int] | None):
        observed = with_filestream(ready, autoscaler).value
        assert observed is not None
        return service_named(observed, "wandb-filestream")

    def bounds(ready: int, autoscaler: tuple[int, int] | None) -> tuple[int | None, int | None]:
        request = remedy(view(ready, autoscaler))
        return request.min_replicas, request.max_replicas

    assert bounds(4, (1, 4)) == (4, 8)  # at its maximum: twice the ceiling
    assert bounds(3, (1, 10)) == (6, 10)  # room on CPU it does not use: hold twice the replicas
    assert bounds(2, (1, 4)) == (4, 8)  # twice the replicas is the ceiling: raise it too
    assert (remedy(view(2, None)).min_replicas, remedy(view(2, None)).max_replicas) == (2, 4)
    assert (remedy(None).min_replicas, remedy(None).max_replicas) == (1, 3)


def test_unknown_replicas_guess_no_numbers() -> None:
    base = replace(evidence(NONE, kube_observed=Observed(None, "connection refused")), filestream_address=FILESTREAM)
    first = step(diagnose(replace(base, filestream=GROWING)), 1)
    assert first.proposals == () and first.next == f"{INVOCATION} services status wandb-filestream"
    assert "wandb-filestream: unknown (connection refused)" in first.evidence
