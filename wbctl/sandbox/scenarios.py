"""The stories the sandbox can tell, each a starting state of the simulated deployment."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    redis: dict[str, str] = field(default_factory=dict)


_TUNED = {
    "bigtablev3.filestream.metric_points_chunk_size": "20000",
    "bigtablev3.filestream.metric_points_parallelization": "4",
    "bigtablev3.filestream.write_cache_size": "10000000",
}

SCENARIOS: dict[str, Scenario] = {
    scenario.name: scenario
    for scenario in (
        Scenario("healthy", "a deployment set up as the guide recommends", dict(_TUNED)),
        Scenario(
            "misconfigured",
            "a fresh install: the guide's Redis settings missing or off",
            {"bigtablev3.filestream.metric_points_chunk_size": "5000"},
        ),
        Scenario("queue-backlog", "metrics pile up in the queue behind one noisy run", dict(_TUNED)),
    )
}
DEFAULT_SCENARIO = "healthy"
