"""Answers that cannot be delivered, and invocations that run out of time (issue 3, section 3).

The pre-signed response URL may refuse the answer (403, 500), drop the connection, not listen
at all, or hang. Each worker invocation must still end before its deadline and say in its log
that the answer was not delivered; it then raises, so SQS delivers the message again after its
visibility timeout, and after ``MAX_RECEIVES`` receives the dead-letter consumer tries once
more. CloudFormation, having no answer, fails the resource after its ``ServiceTimeout`` and
deletes it with an invented id, which must restore everything.

Short worker deadlines (8 s) keep this quick: crhelper's timer answers 5 s before the deadline.
"""

from __future__ import annotations

import threading

import pytest

from cfnlocal.aws_faults import Fault
from cognito_seed_users.cognito_user_attributes import (
    MAX_RECEIVES,
    SERVICE_TIMEOUT,
    VISIBILITY_TIMEOUT,
)

DEADLINE_S = 8.0
NOT_DELIVERED = ("not delivered", "refused by the response URL")


@pytest.mark.parametrize("fault", ["403", "500", "close", "refused", "hang"])
def test_undeliverable_answer_is_received_again_then_dead_lettered(lifecycle, fault):
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    create = driver.invoke(
        "Create", ci, run.synthesized[ci], timeout_s=DEADLINE_S, delivery_fault=fault
    )
    assert create.crashed is None
    assert create.answer is None, "the response URL accepted nothing"
    assert create.transported is not None
    workers = [r for r in create.transported.runs if r.function == "worker"]
    assert [r.receive_count for r in workers] == list(range(1, MAX_RECEIVES + 1))
    assert {type(r.error).__name__ for r in workers} == {"AnswerNotDelivered"}
    assert create.transported.dead_lettered
    journey = create.finished_at - create.started_at
    assert journey < (MAX_RECEIVES + 1) * VISIBILITY_TIMEOUT.to_seconds(), journey
    assert journey < SERVICE_TIMEOUT.to_seconds(), "answered (or given up) before CloudFormation"
    log = "\n".join(create.log_lines)
    assert any(words in log for words in NOT_DELIVERED), log
    assert not lifecycle.sink.deliveries(create.request_id)
    delete = driver.delete_failed_create(create)
    assert owner_of_invented(delete.event["PhysicalResourceId"], ci)
    assert delete.succeeded
    run.check(f"after an undeliverable answer ({fault}) and the invented-id Delete")
    run.teardown(f"undeliverable answer ({fault})")


def test_hung_aws_call_gets_the_timeout_answer_and_no_second_one(lifecycle):
    """AdminGetUser hangs past the point where crhelper's timer answers FAILED (5 s before the
    deadline). The handler thread resumes afterwards: it must write nothing and not answer
    again; the answer was delivered, so the message is done. CloudFormation then deletes the
    resource with the reported id. (A lost timeout answer is the undeliverable case above.)"""
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    hang = Fault("delay", 0, delay_s=DEADLINE_S - 4.0, operation="AdminGetUser")
    event = driver.event("Create", ci, run.synthesized[ci])
    with lifecycle.recorder.armed([hang], thread=threading.get_ident()) as calls:
        create = driver.deliver(event, timeout_s=DEADLINE_S)
    assert [c.operation for c in calls if c.operation.startswith("Admin")] == ["AdminGetUser"], (
        "no Cognito write after the timeout answer"
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED"
    assert "timed out" in create.answer.reason
    assert create.transported is not None
    assert len(create.transported.runs) == 1
    assert create.finished_at - create.started_at < DEADLINE_S
    delete = driver.delete_failed_create(create)
    assert delete.succeeded
    run.check("after the timed-out Create and its Delete")
    run.teardown("timed-out Create")


def owner_of_invented(physical_id: str, logical_id: str) -> bool:
    return physical_id.startswith(f"CognitoSeedUsers-{logical_id}-")
