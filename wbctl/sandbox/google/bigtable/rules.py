"""Bigtable's rules for PartialUpdateCluster, as the real API decides: the update mask paths it
accepts, the autoscaling limits (CPU target 10-80 %, max <= 10 x min, min >= 1, storage target
per node by storage type), serve_nodes output-only under autoscaling, and what turning
autoscaling off needs. Pure (no gRPC, no protobuf), so the rules read and test as plain
functions; the Bigtable fake (bigtable/service.py) applies them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from wbctl.sandbox.google.errors import InvalidArgument

_AS = "cluster_config.cluster_autoscaling_config"
AUTOSCALING_FIELDS: dict[str, str] = {  # mask path -> key of an autoscaling dict
    f"{_AS}.autoscaling_limits.min_serve_nodes": "min",
    f"{_AS}.autoscaling_limits.max_serve_nodes": "max",
    f"{_AS}.autoscaling_targets.cpu_utilization_percent": "cpu_target",
    f"{_AS}.autoscaling_targets.storage_utilization_gib_per_node": "storage_target_gib",
}
_GROUPS: dict[str, tuple[str, ...]] = {
    _AS: ("min", "max", "cpu_target", "storage_target_gib"),
    f"{_AS}.autoscaling_limits": ("min", "max"),
    f"{_AS}.autoscaling_targets": ("cpu_target", "storage_target_gib"),
}
ALLOWED_PATHS = frozenset({"serve_nodes", *AUTOSCALING_FIELDS, *_GROUPS})


#: Storage utilization target per node (GiB), by storage type: (minimum, maximum, default).
STORAGE_TARGETS: dict[str, tuple[int, int, int]] = {"SSD": (2560, 5120, 2560), "HDD": (8192, 16384, 8192)}


def validate_autoscaling(auto: Mapping[str, int], storage_type: str) -> dict[str, int]:
    """Google's limits; returns the config with the storage target defaulted."""
    low, high, default = STORAGE_TARGETS.get(storage_type, STORAGE_TARGETS["SSD"])
    lo_nodes, hi_nodes, cpu = auto.get("min", 0), auto.get("max", 0), auto.get("cpu_target", 0)
    storage = auto.get("storage_target_gib", 0) or default
    if lo_nodes < 1:
        raise InvalidArgument(f"Invalid autoscaling limits: min_serve_nodes must be at least 1, got {lo_nodes}.")
    if hi_nodes < lo_nodes:
        raise InvalidArgument(
            f"Invalid autoscaling limits: max_serve_nodes ({hi_nodes}) must be at least min_serve_nodes ({lo_nodes})."
        )
    if hi_nodes > 10 * lo_nodes:
        raise InvalidArgument(
            f"Invalid autoscaling limits: max_serve_nodes ({hi_nodes}) must be at most 10 times "
            f"min_serve_nodes ({lo_nodes})."
        )
    if not 10 <= cpu <= 80:
        raise InvalidArgument(
            f"Invalid autoscaling targets: cpu_utilization_percent must be between 10 and 80, got {cpu}."
        )
    if not low <= storage <= high:
        raise InvalidArgument(
            f"Invalid autoscaling targets: storage_utilization_gib_per_node must be between {low} and {high} "
            f"for {storage_type} storage, got {storage}."
        )
    return {"min": lo_nodes, "max": hi_nodes, "cpu_target": cpu, "storage_target_gib": storage}


def apply_cluster_update(
    current: Mapping[str, Any], requested: Mapping[str, Any], paths: Sequence[str]
) -> dict[str, Any]:
    """The cluster after PartialUpdateCluster, as the real API decides it.

    `current` and `requested` are cluster dicts: serve_nodes, storage_type, autoscaling (a dict
    min/max/cpu_target/storage_target_gib, or None when off; in `requested` an all-zero or missing
    config means "cleared"). Raises InvalidArgument and changes nothing when the update is refused.
    """
    if not paths:
        raise InvalidArgument("update_mask must contain at least one path.")
    for path in paths:
        if path not in ALLOWED_PATHS:
            raise InvalidArgument(
                f"Invalid update_mask path {path!r}: only serve_nodes and {_AS} (or its fields) can be updated."
            )
    want = requested.get("autoscaling") or {}
    touches_autoscaling = any(path != "serve_nodes" for path in paths)
    requested_nodes = int(requested.get("serve_nodes") or 0)
    if "serve_nodes" in paths and _AS in paths and requested_nodes and any(want.values()):
        raise InvalidArgument(
            "Cannot set serve_nodes and cluster_config.cluster_autoscaling_config in the same update: "
            "to enable autoscaling leave serve_nodes out of the update mask; to disable it, clear "
            "cluster_config.cluster_autoscaling_config and set serve_nodes."
        )
    auto: dict[str, int] | None = dict(current["autoscaling"]) if current.get("autoscaling") else None
    if _AS in paths:
        auto = {key: int(want.get(key) or 0) for key in _GROUPS[_AS]} if any(want.values()) else None
    for path in paths:
        keys = (
            (AUTOSCALING_FIELDS[path],) if path in AUTOSCALING_FIELDS else _GROUPS.get(path, ()) if path != _AS else ()
        )
        for key in keys:
            auto = dict(auto or {})
            auto[key] = int(want.get(key) or 0)
    result = dict(current)
    if auto is not None:
        auto = validate_autoscaling(auto, current.get("storage_type", "SSD"))
        result["autoscaling"] = auto
        # serve_nodes is OUTPUT_ONLY under autoscaling: the request's value is ignored; the
        # autoscaler keeps the node count within the new limits.
        result["serve_nodes"] = min(max(int(current["serve_nodes"]), auto["min"]), auto["max"])
        return result
    result["autoscaling"] = None
    if current.get("autoscaling") and touches_autoscaling and "serve_nodes" not in paths:
        raise InvalidArgument("Disabling autoscaling requires an explicit serve_nodes count in the update mask.")
    if "serve_nodes" in paths:
        if requested_nodes < 1:
            raise InvalidArgument(f"serve_nodes must be at least 1, got {requested_nodes}.")
        result["serve_nodes"] = requested_nodes
    return result
