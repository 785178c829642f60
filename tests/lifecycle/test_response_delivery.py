"""Answers that cannot be delivered, and invocations that run out of time (issue 3, section 3).

The pre-signed response URL may refuse the answer (403, 500), drop the connection, not listen
at all, or hang. The invocation must still end before its deadline (the driver checks that the
handler returned in time and that no answer arrived late or twice) and say in its log that the
answer was not delivered. CloudFormation, having no answer, fails the resource after its
``ServiceTimeout`` and deletes it with an invented id, which must restore everything.

Short deadlines (8 s) keep this quick: crhelper's timer answers 5 s before the deadline.
"""

from __future__ import annotations

import threading

import pytest

from cfnlocal.aws_faults import Fault

DEADLINE_S = 8.0
NOT_DELIVERED = ("not delivered", "refused by the response URL")


@pytest.mark.parametrize("fault", ["403", "500", "close", "refused", "hang"])
def test_undeliverable_answer_ends_in_time_and_says_so(lifecycle, fault):
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    create = driver.invoke(
        "Create", ci, run.synthesized[ci], timeout_s=DEADLINE_S, delivery_fault=fault
    )
    assert create.crashed is None
    assert create.answer is None, "the response URL accepted nothing"
    assert create.finished_at - create.started_at < DEADLINE_S
    log = "\n".join(create.log_lines)
    assert any(words in log for words in NOT_DELIVERED), log
    assert not lifecycle.sink.deliveries(create.request_id)
    delete = driver.delete_failed_create(create)
    assert owner_of_invented(delete.event["PhysicalResourceId"], ci)
    assert delete.succeeded
    run.check(f"after an undeliverable answer ({fault}) and the invented-id Delete")
    run.teardown(f"undeliverable answer ({fault})")


@pytest.mark.parametrize("fault", [None, "500"])
def test_hung_aws_call_gets_the_timeout_answer_and_no_second_one(lifecycle, fault):
    """AdminGetUser hangs past the point where crhelper's timer answers FAILED (5 s before the
    deadline). The handler thread resumes afterwards: it must write nothing and not answer
    again. CloudFormation then deletes the resource (reported id, or invented if even the
    timeout answer was lost)."""
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    hang = Fault("delay", 0, delay_s=DEADLINE_S - 4.0, operation="AdminGetUser")
    event = driver.event("Create", ci, run.synthesized[ci])
    with lifecycle.recorder.armed([hang], thread=threading.get_ident()) as calls:
        create = driver.deliver(event, timeout_s=DEADLINE_S, delivery_fault=fault)
    assert [c.operation for c in calls if c.operation.startswith("Admin")] == ["AdminGetUser"], (
        "no Cognito write after the timeout answer"
    )
    if fault is None:
        assert create.answer is not None
        assert create.answer.status == "FAILED"
        assert "timed out" in create.answer.reason
    else:
        assert create.answer is None
    assert create.finished_at - create.started_at < DEADLINE_S
    delete = driver.delete_failed_create(create)
    assert delete.succeeded
    run.check("after the timed-out Create and its Delete")
    run.teardown("timed-out Create")


def owner_of_invented(physical_id: str, logical_id: str) -> bool:
    return physical_id.startswith(f"CognitoSeedUsers-{logical_id}-")
