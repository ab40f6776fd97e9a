"""The guide's runbook as a diagnosis: the queue's verdict, then its three remedies in order.

The guide (docs/sources.md, "The runbook"): a sharp rise in metrics backs up the queue,
verify it in monitoring; wait for Bigtable autoscaling (or scale Bigtable); if the backlog is
big, scale or autoscale the flat-run-fields-updater; if one run slows everyone, discard its
updates. Each step here has a status, its evidence and the next action as a command that
works when pasted; the changes it proposes are data (`Proposal`s) that `--fix` applies
through the same planning code as the typed command. Pure: no I/O.

This package's facade: step 1 (the backlog) and the whole diagnosis are here; the shapes and
thresholds are in core/runbook/evidence.py, steps 2-4 in core/runbook/steps.py. Callers import
from `wbctl.core.runbook`, which re-exports what they need.
"""

from __future__ import annotations

import math

from wbctl.core import timeline
from wbctl.core.durations import format_duration
from wbctl.core.kube import V2_NO_BIGTABLE, Generation
from wbctl.core.model import Status
from wbctl.core.queue import Judgement, Verdict, backlog_status, drains_by
from wbctl.core.queue_source import QueueAddress
from wbctl.core.runbook.evidence import (
    READ_PREFIX,
    BigtableEvidence,
    Diagnosis,
    Evidence,
    RunLoad,
    Step,
    amount,
    clock,
)
from wbctl.core.runbook.filestream import filestream_queue
from wbctl.core.runbook.steps import bigtable_step, noisy_run_step, updater_step
from wbctl.core.service_view import UPDATER

# the shapes live in evidence.py; this facade is where callers find the diagnosis and them
__all__ = ["UPDATER", "BigtableEvidence", "Diagnosis", "Evidence", "RunLoad", "Step", "diagnose", "headline"]


def _backlog_step(judgement: Judgement, address: QueueAddress) -> Step:
    verdict = judgement.verdict
    loss = judgement.loss
    status = backlog_status(judgement)
    evidence = [f"queue: {address.describe()} (from {address.origin})"]
    readings = judgement.readings
    unknown: dict[str, list[str]] = {}  # one line per reason, however many signals it hides
    for label, reading, unit in (
        ("backlog", readings.backlog, " messages"),
        ("oldest unacked", readings.oldest_age, ""),
        ("published", readings.published, "/s"),
        ("consumed", readings.consumed, "/s"),
        ("expired ack deadlines", readings.expired, "/s"),
    ):
        if label == "expired ack deadlines" and address.source != "pubsub":
            continue
        if reading.known:
            value = format_duration(reading.latest or 0) if label == "oldest unacked" else amount(reading.latest, unit)
            evidence.append(f"{label}: {value} (newest point {clock(reading.newest)})")
        else:
            unknown.setdefault(READ_PREFIX.sub("", reading.reason), []).append(label)
    evidence += [f"{', '.join(labels)}: unknown ({reason})" for reason, labels in unknown.items()]
    if judgement.rise_began is not None and verdict is Verdict.GROWING:
        evidence.append(f"the rise began at {clock(judgement.rise_began)}")
    if judgement.drain_seconds is not None:
        evidence.append(f"empty in about {format_duration(judgement.drain_seconds)} at the current rate")
    if loss is not None:
        evidence.append(("DATA LOSS: " if loss.projected else "retention: ") + loss.reason)
    if readings.partitions:
        total = sum(readings.partitions.values()) or 1.0
        top = sorted(readings.partitions.items(), key=lambda item: -item[1])[:3]
        evidence.append("lag by partition: " + ", ".join(f"{p} {v / total:.0%}" for p, v in top))
    return Step(1, "backlog", status, f"{verdict.value}: {judgement.reason}", tuple(evidence))


_WORST_FIRST = (Status.FAIL, Status.UNKNOWN, Status.WARN, Status.OK)


def _with_filestream(step: Step, ev: Evidence) -> Step:
    """Step 1 with the filestream queue beside the run-updates queue (when it is not `none`):
    its lines, its remedy as the step's next command, the worse of the two statuses."""
    if ev.filestream is None or ev.filestream_address is None or ev.filestream_address.source == "none":
        return step
    shown = filestream_queue(ev.filestream, ev.filestream_address, ev.kube, ev.invocation, ev.kubectl)
    status = min(step.status, shown.status, key=_WORST_FIRST.index)
    summary = step.summary if shown.status is Status.OK else f"{step.summary}; {shown.summary}"
    proposals = (shown.proposal,) if shown.proposal is not None else ()
    return Step(1, step.name, status, summary, (*step.evidence, *shown.lines), shown.next, proposals)


# --- the whole ------------------------------------------------------------------------


def diagnose(ev: Evidence) -> Diagnosis:
    judgement = ev.judgement
    verdict = judgement.verdict
    # what the steps may propose: capacity while the queue does not clear (or cannot be judged:
    # the evidence of a step alone may still ask for it); nothing on none or a stall
    wanted = judgement.needs_capacity or verdict is Verdict.UNKNOWN
    drains = drains_by(judgement, ev.now)
    changes = tuple(ev.changes.value or ()) if ev.changes.known else ()
    first = _with_filestream(_backlog_step(judgement, ev.address), ev)
    shown = ev.filestream is not None and ev.filestream_address is not None and ev.filestream_address.source != "none"
    if ev.kube.known and ev.kube.value is not None and ev.kube.value.generation is Generation.V2:
        second = Step(2, "bigtable", Status.OK, f"Bigtable: {V2_NO_BIGTABLE}")  # nothing to wait for or raise
    else:
        second = bigtable_step(
            ev.bigtable, ev.now, wanted and verdict is not Verdict.STALLED, ev.invocation, drains, changes
        )
    third = updater_step(ev, second, wanted and verdict is not Verdict.STALLED, drains)
    fourth = noisy_run_step(ev, wanted or verdict is Verdict.STALLED)  # a discard also frees a stalled run's key
    steps = (first, second, third, fourth)
    waiting = next((s for s in (second, third) if s.wait_until is not None), None)
    loss = judgement.loss is not None and judgement.loss.projected
    if verdict is Verdict.NONE:
        next_action = ""
    elif verdict is Verdict.STALLED:  # the logs first: a discard drops data, and capacity will not help
        next_action = third.next
    elif waiting is not None and not loss and not (second.proposals or third.proposals):
        # a fix taking effect, or a backlog draining in time: the next thing to do is to wait,
        # not the next remedy down the list (that would chase the fix, reading by reading)
        next_action = waiting.next
    elif verdict is Verdict.UNKNOWN:  # only what the evidence that was read asks for
        next_action = next((step.next for step in steps[1:] if step.proposals), "")
    else:
        next_action = next((step.next for step in steps[1:] if step.proposals), "") or next(
            (step.next for step in steps[1:] if step.next and step.status is not Status.OK), ""
        )
    next_action = next_action or first.next  # the filestream queue's remedy when the run-updates path has none
    diagnosis = Diagnosis(
        judgement,
        ev.address,
        steps,
        changes,
        "" if ev.changes.known else ev.changes.reason,
        next=next_action,
        filestream=ev.filestream if shown else None,
        filestream_address=ev.filestream_address if shown else None,
        before_rise=tuple(timeline.before_rise(ev.timeline, judgement.rise_began)),
    )
    return Diagnosis(**{**diagnosis.__dict__, "headline": headline(diagnosis)})


def headline(diagnosis: Diagnosis) -> str:
    """The first line of the output: verdict, rate, oldest age, projected loss, next command."""
    judgement = diagnosis.judgement
    parts = [f"queue {judgement.verdict.value.upper()}"]
    if judgement.rate_per_second is not None and judgement.verdict is not Verdict.NONE:
        parts[0] += f" {judgement.rate_per_second * 60:+,.0f} msg/min"
    if judgement.backlog is not None:
        parts.append(f"backlog {amount(judgement.backlog)}")
    if judgement.publish_rate is not None or judgement.consume_rate is not None:
        parts.append(
            f"publish {amount(judgement.publish_rate, '/s')} vs consume {amount(judgement.consume_rate, '/s')}"
        )
    if judgement.oldest_age is not None:
        parts.append(f"oldest {format_duration(judgement.oldest_age)}")
    if judgement.drain_seconds is not None:
        parts.append(f"empty in ~{format_duration(judgement.drain_seconds)}")
    if judgement.verdict is Verdict.UNKNOWN:
        parts.append(judgement.reason)
    text = ", ".join(parts)
    filestream = diagnosis.filestream
    if filestream is not None and backlog_status(filestream) is not Status.OK:
        text += f"; filestream queue {filestream.verdict.value.upper()}" + (
            f", backlog {amount(filestream.backlog)}" if filestream.backlog is not None else ""
        )
    loss = judgement.loss
    if loss is not None and loss.projected and loss.seconds_left is not None and math.isfinite(loss.seconds_left):
        text = f"DATA LOSS in ~{format_duration(loss.seconds_left)}: {text}"
    if diagnosis.next:
        text += f"; next: {diagnosis.next}"
    elif judgement.verdict is Verdict.NONE and (filestream is None or backlog_status(filestream) is Status.OK):
        text += "; nothing to do"
    return text
