"""The kubeconfig that points a client at FakeKubeAPI: a cluster (its URL, and over TLS the CA
as `certificate-authority-data`, over HTTP `insecure-skip-tls-verify`), a user with the bearer
token, and a context joining them, upserted into an existing file so one file can hold several
contexts (e.g. two fakes standing for two clusters). Separate because it is pure file work on
what the server and the credentials already know.
"""

from __future__ import annotations

import base64
from pathlib import Path

import yaml

from wbctl.sandbox.kube.types import Obj


def _empty_config() -> Obj:
    return {"apiVersion": "v1", "kind": "Config", "preferences": {}, "clusters": [], "users": [], "contexts": []}


def _upsert(config: Obj, section: str, entry: Obj) -> None:
    """Replace the entry of that name in a section, or append it."""
    entries = [e for e in config.get(section) or [] if e.get("name") != entry["name"]]
    config[section] = [*entries, entry]


def write_kubeconfig(
    path: str | Path,
    *,
    server: str,
    token: str,
    ca_pem: bytes | None,
    context: str = "fake",
    namespace: str = "default",
    make_current: bool = True,
) -> Path:
    """Write (or add `context` to) the kubeconfig at `path`; `ca_pem` None means plain HTTP."""
    path = Path(path)
    config = _empty_config()
    if path.exists():
        config.update(yaml.safe_load(path.read_text()) or {})
    cluster: Obj = {"server": server}
    if ca_pem is not None:
        cluster["certificate-authority-data"] = base64.b64encode(ca_pem).decode()
    else:
        cluster["insecure-skip-tls-verify"] = True
    _upsert(config, "clusters", {"name": f"{context}-cluster", "cluster": cluster})
    _upsert(config, "users", {"name": f"{context}-user", "user": {"token": token}})
    _upsert(
        config,
        "contexts",
        {
            "name": context,
            "context": {"cluster": f"{context}-cluster", "user": f"{context}-user", "namespace": namespace},
        },
    )
    if make_current or not config.get("current-context"):
        config["current-context"] = context
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(config, sort_keys=False))
    return path
