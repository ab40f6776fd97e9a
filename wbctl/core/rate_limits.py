"""W&B's per-run filestream rate limit: the durable alternative to discarding a noisy run.

Discarding (the guide's `gorilla.DiscardV2UpdatesForRun`) drops one run's updates for a while.
The chart's `global.api.rateLimits.fileStreamPerRunCount` makes the API answer HTTP 429 to any
run past that many filestream requests per second, so no single run can flood the queue again
(wandb/helm-charts charts/operator-wandb: templates/_env.tpl `wandb.rateLimitEnvs`, values.yaml
`global.api.rateLimits`; docs/sources.md, "Rate limits"). It is read from what runs: the env
the chart renders into the api and app Deployments, not the CR's values, which the chart's
defaults complete.
"""

from __future__ import annotations

import json
import shlex
from dataclasses import dataclass

from wbctl.core.kube import KubeObservation

LIMITER_ENV = "GORILLA_LIMITER"  # noop:// when the chart's rate limits are off
PER_RUN_ENV = "GORILLA_DEFAULT_RATE_LIMITS_FILESTREAM_PER_RUN_COUNT"
CHART_PER_RUN_DEFAULT = 2  # values.yaml global.api.rateLimits.fileStreamPerRunCount
# what enabling the limits turns on besides the per-run one, at the chart's defaults
CHART_PROJECT_DEFAULTS = "filestream 500 requests/s and 120 MB/s, run updates 80/s per project"


@dataclass(frozen=True)
class PerRunLimit:
    """The per-run filestream limit as the deployment runs it."""

    known: bool
    requests_per_second: float | None = None  # None with known=True: the limits are off
    where: str = ""  # the Deployment whose env says so, or why it is unknown


def per_run_limit(observation: KubeObservation | None) -> PerRunLimit:
    """From the first workload whose env carries the chart's limiter variable."""
    if observation is None:
        return PerRunLimit(False, where="the Kubernetes API was not read")
    for workload in observation.workloads:
        for container in workload.containers:
            limiter = container.env_value(LIMITER_ENV)
            if limiter is None:
                continue
            where = f"deployment/{workload.name} env {LIMITER_ENV}"
            if (limiter.value or "").strip() == "noop://":
                return PerRunLimit(True, None, where)
            per_run = container.env_value(PER_RUN_ENV)
            text = (per_run.value or "").strip() if per_run else ""
            try:
                rate = float(text)
            except ValueError:
                return PerRunLimit(False, where=f"deployment/{workload.name} env {PER_RUN_ENV} is {text!r}")
            return PerRunLimit(True, rate if rate > 0 else None, f"deployment/{workload.name} env {PER_RUN_ENV}")
    return PerRunLimit(False, where=f"no workload of the instance sets {LIMITER_ENV} (another chart generation)")


def enable_patch(cr_name: str, kubectl: str, per_run: int = CHART_PER_RUN_DEFAULT) -> str:
    """The kubectl command that turns the chart's rate limits on with a per-run filestream limit.

    A merge patch of the CR's `spec.values`: the operator re-renders the chart with it."""
    body = {
        "spec": {"values": {"global": {"api": {"rateLimits": {"enabled": True, "fileStreamPerRunCount": per_run}}}}}
    }
    patch = json.dumps(body, separators=(",", ":"))
    return f"{kubectl} patch weightsandbiases {shlex.quote(cr_name)} --type merge -p {shlex.quote(patch)}"


def advice(observation: KubeObservation | None, kubectl: str) -> list[str]:
    """What step 4 says of the durable fix, one line each."""
    limit = per_run_limit(observation)
    if not limit.known:
        return [f"per-run filestream rate limit unknown: {limit.where}"]
    if limit.requests_per_second is not None:
        return [
            f"every run is limited to {limit.requests_per_second:g} filestream requests/s "
            f"(HTTP 429 past it; {limit.where})"
        ]
    cr = observation.cr if observation is not None else None
    if cr is None or cr.chart_version is None:
        return [
            f"runs are not rate-limited ({limit.where} is noop://); the chart's fileStreamPerRunCount would limit them"
        ]
    return [
        f"for good, rate-limit every run ({limit.where} is noop://): {enable_patch(cr.name, kubectl)}",
        f"  this also turns on the chart's project limits at their defaults ({CHART_PROJECT_DEFAULTS})",
    ]
