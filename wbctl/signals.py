"""`kill PID` (SIGTERM) handled as Ctrl-C is: the signal raises where it lands, so every
`finally` runs (the sandbox's state saved, its lock released, a write in flight audited as
failed) and wbctl exits 143 (128 + SIGTERM, what the shell shows for a terminated tool) with one
line. Python's default for SIGTERM is to die on the spot, losing all of that.
"""

from __future__ import annotations

import signal
from dataclasses import dataclass
from typing import Any


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread; a KeyboardInterrupt so that whatever Ctrl-C unwinds
    cleanly (the mutation path, `sandbox serve`'s stop) unwinds the same way."""


@dataclass
class SigtermAsInterrupt:
    previous: Any = None
    installed: bool = False
    received: bool = False

    @classmethod
    def install(cls) -> SigtermAsInterrupt:
        """Only the main thread can take signals: elsewhere (tests calling main() from a worker)
        nothing changes."""
        handler = cls()
        try:
            handler.previous = signal.signal(signal.SIGTERM, handler._terminate)
            handler.installed = True
        except ValueError:
            pass
        return handler

    def _terminate(self, *_: Any) -> None:
        if self.received:  # a second kill while the first unwinds: let the unwinding finish
            return
        self.received = True
        raise Terminated

    def restore(self) -> None:
        if self.installed:
            signal.signal(signal.SIGTERM, self.previous)
            self.installed = False
