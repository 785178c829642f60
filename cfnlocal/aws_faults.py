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

``error-response``   every HTTP attempt of the call (or the first ``attempts``) is answered with
                     AWS's error ``code`` and HTTP ``status``: a raw JSON error body that
                     botocore parses, classifies and retries exactly as it would AWS's own (so
                     a throttling code is retried and outlasts the retries only when every
                     attempt fails). ``fields`` adds modeled members (DynamoDB's
                     ``CancellationReasons``). Needs ``emulator_skips_injected()`` active: moto
                     sees every request botocore sends, and must not apply an answered one.
``transport-error``  every HTTP attempt (or the first ``attempts``) hangs ``hang_s`` (virtual
                     with a ``clock``) and then fails with the botocore exception ``code``
                     (``ReadTimeoutError``, ``EndpointConnectionError``,
                     ``ConnectTimeoutError``, ``ConnectionClosedError``), never applied.
``change``           ``change()`` runs as the call is made, then the call goes through: the
                     world changed just before (another actor deleted the user or the pool),
                     and the service answers with its own error.

``storm=True`` makes the fault hit the armed call and every later call of the same invocation
(a throttling storm, an outage), rather than only that call; ``sticky=True`` makes it hit the
armed call and every later call of the same operation.

``virtual_retry_waits(clock)`` makes botocore's retry waits (backoff sleeps, the adaptive
mode's client-side rate limiter) virtual, and at their longest (no jitter), so a case that
outlasts every retry costs no real time and states the worst case against the deadline.
"""

from __future__ import annotations

import io
import json
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Literal
from unittest import mock

import boto3
from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
)

if TYPE_CHECKING:
    from .clock import VirtualClock

FaultKind = Literal[
    "crash",
    "crash-after",
    "throttle",
    "server-error",
    "timeout",
    "timeout-applied",
    "delay",
    "error-response",
    "transport-error",
    "change",
]
ALL_FAULT_KINDS: Final[tuple[FaultKind, ...]] = (
    "crash",
    "crash-after",
    "throttle",
    "server-error",
    "timeout",
    "timeout-applied",
    "delay",
    "error-response",
    "transport-error",
    "change",
)
TRANSPORT_ERRORS: Final = (
    "ReadTimeoutError",
    "EndpointConnectionError",
    "ConnectTimeoutError",
    "ConnectionClosedError",
)
"""The transport failures a ``transport-error`` fault raises: botocore retries each (standard
and adaptive modes treat connection errors and HTTP client errors as transient)."""
INJECTED_HEADER: Final = "x-cfnlocal-injected"
"""Marks a request whose answer an ``error-response`` fault gave: the emulator skips it."""

_ERROR_CODES: Final[dict[tuple[str, str], tuple[int, str]]] = {
    ("cognito-idp", "throttle"): (400, "TooManyRequestsException"),
    ("cognito-idp", "server-error"): (500, "InternalErrorException"),
    ("dynamodb", "throttle"): (400, "ThrottlingException"),
    ("dynamodb", "server-error"): (500, "InternalServerError"),
}
WATCHED_SERVICES: Final = ("cognito-idp", "dynamodb")
ALL_HANDLER_SERVICES: Final = ("cognito-idp", "dynamodb", "secretsmanager", "ssm")
"""Every service the handler calls (secret references read Secrets Manager and SSM)."""


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
    code: str = ""
    """``error-response``: the AWS error code; ``transport-error``: a ``TRANSPORT_ERRORS`` name."""
    status: int = 400
    message: str = ""
    fields: Mapping[str, Any] | None = field(default=None, compare=False)
    attempts: int | None = None
    """HTTP attempts that fail (None: every one, outlasting botocore's retries)."""
    hang_s: float = 0.0
    sticky: bool = False
    change: Callable[[], None] | None = field(default=None, compare=False)

    def describe(self) -> str:
        where = f"{self.operation}#{self.at}" if self.operation else str(self.at)
        what = f"({self.code})" if self.code else ""
        times = "" if self.attempts is None else f"x{self.attempts}"
        return f"{self.kind}{what}{times}{'-storm' if self.storm else ''}@{where}"

    def matches(self, index: int, operation: str, earlier: Sequence[AwsCall]) -> bool:
        if self.operation is None:
            return self.at == index or (self.sticky and self.at <= index)
        if operation != self.operation:
            return False
        seen = sum(1 for call in earlier if call.operation == operation)
        return self.at == seen or (self.sticky and self.at <= seen)


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


class CallLog(list[AwsCall]):
    """The calls of one armed window, with what became of each: ``attempts`` (call index ->
    HTTP attempts botocore made, retries included) and ``errors`` (call index -> the error
    code of its final answer, when the service answered with one)."""

    def __init__(self) -> None:
        super().__init__()
        self.attempts: dict[int, int] = {}
        self.errors: dict[int, str] = {}


@dataclass
class _Pending:
    """The HTTP-level fault of the call a thread is making."""

    fault: Fault
    remaining: int | None
    protocol: str


@dataclass
class _Window:
    faults: tuple[Fault, ...]
    calls: CallLog
    storm: Fault | None = None
    pending_after: Fault | None = None
    current: int | None = None
    pending_http: _Pending | None = None


class AwsCallRecorder:
    """Records the handler's Cognito and DynamoDB calls on a boto3 session; injects faults.

    Use ``with recorder.armed([Fault(...)]) as calls:`` around one invocation; ``calls`` fills
    with that invocation's calls. ``thread`` limits the window to one thread's calls (one of
    several concurrent invocations); a thread's own window wins over an unrestricted one.
    ``seen`` counts every call, armed or not; ``injected`` lists the calls that got a fault.
    """

    def __init__(
        self,
        session: boto3.Session,
        services: Sequence[str] = WATCHED_SERVICES,
        *,
        clock: VirtualClock | None = None,
    ) -> None:
        self.services = frozenset(services)
        self.seen = 0
        self.injected: list[AwsCall] = []
        self.clock = clock
        """Makes a ``transport-error`` fault's hang virtual (else it really waits)."""
        self._lock = threading.Lock()
        self._windows: dict[int | None, _Window] = {}
        events = session.events
        events.register("before-call", self._before_call, unique_id="cfnlocal-before-call")
        events.register("after-call", self._after_call, unique_id="cfnlocal-after-call")
        # First: a response it gives must be the one botocore sees (moto's stubber, also a
        # before-send handler, then skips the marked request).
        events.register_first("before-send", self._before_send, unique_id="cfnlocal-before-send")

    @contextmanager
    def armed(
        self, faults: Sequence[Fault] = (), *, thread: int | None = None
    ) -> Iterator[CallLog]:
        """Count calls from zero and inject ``faults`` until the block ends."""
        window = _Window(tuple(faults), CallLog())
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
        ident = threading.get_ident()
        if service not in self.services:
            with self._lock:
                window = self._windows.get(ident) or self._windows.get(None)
                if window is not None:
                    window.current = window.pending_http = None
            return None
        operation = str(model.name)
        with self._lock:
            window = self._windows.get(ident) or self._windows.get(None)
            index = len(window.calls) if window is not None else -1
            fault = _fault_for(window, index, operation) if window is not None else None
            call = AwsCall(index, service, operation, ident, time.time(), params, fault)
            self.seen += 1
            if window is not None:
                window.calls.append(call)
                window.current = index
                window.pending_http = None
                if fault is not None:
                    self.injected.append(call)
                    if fault.kind in ("crash-after", "timeout-applied"):
                        window.pending_after = fault
                    if fault.kind in ("error-response", "transport-error"):
                        protocol = str(model.service_model.protocol)
                        window.pending_http = _Pending(fault, fault.attempts, protocol)
        if fault is None or fault.kind in ("error-response", "transport-error"):
            return None
        if fault.kind == "change":
            if fault.change is not None:
                fault.change()
            return None
        return _inject_before(fault, service, operation)

    def _before_send(self, request: Any, **_: Any) -> Any:  # noqa: ANN401
        """Each HTTP attempt of a call (botocore's retries included)."""
        ident = threading.get_ident()
        with self._lock:
            window = self._windows.get(ident) or self._windows.get(None)
            if window is None or window.current is None:
                return None
            attempts = window.calls.attempts
            attempts[window.current] = attempts.get(window.current, 0) + 1
            pending = window.pending_http
            if pending is None or pending.remaining == 0:
                return None
            if pending.remaining is not None:
                pending.remaining -= 1
        fault = pending.fault
        if fault.kind == "transport-error":
            self._hang(fault.hang_s)
            raise transport_error(fault.code, request)
        if not _SKIPPING:
            raise RuntimeError("an error-response fault needs emulator_skips_injected() active")
        request.headers[INJECTED_HEADER] = "1"
        return aws_error_response(
            request.url,
            fault.status,
            fault.code,
            fault.message or f"injected {fault.code}",
            protocol=pending.protocol,
            fields=fault.fields,
        )

    def _hang(self, seconds: float) -> None:
        if seconds <= 0:
            return
        if self.clock is not None:
            self.clock.advance(seconds)
        else:
            time.sleep(seconds)

    def _after_call(
        self,
        model: Any,  # noqa: ANN401
        parsed: Mapping[str, Any] | None = None,
        **_: Any,  # noqa: ANN401
    ) -> None:
        if str(model.service_model.endpoint_prefix) not in self.services:
            return
        ident = threading.get_ident()
        with self._lock:
            window = self._windows.get(ident) or self._windows.get(None)
            fault = window.pending_after if window is not None else None
            if window is not None:
                window.pending_after = None
                code = (parsed or {}).get("Error", {}).get("Code")
                if code and window.current is not None:
                    window.calls.errors[window.current] = str(code)
                window.pending_http = None
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


def transport_error(code: str, request: Any) -> Exception:  # noqa: ANN401
    """The botocore exception named ``code`` (one of ``TRANSPORT_ERRORS``) for ``request``."""
    url = str(request.url)
    if code == "ReadTimeoutError":
        return ReadTimeoutError(endpoint_url=url)
    if code == "EndpointConnectionError":
        return EndpointConnectionError(endpoint_url=url)
    if code == "ConnectTimeoutError":
        return ConnectTimeoutError(endpoint_url=url)
    if code == "ConnectionClosedError":
        return ConnectionClosedError(endpoint_url=url, request=request)
    raise ValueError(f"not a transport error: {code}")


class _RawBody(io.BytesIO):
    """What ``AWSResponse.content`` reads: a body with ``stream()``."""

    def stream(self, **_: Any) -> Iterator[bytes]:  # noqa: ANN401
        yield self.getvalue()


def aws_error_response(
    url: str,
    status: int,
    code: str,
    message: str,
    *,
    protocol: str = "json",
    fields: Mapping[str, Any] | None = None,
) -> AWSResponse:
    """An HTTP error answer as an AWS JSON-protocol service sends it (the ``__type`` body and
    the ``x-amzn-ErrorType`` header), for botocore to parse like any other."""
    if protocol != "json":
        raise NotImplementedError(f"error responses for the {protocol} protocol")
    body = json.dumps({"__type": code, "message": message, **(fields or {})}).encode()
    headers = HTTPHeaders()
    headers["Content-Type"] = "application/x-amz-json-1.1"
    headers["x-amzn-RequestId"] = "cfnlocal-injected"
    headers["x-amzn-ErrorType"] = code
    headers["Content-Length"] = str(len(body))
    return AWSResponse(url, status, headers, _RawBody(body))


_SKIPPING: list[int] = []


@contextmanager
def emulator_skips_injected() -> Iterator[None]:
    """While active, moto ignores a request an ``error-response`` fault answered.

    botocore offers every HTTP attempt to every ``before-send`` handler and uses the first
    answer; moto's stubber is one of them and would otherwise apply the request anyway.
    """
    from moto.core.botocore_stubber import BotocoreStubber  # noqa: PLC0415 - moto is optional

    original = BotocoreStubber.process_request

    def process_request(self: BotocoreStubber, request: Any) -> Any:  # noqa: ANN401
        if request.headers.get(INJECTED_HEADER):
            return None
        return original(self, request)

    BotocoreStubber.process_request = process_request  # type: ignore[method-assign]
    _SKIPPING.append(1)
    try:
        yield
    finally:
        _SKIPPING.pop()
        BotocoreStubber.process_request = original  # type: ignore[method-assign]


@dataclass
class RetryWaits:
    """The virtual seconds botocore waited between attempts (backoff) and before sending
    (the adaptive mode's client-side rate limiter)."""

    backoff_s: float = 0.0
    rate_limit_s: float = 0.0
    sleeps: int = 0

    @property
    def total_s(self) -> float:
        return self.backoff_s + self.rate_limit_s


@contextmanager
def virtual_retry_waits(clock: VirtualClock) -> Iterator[RetryWaits]:
    """botocore's retry waits become virtual (the wall clock jumps) and as long as its backoff
    allows (the jitter factor at its maximum, 1), so an invocation that retries states its
    worst case against its deadline at no real cost."""
    import botocore.endpoint  # noqa: PLC0415
    from botocore.retries import bucket, standard  # noqa: PLC0415

    waits = RetryWaits()

    def backoff(seconds: float) -> None:
        waits.backoff_s += max(seconds, 0.0)
        waits.sleeps += 1
        clock.advance(max(seconds, 0.0))

    original_delay = standard.ExponentialBackoff.delay_amount

    def longest_delay(self: Any, context: Any) -> float:  # noqa: ANN401
        self._random = _longest_jitter
        return float(original_delay(self, context))

    def acquire(self: Any, amount: float = 1, block: bool = True) -> bool:  # noqa: ANN401
        # TokenBucket._acquire, its waits on a condition made virtual (the lock is held).
        self._refill()
        while amount > self._current_capacity + 1e-9:
            if not block:
                raise bucket.CapacityNotAvailableError()
            wait = float(self._sleep_amount(amount)) + 1e-6
            waits.rate_limit_s += wait
            waits.sleeps += 1
            clock.advance(wait)
            self._refill()
        self._current_capacity -= amount
        return True

    with ExitStack() as patches:
        patches.enter_context(mock.patch.object(botocore.endpoint, "time", _SleepOnly(backoff)))
        patches.enter_context(
            mock.patch.object(standard.ExponentialBackoff, "delay_amount", longest_delay)
        )
        patches.enter_context(mock.patch.object(bucket.TokenBucket, "_acquire", acquire))
        yield waits


def _longest_jitter() -> float:
    return 1.0


class _SleepOnly:
    """``time`` for botocore.endpoint, whose only use of it is the sleep between attempts."""

    def __init__(self, sleep: Callable[[float], None]) -> None:
        self.sleep = sleep

    def __getattr__(self, name: str) -> Any:  # noqa: ANN401
        return getattr(time, name)


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
