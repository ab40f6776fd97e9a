"""Reading named observations side by side, each failure contained to what it feeds.

`wbctl check` and `wbctl runbook queue-backlog` ask several backends at once. Each named
read runs in its own thread; a read may wait for another's value (`need`: the queue's
address comes from the Kubernetes read), and comes back as its value or as `unknown` with the
reason. A backend that fails, refuses or never answers makes its own reads unknown, and only
the reads that needed them: a Cloud Monitoring error makes the CPU signal unknown, not the
Bigtable admin findings that were read fine.

Why daemon threads rather than a ThreadPoolExecutor: a read that outlives the deadline (a
backend that never answers past its own timeout) must not hold the command's exit; the
executor joins its threads at interpreter exit.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Generic, TypeVar, overload

from wbctl.core.model import Observed
from wbctl.errors import WbctlError

T = TypeVar("T")


class Read(str, Generic[T]):
    """A read's name, typed by what the read returns: `results[KUBE]` is an
    `Observed[KubeObservation]` to mypy, and still the string "kube" to everyone else (timings,
    messages, the reads a test names by hand)."""


Reader = Callable[["Gathering"], Any]


class Results(dict[str, Observed[Any]]):
    """Each read's value or why it is unknown, by name; typed when looked up by a `Read`."""

    @overload
    def __getitem__(self, key: Read[T]) -> Observed[T]: ...
    @overload
    def __getitem__(self, key: str) -> Observed[Any]: ...
    def __getitem__(self, key: str) -> Observed[Any]:
        return super().__getitem__(key)

    @overload  # type: ignore[override]
    def get(self, key: Read[T]) -> Observed[T] | None: ...
    @overload
    def get(self, key: str) -> Observed[Any] | None: ...
    def get(self, key: str, default: Any = None) -> Any:
        return super().get(key, default)


class Missing(Exception):
    """Raised by `need` when the read it waits for is unknown: the waiting read is unknown too."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass
class _Slot:
    done: threading.Event
    result: Observed[Any] | None = None


class Gathering:
    """One round of reads. `deadline` bounds the whole round (see `gather`)."""

    def __init__(self, readers: Mapping[str, Reader], seconds: float) -> None:
        self._readers = dict(readers)
        self._slots = {name: _Slot(threading.Event()) for name in readers}
        self._seconds = seconds
        self._began = time.monotonic()
        self._deadline = self._began + seconds
        self.finished_after: dict[str, float] = {}  # seconds from the round's start to each read's answer

    @overload
    def need(self, name: Read[T]) -> T: ...
    @overload
    def need(self, name: str) -> Any: ...
    def need(self, name: str) -> Any:
        """The value of another read, waiting for it; Missing when it is unknown."""
        slot = self._slots[name]
        if not slot.done.wait(max(0.0, self._deadline - time.monotonic())):
            raise Missing(f"{name} gave no answer in time")
        assert slot.result is not None
        if not slot.result.known:
            raise Missing(slot.result.reason)
        return slot.result.value

    def _run(self, name: str) -> None:
        slot = self._slots[name]
        try:
            value = self._readers[name](self)
            slot.result = Observed(value) if value is not None else Observed.unknown("no data")
        except Missing as missing:
            slot.result = Observed.unknown(missing.reason)
        except WbctlError as exc:
            slot.result = Observed.unknown(exc.message)
        except Exception as exc:  # a bug in one read: reported, contained to what it feeds
            slot.result = Observed.unknown(
                f"internal error: {type(exc).__name__}: {exc} (a bug in wbctl; please report it)"
            )
        finally:
            self.finished_after[name] = time.monotonic() - self._began
            slot.done.set()

    def run(self) -> Results:
        for name in self._readers:
            threading.Thread(target=self._run, args=(name,), name=f"wbctl-read-{name}", daemon=True).start()
        results = Results()
        for name, slot in self._slots.items():
            if slot.done.wait(max(0.0, self._deadline - time.monotonic())) and slot.result is not None:
                results[name] = slot.result
            else:
                results[name] = Observed.unknown(f"no answer within {self._seconds:g}s")
                self.finished_after.setdefault(name, self._seconds)
        return results


def preload(modules: Iterable[str]) -> None:
    """Import SDK modules in the calling thread before the reads start: two threads importing
    one package at once can see it half-initialised (`cannot import name ... from partially
    initialized module 'requests.utils'`)."""
    for module in modules:
        importlib.import_module(module)


def gather(
    readers: Mapping[str, Reader],
    *,
    timeout: float,
    depth: int = 2,
    preload_modules: Iterable[str] = (),
    timings: dict[str, float] | None = None,
) -> Results:
    """Run every reader side by side and return each as a value or unknown-with-reason.

    Every backend call already has `timeout`; a read makes a few (a list and its pages, a
    read that waits for another), so the round as a whole is bounded by `depth` timeouts
    plus a second: past that, what has not answered is unknown. `timings`, when given,
    receives how long each read took to answer (waits for the reads it needed included).
    """
    preload(preload_modules)
    gathering = Gathering(readers, depth * timeout + 1.0)
    results = gathering.run()
    if timings is not None:
        timings.update(gathering.finished_after)
    return results
