"""Shell completion's callbacks for what a user types: context names from the config file,
the sandbox's scenarios, the current context's Bigtable clusters. Kept apart from options.py so the root command can attach them
without importing Rich or the core: `wbctl --help` stays fast. Each answers from a file or a
table, or a local emulator, never a remote cluster (a shell waits on each Tab), and a failure
completes nothing (never an error in the shell)."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any

from wbctl.environment import Environment


def config_path(ctx: Any) -> Path:
    """The file the command line names: the root's --config, else WBCTL_CONFIG, else the default."""
    from wbctl.config import default_config_path

    root = ctx.find_root() if ctx is not None else None
    explicit = (root.params.get("config") if root is not None else None) or os.environ.get("WBCTL_CONFIG")
    return Path(explicit).expanduser() if explicit else default_config_path(Environment(environ=dict(os.environ)))


def complete_context(ctx: Any, incomplete: str) -> list[str]:
    """Context names from the config file (the root's --config, WBCTL_CONFIG, or the default).

    Completion reads the file's `[contexts]` only, and a missing or broken file completes
    nothing: it must never print an error into the shell."""
    try:
        contexts = tomllib.loads(config_path(ctx).read_text(encoding="utf-8")).get("contexts")
        names = sorted(name for name in contexts if isinstance(name, str)) if isinstance(contexts, dict) else []
        return [name for name in names if name.startswith(incomplete)]
    except Exception:  # noqa: BLE001 - unreadable, not TOML, no contexts: nothing to offer
        return []


def complete_runbook(incomplete: str) -> list[tuple[str, str]]:
    """The runbooks shipped with wbctl, with their titles: files only, nothing is read remotely."""
    from wbctl import runbooks

    return [(r.name, r.title) for r in runbooks.available() if r.name.startswith(incomplete)]


def complete_scenario(incomplete: str) -> list[tuple[str, str]]:
    """The sandbox's stories with their one-line summary, from the scenario table alone."""
    from wbctl.sandbox.sim.scenarios import SCENARIOS

    return sorted((name, s.description) for name, s in SCENARIOS.items() if name.startswith(incomplete))


def complete_cluster(ctx: Any, incomplete: str) -> list[str]:
    """Bigtable cluster ids of the current context (the root's --context and --config).

    Cheap reads only: the context's `bigtable-cluster`, and, when the context sends Google's
    calls to a local emulator (`gcp-emulator-host`: plaintext, no credentials), the instance's
    clusters listed there within a second. A real instance is not asked while typing: a
    token fetch and an admin call would stall the shell."""
    try:
        from wbctl import config

        root = ctx.find_root() if ctx is not None else None
        params = root.params if root is not None else {}
        settings = config.load(
            Environment(environ=dict(os.environ)),
            flags={"timeout": "1"},
            context=params.get("context"),
            config_path=params.get("config"),
        )
        names = {settings["bigtable-cluster"]} if settings["bigtable-cluster"] else set()
        if settings["gcp-emulator-host"] and settings["gcp-project"]:
            from wbctl.app.backends import Backends

            backends = Backends(settings, kubeconfig=None, environ=dict(os.environ))
            try:
                names |= {cluster.cluster_id for cluster in backends.bigtable().observe().clusters}
            finally:
                backends.close()
        return sorted(name for name in names if name.startswith(incomplete))
    except Exception:  # noqa: BLE001 - no context, no emulator, a refusal: nothing to offer
        return []
