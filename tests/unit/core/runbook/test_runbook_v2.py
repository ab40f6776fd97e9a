"""The runbook on an install of the v2 operator: no Bigtable there, so step 2 says so instead of
failing or proposing a raise, and the updater step still proposes its bounds."""

from __future__ import annotations

import dataclasses

from tests.unit.core.runbook.test_runbook import AT_MAX, BT_UNDER, KAFKA_GROWING, ROOM, evidence, kafka, step
from wbctl.core.bigtable import CHECK_IDS, absent_report
from wbctl.core.kube import Generation
from wbctl.core.model import Observed, Status
from wbctl.core.runbook import BigtableEvidence, diagnose

NO_BIGTABLE = BigtableEvidence(
    Observed(None, reason="gcp-project is not set"), BT_UNDER.cpu, BT_UNDER.hottest, BT_UNDER.nodes
)


def _v2_kube() -> Observed:
    observation = dataclasses.replace(ROOM.value, generation=Generation.V2)
    return Observed(observation)


def test_step_2_says_bigtable_is_not_part_of_v2() -> None:
    diagnosis = diagnose(
        evidence(KAFKA_GROWING, address=kafka(8), bigtable_evidence=NO_BIGTABLE, kube_observed=_v2_kube())
    )
    second = step(diagnosis, 2)
    assert (second.status, "not part of this generation" in second.summary, second.proposals) == (Status.OK, True, ())


def test_on_v1_an_unreadable_bigtable_stays_unknown() -> None:
    diagnosis = diagnose(evidence(KAFKA_GROWING, address=kafka(8), bigtable_evidence=NO_BIGTABLE))
    assert step(diagnosis, 2).status is Status.UNKNOWN


def test_every_bigtable_check_is_ok_and_says_why_on_v2() -> None:
    report = absent_report("projects/p", "not part of this generation")
    assert [(f.check, f.status) for f in report.findings] == [(check, Status.OK) for check in CHECK_IDS]


def test_step_3_proposes_bounds_the_v2_cr_holds() -> None:
    from wbctl.core.kube import WandbResource

    cr = WandbResource("wandb", None, {}, None, "9", generation=Generation.V2)
    observed = Observed(dataclasses.replace(AT_MAX.value, generation=Generation.V2, cr=cr))
    diagnosis = diagnose(
        evidence(KAFKA_GROWING, address=kafka(96), bigtable_evidence=NO_BIGTABLE, kube_observed=observed)
    )
    (proposal,) = step(diagnosis, 3).proposals
    paths = [change.path for change in proposal.plan(observed.value, "prod").changes]
    assert {path[:4] for path in paths} == {("spec", "wandb", "applications", "flat-run-fields-updater")}
