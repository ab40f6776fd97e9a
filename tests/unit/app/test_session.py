"""The Session: settings on first use, pasted commands that reach the same place, the audit."""

from __future__ import annotations

import json
from pathlib import Path

from wbctl.adapters.redis import RedisAdapter
from wbctl.core import redis_settings as rs


def test_settings_load_once_with_the_flags_of_the_first_call(make_session) -> None:
    session = make_session(WBCTL_NAMESPACE="wandb-ns")
    session.timeout = "3"
    settings = session.settings(output="json")
    assert settings["namespace"] == "wandb-ns" and settings.timeout == 3.0 and settings["output"] == "json"
    assert session.settings(output="table") is settings


def test_invocation_names_the_config_and_context_that_reach_the_deployment_again(make_session, tmp_path: Path) -> None:
    config = tmp_path / "wbctl.toml"
    config.write_text('[contexts."prod eu"]\nnamespace = "wandb"\n')
    session = make_session()
    session.config_path, session.context = str(config), "prod eu"
    session.settings()
    assert session.invocation() == f"wbctl --config {config} --context 'prod eu'"


def test_invocation_in_the_sandbox_names_the_sandbox_and_its_scenario(make_session) -> None:
    session = make_session()
    session.sandbox, session.scenario = True, "healthy"
    assert session.invocation() == "wbctl --sandbox --scenario healthy"


def test_kubectl_names_the_kube_context_and_namespace(make_session) -> None:
    session = make_session(WBCTL_KUBE_CONTEXT="gke_p_r_c", WBCTL_NAMESPACE="team ns")
    assert session.kubectl() == "kubectl --context gke_p_r_c -n 'team ns'"


def test_rehearsals_keep_out_of_the_real_audit_trail(make_session, tmp_path: Path) -> None:
    real = make_session().audit_path()
    session = make_session()
    session.sandbox = True
    rehearsal = session.audit_path()
    assert real == tmp_path / "state" / "wbctl" / "audit.jsonl"
    assert rehearsal.parent == tmp_path / "state" / "wbctl" / "sandbox"


def test_the_redactor_knows_the_secrets_before_the_settings_load(make_session) -> None:
    session = make_session(WBCTL_REDIS_PASSWORD="s3cr3t-pw")
    assert "s3cr3t-pw" not in session.redactor()("auth s3cr3t-pw failed")


def test_apply_writes_through_the_one_path_and_audits_once(make_session) -> None:
    import fakeredis

    session = make_session(argv=("redis", "tune", "--yes"), WBCTL_REDIS_PASSWORD="pw-in-env")
    adapter = RedisAdapter(
        "redis://fake:6379/0", password=None, ca_file=None, timeout=1, client=fakeredis.FakeRedis(decode_responses=True)
    )
    desired = rs.desired_settings({}, [], force=False)
    plan = rs.tune_plan(adapter.observe([d.key for d in desired]), desired, "test")
    assert session.apply(plan, adapter, dry_run=False, yes=True) is True
    assert adapter.observe([d.key for d in desired]).values == {d.key: d.value for d in desired}
    lines = session.audit_path().read_text().splitlines()
    assert len(lines) == 1 and json.loads(lines[0])["result"] == "applied"
    assert "pw-in-env" not in lines[0]
