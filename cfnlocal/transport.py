"""The provider as CloudFormation reaches it: the front function, the FIFO queue, the worker and
the dead-letter consumer, each from the built asset, over the local SQS model (``sqs_fifo``).

``LocalTransport.invoke(event)`` is one asynchronous invocation of the ServiceToken function
followed by what Lambda and SQS then do with its message:

1. the front function runs (``front.handler``); its ``SendMessage`` is answered by the local
   queue (a ``before-call`` hook on its SQS client: botocore validates the parameters against
   the SQS model first), which drops a deduplication id it saw in the last 5 minutes;
2. the worker's event source mapping receives the message (batch size 1) once its group has
   nothing in flight, at most ``maximum_concurrency`` at once (Lambda Developer Guide,
   "Configuring maximum concurrency for Amazon SQS event sources"), each in an execution
   environment of its own. An invocation that returns deletes the message; one that raises or
   dies leaves it in flight until the visibility timeout (Lambda Developer Guide, "Using Lambda
   with Amazon SQS"); the model then starts the next receive in a fresh environment;
3. after ``maxReceiveCount`` receives the message moves to the dead-letter queue and the
   consumer (``dead_letters.handler``) answers FAILED.

Each message runs in the thread that sent it (``FifoQueue.receive(only=...)``), so faults armed
for that thread meet their own event, logs and crhelper's timers are the invocation's. Waiting
out a visibility timeout moves the virtual clock, never while a worker runs (its deadline is
epoch based). CloudFormation's limit for the whole journey is the resource's ServiceTimeout,
which is what the driver checks the answer against (``deadline_s``).
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from botocore.awsrequest import AWSResponse
from botocore.compat import HTTPHeaders

from .aws_faults import ProcessCrash
from .clock import VirtualClock
from .lambda_runtime import LambdaContainer
from .sqs_fifo import FifoQueue, Received

_POLL_S: Final = 0.005
DEAD_LETTER_ATTEMPTS: Final = 3
"""Receives of a dead-lettered message the model makes before it gives up (on AWS the consumer
keeps trying until the message's retention ends; CloudFormation has timed out long before)."""
_ROUTE_ID: Final = "cfnlocal-send-message"


@dataclass(frozen=True)
class WorkerRun:
    """One invocation of the worker or the dead-letter consumer for one message."""

    request_id: str
    function: str
    receive_count: int
    error: BaseException | None


@dataclass(frozen=True)
class Transported:
    """What happened to one event between the front function and the answer."""

    queued: bool
    """False when the front function answered (or dropped) the event itself."""
    duplicate: bool = False
    """SQS dropped the message: its RequestId was sent in the last 5 minutes."""
    runs: tuple[WorkerRun, ...] = ()

    @property
    def dead_lettered(self) -> bool:
        return any(run.function == "consumer" for run in self.runs)

    @property
    def receives(self) -> int:
        return sum(1 for run in self.runs if run.function == "worker")


@dataclass
class LocalTransport:
    """One provider's front function, queues and consumers (shared by every stack using it)."""

    new_front: Callable[[], LambdaContainer]
    new_worker: Callable[[], LambdaContainer]
    new_consumer: Callable[[], LambdaContainer]
    queue: FifoQueue
    maximum_concurrency: int
    worker_timeout_s: float
    service_timeout_s: float
    clock: VirtualClock | None = None
    runs: list[WorkerRun] = field(default_factory=list)
    _front: LambdaContainer | None = None
    _idle: list[LambdaContainer] = field(default_factory=list)
    _idle_consumers: list[LambdaContainer] = field(default_factory=list)
    _running: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _slots: threading.Semaphore = field(init=False)
    _sent: threading.local = field(default_factory=threading.local)

    def __post_init__(self) -> None:
        self._slots = threading.Semaphore(self.maximum_concurrency)

    # -- what the driver sees of it (as of a container) --------------------------------------

    @property
    def timeout_s(self) -> float:
        """The worker's timeout (``invoke``'s default)."""
        return self.worker_timeout_s

    def deadline_s(self, timeout_s: float | None) -> float:
        """How long CloudFormation waits for this event's answer: the ServiceTimeout."""
        return self.service_timeout_s

    def cold_start(self) -> None:
        """Drop every idle execution environment: the next event of each function starts cold."""
        with self._lock:
            self._front = None
            self._idle.clear()
            self._idle_consumers.clear()

    def invoke(self, event: dict[str, Any], *, timeout_s: float | None = None) -> Transported:
        """Invoke the ServiceToken function with ``event``, then run its message to the end;
        ``timeout_s`` replaces the worker's timeout."""
        self._sent.message_id = None
        self._sent.dropped = False
        self.front().invoke(event)
        message_id: str | None = self._sent.message_id
        if message_id is None:
            return Transported(queued=False, duplicate=bool(self._sent.dropped))
        request_id = str(event["RequestId"])
        runs: list[WorkerRun] = []
        dead_attempts = 0
        while True:
            received = self.queue.receive(only=message_id)
            if received is not None:
                runs.append(self._run(self._worker, "worker", request_id, received, timeout_s))
                continue
            if self.queue.holds(message_id):
                self._wait(self.queue)
                continue
            dead_letters = self.queue.dead_letters
            if dead_letters is None or not dead_letters.holds(message_id):
                return Transported(queued=True, runs=tuple(runs))
            if dead_attempts == DEAD_LETTER_ATTEMPTS:
                return Transported(queued=True, runs=tuple(runs))
            received = dead_letters.receive(only=message_id)
            if received is None:
                self._wait(dead_letters)
                continue
            dead_attempts += 1
            runs.append(self._run(self._consumer, "consumer", request_id, received, None))

    def front(self) -> LambdaContainer:
        """The front function's environment, its SendMessage routed to the local queue."""
        with self._lock:
            if self._front is None:
                self._front = self.new_front()
                route_send_message(self._front, self._accept)
            return self._front

    # -- the queue's side ---------------------------------------------------------------------

    def _accept(self, params: dict[str, Any]) -> dict[str, Any]:
        body = str(params["MessageBody"])
        message_id = self.queue.send(
            body,
            group_id=str(params["MessageGroupId"]),
            deduplication_id=str(params["MessageDeduplicationId"]),
        )
        # SQS answers a deduplicated message as if it had been sent.
        self._sent.message_id = message_id
        self._sent.dropped = message_id is None
        return {
            "MessageId": message_id or "deduplicated",
            "MD5OfMessageBody": hashlib.md5(body.encode(), usedforsecurity=False).hexdigest(),
            "SequenceNumber": str(time.time_ns()),
        }

    def _worker(self) -> LambdaContainer:
        with self._lock:
            return self._idle.pop() if self._idle else self.new_worker()

    def _consumer(self) -> LambdaContainer:
        with self._lock:
            return self._idle_consumers.pop() if self._idle_consumers else self.new_consumer()

    def _run(
        self,
        environment: Callable[[], LambdaContainer],
        function: str,
        request_id: str,
        received: Received,
        timeout_s: float | None,
    ) -> WorkerRun:
        queue = self.queue if function == "worker" else self.queue.dead_letters
        assert queue is not None
        with self._slots:
            container = environment()
            with self._lock:
                self._running += 1
            error: BaseException | None = None
            try:
                container.invoke(
                    {"Records": [received.record()]},
                    timeout_s=timeout_s if function == "worker" else None,
                )
            except (ProcessCrash, Exception) as raised:
                error = raised
            finally:
                with self._lock:
                    self._running -= 1
        if error is None:
            queue.delete(received.receipt)
        # Discarded after any error, as after a crash: the next receive starts cold.
        if error is None:
            with self._lock:
                (self._idle if function == "worker" else self._idle_consumers).append(container)
        run = WorkerRun(request_id, function, received.receive_count, error)
        with self._lock:
            self.runs.append(run)
        return run

    def _wait(self, queue: FifoQueue) -> None:
        """Let time pass until the queue may hand out the message: real time while any worker
        runs (it may delete the message that holds the group), else the virtual clock jumps
        to the next visibility timeout's end."""
        with self._lock:
            idle = self._running == 0
        visible_at = queue.next_visible_at()
        if idle and visible_at is not None and self.clock is not None:
            self.clock.advance(max(visible_at - time.time(), 0.0) + 0.001)
            return
        time.sleep(_POLL_S)


def route_send_message(
    front: LambdaContainer, accept: Callable[[dict[str, Any]], dict[str, Any]]
) -> None:
    """Answer the front function's SendMessage calls with ``accept(parameters)``.

    The hooks go on the client ``front.py`` caches (built here, in the function's environment):
    ``before-parameter-build`` sees the caller's parameters, and a ``before-call`` handler that
    returns ``(http, parsed)`` answers the call without sending it (botocore's documented
    short-circuit), after botocore has validated the parameters against the SQS model.
    """
    client = front.call("_sqs")
    pending: dict[int, dict[str, Any]] = {}

    def remember(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:  # noqa: ANN401
        pending[id(context)] = dict(params)

    def answer(context: dict[str, Any], **_: Any) -> tuple[AWSResponse, dict[str, Any]]:  # noqa: ANN401
        params = pending.pop(id(context))
        parsed = accept(params)
        parsed["ResponseMetadata"] = {"HTTPStatusCode": 200, "HTTPHeaders": {}}
        return AWSResponse("https://sqs.local", 200, HTTPHeaders(), None), parsed

    events = client.meta.events
    events.register("before-parameter-build.sqs.SendMessage", remember, unique_id=_ROUTE_ID)
    events.register("before-call.sqs.SendMessage", answer, unique_id=f"{_ROUTE_ID}-answer")


def queue_url(name: str, region: str, account: str) -> str:
    """A queue's URL as SQS gives it (``Ref`` of an ``AWS::SQS::Queue``)."""
    return f"https://sqs.{region}.amazonaws.com/{account}/{name}"
