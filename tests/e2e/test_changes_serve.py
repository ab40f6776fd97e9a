"""kubectl against `sandbox serve`: the updater's rollout history from its ReplicaSets, and
Events selected by field (the server applies the selector)."""

from __future__ import annotations

from tests.e2e.test_sandbox_serve import Served, needs, served  # noqa: F401 (the fixture)

UPDATER = "wandb-flat-run-fields-updater-bc"


def test_kubectl_rollout_history_lists_the_updater_s_two_revisions(served: Served) -> None:  # noqa: F811
    needs("kubectl")
    history = served.run("kubectl", "rollout", "history", f"deploy/{UPDATER}")
    assert history.returncode == 0, history.stderr
    revisions = [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()]
    assert revisions == ["1", "2"]


def test_kubectl_get_events_by_field_selector_shows_the_hpa_rescale(served: Served) -> None:  # noqa: F811
    needs("kubectl")
    events = served.run(
        "kubectl",
        "get",
        "events",
        "--field-selector",
        "involvedObject.kind=HorizontalPodAutoscaler,reason=SuccessfulRescale",
    )
    assert events.returncode == 0, events.stderr
    rows = events.stdout.splitlines()[1:]
    assert rows and all("SuccessfulRescale" in row and "horizontalpodautoscaler/" in row for row in rows)
