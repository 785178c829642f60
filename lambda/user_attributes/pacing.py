"""Pacing of Cognito's UserUpdate calls within one execution environment.

Cognito's UserUpdate quota (AdminUpdateUserAttributes, AdminDeleteUserAttributes: 25 requests
per second per account and Region) is shared with production traffic. The queue's event source
mapping bounds the worker's concurrency (``MaximumConcurrency``), and the construct sets
``COGNITO_USER_UPDATE_RATE`` so that concurrency x rate is the share of the quota the deploy
may use; each environment's ``TokenBucket`` keeps its own
writes at that rate. Throttling that still happens (production bursts) is left to botocore's
adaptive retries.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Mapping
from typing import Final

logger = logging.getLogger(__name__)

RATE_VARIABLE: Final = "COGNITO_USER_UPDATE_RATE"


class TokenBucket:
    """``acquire()`` before each write: at most ``rate`` per second on average, and at most
    ``capacity`` at once. Starts full. Safe to share between threads."""

    def __init__(
        self,
        rate: float,
        *,
        capacity: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not (math.isfinite(rate) and rate > 0) or capacity < 1:
            raise ValueError("a token bucket needs a positive rate and a capacity of at least 1")
        self.rate = rate
        self.capacity = capacity
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._tokens = capacity
        self._updated = clock()
        self.waited_s = 0.0
        """Total time callers have waited, for logs and benchmarks."""

    def acquire(self) -> float:
        """Take one token, waiting until there is one; returns the seconds waited.

        The wait is at most ``1 / rate`` per caller queued ahead (one, in a Lambda environment,
        which runs one event at a time).
        """
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1  # reserved now; a negative balance is the queue ahead
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
            self.waited_s += wait
        if wait > 0:
            self._sleep(wait)
        return wait


def bucket_from_environment(environment: Mapping[str, str]) -> TokenBucket | None:
    """The bucket ``COGNITO_USER_UPDATE_RATE`` asks for; None (no pacing) when unset. A value
    that is not a positive number is logged and ignored: pacing protects production traffic
    but must never stop a deploy or a restore."""
    raw = environment.get(RATE_VARIABLE)
    if raw is None or not raw.strip():
        return None
    try:
        return TokenBucket(float(raw))
    except ValueError:
        logger.warning("%s is not a positive number; Cognito writes are not paced", RATE_VARIABLE)
        return None
