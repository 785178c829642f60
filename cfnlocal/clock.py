"""Wall-clock time that can jump forward, so CloudFormation's waits cost nothing in a test.

When a custom resource never answers, CloudFormation waits for the resource's ``ServiceTimeout``
(minutes; an hour by default) before it fails the resource and moves on. By then the silent
invocation's Lambda deadline has long passed, and the queue's visibility timeout and
deduplication window are measured in wall-clock time, so the driver models the wait by moving
``time.time`` forward instead of sleeping.

Only ``time.time`` and ``time.time_ns`` move: deadlines measured with ``time.monotonic`` (the
Lambda context, timers, socket timeouts) keep real time, as a real invocation does.

Deliberate waits in the handler can be virtual too: code imported inside ``binding_sleep()``
(the driver loads each container there) binds ``from time import sleep`` and ``sleep=time.sleep``
defaults to ``VirtualClock.sleep``, which, while ``virtual_sleep`` is on, moves the wall clock
instead of sleeping. A handler's wait (pacing, retries) then costs nothing, and its ``Deadline``
(epoch based) is consumed as by a real wait. Tests that race two invocations turn
``virtual_sleep`` off: there the wait must really let the other thread run. Caveat: crhelper's
timeout timer counts real time, so a virtual wait never brings the timeout answer forward.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Final

_REAL_TIME: Final = time.time
_REAL_TIME_NS: Final = time.time_ns
_REAL_SLEEP: Final = time.sleep


class VirtualClock:
    """``with VirtualClock() as clock: clock.advance(420)``: epoch time jumps 420 s ahead."""

    def __init__(self, *, virtual_sleep: bool = True) -> None:
        self._offset_s = 0.0
        self._lock = threading.Lock()
        self.virtual_sleep = virtual_sleep

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

    def sleep(self, seconds: float) -> None:
        """A wait: virtual (the wall clock jumps) while ``virtual_sleep`` is on, else real."""
        if self.virtual_sleep:
            self.advance(max(seconds, 0.0))
        else:
            _REAL_SLEEP(seconds)

    @contextmanager
    def binding_sleep(self) -> Iterator[None]:
        """While code is imported here, its module-level ``sleep`` bindings become ours."""
        time.sleep = self.sleep  # type: ignore[assignment]
        try:
            yield
        finally:
            time.sleep = _REAL_SLEEP

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
