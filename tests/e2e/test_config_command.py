from __future__ import annotations

from pathlib import Path


def test_config_show_with_origin(wbctl, isolated_env: Path) -> None:
    config = isolated_env / ".config" / "wbctl" / "config.toml"
    config.parent.mkdir(parents=True)
    config.write_text('current-context = "prod"\n[contexts.prod]\nnamespace = "wandb-prod"\ntimeout = 4\n')
    result = wbctl("--timeout", "2", "config", "show", "--origin", "-o", "json", env={"WBCTL_INSTANCE": "wb"})
    assert result.returncode == 0, result.stderr
    document = result.json()
    assert document["context"] == "prod" and document["config_file"] == str(config)
    settings = document["settings"]
    assert settings["namespace"] == {"value": "wandb-prod", "origin": f"file {config} [contexts.prod]"}
    assert settings["instance"] == {"value": "wb", "origin": "env WBCTL_INSTANCE"}
    assert settings["timeout"] == {"value": 2.0, "origin": "flag --timeout"}
    assert settings["output"] == {"value": "json", "origin": "flag --output"}
    assert settings["read-only"] == {"value": False, "origin": "default"}


def test_config_show_table(wbctl) -> None:
    result = wbctl("config", "show", env={"WBCTL_REDIS_URL": "rediss://:pw-in-url@10.0.0.3:6378/0"})
    assert result.returncode == 0
    assert "rediss://:***@10.0.0.3:6378/0" in result.stdout
    assert "pw-in-url" not in result.stdout
    assert "context: -" in result.stdout
