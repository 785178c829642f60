"""The local SQS FIFO model (``cfnlocal/sqs_fifo.py``): each rule of its docstring, as the SQS
Developer Guide states it."""

from __future__ import annotations

import threading

import pytest

from cfnlocal.sqs_fifo import DEDUPLICATION_INTERVAL_S, EventSourceMapping, FifoQueue

VISIBILITY_S = 360.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def dead_letters(clock: Clock) -> FifoQueue:
    return FifoQueue("dlq.fifo", visibility_timeout_s=180, now=clock)


@pytest.fixture
def queue(clock: Clock, dead_letters: FifoQueue) -> FifoQueue:
    return FifoQueue(
        "events.fifo",
        visibility_timeout_s=VISIBILITY_S,
        max_receive_count=3,
        dead_letters=dead_letters,
        now=clock,
    )


def test_rule_1_a_duplicate_within_five_minutes_is_accepted_but_not_delivered(queue, clock):
    assert queue.send("create", group_id="alice", deduplication_id="req-1")
    received = queue.receive()
    assert received is not None
    queue.delete(received.receipt)
    clock.advance(DEDUPLICATION_INTERVAL_S - 1)

    assert not queue.send("create", group_id="alice", deduplication_id="req-1")
    assert queue.receive() is None


def test_rule_1_the_same_id_after_five_minutes_is_delivered_again(queue, clock):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    clock.advance(DEDUPLICATION_INTERVAL_S)

    assert queue.send("create", group_id="alice", deduplication_id="req-1")
    assert len(queue) == 2


def test_rule_2_one_group_in_send_order_one_at_a_time(queue):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    queue.send("delete", group_id="alice", deduplication_id="req-2")
    queue.send("bob", group_id="bob", deduplication_id="req-3")

    first = queue.receive()
    other = queue.receive()
    assert (first.body, other.body) == ("create", "bob")
    assert queue.receive() is None  # alice's delete waits for her create
    queue.delete(first.receipt)
    assert queue.receive().body == "delete"


def test_rule_3_an_undeleted_message_is_received_again_after_the_visibility_timeout(queue, clock):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    queue.send("delete", group_id="alice", deduplication_id="req-2")
    first = queue.receive()

    clock.advance(VISIBILITY_S - 1)
    assert queue.receive() is None
    assert queue.next_visible_at() == pytest.approx(clock.now + 1)
    clock.advance(1)
    again = queue.receive()

    assert (again.body, again.receive_count) == ("create", 2)
    assert again.record()["attributes"]["ApproximateReceiveCount"] == "2"
    queue.delete(first.receipt)  # the first receive's receipt is stale
    assert len(queue) == 2


def test_rule_4_after_max_receives_the_message_moves_to_the_dead_letter_queue(
    queue, dead_letters, clock
):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    for _ in range(3):
        assert queue.receive() is not None
        clock.advance(VISIBILITY_S)

    assert queue.receive() is None
    assert len(queue) == 0
    lost = dead_letters.receive()
    assert (lost.body, lost.group_id, lost.receive_count) == ("create", "alice", 1)


def test_rule_4_a_redriven_message_unblocks_its_group(queue, clock):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    queue.send("delete", group_id="alice", deduplication_id="req-2")
    for _ in range(3):
        queue.receive()
        clock.advance(VISIBILITY_S)

    assert queue.receive().body == "delete"


# -- the event source mapping -----------------------------------------------------------------


class Died(BaseException):
    """The execution environment died: no return, no exception the function could catch."""


def test_mapping_deletes_what_returned_and_redelivers_what_died_after_the_visibility_timeout(
    queue, clock
):
    queue.send("create", group_id="alice", deduplication_id="req-1")
    queue.send("bob", group_id="bob", deduplication_id="req-2")
    attempts: list[tuple[str, str]] = []

    def invoke(event):
        (record,) = event["Records"]
        attempts.append((record["body"], record["attributes"]["ApproximateReceiveCount"]))
        if record["body"] == "create" and len(attempts) <= 2:
            raise Died

    mapping = EventSourceMapping(queue, invoke, maximum_concurrency=2, wait=clock.advance)
    started = clock.now

    invocations = mapping.drain()

    assert sorted(attempts) == [("bob", "1"), ("create", "1"), ("create", "2")]
    assert [type(i.error) for i in invocations].count(Died) == 1
    assert len(queue) == 0
    assert VISIBILITY_S <= clock.now - started < VISIBILITY_S + 1


def test_mapping_runs_at_most_its_maximum_concurrency(queue):
    for number in range(4):
        queue.send(f"m{number}", group_id=f"g{number}", deduplication_id=f"req-{number}")
    running: list[int] = []
    peak: list[int] = [0]
    lock = threading.Lock()
    barrier = threading.Barrier(2, timeout=5)

    def invoke(event):
        with lock:
            running.append(1)
            peak[0] = max(peak[0], len(running))
        barrier.wait()  # both invocations of a round run at once
        with lock:
            running.pop()

    EventSourceMapping(queue, invoke, maximum_concurrency=2, wait=lambda _: None).drain()

    assert peak[0] == 2
    assert len(queue) == 0


def test_mapping_leaves_a_message_that_always_dies_to_the_dead_letter_queue(
    queue, dead_letters, clock
):
    queue.send("create", group_id="alice", deduplication_id="req-1")

    def invoke(event):
        raise Died

    mapping = EventSourceMapping(queue, invoke, maximum_concurrency=2, wait=clock.advance)

    invocations = mapping.drain()

    assert len(invocations) == 3
    assert len(dead_letters) == 1
