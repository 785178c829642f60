"""The CloudFormation sequences the driver sends, on the synthesized stack (issue 3, section 1).

Each test runs one sequence CloudFormation really sends and checks the answers (driver) and
the invariants (ledger and users) after it, and that delete-stack restores every user.
"""

from __future__ import annotations

from cfnlocal.aws_faults import Fault, ProcessCrash
from cfnlocal.cloudformation import FaultSpec, Step
from cfnlocal.sqs_fifo import DEDUPLICATION_INTERVAL_S
from cognito_seed_users.cognito_user_attributes import VISIBILITY_TIMEOUT

from .support import attributes_of, declare, owner_of

VISIBILITY_TIMEOUT_S = VISIBILITY_TIMEOUT.to_seconds()


def test_synthesized_stack_create_update_delete(lifecycle):
    run = lifecycle.new_run()
    operation = run.stack.deploy(run.synthesized)
    assert operation.status == "CREATE_COMPLETE"
    assert [step.request_type for step, _ in operation.invocations] == ["Create", "Create"]
    run.check("after create-stack")
    assert run.stack.deploy(run.synthesized).invocations == [], "no change, no event"
    changed = dict(run.synthesized)
    ci = run.logical_ids["ci-bot"]
    changed[ci] = declare(
        changed[ci], {**attributes_of(changed[ci]), "custom:tenant_id": "tenant-seeded-v2"}
    )
    operation = run.stack.deploy(changed)
    assert operation.status == "UPDATE_COMPLETE"
    assert [(s.request_type, s.logical_id) for s, _ in operation.invocations] == [("Update", ci)]
    run.check("after update-stack")
    run.teardown("create, update")


def test_failed_update_is_rolled_back_with_properties_swapped(lifecycle):
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]
    before = run.stack.resources[ci]
    bad = dict(run.synthesized)
    # custom:seats is a Number in the pool's schema: the handler refuses, FAILED, rollback.
    bad[ci] = declare(bad[ci], {**attributes_of(bad[ci]), "custom:seats": "many-seats"})
    operation = run.stack.deploy(bad)
    assert operation.status == "UPDATE_ROLLBACK_COMPLETE"
    (step1, update), (step2, rollback) = operation.invocations
    assert (step1.phase, update.answer.status) == ("update", "FAILED")
    assert "custom:seats" in update.answer.reason
    assert step2.phase == "rollback"
    assert (
        rollback.event["ResourceProperties"]["UserAttributes"]
        == before.properties["UserAttributes"]
    )
    assert rollback.event["OldResourceProperties"]["UserAttributes"] == bad[ci]["UserAttributes"]
    assert rollback.event["PhysicalResourceId"] == before.physical_id
    assert rollback.succeeded
    run.check("after the rolled back update")
    run.teardown("failed update")


def test_failed_create_is_deleted_with_the_reported_id(lifecycle):
    run = lifecycle.new_run()
    e2e = run.logical_ids["e2e-tester"]
    template = dict(run.synthesized)
    template[e2e] = declare(template[e2e], {"custom:seats": "not-a-number"})
    operation = run.stack.deploy(template)
    assert operation.status == "ROLLBACK_COMPLETE"
    steps = [(s.phase, s.request_type, s.logical_id) for s, _ in operation.invocations]
    ci = run.logical_ids["ci-bot"]
    assert steps == [
        ("create", "Create", ci),
        ("create", "Create", e2e),
        ("rollback", "Delete", e2e),
        ("rollback", "Delete", ci),
    ]
    failed_create, delete = operation.invocations[1][1], operation.invocations[2][1]
    assert failed_create.answer.status == "FAILED"
    assert delete.event["PhysicalResourceId"] == failed_create.answer.physical_id
    assert run.stack.resources == {}
    run.check("after ROLLBACK_COMPLETE")
    run.teardown("failed create")


def test_create_whose_worker_died_after_writing_is_answered_after_one_visibility_timeout(
    lifecycle,
):
    """The message stays in flight until its visibility timeout, the second receive re-runs the
    Create over the ledger (idempotent) and answers: CloudFormation never waits its 30-minute
    ServiceTimeout."""
    run = lifecycle.new_run()
    ci = run.logical_ids["ci-bot"]

    def faults(step: Step) -> FaultSpec | None:
        # The process dies right after AdminUpdateUserAttributes wrote the seeded values.
        if step == Step("create", "Create", ci):
            return FaultSpec(aws=[Fault("crash-after", at=4)])
        return None

    run.stack.faults = faults
    operation = run.stack.deploy({ci: run.synthesized[ci]})
    assert operation.status == "CREATE_COMPLETE"
    ((_, create),) = operation.invocations
    assert lifecycle.recorder.injected[-1].operation == "AdminUpdateUserAttributes"
    assert create.transported is not None
    first, second = create.transported.runs
    assert isinstance(first.error, ProcessCrash)
    assert (second.receive_count, second.error) == (2, None)
    assert create.succeeded
    waited = create.finished_at - create.started_at
    assert VISIBILITY_TIMEOUT_S <= waited < 2 * VISIBILITY_TIMEOUT_S, waited
    assert owner_of(create.answer.physical_id) is not None
    run.stack.faults = None
    run.check("after the redelivered Create")
    run.teardown("redelivered create")


def test_stack_rollback_after_our_update_succeeded(lifecycle):
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]
    changed = dict(run.synthesized)
    changed[ci] = declare(changed[ci], {"custom:tenant_id": "tenant-seeded-v2", "locale": "de-AT"})
    operation = run.stack.deploy(changed, fail_after=True)
    assert operation.status == "UPDATE_ROLLBACK_COMPLETE"
    (_s1, update), (s2, rollback) = operation.invocations
    assert update.succeeded
    assert s2.phase == "rollback"
    assert rollback.succeeded
    assert run.stack.resources[ci].properties == run.synthesized[ci]
    run.check("after the stack rollback")
    run.teardown("stack rollback")


def test_rollback_after_replacement_deletes_the_new_id(lifecycle):
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci = run.logical_ids["ci-bot"]
    old_id = run.stack.resources[ci].physical_id
    moved = dict(run.synthesized)
    moved[ci] = declare(moved[ci], username="spare-user")
    operation = run.stack.deploy(moved, fail_after=True)
    phases = [(s.phase, s.request_type) for s, _ in operation.invocations]
    assert phases == [("update", "Update"), ("rollback", "Update"), ("rollback-cleanup", "Delete")]
    new_id = operation.invocations[0][1].answer.physical_id
    assert new_id != old_id
    assert operation.invocations[1][1].event["PhysicalResourceId"] == new_id
    assert operation.invocations[1][1].answer.physical_id == old_id
    assert operation.invocations[2][1].event["PhysicalResourceId"] == new_id
    assert run.stack.resources[ci].physical_id == old_id
    run.check("after rolling back a replacement")
    run.teardown("rollback after replacement")


def test_replacement_and_refactor_clean_up_the_old_resource(lifecycle):
    run = lifecycle.new_run()
    run.stack.deploy(run.synthesized)
    ci, e2e = run.logical_ids["ci-bot"], run.logical_ids["e2e-tester"]
    moved = {
        ci: declare(run.synthesized[ci], username="spare-user"),
        "Renamed": run.synthesized[e2e],
    }
    operation = run.stack.deploy(moved)
    assert operation.status == "UPDATE_COMPLETE"
    phases = [(s.phase, s.request_type, s.logical_id) for s, _ in operation.invocations]
    assert phases == [
        ("create", "Create", "Renamed"),
        ("update", "Update", ci),
        ("cleanup", "Delete", e2e),
        ("cleanup", "Delete", ci),
    ]
    assert not operation.orphaned
    run.check("after replacement and refactor")
    run.teardown("replacement and refactor")


def test_duplicate_delivery_within_five_minutes_is_dropped_by_the_queue(lifecycle):
    """The front function queues each event with its RequestId as the deduplication id: SQS drops
    a second delivery of the same event within 5 minutes, so it neither runs nor answers."""
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    event = driver.event("Create", ci, run.synthesized[ci])
    first = driver.deliver(event)
    lifecycle.clock.advance(DEDUPLICATION_INTERVAL_S - 10)
    second = driver.deliver(event)
    assert first.succeeded
    assert second.duplicate
    assert second.answer is None
    assert second.transported is not None
    assert second.transported.runs == ()
    run.stack.resources[ci] = _state(run.synthesized[ci], first)
    run.check("after a dropped duplicate Create")
    run.teardown("dropped duplicate")


def test_same_event_delivered_after_the_deduplication_window(lifecycle):
    """Lambda's asynchronous invocation is at-least-once, and a late second delivery passes the
    queue's 5-minute window: each delivery answers once, and the second changes nothing."""
    run = lifecycle.new_run()
    driver = run.stack.driver
    ci = run.logical_ids["ci-bot"]
    properties = run.synthesized[ci]

    def twice(event):
        first = driver.deliver(event)
        lifecycle.clock.advance(DEDUPLICATION_INTERVAL_S + 1)
        second = driver.deliver(event)
        assert not second.duplicate
        assert first.succeeded
        assert second.succeeded
        return first, second

    first, second = twice(driver.event("Create", ci, properties))
    assert first.answer.physical_id == second.answer.physical_id
    run.stack.resources[ci] = _state(properties, first)
    run.check("after a duplicated Create")
    changed = declare(properties, {**attributes_of(properties), "given_name": "Given-Seeded-Dup"})
    twice(
        driver.event(
            "Update", ci, changed, physical_id=first.answer.physical_id, old_properties=properties
        )
    )
    run.stack.resources[ci] = _state(changed, first)
    run.check("after a duplicated Update")
    twice(driver.event("Delete", ci, changed, physical_id=first.answer.physical_id))
    del run.stack.resources[ci]
    run.check("after a duplicated Delete")
    run.teardown("duplicates")


def _state(properties, invocation):
    from cfnlocal.driver import ResourceState
    from cfnlocal.events import stringify

    return ResourceState(dict(stringify(properties)), invocation.answer.physical_id)
