"""Minimal reproductions of defects the crash-point tests found in ``lambda/``.

Each test is the shortest CloudFormation sequence that broke an invariant; the docstring says
what CloudFormation sends, what should happen, and how the queue transport gets there. All
fixed, and kept as regression tests: the failed replacements (b101c7a), the writer killed at its
deadline (2fe0f56) and the late duplicate Create (5709f78). Since the transport queues each
event, a worker that dies is received again after the visibility timeout (or dead-lettered),
so the earlier lease races no longer arise and their tests are gone with them.
"""

from __future__ import annotations

from cfnlocal.aws_faults import Fault
from cfnlocal.cloudformation import FaultSpec, Step

from .support import declare


def test_replacement_whose_worker_died_after_writing_is_answered_by_the_redelivery(lifecycle):
    """A replacement Update (new Username) whose worker dies after writing the new user.

    1. Create ``ci`` for ci-bot: SUCCESS, physical id P1 (owner of ci-bot).
    2. Update ``ci`` to Username spare-user (a replacement), sent with P1: the worker claims
       spare-user's attributes, writes them, and dies before answering.
    3. The message becomes visible again after its visibility timeout; the second receive finds
       its own claims in the ledger and the values written, and answers SUCCESS with the new
       physical id. CloudFormation then sends the cleanup Delete for P1.

    Expected: UPDATE_COMPLETE, ci-bot restored by the cleanup, spare-user seeded and owned.
    """
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]
    old_id = run.stack.resources[ci].physical_id

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            return FaultSpec(aws=[Fault("crash-after", 0, operation="AdminUpdateUserAttributes")])
        return None

    run.stack.faults = faults
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved)
    run.stack.faults = None
    assert operation.status == "UPDATE_COMPLETE"
    (_, update), (cleanup_step, cleanup) = operation.invocations
    assert update.transported is not None
    assert [r.error is None for r in update.transported.runs] == [False, True]
    assert update.succeeded
    assert update.answer.physical_id != old_id
    assert (cleanup_step.phase, cleanup.event["PhysicalResourceId"]) == ("cleanup", old_id)
    assert cleanup.succeeded
    run.check("after the redelivered replacement")
    run.teardown("redelivered replacement")


def test_replacement_dead_lettered_after_writing_is_released_by_the_rollback(lifecycle):
    """A replacement Update that wrote the new user and then died on every receive.

    1. Create ``ci`` for ci-bot: SUCCESS, physical id P1 (owner of ci-bot).
    2. Update ``ci`` to Username spare-user, sent with P1: the first receive claims and writes
       spare-user and dies; the next receives die at their first call. After ``maxReceiveCount``
       receives the message is dead-lettered and the consumer answers FAILED with P1.
    3. CloudFormation rolls back: Update with PhysicalResourceId P1, ResourceProperties =
       ci-bot's, OldResourceProperties = spare-user's. It never learnt spare-user's physical
       id, so no Delete will ever come for it.

    Expected: after the rollback, spare-user has no owner and its original attributes (found
    before the fix: the rollback was handled as an ordinary Update of ci-bot's owner and
    spare-user kept an owner CloudFormation does not know, forever).
    """
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            # The first receive reads spare-user once (AdminGetUser #0) before its write; each
            # later receive starts with that read.
            return FaultSpec(
                aws=[
                    Fault("crash-after", 0, operation="AdminUpdateUserAttributes"),
                    Fault("crash", 1, operation="AdminGetUser", sticky=True),
                ]
            )
        return None

    run.stack.faults = faults
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved)
    run.stack.faults = None
    (_, update), (_, rollback) = operation.invocations
    assert update.transported is not None
    assert update.transported.dead_lettered
    assert update.answer.status == "FAILED"
    assert update.answer.physical_id == run.stack.resources[ci].physical_id
    assert rollback.event["OldResourceProperties"]["Username"] == "spare-user"
    assert rollback.succeeded
    assert operation.status == "UPDATE_ROLLBACK_COMPLETE"
    run.check("after the rolled back replacement")
    run.teardown("rolled back replacement")


def test_late_duplicate_of_a_released_replacement_seeds_nothing(lifecycle):
    """The dead-lettered replacement above, then a second delivery of its Update event.

    Lambda may deliver the front function's asynchronous invocation twice, and SQS drops the
    copy only within its 5-minute deduplication window; the dead-lettering took 18 minutes.
    The rollback Update released the replacement's owner on spare-user; the copy must not
    claim spare-user again for an owner no event will ever release.
    """
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            return FaultSpec(
                aws=[
                    Fault("crash-after", 0, operation="AdminUpdateUserAttributes"),
                    Fault("crash", 1, operation="AdminGetUser", sticky=True),
                ]
            )
        return None

    run.stack.faults = faults
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved)
    run.stack.faults = None
    (_, update), (_, rollback) = operation.invocations
    assert update.transported is not None
    assert update.transported.dead_lettered
    assert rollback.succeeded
    duplicate = run.stack.driver.deliver(update.event)
    assert duplicate.transported is not None
    assert duplicate.transported.queued
    assert duplicate.answer is not None
    assert duplicate.answer.status == "FAILED"
    assert "late duplicate" in duplicate.answer.reason
    run.check("after the late duplicate of the replacement")
    run.teardown("late duplicate replacement")


def test_replacement_whose_undo_failed_is_released_by_the_rollback(lifecycle):
    """Same as above, but the replacement answers FAILED: its claim write hits a
    ``TooManyRequestsException`` storm, so its undo fails too ("undo failed" in the Reason).
    The rollback Update again leaves spare-user's owner and claims in the ledger (the seeded
    values were never written, so spare-user's claims show values Cognito does not have)."""
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            storm = Fault("throttle", 0, storm=True, operation="AdminUpdateUserAttributes")
            return FaultSpec(aws=[storm])
        return None

    run.stack.faults = faults
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved)
    run.stack.faults = None
    (_, update), (_, rollback) = operation.invocations
    assert update.answer.status == "FAILED"
    assert "undo failed" in update.answer.reason
    assert rollback.succeeded
    run.check("after the rolled back replacement")
    run.teardown("rolled back replacement")


def test_duplicate_create_delivered_after_the_rollback_delete_seeds_nothing(lifecycle):
    """Lambda's asynchronous invocation is at-least-once: the same Create event can be
    delivered again, and the second delivery can run after CloudFormation is done with it.

    1. Create ``ci`` (RequestId R): SUCCESS, physical id P.
    2. Another resource fails; the rollback sends Delete with P: SUCCESS, ci-bot restored.
    3. The duplicate delivery of Create R arrives (within the function's maximum event age):
       the handler applies it like a new Create, claims and seeds ci-bot again, and answers
       to a response URL CloudFormation no longer reads. No event will ever release it.

    Expected: the duplicate changes nothing (e.g. the Delete leaves a tombstone for the owner,
    or for the Create's RequestId, that a late Create honours, as it does for an invented id).
    Actual: ci-bot keeps the seeded values under an owner CloudFormation does not know.
    """
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    create_event = driver.event("Create", ci, run.synthesized[ci])
    create = driver.deliver(create_event)
    assert create.succeeded
    delete = driver.invoke("Delete", ci, run.synthesized[ci], physical_id=create.answer.physical_id)
    assert delete.succeeded
    run.check("after the rollback Delete")
    driver.deliver(create_event)  # the duplicate delivery; its answer reaches no one
    run.check("after the late duplicate Create")
    run.teardown("late duplicate")
