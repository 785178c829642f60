"""Cognito's UserUpdate quota, enforced on moto's side: ``TooManyRequestsException`` above a
rate, as the real service answers when a deploy (or production) exceeds 25 requests per second.

``throttled_cognito()`` wraps moto's Cognito backend methods for the UserUpdate category
(``AdminUpdateUserAttributes``, ``AdminDeleteUserAttributes``) for as long as it is active, so
an in-process ``mock_aws()`` or ``ThreadedMotoServer`` refuses a call that would be the
``limit + 1``-th accepted within any ``window_s``. A refused call changes nothing and reaches
the client as the real error (HTTP 400, ``TooManyRequestsException``), which botocore's
standard and adaptive retry modes retry. Enter it after ``strict_cognito()`` so an accepted
call is then checked by the fidelity layer.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any, Final
from unittest import mock

from moto.cognitoidp.models import CognitoIdpBackend
from moto.core.exceptions import JsonRESTError

USER_UPDATE_QUOTA: Final = 25
USER_UPDATE_OPERATIONS: Final = ("admin_update_user_attributes", "admin_delete_user_attributes")


class TooManyRequestsException(JsonRESTError):
    def __init__(self) -> None:
        super().__init__("TooManyRequestsException", "Rate exceeded")


@dataclass(frozen=True)
class ThrottleStats:
    accepted: int
    throttled: int
    max_in_window: int
    """The most calls accepted within any ``window_s``: never above the limit."""


class SlidingWindowLimit:
    """At most ``limit`` acquisitions within any ``window_s`` (thread-safe)."""

    def __init__(
        self,
        limit: int = USER_UPDATE_QUOTA,
        window_s: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limit = limit
        self.window_s = window_s
        self._clock = clock
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._accepted = 0
        self._throttled = 0
        self._max_in_window = 0

    def try_acquire(self) -> bool:
        with self._lock:
            now = self._clock()
            while self._recent and self._recent[0] <= now - self.window_s:
                self._recent.popleft()
            if len(self._recent) >= self.limit:
                self._throttled += 1
                return False
            self._recent.append(now)
            self._accepted += 1
            self._max_in_window = max(self._max_in_window, len(self._recent))
            return True

    def stats(self) -> ThrottleStats:
        with self._lock:
            return ThrottleStats(self._accepted, self._throttled, self._max_in_window)

    def reset(self) -> None:
        with self._lock:
            self._recent.clear()
            self._accepted = self._throttled = self._max_in_window = 0


@contextmanager
def throttled_cognito(
    limit: int = USER_UPDATE_QUOTA,
    window_s: float = 1.0,
    clock: Callable[[], float] = time.monotonic,
) -> Iterator[SlidingWindowLimit]:
    """Refuse UserUpdate calls beyond ``limit`` per ``window_s`` (account-wide, as Cognito's
    quota is) while active; yields the limiter, whose ``stats()`` count both outcomes."""
    limiter = SlidingWindowLimit(limit, window_s, clock)
    with ExitStack() as patches:
        for name in USER_UPDATE_OPERATIONS:
            patches.enter_context(
                mock.patch.object(
                    CognitoIdpBackend, name, _limited(getattr(CognitoIdpBackend, name), limiter)
                )
            )
        yield limiter


def _limited(method: Callable[..., Any], limiter: SlidingWindowLimit) -> Callable[..., Any]:
    def wrapper(backend: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: ANN401
        if not limiter.try_acquire():
            raise TooManyRequestsException()
        return method(backend, *args, **kwargs)

    return wrapper
