"""Wall-clock time that can jump forward, so CloudFormation's waits cost nothing in a test.

When a custom resource never answers, CloudFormation waits for the resource's ``ServiceTimeout``
(minutes; an hour by default) before it fails the resource and moves on. By then the silent
invocation's Lambda deadline has long passed. The handler reasons about that with wall-clock
time (leases and tombstones in the ledger hold epoch milliseconds), so the driver models the wait
by moving ``time.time`` forward instead of sleeping.

Only ``time.time`` and ``time.time_ns`` move: deadlines measured with ``time.monotonic`` (the
Lambda context, timers, socket timeouts) keep real time, as a real invocation does.
"""

from __future__ import annotations

import threading
import time
from types import TracebackType
from typing import Final

_REAL_TIME: Final = time.time
_REAL_TIME_NS: Final = time.time_ns


class VirtualClock:
    """``with VirtualClock() as clock: clock.advance(420)``: epoch time jumps 420 s ahead."""

    def __init__(self) -> None:
        self._offset_s = 0.0
        self._lock = threading.Lock()

    @property
    def offset_s(self) -> float:
        return self._offset_s

    def advance(self, seconds: float) -> None:
        """Let ``seconds`` pass for everything that reads the wall clock."""
        with self._lock:
            self._offset_s += seconds

    def time(self) -> float:
        return _REAL_TIME() + self._offset_s

    def time_ns(self) -> int:
        return _REAL_TIME_NS() + int(self._offset_s * 1_000_000_000)

    def __enter__(self) -> VirtualClock:
        time.time = self.time
        time.time_ns = self.time_ns
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        time.time = _REAL_TIME
        time.time_ns = _REAL_TIME_NS
