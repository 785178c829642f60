"""A local SQS FIFO queue with its dead-letter queue, on the wall clock (virtual in tests).

moto's SQS forgets a deduplication id once its message is deleted and reads its own clock, so
the transport is modelled here. Each rule names the AWS document it comes from:

1. **Deduplication.** A message sent with a ``MessageDeduplicationId`` seen in the last 5
   minutes is accepted but not delivered, whether or not the first one was already received
   or deleted (SQS Developer Guide, "Exactly-once processing in Amazon SQS": "any messages sent
   with the same message deduplication ID are accepted successfully but aren't delivered during
   the 5-minute deduplication interval").
2. **Group order.** Messages of one ``MessageGroupId`` are received in the order they were
   sent, and none while another message of that group is in flight (SQS Developer Guide,
   "Amazon SQS FIFO queue message ordering" and "Using the message group ID": "you can't
   receive additional messages with the same message group ID until the messages are deleted
   or become visible").
3. **Visibility timeout.** A received message stays invisible for the queue's visibility
   timeout; undeleted, it is then received again, its receive count one higher (SQS Developer
   Guide, "Amazon SQS visibility timeout").
4. **Redrive.** A message received ``max_receive_count`` times and still not deleted moves to
   the dead-letter queue instead of being received again (SQS Developer Guide, "Using
   dead-letter queues in Amazon SQS": "When the ReceiveCount for a message exceeds the
   maxReceiveCount for a queue, Amazon SQS moves the message to a dead-letter queue"); the
   dead-letter queue of a FIFO queue is itself FIFO.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

DEDUPLICATION_INTERVAL_S: Final = 300.0


@dataclass
class _Message:
    message_id: str
    body: str
    group_id: str
    receive_count: int = 0
    visible_at: float = 0.0
    receipt: str | None = None


@dataclass(frozen=True)
class Received:
    """One received message, as an SQS event source mapping hands it to a function."""

    message_id: str
    receipt: str
    body: str
    group_id: str
    receive_count: int

    def record(self) -> dict[str, object]:
        """The message as a record of the SQS event a Lambda function receives (Lambda
        Developer Guide, "Using Lambda with Amazon SQS", the example event of a FIFO queue)."""
        return {
            "messageId": self.message_id,
            "receiptHandle": self.receipt,
            "body": self.body,
            "attributes": {
                "ApproximateReceiveCount": str(self.receive_count),
                "MessageGroupId": self.group_id,
            },
            "eventSource": "aws:sqs",
        }


@dataclass
class FifoQueue:
    """One FIFO queue; ``dead_letters`` (with ``max_receive_count``) is its redrive target."""

    name: str
    visibility_timeout_s: float
    max_receive_count: int | None = None
    dead_letters: FifoQueue | None = None
    now: Callable[[], float] = time.time
    _messages: list[_Message] = field(default_factory=list)
    _sent: dict[str, float] = field(default_factory=dict)
    _ids: itertools.count[int] = field(default_factory=itertools.count)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def send(self, body: str, *, group_id: str, deduplication_id: str) -> str | None:
        """SendMessage; the message's id, or None when it will not be delivered (rule 1)."""
        with self._lock:
            now = self.now()
            self._sent = {
                known: sent
                for known, sent in self._sent.items()
                if now - sent < DEDUPLICATION_INTERVAL_S
            }
            if deduplication_id in self._sent:
                return None
            self._sent[deduplication_id] = now
            message_id = f"{self.name}-{next(self._ids)}"
            self._messages.append(_Message(message_id, body, group_id))
            return message_id

    def receive(self, only: str | None = None) -> Received | None:
        """ReceiveMessage of one message: the oldest visible one whose group has nothing in
        flight (rules 2-4), or None. ``only`` (a message id) receives that message or nothing,
        as the poller that happens to get it would: the local transport runs each message in
        the thread that sent it, so a fault armed for that thread meets its own event."""
        with self._lock:
            now = self.now()
            in_flight = {m.group_id for m in self._messages if m.visible_at > now}
            for message in list(self._messages):
                if (
                    message.group_id in in_flight
                    or message.visible_at > now
                    or (only is not None and message.message_id != only)
                ):
                    in_flight.add(message.group_id)  # the group's later messages wait
                    continue
                if self._redrive(message):
                    continue
                message.receive_count += 1
                message.visible_at = now + self.visibility_timeout_s
                message.receipt = f"{message.message_id}/{message.receive_count}"
                return Received(
                    message.message_id,
                    message.receipt,
                    message.body,
                    message.group_id,
                    message.receive_count,
                )
            return None

    def delete(self, receipt: str) -> None:
        """DeleteMessage; a stale receipt (the message was received again since) deletes
        nothing, as the message's newer receive holds it."""
        with self._lock:
            self._messages = [m for m in self._messages if m.receipt != receipt]

    def holds(self, message_id: str) -> bool:
        """Whether the message is still in this queue (not deleted, not redriven)."""
        with self._lock:
            return any(m.message_id == message_id for m in self._messages)

    def next_visible_at(self) -> float | None:
        """When the first in-flight message becomes visible again (None: none in flight)."""
        with self._lock:
            now = self.now()
            waiting = [m.visible_at for m in self._messages if m.visible_at > now]
            return min(waiting) if waiting else None

    def __len__(self) -> int:
        with self._lock:
            return len(self._messages)

    def _redrive(self, message: _Message) -> bool:
        if (
            self.dead_letters is None
            or self.max_receive_count is None
            or message.receive_count < self.max_receive_count
        ):
            return False
        self._messages.remove(message)
        self.dead_letters.accept_redriven(message.message_id, message.body, message.group_id)
        return True

    def accept_redriven(self, message_id: str, body: str, group_id: str) -> None:
        """A message another queue's redrive policy moved here; it keeps its id and group
        (the dead-letter queue of a FIFO queue is FIFO) and is not deduplicated."""
        with self._lock:
            self._messages.append(_Message(message_id, body, group_id))


@dataclass(frozen=True)
class Invocation:
    """One invocation the mapping made, and how it ended (None: returned)."""

    received: Received
    error: BaseException | None


@dataclass
class EventSourceMapping:
    """Lambda's SQS event source mapping for one function, batch size 1 (Lambda Developer
    Guide, "Using Lambda with Amazon SQS"):

    - a message whose invocation returned is deleted; one whose invocation raised, timed out or
      died stays in flight and is received again after the visibility timeout;
    - at most ``maximum_concurrency`` invocations run at once ("Configuring maximum concurrency
      for Amazon SQS event sources"); here they run in rounds of that many, each invocation on
      its own thread (its own execution environment).

    ``wait`` lets wall-clock time pass (a virtual clock's ``advance``) while every message left
    is in flight, so that a redelivery costs no real time.
    """

    queue: FifoQueue
    invoke: Callable[[dict[str, object]], object]
    maximum_concurrency: int
    wait: Callable[[float], None]
    invocations: list[Invocation] = field(default_factory=list)

    def drain(self) -> list[Invocation]:
        """Poll until the queue is empty; the invocations this made."""
        start = len(self.invocations)
        while True:
            batch: list[Received] = []
            while len(batch) < self.maximum_concurrency:
                received = self.queue.receive()
                if received is None:
                    break
                batch.append(received)
            if not batch:
                visible_at = self.queue.next_visible_at()
                if visible_at is None:
                    return self.invocations[start:]
                self.wait(max(visible_at - self.queue.now(), 0.0) + 0.001)
                continue
            results: dict[int, BaseException | None] = {}
            threads = [
                threading.Thread(target=self._run, args=(index, received, results))
                for index, received in enumerate(batch)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            for index, received in enumerate(batch):
                error = results.get(index)
                if error is None:
                    self.queue.delete(received.receipt)
                self.invocations.append(Invocation(received, error))

    def _run(
        self, index: int, received: Received, results: dict[int, BaseException | None]
    ) -> None:
        try:
            self.invoke({"Records": [received.record()]})
            results[index] = None
        # A process that died (BaseException in the local runtime) is a result here.
        except BaseException as error:
            results[index] = error
