"""The support bundle's shapes and MANIFEST: what is kept, what is left out, what it says."""

from __future__ import annotations

from datetime import UTC, datetime

from hypothesis import given
from hypothesis import strategies as st

from wbctl.core.kube import Container, EnvVar, Pod, Workload
from wbctl.core.support_bundle import (
    FileEntry,
    Manifest,
    Note,
    default_name,
    event_documents,
    log_pods,
    masked,
    node_document,
    workload_document,
)

NOW = datetime(2026, 12, 3, 10, 0, tzinfo=UTC)


def test_manifest_lists_every_file_what_it_holds_and_what_was_redacted() -> None:
    manifest = Manifest("prod", NOW, 7200, 200)
    manifest.files.append(FileEntry("check.json", "{}", "the check", "nothing"))
    manifest.files.append(FileEntry("weightsandbiases.json", "{}", "the CR", "1 value(s) masked: values.x.password"))
    manifest.notes.append(Note("mysql-flags.json", "cannot reach MySQL at mysql://db:3306: connection refused"))
    manifest.notes.append(Note("changes.json", "not in this version", unread=False))
    text = manifest.text()
    assert "context: prod" in text and "created: 2026-12-03T10:00:00Z" in text
    assert "Events and logs since 2026-12-03T08:00:00Z" in text
    assert "  check.json\n    holds: the check\n    redacted: nothing\n" in text
    assert "redacted: 1 value(s) masked: values.x.password" in text
    assert (
        "not read (the command exited 3; the rest of the bundle is written):\n  mysql-flags.json: cannot reach" in text
    )
    assert "left out:\n  changes.json: not in this version" in text
    assert "no Secret was read" in text
    assert [note.name for note in manifest.unread] == ["mysql-flags.json"]


def test_no_logs_is_said() -> None:
    assert "logs: none (--logs 0)" in Manifest("c", NOW, 60, 0).text()


def test_default_name_is_safe_for_a_file_name() -> None:
    assert default_name("sandbox/queue-backlog", NOW) == "wbctl-support-sandbox-queue-backlog-20261203T100000Z.tar.gz"


@given(st.text(max_size=40))
def test_default_name_never_holds_a_separator(context: str) -> None:
    name = default_name(context, NOW)
    assert "/" not in name and name.endswith(".tar.gz") and not name.startswith(".")


def test_nodes_keep_names_and_capacity_and_only_safe_labels() -> None:
    node = {
        "metadata": {
            "name": "gke-pool-1-abc",
            "labels": {
                "topology.kubernetes.io/zone": "us-central1-a",
                "team": "ml-secret-project",
                "kubernetes.io/hostname": "x",
            },
        },
        "spec": {
            "providerID": "gce://acme-prod/us-central1-a/gke-pool-1-abc",
            "taints": [{"key": "k", "value": "v", "effect": "NoSchedule"}],
        },
        "status": {
            "capacity": {"cpu": "8", "memory": "32Gi"},
            "allocatable": {"cpu": "7910m"},
            "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}],
            "nodeInfo": {"kubeletVersion": "v1.31.6"},
        },
    }
    document = node_document(node)
    assert document["name"] == "gke-pool-1-abc" and document["capacity"] == {"cpu": "8", "memory": "32Gi"}
    assert document["labels"] == {"topology.kubernetes.io/zone": "us-central1-a"}
    assert (
        "10.0.0.5" not in str(document)
        and "acme-prod" not in str(document)
        and "v" not in document["taints"][0].values()
    )


def test_events_of_the_window_only_oldest_first() -> None:
    events = [
        {
            "lastTimestamp": "2026-12-03T09:50:00Z",
            "reason": "OOMKilling",
            "involvedObject": {"kind": "Pod", "name": "b"},
        },
        {"lastTimestamp": "2026-12-03T06:00:00Z", "reason": "Old", "involvedObject": {"kind": "Pod", "name": "a"}},
        {
            "eventTime": "2026-12-03T09:10:00.000000Z",
            "reason": "Scheduled",
            "involvedObject": {"kind": "Pod", "name": "c"},
        },
    ]
    kept = event_documents(events, now=NOW, since=7200)
    assert [e["reason"] for e in kept] == ["Scheduled", "OOMKilling"]
    assert kept[1]["object"] == "Pod/b"


def test_env_from_a_secret_is_named_and_literals_masked_by_name() -> None:
    container = Container(
        "api",
        "wandb/local:0.70.1",
        {},
        {},
        env=(
            EnvVar("MYSQL_PASSWORD", None, secret=("wandb-mysql", "password")),
            EnvVar("SMTP_PASSWORD", "literal-pw-123"),
            EnvVar("GORILLA_RUN_STORE", "mysql://wandb:pw-in-url@db:3306/wandb"),
            EnvVar("HOST", "db"),
        ),
    )
    workload = Workload("Deployment", "wandb-api", {}, {}, 3, 3, (container,))
    document, words = masked(workload_document(workload))
    env = document["containers"][0]["env"]
    assert "MYSQL_PASSWORD" not in env  # named, as a reference: a name is no secret
    assert document["containers"][0]["envReferences"] == [
        {"env": "MYSQL_PASSWORD", "from": "Secret wandb-mysql key password (not read)"}
    ]
    assert env["SMTP_PASSWORD"] == "***" and env["GORILLA_RUN_STORE"] == "mysql://***@db:3306/wandb"
    assert env["HOST"] == "db"
    assert "containers[0].env.SMTP_PASSWORD" in words


def _pod(name: str, *, ready: bool = True, restarts: int = 0) -> Pod:
    return Pod(name, {}, "n", "Running", ready, restarts, None, False)


def test_log_pods_puts_the_trouble_first_and_is_bounded() -> None:
    pods = [_pod("a"), _pod("b", restarts=4), _pod("c", ready=False), _pod("d"), _pod("e")]
    assert [p.name for p in log_pods(pods)] == ["c", "b", "a"]
