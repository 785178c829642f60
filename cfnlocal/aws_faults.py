"""Record every AWS call a handler makes, and make chosen calls fail the way AWS and Lambda do.

Hooks live on a boto3 ``Session``'s event system (the handler builds its clients from boto3's
default session on its first event, and a client copies the session's hooks when it is made,
so register before the first invocation of a container):

- ``before-call.<service>.<operation>`` sees each API call once, before botocore's retry loop.
  A hook that returns ``(http_response, parsed)`` short-circuits the whole call, retries
  included, so an error returned there is what the caller sees once botocore has given up
  (a ``TooManyRequestsException`` storm that outlasts the retry budget, a 5xx that persists).
  An exception raised there propagates to the caller as if the transport had raised it.
- ``after-call.<service>.<operation>`` runs once AWS has applied the call: raising there models
  a call that took effect but whose answer never arrived (a read timeout after the write, or
  the process dying before it handled the response).

Fault kinds, each mirroring something that really happens:

``crash``            the Lambda process dies before the call is sent (out of memory, the
                     sandbox is killed): ``ProcessCrash`` is a ``BaseException``, which neither
                     the handler nor crhelper (``except Exception``) catches, so no answer is
                     sent. CloudFormation then waits for its ``ServiceTimeout``.
``crash-after``      the call took effect, then the process died.
``throttle``         ``TooManyRequestsException`` (Cognito) / ``ThrottlingException``
                     (DynamoDB), after botocore's retries.
``server-error``     HTTP 500 ``InternalErrorException`` / ``InternalServerError``.
``timeout``          the call hung until botocore's read timeout on every attempt and was
                     never applied (``ReadTimeoutError``).
``timeout-applied``  AWS applied the call but the answer timed out (``ReadTimeoutError``
                     after the write).
``delay``            the call is slow (``delay_s``, or until ``release`` is set), then goes
                     through: what a congested endpoint does to an in-flight request. Any
                     other kind with ``delay_s`` is slow first, then fails that way (e.g.
                     ``crash-after`` with a delay: a late write lands, then Lambda ends the
                     process at its deadline).

``storm=True`` makes the fault hit the armed call and every later call of the same invocation
(a throttling storm, an outage), rather than only that call.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import ReadTimeoutError

FaultKind = Literal[
    "crash",
    "crash-after",
    "throttle",
    "server-error",
    "timeout",
    "timeout-applied",
    "delay",
]
ALL_FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "crash",
    "crash-after",
    "throttle",
    "server-error",
    "timeout",
    "timeout-applied",
    "delay",
)

_ERROR_CODES: Final[dict[tuple[str, str], tuple[int, str]]] = {
    ("cognito-idp", "throttle"): (400, "TooManyRequestsException"),
    ("cognito-idp", "server-error"): (500, "InternalErrorException"),
    ("dynamodb", "throttle"): (400, "ThrottlingException"),
    ("dynamodb", "server-error"): (500, "InternalServerError"),
}
WATCHED_SERVICES: Final = ("cognito-idp", "dynamodb")


class ProcessCrash(BaseException):
    """The Lambda process died mid-invocation: nothing catches it, no answer is sent."""


@dataclass(frozen=True)
class Fault:
    """Make the ``at``-th AWS call (0-based, counted from arming) of an invocation fail; with
    ``operation``, the ``at``-th call of that operation."""

    kind: FaultKind
    at: int
    storm: bool = False
    delay_s: float = 0.0
    release: threading.Event | None = None
    operation: str | None = None

    def describe(self) -> str:
        where = f"{self.operation}#{self.at}" if self.operation else str(self.at)
        return f"{self.kind}{'-storm' if self.storm else ''}@{where}"

    def matches(self, index: int, operation: str, earlier: Sequence[AwsCall]) -> bool:
        if self.operation is None:
            return self.at == index
        if operation != self.operation:
            return False
        return self.at == sum(1 for call in earlier if call.operation == operation)


@dataclass(frozen=True)
class AwsCall:
    """One API call the handler made (``index`` counts from the last ``arm``)."""

    index: int
    service: str
    operation: str
    thread: int
    started_at: float
    params: dict[str, Any] = field(repr=False, compare=False)
    fault: Fault | None = None


@dataclass
class _Window:
    faults: tuple[Fault, ...]
    calls: list[AwsCall]
    storm: Fault | None = None
    pending_after: Fault | None = None


class AwsCallRecorder:
    """Records the handler's Cognito and DynamoDB calls on a boto3 session; injects faults.

    Use ``with recorder.armed([Fault(...)]) as calls:`` around one invocation; ``calls`` fills
    with that invocation's calls. ``thread`` limits the window to one thread's calls (one of
    several concurrent invocations); a thread's own window wins over an unrestricted one.
    ``seen`` counts every call, armed or not; ``injected`` lists the calls that got a fault.
    """

    def __init__(self, session: boto3.Session, services: Sequence[str] = WATCHED_SERVICES) -> None:
        self.services = frozenset(services)
        self.seen = 0
        self.injected: list[AwsCall] = []
        self._lock = threading.Lock()
        self._windows: dict[int | None, _Window] = {}
        events = session.events
        events.register("before-call", self._before_call, unique_id="cfnlocal-before-call")
        events.register("after-call", self._after_call, unique_id="cfnlocal-after-call")

    @contextmanager
    def armed(
        self, faults: Sequence[Fault] = (), *, thread: int | None = None
    ) -> Iterator[list[AwsCall]]:
        """Count calls from zero and inject ``faults`` until the block ends."""
        window = _Window(tuple(faults), [])
        with self._lock:
            if thread in self._windows:
                raise RuntimeError("a window is already armed for this thread")
            self._windows[thread] = window
        try:
            yield window.calls
        finally:
            with self._lock:
                self._windows.pop(thread, None)

    # -- hooks ------------------------------------------------------------------------------

    def _before_call(self, model: Any, params: dict[str, Any], **_: Any) -> Any:  # noqa: ANN401
        service = str(model.service_model.endpoint_prefix)
        if service not in self.services:
            return None
        operation = str(model.name)
        ident = threading.get_ident()
        with self._lock:
            window = self._windows.get(ident) or self._windows.get(None)
            index = len(window.calls) if window is not None else -1
            fault = _fault_for(window, index, operation) if window is not None else None
            call = AwsCall(index, service, operation, ident, time.time(), params, fault)
            self.seen += 1
            if window is not None:
                window.calls.append(call)
                if fault is not None:
                    self.injected.append(call)
                    if fault.kind in ("crash-after", "timeout-applied"):
                        window.pending_after = fault
        if fault is None:
            return None
        return _inject_before(fault, service, operation)

    def _after_call(self, model: Any, **_: Any) -> None:  # noqa: ANN401
        if str(model.service_model.endpoint_prefix) not in self.services:
            return
        ident = threading.get_ident()
        with self._lock:
            window = self._windows.get(ident) or self._windows.get(None)
            fault = window.pending_after if window is not None else None
            if window is not None:
                window.pending_after = None
        if fault is None:
            return
        if fault.kind == "crash-after":
            raise ProcessCrash(f"process died after {model.name} took effect")
        raise ReadTimeoutError(endpoint_url=f"https://{model.service_model.endpoint_prefix}")


def _fault_for(window: _Window, index: int, operation: str) -> Fault | None:
    if window.storm is not None:
        return window.storm
    for fault in window.faults:
        if fault.matches(index, operation, window.calls):
            if fault.storm:
                window.storm = fault
            return fault
    return None


def _inject_before(fault: Fault, service: str, operation: str) -> Any:  # noqa: ANN401
    if fault.delay_s or fault.release is not None:
        # A slow call first (any kind): e.g. a write that lands late, then the process dies.
        if fault.release is not None:
            fault.release.wait(fault.delay_s or None)
        else:
            time.sleep(fault.delay_s)
    if fault.kind == "crash":
        raise ProcessCrash(f"process died before {operation}")
    if fault.kind == "timeout":
        raise ReadTimeoutError(endpoint_url=f"https://{service}")
    if fault.kind == "delay":
        return None
    if fault.kind in ("throttle", "server-error"):
        status, code = _ERROR_CODES[(service, fault.kind)]
        return error_response(status, code, f"injected {fault.kind}")
    return None  # crash-after and timeout-applied act once the call has gone through


def error_response(status: int, code: str, message: str) -> tuple[AWSResponse, dict[str, Any]]:
    """What a ``before-call`` hook returns to short-circuit a call with an AWS error."""
    http = AWSResponse("https://injected.invalid/", status, HTTPHeaders(), None)
    parsed = {
        "Error": {"Code": code, "Message": message},
        "ResponseMetadata": {"HTTPStatusCode": status, "RequestId": "injected"},
    }
    return http, parsed


@contextmanager
def serialized_emulator() -> Iterator[None]:
    """Make each moto request atomic, as every real AWS API call is.

    moto's backends are not thread-safe (a ``TransactWriteItems`` checks its conditions and
    writes in separate steps), and racing invocations run in threads here; real DynamoDB and
    Cognito apply each call atomically, which a process-wide lock around moto's dispatch gives.
    """
    from moto.core.botocore_stubber import BotocoreStubber  # noqa: PLC0415 - moto is optional

    original = BotocoreStubber.process_request
    lock = threading.RLock()

    def process_request(self: BotocoreStubber, request: Any) -> Any:  # noqa: ANN401
        with lock:
            return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.process_request = original  # type: ignore[method-assign]
