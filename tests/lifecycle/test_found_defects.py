"""Minimal reproductions of defects the crash-point and race tests found in ``lambda/``.

Each test is the shortest CloudFormation sequence that broke an invariant; the docstring says
what CloudFormation sends, what the handler did ("Actual", before the fix), and what should
happen instead. All fixed, and kept as regression tests: the failed replacements and the stale
re-read after a lease wait (b101c7a), the writer killed at its deadline (2fe0f56), the late
duplicate Create (5709f78), the rollback waiting out a finished writer's lease (fcd8f17).
"""

from __future__ import annotations

import threading

from cfnlocal.aws_faults import Fault, ProcessCrash
from cfnlocal.cloudformation import FaultSpec, Step

from .support import declare, owner_of


def test_replacement_that_dies_after_writing_is_released_by_the_rollback(lifecycle):
    """A replacement Update (new Username) that dies after writing the new user.

    1. Create ``ci`` for ci-bot: SUCCESS, physical id P1 (owner of ci-bot).
    2. Update ``ci`` to Username spare-user (a replacement), sent with P1: the handler claims
       spare-user's attributes (TransactWriteItems), writes them (AdminUpdateUserAttributes),
       and the process dies before answering.
    3. CloudFormation fails the update after ServiceTimeout and rolls back: Update with
       PhysicalResourceId P1, ResourceProperties = ci-bot's, OldResourceProperties =
       spare-user's. It never learnt spare-user's physical id, so no Delete will ever come
       for it.

    Expected: after the rollback, spare-user has no owner and its original attributes.
    Actual: the rollback is handled as an ordinary Update of ci-bot's owner; spare-user keeps
    an owner CloudFormation does not know and the seeded values, forever (delete-stack
    restores ci-bot only).
    """
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            return FaultSpec(aws=[Fault("crash-after", 0, operation="AdminUpdateUserAttributes")])
        return None

    run.stack.faults = faults
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved)
    run.stack.faults = None
    (_, update), (_, rollback) = operation.invocations
    assert isinstance(update.crashed, ProcessCrash)
    assert rollback.event["OldResourceProperties"]["Username"] == "spare-user"
    assert rollback.succeeded
    assert operation.status == "UPDATE_ROLLBACK_COMPLETE"
    run.check("after the rolled back replacement")
    run.teardown("rolled back replacement")


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


def test_delete_racing_a_create_that_is_still_running(lifecycle):
    """A Delete that runs while the Create it deletes is still writing.

    1. Create ``ci`` runs in container A with an 8 s deadline. Its AdminUpdateUserAttributes
       is slow (a congested endpoint): crhelper's timer answers FAILED "timed out" 5 s before
       the deadline, with the provisional physical id (ours, owner of ci-bot), while A's
       request is still in flight.
    2. CloudFormation rolls back at once: Delete with that physical id, in container B. B
       finds the owner in the ledger (A committed its claims), restores the originals and
       releases the claims: SUCCESS.
    3. A's AdminUpdateUserAttributes then lands: the seeded values are written after the
       release, with no owner left to restore them.

    Expected (DESIGN 4, "a Delete that races a still-running Create must not leave seeded
    values behind without an owner"): ci-bot ends with its original attributes. The lease
    that A's owner record carries (until A's deadline) is honoured only for an invented
    physical id (``lifecycle.delete``: ``if ours is None: _await_lease``), not for the id
    crhelper's timeout answer reports.
    """
    run = lifecycle.new_run()
    ci = run.logical_ids["ci-bot"]
    release = threading.Event()
    slow_write = Fault(
        "delay", 0, delay_s=4.5, release=release, operation="AdminUpdateUserAttributes"
    )
    lifecycle.clock.virtual_sleep = False  # the Delete's lease wait must let A run
    create, delete = run.stack.driver.delete_racing_create(
        ci,
        run.synthesized[ci],
        create_timeout_s=8,
        delete_timeout_s=60,
        create_context=lambda: lifecycle.recorder.armed([slow_write], thread=threading.get_ident()),
        after_delete=release.set,
    )
    assert create.answer is not None
    assert create.answer.status == "FAILED", "crhelper's timeout answer"
    assert delete.event["PhysicalResourceId"] == create.answer.physical_id
    assert delete.succeeded
    run.check("after the Delete and the Create it raced")
    run.teardown("race")


def test_delete_with_an_invented_id_waits_for_the_lease_then_rereads_the_user(lifecycle):
    """A Delete with an invented id while a (duplicate) delivery of the Create is still writing.

    Lambda delivers asynchronous events at least once: the first delivery of Create ``ci``
    died without answering, CloudFormation sends the rollback Delete with an invented id, and a
    second delivery of the same Create is running at that moment (container A, 8 s deadline;
    its ledger transaction is committed, its AdminUpdateUserAttributes is slow).

    The Delete (container B) reads ci-bot (AdminGetUser), reads the ledger, sees A's lease and
    waits it out (``_await_lease``), re-reads the ledger, and plans the release against the
    attributes it read *before* waiting (``lifecycle.delete``: ``canonical`` is built before
    ``_await_lease`` and not refreshed). A's values landed meanwhile, so the release writes
    nothing (the stale attributes already show the originals) and drops the claims.

    Expected: ci-bot ends with its original attributes. Actual: the seeded values stay with no
    owner (invariant 1).
    """
    run = lifecycle.new_run()
    ci = run.logical_ids["ci-bot"]
    release = threading.Event()
    slow_write = Fault(
        "delay", 0, delay_s=2, release=release, operation="AdminUpdateUserAttributes"
    )
    lifecycle.clock.virtual_sleep = False  # the Delete's lease wait must let A run
    create, delete = run.stack.driver.delete_racing_create(
        ci,
        run.synthesized[ci],
        create_timeout_s=8,
        delete_timeout_s=20,
        delete_when=lambda: any(c.fault is slow_write for c in lifecycle.recorder.injected),
        create_context=lambda: lifecycle.recorder.armed([slow_write], thread=threading.get_ident()),
        after_delete=release.set,
    )
    assert owner_of(delete.event["PhysicalResourceId"]) is None
    assert delete.succeeded
    assert create.answer is not None
    run.check("after the Delete and the Create it raced")
    run.teardown("race with an invented id")


def test_late_write_of_a_writer_killed_at_its_deadline_is_not_left_behind(lifecycle):
    """The writer's late write lands just before its deadline and Lambda ends the process there.

    1. Create ``ci`` runs in container A with an 8 s deadline; its AdminUpdateUserAttributes
       (sent after the ledger transaction) is slow. crhelper's timer answers FAILED 5 s before
       the deadline with the provisional id (ours).
    2. CloudFormation's rollback Delete (container B, that id) releases the claims at once:
       ``delete`` waits out a lease only for an invented id (``unanswered=ours is None``).
    3. A's write lands moments before A's deadline and Lambda ends A: the revert added in
       b101c7a (``_revert_if_released``, run by the writer after its writes) never runs.

    Expected (DESIGN 4): ci-bot ends with its original attributes; e.g. the Delete waits out
    the owner's lease (A's deadline) whenever it finds one still running, whatever the id,
    then re-reads the user. Actual: the seeded values stay with no owner (invariant 1).
    """
    run = lifecycle.new_run()
    ci = run.logical_ids["ci-bot"]
    late_write = Fault("crash-after", 0, delay_s=7.0, operation="AdminUpdateUserAttributes")
    lifecycle.clock.virtual_sleep = False  # the Delete's lease wait must let A run
    create, delete = run.stack.driver.delete_racing_create(
        ci,
        run.synthesized[ci],
        create_timeout_s=8,
        delete_timeout_s=60,
        create_context=lambda: lifecycle.recorder.armed([late_write], thread=threading.get_ident()),
    )
    assert isinstance(create.crashed, ProcessCrash)
    assert create.answer is not None
    assert create.answer.status == "FAILED", "crhelper's timeout answer"
    assert delete.succeeded
    run.check("after the Delete and the writer it raced")
    run.teardown("late write")


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


def test_rollback_after_a_failed_replacement_does_not_wait_for_a_finished_writer(lifecycle):
    """The rollback Update after a replacement that answered FAILED waits out that replacement's
    lease although the replacement has finished.

    1. Create ``ci`` for ci-bot; Update it to spare-user (a replacement). The claim write hits
       a ``TooManyRequestsException`` storm, the undo fails too, and the Update answers FAILED:
       spare-user keeps the failed attempt's owner, whose lease runs to that invocation's
       deadline (180 s after it started).
    2. CloudFormation sends the rollback Update at once. ``_release_failed_replacement``
       releases the stale owner with ``await_writer=True``: ``_await_lease`` sleeps until the
       lease ends or the rollback's own deadline is 6 s away, about 174 s, for a writer that
       is no longer running.

    Consequences in production: every such rollback takes three minutes more, and it then has
    about 6 s left; crhelper's timer answers FAILED 5 s before the deadline, so a release that
    takes more than a second (throttling is what caused the failure) ends in
    UPDATE_ROLLBACK_FAILED. Expected: a writer that has answered is not waited for (e.g. the
    lease ends when the invocation answers), so the rollback proceeds at once. Measured with
    the virtual clock: the wait the handler asks for.
    """
    run = lifecycle.new_run()
    ci = run.logical_ids["ci-bot"]
    run.stack.deploy({ci: run.props("ci-bot")})

    def faults(step: Step) -> FaultSpec | None:
        if step == Step("update", "Update", ci):
            storm = Fault("throttle", 0, storm=True, operation="AdminUpdateUserAttributes")
            return FaultSpec(aws=[storm])
        return None

    run.stack.faults = faults
    operation = run.stack.deploy({ci: declare(run.props("ci-bot"), username="spare-user")})
    run.stack.faults = None
    (_, update), (_, rollback) = operation.invocations
    assert update.answer.status == "FAILED"
    assert rollback.succeeded
    waits = [line for line in rollback.log_lines if "waiting" in line]
    waited_ms = [int(line.split("waiting ")[1].split(" ms")[0]) for line in waits]
    assert sum(waited_ms) < 10_000, f"the rollback Update waited {waited_ms} ms for the lease"
    run.check("after the rollback")
    run.teardown("rollback after a failed replacement")
