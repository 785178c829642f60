"""Drive custom resources through CloudFormation's lifecycle, as CloudFormation would.

CloudFormation remembers each resource's properties and physical id, sends Update only when the
properties changed, treats a new physical id from Update as a replacement (a cleanup Delete of
the old id follows once the stack update succeeds), invents a physical id when a Create never
answered, and swaps old and new properties for a rollback Update.

Every invocation is checked against what CloudFormation and Lambda accept (``Invocation``):

- at most one answer reaches the response URL, and it arrives before the invocation's deadline
  and before the handler returns (Lambda freezes the sandbox when the handler returns, so an
  answer still being sent by a background thread then may never arrive);
- the handler returns before its deadline (Lambda kills it there);
- the answer: status SUCCESS or FAILED, a non-empty physical id, a body of at most 4096 bytes,
  ``Reason`` of at most 256 characters, the event's ids echoed, and no attribute or
  ClientMetadata value anywhere in it;
- nothing the handler logs carries such a value or the pre-signed response URL.

A process that dies (``ProcessCrash``, or any exception escaping the handler) sends nothing:
the Lambda service then discards the execution environment, so the next event goes to a fresh
container (cold start, fresh module state), as it does here.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from .aws_faults import ProcessCrash
from .clock import VirtualClock
from .events import make_event, stringify
from .https_sink import ResponseSink
from .lambda_runtime import LambdaContainer
from .transport import LocalTransport, Transported

Target = LambdaContainer | LocalTransport
"""What an event is delivered to: one execution environment, or the provider's queue."""

MAX_BODY_BYTES: Final = 4096
MAX_REASON: Final = 256
DEFAULT_SERVICE_TIMEOUT_S: Final = 3600.0
"""CloudFormation waits this long for an answer unless the resource sets ``ServiceTimeout``."""
_SLACK_S: Final = 0.05
_MIN_SENSITIVE_LENGTH: Final = 4
_NOT_SENSITIVE: Final = frozenset({"true", "false", "RESTORE", "RETAIN"})

DeliveryFault = Literal["403", "500", "hang", "close", "refused"]
"""What the response URL does with the answer: refuse it (HTTP 403 / 500), hang, drop the
connection, or not listen at all (connection refused)."""


_INVOCATION = threading.local()
_TIMER_TAG: Final = "_cfnlocal_invocation"


def _tag_timers() -> None:
    """Tag each ``threading.Timer`` with the invocation whose thread created it.

    crhelper answers a timeout from a ``threading.Timer``: one still alive when the handler
    returns may still be sending, and Lambda freezes it there. Concurrent invocations each
    have timers; the tag tells whose is whose.
    """
    init = threading.Timer.__init__
    if getattr(init, "_cfnlocal", False):
        return

    def tagged_init(self: threading.Timer, *args: Any, **kwargs: Any) -> None:  # noqa: ANN401
        init(self, *args, **kwargs)
        setattr(self, _TIMER_TAG, getattr(_INVOCATION, "token", None))

    tagged_init._cfnlocal = True  # type: ignore[attr-defined]
    threading.Timer.__init__ = tagged_init  # type: ignore[method-assign]


class ResponseDefect(AssertionError):
    """An answer broke CloudFormation's contract (none, two, oversized, empty id...)."""


@dataclass(frozen=True)
class Answer:
    status: str
    physical_id: str
    reason: str
    body: dict[str, Any]
    received_at: float = 0.0


@dataclass
class ResourceState:
    """What CloudFormation knows of one resource."""

    properties: dict[str, Any]
    physical_id: str
    history: list[Answer] = field(default_factory=list)


@dataclass(frozen=True)
class Invocation:
    """One delivery of one event to one container, and what CloudFormation got from it.

    ``answer`` is None when nothing reached CloudFormation: the process died (``crashed``), or
    the response URL refused or lost the answer (``delivery_fault``). Times are epoch seconds.
    """

    event: dict[str, Any]
    answer: Answer | None
    crashed: BaseException | None
    started_at: float
    deadline_at: float
    finished_at: float
    delivery_fault: DeliveryFault | None = None
    log_lines: tuple[str, ...] = ()
    transported: Transported | None = None
    """What the queue did with the event (None: delivered straight to a container)."""

    @property
    def duplicate(self) -> bool:
        """SQS dropped the event: the same RequestId was queued in the last 5 minutes."""
        return self.transported is not None and self.transported.duplicate

    @property
    def request_type(self) -> str:
        return str(self.event["RequestType"])

    @property
    def logical_id(self) -> str:
        return str(self.event["LogicalResourceId"])

    @property
    def request_id(self) -> str:
        return str(self.event["RequestId"])

    @property
    def succeeded(self) -> bool:
        return self.answer is not None and self.answer.status == "SUCCESS"

    @property
    def reported_physical_id(self) -> str | None:
        """The physical id CloudFormation learnt from this invocation (None: no answer)."""
        return None if self.answer is None else self.answer.physical_id


class CustomResourceDriver:
    """Sends events for resources of one stack to one provider container, checks each answer.

    ``new_container`` makes a fresh execution environment (after a crash, or for a concurrent
    invocation); by default it replicates ``container``'s code, handler and environment.
    ``clock`` lets the driver model CloudFormation's waits (``ServiceTimeout``) without sleeping.
    """

    def __init__(
        self,
        container: Target,
        sink: ResponseSink,
        *,
        stack_id: str,
        service_token: str = "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        new_container: Callable[[], Target] | None = None,
        clock: VirtualClock | None = None,
        sensitive_values: Iterable[str] = (),
        check_logs: bool = True,
    ) -> None:
        self.container = container
        self.sink = sink
        self.stack_id = stack_id
        self.service_token = service_token
        self.new_container = new_container or _replica_factory(container)
        self.clock = clock
        self.check_logs = check_logs
        self.resources: dict[str, ResourceState] = {}
        self.pending_cleanup: list[tuple[str, ResourceState]] = []
        self.invocations: list[Invocation] = []
        self.sensitive_values: set[str] = set(sensitive_values)
        self._lock = threading.Lock()

    def cold_start(self) -> None:
        """Make the next event start in fresh execution environments (no warm caches)."""
        if isinstance(self.container, LocalTransport):
            self.container.cold_start()
        else:
            self.container = self.new_container()

    @property
    def stack_name(self) -> str:
        return self.stack_id.split("/")[1]

    # -- raw events ----------------------------------------------------------------------

    def event(
        self,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        physical_id: str | None = None,
        old_properties: Mapping[str, object] | None = None,
        request_id: str | None = None,
    ) -> dict[str, Any]:
        """A real-shaped event (stringified properties, a pre-signed-looking response URL)."""
        request_id = request_id or str(uuid.uuid4())
        return make_event(
            request_type,
            stack_id=self.stack_id,
            logical_id=logical_id,
            properties=properties,
            response_url=self.sink.url(request_id),
            request_id=request_id,
            physical_id=physical_id,
            old_properties=old_properties,
            service_token=self.service_token,
        )

    def invoke(
        self,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        physical_id: str | None = None,
        old_properties: Mapping[str, object] | None = None,
        request_id: str | None = None,
        timeout_s: float | None = None,
        delivery_fault: DeliveryFault | None = None,
        container: Target | None = None,
    ) -> Invocation:
        """Send one event; the checked outcome, answered or not (never raises for silence)."""
        event = self.event(
            request_type,
            logical_id,
            properties,
            physical_id=physical_id,
            old_properties=old_properties,
            request_id=request_id,
        )
        return self.deliver(
            event, timeout_s=timeout_s, delivery_fault=delivery_fault, container=container
        )

    def send(
        self,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        physical_id: str | None = None,
        old_properties: Mapping[str, object] | None = None,
        request_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        """Invoke the provider once and return its single, checked answer."""
        invocation = self.invoke(
            request_type,
            logical_id,
            properties,
            physical_id=physical_id,
            old_properties=old_properties,
            request_id=request_id,
            timeout_s=timeout_s,
        )
        if invocation.answer is None:
            raise ResponseDefect(
                f"{request_type} {logical_id}: 0 answers, expected 1 "
                f"(the process died: {invocation.crashed!r})"
            )
        return invocation.answer

    def deliver(
        self,
        event: Mapping[str, Any],
        *,
        timeout_s: float | None = None,
        delivery_fault: DeliveryFault | None = None,
        container: Target | None = None,
    ) -> Invocation:
        """Deliver ``event`` to a container (``self.container`` unless given) and check what
        came back. Delivering the same event twice is what Lambda's at-least-once
        asynchronous invocation sometimes does; each delivery must answer once."""
        event = dict(event)
        request_id = str(event["RequestId"])
        if delivery_fault == "refused":
            event["ResponseURL"] = _refusing_url(request_id)
        elif delivery_fault is not None:
            self.sink.inject(request_id, delivery_fault)
        self._watch(event)
        own = container is None
        target = self.container if container is None else container
        timeout = timeout_s if timeout_s is not None else target.timeout_s
        window = target.deadline_s(timeout)
        before = len(self.sink.deliveries(request_id))
        _tag_timers()
        token = object()
        crashed: BaseException | None = None
        result: object = None
        started = time.time()
        started_mono = time.monotonic()
        with self._captured_logs() as log_lines:
            _INVOCATION.token = token
            try:
                result = target.invoke(event, timeout_s=timeout)
            except (ProcessCrash, Exception) as error:
                crashed = error
            finally:
                _INVOCATION.token = None
        elapsed = time.monotonic() - started_mono
        finished = time.time()
        leftover = [
            t
            for t in threading.enumerate()
            if isinstance(t, threading.Timer)
            and getattr(t, _TIMER_TAG, None) is token
            and t.is_alive()
        ]
        if crashed is not None and own:
            self.container = self.new_container()
        invocation = self._check(
            event,
            before=before,
            started=started,
            finished=finished,
            timeout=window,
            elapsed=elapsed,
            crashed=crashed,
            delivery_fault=delivery_fault,
            leftover=leftover,
            log_lines=tuple(log_lines),
            transported=result if isinstance(result, Transported) else None,
        )
        with self._lock:
            self.invocations.append(invocation)
        return invocation

    def wait_service_timeout(self, properties: Mapping[str, object] | None = None) -> None:
        """CloudFormation gives up on a silent resource after its ``ServiceTimeout``."""
        if self.clock is not None:
            self.clock.advance(service_timeout_s(properties or {}) + 1)

    # -- CloudFormation's view -------------------------------------------------------------

    def create(self, logical_id: str, properties: Mapping[str, object]) -> Answer:
        answer = self.send("Create", logical_id, properties)
        if answer.status == "SUCCESS":
            self.resources[logical_id] = ResourceState(
                dict(stringify(properties)), answer.physical_id, [answer]
            )
        return answer

    def update(self, logical_id: str, properties: Mapping[str, object]) -> Answer | None:
        """Update if the properties changed (None: CloudFormation sends nothing).

        On success with a new physical id, the old one is queued for the cleanup Delete.
        """
        state = self.resources[logical_id]
        new = dict(stringify(properties))
        if new == state.properties:
            return None
        answer = self.send(
            "Update",
            logical_id,
            new,
            physical_id=state.physical_id,
            old_properties=state.properties,
        )
        if answer.status == "SUCCESS":
            if answer.physical_id != state.physical_id:
                self.pending_cleanup.append(
                    (logical_id, ResourceState(state.properties, state.physical_id))
                )
            self.resources[logical_id] = ResourceState(
                new, answer.physical_id, [*state.history, answer]
            )
        return answer

    def cleanup(self) -> list[Answer]:
        """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: delete replaced physical ids."""
        answers = [
            self.send("Delete", logical_id, old.properties, physical_id=old.physical_id)
            for logical_id, old in self.pending_cleanup
        ]
        self.pending_cleanup.clear()
        return answers

    def delete(self, logical_id: str) -> Answer:
        state = self.resources.pop(logical_id)
        return self.send("Delete", logical_id, state.properties, physical_id=state.physical_id)

    def invented_physical_id(self, logical_id: str) -> str:
        """The id CloudFormation makes up for a resource whose Create never answered."""
        return f"{self.stack_name}-{logical_id}-{uuid.uuid4().hex[:12].upper()}"

    # -- failure sequences -----------------------------------------------------------------

    def create_or_roll_back(
        self,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        timeout_s: float | None = None,
    ) -> list[Invocation]:
        """Create; if it failed, the rollback Delete CloudFormation sends for it.

        A FAILED Create is deleted with the physical id it reported; a Create that never
        answered is failed after ``ServiceTimeout`` and deleted with an invented
        ``<stack>-<logical>-<suffix>`` id. Only a successful Create becomes a resource.
        """
        create = self.invoke("Create", logical_id, properties, timeout_s=timeout_s)
        if create.succeeded:
            assert create.answer is not None
            self.resources[logical_id] = ResourceState(
                dict(stringify(properties)), create.answer.physical_id, [create.answer]
            )
            return [create]
        return [create, self.delete_failed_create(create)]

    def delete_failed_create(self, create: Invocation) -> Invocation:
        """The rollback Delete for a Create that failed or never answered."""
        properties = _user_properties(create.event["ResourceProperties"])
        physical_id = create.reported_physical_id
        if physical_id is None:
            self.wait_service_timeout(properties)
            physical_id = self.invented_physical_id(create.logical_id)
        return self.invoke("Delete", create.logical_id, properties, physical_id=physical_id)

    def update_or_roll_back(
        self,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        timeout_s: float | None = None,
    ) -> list[Invocation]:
        """Update; if it failed (or never answered), the rollback Update with the properties
        swapped, sent with the physical id CloudFormation knows. A successful replacement
        queues the old id for the cleanup Delete."""
        state = self.resources[logical_id]
        new = dict(stringify(properties))
        if new == state.properties:
            return []
        update = self.invoke(
            "Update",
            logical_id,
            new,
            physical_id=state.physical_id,
            old_properties=state.properties,
            timeout_s=timeout_s,
        )
        if update.succeeded:
            assert update.answer is not None
            if update.answer.physical_id != state.physical_id:
                self.pending_cleanup.append(
                    (logical_id, ResourceState(state.properties, state.physical_id))
                )
            self.resources[logical_id] = ResourceState(
                new, update.answer.physical_id, [*state.history, update.answer]
            )
            return [update]
        if update.answer is None:
            self.wait_service_timeout(new)
        return [update, self.roll_back_update(logical_id, failed_properties=new)]

    def roll_back_update(
        self, logical_id: str, *, failed_properties: Mapping[str, object]
    ) -> Invocation:
        """UPDATE_ROLLBACK_IN_PROGRESS for one resource: an Update back to the properties
        CloudFormation holds, ``OldResourceProperties`` being the ones that were attempted.
        If that Update answers with another id than it was sent, the sent id is deleted in
        the rollback's cleanup."""
        state = self.resources[logical_id]
        rollback = self.invoke(
            "Update",
            logical_id,
            state.properties,
            physical_id=state.physical_id,
            old_properties=failed_properties,
        )
        if rollback.succeeded:
            assert rollback.answer is not None
            if rollback.answer.physical_id != state.physical_id:
                self.pending_cleanup.append(
                    (logical_id, ResourceState(dict(failed_properties), state.physical_id))
                )
                state.physical_id = rollback.answer.physical_id
            state.history.append(rollback.answer)
        return rollback

    # -- checks ----------------------------------------------------------------------------

    def _check(
        self,
        event: Mapping[str, Any],
        *,
        before: int,
        started: float,
        finished: float,
        timeout: float,
        elapsed: float,
        crashed: BaseException | None,
        delivery_fault: DeliveryFault | None,
        leftover: Sequence[threading.Thread],
        log_lines: tuple[str, ...],
        transported: Transported | None = None,
    ) -> Invocation:
        what = f"{event['RequestType']} {event['LogicalResourceId']}"
        request_id = str(event["RequestId"])
        deadline = started + timeout
        for thread in leftover:
            thread.join(0.5)
        still_running = [t.name for t in leftover if t.is_alive()]
        deliveries = self.sink.deliveries(request_id)[before:]
        if crashed is None:
            if elapsed > timeout + _SLACK_S:
                raise ResponseDefect(
                    f"{what}: the handler ran {elapsed:.2f} s, past its {timeout:.2f} s "
                    "deadline (Lambda would have killed it)"
                )
            if still_running and delivery_fault is None:
                raise ResponseDefect(
                    f"{what}: the handler returned with threads still running {still_running} "
                    "(Lambda freezes them when the handler returns)"
                )
        if len(deliveries) > 1:
            raise ResponseDefect(f"{what}: {len(deliveries)} answers, expected 1")
        if self.check_logs:
            self._check_logs(what, log_lines)
        answer: Answer | None = None
        if deliveries:
            delivery = deliveries[0]
            if delivery.received_at > deadline + _SLACK_S:
                raise ResponseDefect(
                    f"{what}: answer arrived {delivery.received_at - deadline:.2f} s after "
                    "the invocation's deadline"
                )
            if crashed is None and delivery.received_at > finished + _SLACK_S:
                raise ResponseDefect(
                    f"{what}: answer arrived after the handler returned (Lambda freezes "
                    "the sandbox when the handler returns)"
                )
            answer = check_answer(delivery.body, delivery.size, event)
            answer = Answer(
                answer.status, answer.physical_id, answer.reason, answer.body, delivery.received_at
            )
            self._check_values(what, delivery.body, event)
        elif (
            crashed is None
            and delivery_fault is None
            and not (transported and transported.duplicate)
        ):
            raise ResponseDefect(f"{what}: the handler returned without answering")
        return Invocation(
            event=dict(event),
            answer=answer,
            crashed=crashed,
            started_at=started,
            deadline_at=deadline,
            finished_at=finished,
            delivery_fault=delivery_fault,
            log_lines=log_lines,
            transported=transported,
        )

    def _watch(self, event: Mapping[str, Any]) -> None:
        """Remember every value the event carries: none may appear in an answer or a log."""
        for key in ("ResourceProperties", "OldResourceProperties"):
            properties = event.get(key) or {}
            for item in properties.get("UserAttributes") or []:
                if isinstance(item, Mapping) and isinstance(item.get("Value"), str):
                    self.sensitive_values.add(item["Value"])
            metadata = properties.get("ClientMetadata") or {}
            if isinstance(metadata, Mapping):
                self.sensitive_values.update(v for v in metadata.values() if isinstance(v, str))

    def _leaks(self, text: str, event: Mapping[str, Any]) -> list[str]:
        identity = [
            str(event.get(key, ""))
            for key in ("StackId", "LogicalResourceId", "RequestId", "PhysicalResourceId")
        ]
        properties = event.get("ResourceProperties") or {}
        identity += [str(properties.get("UserPoolId", "")), str(properties.get("Username", ""))]
        with self._lock:
            values = sorted(self.sensitive_values)
        return [
            value
            for value in values
            if len(value) >= _MIN_SENSITIVE_LENGTH
            and value not in _NOT_SENSITIVE
            and value in text
            and not any(value in known for known in identity)
        ]

    def _check_values(self, what: str, body: Mapping[str, Any], event: Mapping[str, Any]) -> None:
        leaked = self._leaks(json.dumps(body), event)
        if leaked:
            raise ResponseDefect(f"{what}: the answer carries {len(leaked)} attribute value(s)")

    def _check_logs(self, what: str, lines: tuple[str, ...]) -> None:
        text = "\n".join(lines)
        tokens = [token for token in self.sink.tokens if token in text]
        if tokens or "X-Amz-Signature" in text:
            raise ResponseDefect(f"{what}: the handler logged the pre-signed response URL")
        leaked = self._leaks(text, {})
        if leaked:
            raise ResponseDefect(f"{what}: the handler logged {len(leaked)} attribute value(s)")

    @contextmanager
    def _captured_logs(self) -> Iterator[list[str]]:
        lines: list[str] = []
        handler = _ListHandler(lines)
        root = logging.getLogger()
        root.addHandler(handler)
        try:
            yield lines
        finally:
            root.removeHandler(handler)


def check_answer(body: dict[str, Any], size: int, event: Mapping[str, Any]) -> Answer:
    """Enforce the answer contract (DESIGN invariant 4) on one delivered body."""
    if size > MAX_BODY_BYTES:
        raise ResponseDefect(f"answer body is {size} bytes (max {MAX_BODY_BYTES})")
    if body.get("Status") not in ("SUCCESS", "FAILED"):
        raise ResponseDefect(f"answer status {body.get('Status')!r}")
    physical_id = body.get("PhysicalResourceId")
    if not isinstance(physical_id, str) or not physical_id:
        raise ResponseDefect("answer has an empty physical id")
    reason = str(body.get("Reason", ""))
    if len(reason) > MAX_REASON:
        raise ResponseDefect(f"Reason is {len(reason)} characters (max {MAX_REASON})")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if body.get(key) != event[key]:
            raise ResponseDefect(f"answer {key} does not echo the event")
    return Answer(body["Status"], physical_id, reason, body)


def service_timeout_s(properties: Mapping[str, object]) -> float:
    """The resource's ``ServiceTimeout`` (seconds), else CloudFormation's default hour."""
    raw = properties.get("ServiceTimeout")
    try:
        return float(str(raw)) if raw is not None else DEFAULT_SERVICE_TIMEOUT_S
    except ValueError:
        return DEFAULT_SERVICE_TIMEOUT_S


def _answer(body: dict[str, Any], received_at: float) -> Answer:
    return Answer(
        str(body.get("Status")),
        str(body.get("PhysicalResourceId", "")),
        str(body.get("Reason", "")),
        body,
        received_at,
    )


def _user_properties(properties: Mapping[str, Any]) -> dict[str, Any]:
    """Event properties without the ``ServiceToken`` the driver adds to every event."""
    return {key: value for key, value in properties.items() if key != "ServiceToken"}


def _refusing_url(request_id: str) -> str:
    """A response URL on a local port nothing listens on (connection refused)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"https://127.0.0.1:{port}/responses/{request_id}?X-Amz-Signature=refused"


def _replica_factory(container: Target) -> Callable[[], Target]:
    if isinstance(container, LocalTransport):
        return lambda: container  # one queue per provider: every event goes through it
    module = container.module.__name__
    attribute = getattr(container, "_handler").__name__  # noqa: B009 - private, by design

    def replica() -> LambdaContainer:
        return LambdaContainer(
            container.code_dir,
            handler=f"{module}.{attribute}",
            environment=container.environment,
            timeout_s=container.timeout_s,
            function_name=container.function_name,
        )

    return replica


class _ListHandler(logging.Handler):
    def __init__(self, lines: list[str]) -> None:
        super().__init__(level=logging.NOTSET)
        self._lines = lines

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except (TypeError, ValueError):
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self._lines.append(f"{record.levelname} {record.name}: {text}")
