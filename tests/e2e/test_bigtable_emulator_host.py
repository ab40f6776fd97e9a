"""`BIGTABLE_EMULATOR_HOST`, Google's emulator convention, reaches wbctl's Google adapters as
`gcp-emulator-host` does, so one `export` serves `cbt` and wbctl alike."""

from __future__ import annotations

import pytest

from wbctl.sandbox.google.api import FakeGoogleAPIs, demo_deployment

PROJECT = "wandb-prod"


@pytest.fixture
def google(google_api: FakeGoogleAPIs) -> FakeGoogleAPIs:
    demo_deployment(google_api, project=PROJECT)
    return google_api


def test_bigtable_status_reaches_the_emulator_named_by_bigtable_emulator_host(wbctl, google) -> None:
    env = {"BIGTABLE_EMULATOR_HOST": google.address, "WBCTL_GCP_PROJECT": PROJECT}
    result = wbctl("bigtable", "status", "-o", "json", env=env)
    assert result.returncode == 0, result.stderr
    assert result.json()["instance"]["name"] == f"projects/{PROJECT}/instances/wandb-bigtable"


def test_config_show_origin_names_bigtable_emulator_host(wbctl) -> None:
    result = wbctl("config", "show", "--origin", "-o", "json", env={"BIGTABLE_EMULATOR_HOST": "127.0.0.1:8086"})
    assert result.json()["settings"]["gcp-emulator-host"] == {
        "value": "127.0.0.1:8086",
        "origin": "env BIGTABLE_EMULATOR_HOST",
    }
    text = wbctl("config", "show", "--origin", env={"BIGTABLE_EMULATOR_HOST": "127.0.0.1:8086"}).stdout
    (line,) = [line for line in text.splitlines() if line.startswith("gcp-emulator-host")]
    assert line.split() == ["gcp-emulator-host", "127.0.0.1:8086", "env", "BIGTABLE_EMULATOR_HOST"]
