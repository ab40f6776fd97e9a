"""`wbctl dashboards ...` end to end, in process (the `wbctl` fixture): the render commands read
settings only (a listening socket behind every backend setting sees no connection) and write
--out atomically; `apply cloud-monitoring` goes through the one mutation path against the
sandbox's Dashboards API fake, or a test's own (tests/conftest.py's google_api), driven by
Google's client library google-cloud-monitoring-dashboards; each format's output parses with
its vendor's own models elsewhere (the lead's tests of core/dashboards)."""

from __future__ import annotations

import json
import os
import re
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from google.cloud.monitoring_dashboard_v1 import Dashboard

from tests.support.audit import read_audit
from tests.support.net import free_port
from tests.support.text import commands_listed
from wbctl.sandbox.google.api import FakeGoogleAPIs

STILL = {"WBCTL_SANDBOX": "1", "WBCTL_SANDBOX_SPEED": "0"}
FORMATS = ("grafana", "datadog", "cloud-monitoring")
NAME = "projects/my-proj/dashboards/wbctl-runbook-prod"


# --- rendering: settings only -------------------------------------------------------------


class RecordingListener:
    """A loopback port that accepts every connection and remembers it (and answers nothing)."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.sock.settimeout(0.1)
        self.port = self.sock.getsockname()[1]
        self.accepted = 0
        self._stop = threading.Event()
        self._peers: list[socket.socket] = []
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                peer, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            self.accepted += 1
            self._peers.append(peer)

    def close(self) -> None:
        self._stop.set()
        self._thread.join(2)
        for peer in self._peers:
            peer.close()
        self.sock.close()


@pytest.fixture
def listener() -> Iterator[RecordingListener]:
    made = RecordingListener()
    yield made
    made.close()


def every_backend_at(port: int, home: Path) -> dict[str, str]:
    """Every backend setting pointed at `port`: Kubernetes (the WeightsAndBiases resource that
    locates gcp-project and bigtable-instance), Google, Redis, MySQL, Prometheus."""
    kubeconfig = home / "kubeconfig"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\n"
        f"clusters: [{{name: c, cluster: {{server: 'http://127.0.0.1:{port}'}}}}]\n"
        "users: [{name: u, user: {token: t}}]\ncontexts: [{name: c, context: {cluster: c, user: u}}]\n"
    )
    return {
        "KUBECONFIG": str(kubeconfig),
        "WBCTL_GCP_EMULATOR_HOST": f"127.0.0.1:{port}",
        "WBCTL_REDIS_URL": f"redis://127.0.0.1:{port}/0",
        "WBCTL_MYSQL_URL": f"mysql://wandb@127.0.0.1:{port}/wandb_local",
        "WBCTL_PROMETHEUS_URL": f"http://127.0.0.1:{port}",
        "WBCTL_TIMEOUT": "1",
    }


def test_rendering_opens_no_backend_connection(wbctl, listener: RecordingListener, isolated_env: Path) -> None:
    env = every_backend_at(listener.port, isolated_env)  # no gcp-project, no bigtable-instance: nothing given
    for fmt in FORMATS:
        result = wbctl("dashboards", fmt, env=env)
        assert result.returncode == 0, (fmt, result.stderr)
        assert isinstance(result.json(), dict)
    assert listener.accepted == 0
    # the same settings do reach the cluster when a command may read it: the probe sees connections
    wbctl("alerts", "rules", env=env)
    assert listener.accepted > 0


def test_the_instance_comes_from_the_settings_or_the_naming_rule(wbctl) -> None:
    from wbctl.core.bigtable import default_instance

    named = wbctl("dashboards", "cloud-monitoring", env={"WBCTL_INSTANCE": "acme"}).stdout
    assert f'instance = \\"{default_instance("acme")}\\"' in named
    given = wbctl("dashboards", "cloud-monitoring", env={"WBCTL_BIGTABLE_INSTANCE": "prod-bt-7"}).stdout
    assert "prod-bt-7" in given


def test_each_format_on_stdout_notes_on_stderr_and_out_writes_the_same_json(wbctl, tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    for fmt in FORMATS:
        printed = wbctl("dashboards", fmt)
        assert printed.returncode == 0, printed.stderr
        document = printed.json()
        assert printed.stderr == "" or printed.stderr.startswith("note: ")
        out = tmp_path / f"{fmt}.json"
        written = wbctl("dashboards", fmt, "--out", str(out))
        assert written.returncode == 0, written.stderr
        assert written.stdout == ""
        assert written.stderr.splitlines()[0] == f"wrote {out}"
        assert out.read_text() == printed.stdout and json.loads(out.read_text()) == document
        assert oct(out.stat().st_mode & 0o777) == "0o644"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(f"{fmt}.json" for fmt in FORMATS)  # no temporary left
    cloud = json.loads((tmp_path / "cloud-monitoring.json").read_text())
    Dashboard.from_json(json.dumps(cloud))  # the library's own model, strict


def test_out_replaces_a_file_whole(wbctl, tmp_path: Path) -> None:
    out = tmp_path / "grafana.json"
    out.write_text("old\n")
    inode = out.stat().st_ino
    assert wbctl("dashboards", "grafana", "--out", str(out)).returncode == 0
    assert out.read_text().startswith("{") and out.stat().st_ino != inode  # renamed over, not rewritten in place


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda d: d / "missing" / "x.json", "does not exist"),
        (lambda d: d, "is a directory"),
        (lambda d: d / "locked" / "x.json", "is not writable"),
        (lambda d: Path(str(d / "x") + "\x01.json"), "expected a file name"),
        (lambda d: Path("/proc/wbctl-dashboard.json"), "not writable|cannot write"),  # root too: the kernel refuses
    ],
)
def test_a_bad_out_is_one_line_exit_2_and_nothing_written(wbctl, tmp_path: Path, make: Any, message: str) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    (tmp_path / "locked").mkdir()
    os.chmod(tmp_path / "locked", 0o500)
    try:
        if os.geteuid() == 0 and message == "is not writable":
            pytest.skip("root writes anywhere")
        before = sorted(p for p in tmp_path.rglob("*"))
        result = wbctl("dashboards", "cloud-monitoring", "--out", str(make(tmp_path)))
        assert result.returncode == 2, result.stderr
        assert result.stdout == ""
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("wbctl: error: --out ") and re.search(message, lines[0]), lines
        assert sorted(p for p in tmp_path.rglob("*")) == before
    finally:
        os.chmod(tmp_path / "locked", 0o700)


def test_the_group_lists_its_commands(wbctl) -> None:
    result = wbctl("dashboards")
    assert result.returncode == 2
    assert sorted(commands_listed(result.stdout)) == ["apply", "cloud-monitoring", "datadog", "grafana"]
    assert commands_listed(wbctl("dashboards", "apply").stdout) == ["cloud-monitoring"]


# --- apply cloud-monitoring in the sandbox --------------------------------------------------


def sandbox_audit(home: Path) -> list[dict]:
    return read_audit(home / ".local" / "state" / "wbctl" / "sandbox" / "audit.jsonl")


def test_the_sandbox_rehearses_the_whole_apply(wbctl, isolated_env: Path) -> None:
    secrets = {"WBCTL_REDIS_PASSWORD": "redis-Secret-789", "WBCTL_MYSQL_PASSWORD": "mysql-Secret-000"}
    env = {**STILL, **secrets}
    refused = wbctl("dashboards", "apply", "cloud-monitoring", env=env)  # no terminal, no --yes
    assert refused.returncode == 4, refused.stderr
    assert "Plan for projects/wandb-sandbox/dashboards/" in refused.stdout and "added: xyChart" in refused.stdout
    assert refused.stderr.strip().splitlines()[-1] == (
        "wbctl: error: confirmation needed but there is no terminal to ask on: re-run with --yes"
    )
    assert sandbox_audit(isolated_env) == []

    dry = wbctl("dashboards", "apply", "cloud-monitoring", "--dry-run", env=env)
    assert dry.returncode == 0 and "dry run: the server accepted the change; nothing changed" in dry.stderr

    applied = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=env)
    assert applied.returncode == 0, applied.stderr
    assert "verified by reading back" in applied.stdout
    entries = sandbox_audit(isolated_env)
    assert [e["result"] for e in entries] == ["applied"]
    assert entries[0]["command"][-3:] == ["apply", "cloud-monitoring", "--yes"]
    assert entries[0]["target"].startswith("projects/wandb-sandbox/dashboards/wbctl-")
    assert any(change["key"].startswith("tile ") for change in entries[0]["changes"])

    again = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=env)
    assert again.returncode == 0, again.stderr
    assert "no changes: the dashboard projects/wandb-sandbox/dashboards/" in again.stderr
    assert "Plan for" not in again.stdout
    assert len(sandbox_audit(isolated_env)) == 1  # nothing written, nothing audited

    changed = wbctl(
        "dashboards", "apply", "cloud-monitoring", "--yes", env={**env, "WBCTL_QUEUE_ALLOWED_BACKLOG": "5000"}
    )
    assert changed.returncode == 0, changed.stderr
    assert "thresholds" in changed.stdout and "5000" in changed.stdout
    audit_text = (isolated_env / ".local" / "state" / "wbctl" / "sandbox" / "audit.jsonl").read_text()
    for secret in secrets.values():
        assert secret not in audit_text
        for result in (refused, dry, applied, again, changed):
            assert secret not in result.stdout + result.stderr


def test_apply_in_json_mode_is_one_document(wbctl) -> None:
    result = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", "-o", "json", env=STILL)
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["applied"] is True and document["changes"]


# --- apply against a test's own fake: conflicts and failures --------------------------------


def own_fake(google_api: FakeGoogleAPIs, **more: str) -> dict[str, str]:
    return {
        "WBCTL_GCP_EMULATOR_HOST": google_api.address,
        "WBCTL_GCP_PROJECT": "my-proj",
        "WBCTL_BIGTABLE_INSTANCE": "prod-bt",
        "WBCTL_CONTEXT": "prod",
        **more,
    }


@pytest.fixture
def prod_config(isolated_env: Path) -> Path:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text('current-context = "prod"\n[contexts.prod]\nnamespace = "wandb"\n')
    return config


def test_a_dashboard_edited_between_the_diff_and_the_write_is_read_again(
    wbctl, google_api: FakeGoogleAPIs, prod_config: Path, audit_log: Path
) -> None:
    env = own_fake(google_api)
    assert wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=env).returncode == 0
    name = next(iter(google_api.dashboards.state()["dashboards"]))
    edited: list[str] = []

    def someone_edits(method: str) -> None:  # the console's edit lands after wbctl read the etag
        if method == "UpdateDashboard" and not edited:
            edited.append(google_api.dashboards.edit(name, lambda doc: doc.update(displayName="edited by hand")))

    google_api.on_call = someone_edits
    result = wbctl(
        "dashboards", "apply", "cloud-monitoring", "--yes", env={**env, "WBCTL_QUEUE_ALLOWED_BACKLOG": "5000"}
    )
    assert result.returncode == 0, result.stderr
    assert "changed since the diff was made (its etag); reading it again" in result.stderr
    assert "edited by hand" in result.stdout  # the second diff shows the edit it undoes
    stored = google_api.dashboards.dashboard(name)
    assert stored is not None and stored["displayName"] != "edited by hand" and stored["etag"] != edited[0]
    assert [e["result"] for e in read_audit(audit_log)] == ["applied", "refused", "applied"]


def test_the_api_down_is_one_line_and_exit_3(wbctl, prod_config: Path, audit_log: Path) -> None:
    env = {
        "WBCTL_GCP_EMULATOR_HOST": f"127.0.0.1:{free_port()}",
        "WBCTL_GCP_PROJECT": "my-proj",
        "WBCTL_BIGTABLE_INSTANCE": "prod-bt",
        "WBCTL_TIMEOUT": "2",
    }
    result = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=env)
    assert result.returncode == 3
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("wbctl: error: get dashboard projects/my-proj/dashboards/")
    assert "the service is unavailable (connection refused" in lines[0]
    assert result.stdout == "" and read_audit(audit_log) == []


def test_a_refused_write_is_exit_3_audited_as_failed(
    wbctl, google_api: FakeGoogleAPIs, prod_config: Path, audit_log: Path
) -> None:
    import grpc

    google_api.fail("CreateDashboard", grpc.StatusCode.PERMISSION_DENIED)
    result = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=own_fake(google_api))
    assert result.returncode == 3
    assert "roles/monitoring.dashboardEditor" in result.stderr.splitlines()[-1]
    assert [e["result"] for e in read_audit(audit_log)] == ["failed"]
    assert google_api.dashboards.state()["dashboards"] == {}


def test_a_read_only_context_refuses(wbctl, google_api: FakeGoogleAPIs, prod_config: Path) -> None:
    result = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=own_fake(google_api, WBCTL_READ_ONLY="1"))
    assert result.returncode == 4 and "read-only" in result.stderr
    assert google_api.count("CreateDashboard") == 0


def test_a_read_back_that_differs_is_exit_3_audited_as_failed(
    wbctl, google_api: FakeGoogleAPIs, prod_config: Path, audit_log: Path
) -> None:
    gets: list[str] = []

    def edited_after_the_write(method: str) -> None:  # someone's edit lands between the write and the read-back
        if method == "GetDashboard":
            gets.append(method)
            if len(gets) == 2:
                name = next(iter(google_api.dashboards.state()["dashboards"]))
                google_api.dashboards.edit(name, lambda doc: doc.update(displayName="edited by hand"))

    google_api.on_call = edited_after_the_write
    result = wbctl("dashboards", "apply", "cloud-monitoring", "--yes", env=own_fake(google_api))
    assert result.returncode == 3
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("wbctl: error: read-back of the dashboard projects/my-proj/dashboards/")
    assert "displayName is 'edited by hand'" in last
    entries = read_audit(audit_log)
    assert [e["result"] for e in entries] == ["failed"] and entries[0]["error"].startswith("read-back")
