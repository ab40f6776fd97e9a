"""`wbctl changes` against the sandbox's incident: the updater's rollout, the HPA's rescale and
wbctl's own `--fix`, on one time axis; the runbook's changes before the rise."""

from __future__ import annotations

STILL = {"WBCTL_SANDBOX": "1", "WBCTL_SANDBOX_SPEED": "0"}  # the clock moves only by `sandbox advance`
UPDATER = "wandb-flat-run-fields-updater"


def changes(wbctl, *args: str) -> dict:
    result = wbctl("changes", "-o", "json", *args, env=STILL)
    assert result.returncode == 0, result.stderr
    return result.json()


def test_the_rollout_the_rescale_and_the_fix_are_listed_in_time_order(wbctl) -> None:
    fixed = wbctl("runbook", "queue-backlog", "--fix", "--yes", env=STILL)
    assert fixed.returncode in (0, 1), fixed.stderr
    listed = changes(wbctl)["changes"]
    rollout = next(c for c in listed if c["source"] == "rollout" and c["service"] == UPDATER)
    rescale = next(c for c in listed if c["source"] == "scaling" and c["service"] == UPDATER)
    audited = next(c for c in listed if c["source"] == "wbctl" and "--fix" in c["what"])
    assert (
        rollout["what"] == "rolled out 0.70.1 (revision 2, from 0.70.0)"
        and rescale["what"].startswith("SuccessfulRescale")
        and [c["time"] for c in listed] == sorted(c["time"] for c in listed)
        and listed.index(rollout) < listed.index(audited)
    )


def test_service_keeps_the_updater_s_changes_only(wbctl) -> None:
    listed = changes(wbctl, "--service", "flat-run-fields-updater")["changes"]
    assert {c["service"] for c in listed} == {UPDATER} and {c["source"] for c in listed} == {"rollout", "scaling"}


def test_the_runbook_says_the_updater_rolled_out_before_the_rise(wbctl) -> None:
    result = wbctl("runbook", "queue-backlog", env=STILL)
    assert result.returncode == 1, result.stderr
    assert (
        "flat-run-fields-updater rolled out 0.70.1 (revision 2, from 0.70.0), 12 minutes before the rise began"
        in result.stdout
    )


def test_a_bad_since_is_refused_with_exit_2_and_nothing_read(wbctl) -> None:
    result = wbctl("changes", "--since", "2x", env=STILL)
    assert (result.returncode, result.stdout, result.stderr.count("\n")) == (2, "", 1)


def test_a_credential_in_an_event_message_never_reaches_the_output(wbctl, kube_api, isolated_env) -> None:
    """An Event's message is the cluster's words, and may hold a URL with a password (a
    container's failing command line): it is masked on stdout, as every other text is."""
    from datetime import UTC, datetime, timedelta

    from wbctl.sandbox.kube.objects import chart_043

    recently = (datetime.now(UTC) - timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%SZ")
    kube_api.add_all(chart_043())
    kube_api.add(
        {
            "apiVersion": "v1",
            "kind": "Event",
            "metadata": {"name": "oom", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "wandb-app-5d9f-abcde", "namespace": "default"},
            "reason": "BackOff",
            "message": "Back-off restarting failed container: redis://:hunter2-secret@redis:6379/0 refused",
            "type": "Warning",
            "count": 4,
            "firstTimestamp": recently,
            "lastTimestamp": recently,
            "source": {"component": "kubelet"},
        }
    )
    kubeconfig = kube_api.write_kubeconfig(isolated_env / "kubeconfig")
    env = {"KUBECONFIG": str(kubeconfig), "WBCTL_REDIS_URL": "redis://127.0.0.1:1/0", "WBCTL_TIMEOUT": "2"}
    result = wbctl("changes", "-o", "json", env=env)
    (listed,) = [c for c in result.json()["changes"] if c["source"] == "pods"]
    assert listed["what"].startswith("BackOff x4") and "hunter2-secret" not in result.stdout + result.stderr


def test_a_v2_install_lists_its_resource_s_status_writes_and_no_bigtable_note(wbctl) -> None:
    result = wbctl("changes", "-o", "json", env={**STILL, "WBCTL_SCENARIO": "operator-v2"})
    assert result.returncode == 0, result.stderr
    assert any(c["source"] == "resource" and c["what"].startswith("condition Ready") for c in result.json()["changes"])


def test_an_oom_kill_is_a_change_though_the_kubelet_writes_no_event_for_it(wbctl) -> None:
    result = wbctl("--sandbox", "--scenario", "misconfigured", "changes", "--service", "app", "-o", "json")
    assert result.returncode == 0, result.stderr
    kills = [c for c in result.json()["changes"] if c["source"] == "pods" and c["what"].startswith("OOMKilled")]
    assert kills and all(c["service"] == "wandb-app" and c["subject"].startswith("pod/") for c in kills), result.json()
