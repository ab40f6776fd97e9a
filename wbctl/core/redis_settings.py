"""The guide's Redis settings: what is recommended, what is set, and the plan to tune them.

The W&B services read these plain string keys from Redis at run time (docs/sources.md, "Redis"), so tuning
is a SET of each key; the recommended values and their source live in `RECOMMENDED` only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from difflib import get_close_matches

from wbctl.core.durations import format_duration
from wbctl.core.model import Change, Finding, Observed, Plan, Report, Status
from wbctl.core.versions import parse_version
from wbctl.errors import UsageError

GUIDE = "the guide, step 6"
DISCARD_KEY = "gorilla.DiscardV2UpdatesForRun"
TUNABLE_PREFIX = "bigtablev3."
VERSION_CHECK = "redis.version"
# W&B's self-managed docs require Redis 7.x; W&B's Terraform module still creates Memorystore
# REDIS_6_X (docs/sources.md, "Current version policy")
MIN_VERSION = (7, 0, 0)


@dataclass(frozen=True)
class Recommendation:
    key: str
    value: str
    source: str


RECOMMENDED: tuple[Recommendation, ...] = (
    Recommendation("bigtablev3.filestream.metric_points_chunk_size", "20000", GUIDE),
    Recommendation("bigtablev3.filestream.metric_points_parallelization", "4", GUIDE),
    Recommendation("bigtablev3.filestream.write_cache_size", "10000000", GUIDE),
)
_INTEGER_KEYS = {r.key for r in RECOMMENDED}
MAX_SETTING = 2**31 - 1
_BAD_CHARACTERS = re.compile(r"[\s\x00-\x1f\x7f]")


@dataclass(frozen=True)
class Desired:
    key: str
    value: str
    source: str


@dataclass(frozen=True)
class DiscardState:
    run_id: str | None
    ttl_seconds: int | None  # None: no expiry (or nothing discarded)


@dataclass(frozen=True)
class RedisObservation:
    target: str  # redis://host:port/db, no credentials
    values: Mapping[str, str | None]  # key -> current value (None: not set)
    discard: DiscardState
    # `redis_version` of INFO server, or why it is not known (a server refusing INFO)
    version: Observed[str] = Observed(None, "the server's version was not read")


def validate_setting(key: str, value: str, *, force: bool) -> None:
    """Raise UsageError when KEY=VALUE must not be written by `redis tune`."""
    if not key or _BAD_CHARACTERS.search(key):
        raise UsageError(f"invalid key {key!r}: keys hold no spaces or control characters")
    if key == DISCARD_KEY:
        raise UsageError(f"{DISCARD_KEY} holds a run id: use 'wbctl run discard RUN_ID' instead")
    if not key.startswith(TUNABLE_PREFIX) and not force:
        raise UsageError(f"{key} is outside {TUNABLE_PREFIX}: add --force if you really mean to set it")
    if key not in _INTEGER_KEYS and not force:  # a misspelt key is written beside the real one, which keeps its value
        close = get_close_matches(key, sorted(_INTEGER_KEYS), n=1, cutoff=0.0)
        raise UsageError(
            f"{key} is not one of the guide's keys: did you mean {close[0]}? (add --force to set {key} as written)"
        )
    if value == "" or re.search(r"[\x00-\x1f\x7f]", value):
        raise UsageError(f"invalid value {value!r} for {key}: must be non-empty with no control characters")
    if key in _INTEGER_KEYS and not (re.fullmatch(r"[1-9][0-9]{0,9}", value) and int(value) <= MAX_SETTING):
        raise UsageError(
            f"invalid value {value[:40]!r} for {key}: must be a positive whole number up to {MAX_SETTING:,} "
            "(the services read it as a 32-bit integer)"
        )


def parse_assignment(text: str) -> tuple[str, str]:
    key, sep, value = text.partition("=")
    if not sep:
        raise UsageError(f"--set {text!r}: expected KEY=VALUE")
    return key.strip(), value.strip()


def desired_settings(
    overrides: Mapping[str, tuple[str, str]], assignments: Iterable[tuple[str, str]], *, force: bool
) -> tuple[Desired, ...]:
    """Recommended values, then config overrides (value, origin), then --set; later wins."""
    desired = {r.key: Desired(r.key, r.value, r.source) for r in RECOMMENDED}
    for key, (value, origin) in overrides.items():
        desired[key] = Desired(key, value, origin)
    for key, value in assignments:
        validate_setting(key, value, force=force)
        desired[key] = Desired(key, value, "--set")
    return tuple(desired.values())


def _same(observed: str | None, expected: str) -> bool:
    if observed is None:
        return False
    if re.fullmatch(r"-?\d+", observed.strip()) and re.fullmatch(r"-?\d+", expected.strip()):
        return int(observed) == int(expected)
    return observed == expected


def discard_finding(target: str, state: DiscardState) -> Finding:
    check = f"redis.{DISCARD_KEY}"
    if state.run_id is None:
        return Finding(check, Status.OK, target, None, None, "no run is discarded")
    expires = f"; expires in {format_duration(state.ttl_seconds)}" if state.ttl_seconds else "; no expiry"
    return Finding(
        check,
        Status.WARN,
        target,
        state.run_id,
        None,
        f"metric updates of run {state.run_id} are being dropped{expires}",
        f"wbctl run restore {state.run_id}",
    )


def version_finding(target: str, version: Observed[str]) -> Finding:
    """W&B's docs require Redis 7.x: an older server warns (it runs, and W&B's Terraform module
    still creates REDIS_6_X), a version not read is unknown with the reason."""
    expected = f">= {MIN_VERSION[0]}.0"
    if version.value is None:
        return Finding(VERSION_CHECK, Status.UNKNOWN, target, None, expected, version.reason)
    parsed = parse_version(version.value)
    if parsed is None:
        message = f"the server reports redis_version {version.value!r}, which is not a version"
        return Finding(VERSION_CHECK, Status.UNKNOWN, target, version.value, expected, message)
    if parsed >= MIN_VERSION:
        message = f"Redis {version.value}: W&B's docs require Redis {MIN_VERSION[0]}.x"
        return Finding(VERSION_CHECK, Status.OK, target, version.value, expected, message)
    return Finding(
        VERSION_CHECK,
        Status.WARN,
        target,
        version.value,
        expected,
        f"Redis {version.value}: W&B's docs require Redis {MIN_VERSION[0]}.x (W&B's Terraform module creates "
        "Memorystore REDIS_6_X)",
        "upgrade Redis to 7.x (Memorystore: gcloud redis instances upgrade INSTANCE --region REGION "
        "--redis-version redis_7_2, and REDIS_7_2 where W&B's Terraform module sets REDIS_6_X, modules/redis, "
        "so that its next plan does not try to change it back)",
    )


def setting_findings(observation: RedisObservation, desired: Iterable[Desired]) -> tuple[Finding, ...]:
    result: list[Finding] = []
    for item in desired:
        observed = observation.values.get(item.key)
        if _same(observed, item.value):
            status, message = Status.OK, f"matches {item.value} ({item.source})"
        elif observed is None:
            status, message = Status.FAIL, f"not set; wanted {item.value} ({item.source})"
        else:
            status, message = Status.FAIL, f"is {observed}; wanted {item.value} ({item.source})"
        remedy = "" if status is Status.OK else "wbctl redis tune"
        result.append(Finding(f"redis.{item.key}", status, observation.target, observed, item.value, message, remedy))
    return tuple(result)


def check_ids(desired: Iterable[Desired]) -> list[str]:
    return [f"redis.{item.key}" for item in desired] + [VERSION_CHECK, f"redis.{DISCARD_KEY}"]


def report(observation: RedisObservation, desired: Iterable[Desired]) -> Report:
    """Every managed setting, the server's version, and whether a run's updates are being discarded."""
    return Report(
        setting_findings(observation, desired)
        + (
            version_finding(observation.target, observation.version),
            discard_finding(observation.target, observation.discard),
        )
    )


def tune_plan(observation: RedisObservation, desired: Iterable[Desired], context: str) -> Plan:
    changes = tuple(
        Change(observation.target, item.key, observation.values.get(item.key), item.value)
        for item in desired
        if not _same(observation.values.get(item.key), item.value)
    )
    return Plan(
        context=context,
        target=observation.target,
        changes=changes,
        summary=f"set {len(changes)} Redis key(s) that the W&B metrics pipeline reads at run time",
        nothing_to_do="no changes: every setting already has its value",
    )
