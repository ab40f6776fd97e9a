"""Reads side by side (wbctl/app/gather.py): they run at once, `need` waits for another read,
a failure or a hang makes unknown only what it feeds, and the round has a deadline."""

from __future__ import annotations

import sys
import threading
import time

import pytest

from wbctl.app.gather import Gathering, Missing, gather, preload
from wbctl.core.model import Observed
from wbctl.errors import BackendError


def test_values_come_back_as_known_observations() -> None:
    results = gather({"a": lambda g: 1, "b": lambda g: {"x": 2}}, timeout=1)
    assert results == {"a": Observed(1), "b": Observed({"x": 2})}


def test_reads_run_at_the_same_time() -> None:
    barrier = threading.Barrier(3, timeout=5)  # each read waits for the other two: only side by side can pass

    def read(g: Gathering) -> str:
        barrier.wait()
        return threading.current_thread().name

    results = gather({"a": read, "b": read, "c": read}, timeout=2)
    assert {name: observed.value for name, observed in results.items()} == {
        "a": "wbctl-read-a",
        "b": "wbctl-read-b",
        "c": "wbctl-read-c",
    }


def test_need_waits_for_the_value_of_another_read() -> None:
    def address(g: Gathering) -> str:
        time.sleep(0.1)
        return "10.0.0.1:6379"

    results = gather({"queue": lambda g: "queue at " + g.need("address"), "address": address}, timeout=2)
    assert results["queue"] == Observed("queue at 10.0.0.1:6379")


def test_an_unknown_read_makes_unknown_what_needs_it_with_its_reason() -> None:
    def kube(g: Gathering) -> None:
        raise BackendError("Kubernetes API refused the connection")

    results = gather({"kube": kube, "queue": lambda g: g.need("kube"), "redis": lambda g: "fine"}, timeout=1)
    assert results["kube"] == Observed.unknown("Kubernetes API refused the connection")
    assert results["queue"] == Observed.unknown("Kubernetes API refused the connection")
    assert results["redis"] == Observed("fine")


def test_unknown_propagates_along_a_chain() -> None:
    results = gather(
        {"a": lambda g: None, "b": lambda g: g.need("a"), "c": lambda g: g.need("b") + 1},
        timeout=1,
    )
    assert results == {name: Observed.unknown("no data") for name in "abc"}


def test_a_read_that_raises_a_bug_is_contained_and_reported() -> None:
    def buggy(g: Gathering) -> int:
        return {}["missing"]

    results = gather({"buggy": buggy, "fine": lambda g: 3}, timeout=1)
    assert results["buggy"].reason == "internal error: KeyError: 'missing' (a bug in wbctl; please report it)"
    assert results["fine"] == Observed(3)


def test_a_read_may_raise_missing_itself() -> None:
    def read(g: Gathering) -> int:
        raise Missing("no subscription configured")

    assert gather({"r": read}, timeout=1)["r"] == Observed.unknown("no subscription configured")


def test_a_read_that_never_answers_is_unknown_after_the_deadline_and_does_not_hold_the_others() -> None:
    release = threading.Event()

    def hangs(g: Gathering) -> int:
        release.wait(10)
        return 1

    timings: dict[str, float] = {}
    began = time.monotonic()
    try:
        results = gather({"hangs": hangs, "fast": lambda g: 2}, timeout=0.2, depth=1, timings=timings)
        took = time.monotonic() - began
    finally:
        release.set()
    assert results["hangs"] == Observed.unknown("no answer within 1.2s")  # depth x timeout + 1 s
    assert results["fast"] == Observed(2)
    assert 1.1 <= took < 5
    assert timings["hangs"] == pytest.approx(1.2) and timings["fast"] < 1.0


def test_need_of_a_read_that_never_answers_is_missing_at_the_rounds_deadline() -> None:
    gathering = Gathering({"slow": lambda g: 1}, 0.3)  # not run: "slow" never answers
    began = time.monotonic()
    with pytest.raises(Missing, match="slow gave no answer in time"):
        gathering.need("slow")
    assert 0.25 <= time.monotonic() - began < 2


def test_timings_include_the_wait_for_a_needed_read() -> None:
    def slow(g: Gathering) -> int:
        time.sleep(0.2)
        return 1

    timings: dict[str, float] = {}
    gather({"slow": slow, "after": lambda g: g.need("slow") + 1}, timeout=2, timings=timings)
    assert timings["after"] >= timings["slow"] >= 0.2


def test_preload_imports_in_the_calling_thread() -> None:
    sys.modules.pop("colorsys", None)
    preload(["colorsys"])
    assert "colorsys" in sys.modules
    with pytest.raises(ModuleNotFoundError):
        preload(["wbctl_no_such_module"])
