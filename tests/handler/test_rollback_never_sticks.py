"""Paths real AWS produces on a first deploy: a deleted pool, a redeploy right after a rollback,
a replaced ledger, and owners that must be traceable to their stack (DESIGN 3 and 4)."""

from __future__ import annotations

import contextlib

import pytest

from cfnlocal.seed_pool import user_attributes

from .helpers import (
    LEDGER,
    SimulatedCrash,
    claims,
    create_event,
    declare,
    held_items,
    ledger_items,
    owner_of,
    owner_records,
    world,
)


def test_delete_after_the_pool_was_deleted_releases_the_ledger_and_succeeds(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    """The pool went first (DELETE_FAILED before): there is no user left to restore, so the
    Delete releases the ledger's claims and answers SUCCESS."""
    created = driver.create("AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-nick"}))
    assert created.status == "SUCCESS", created.reason
    cognito.delete_user_pool(UserPoolId=pool_id)
    writes = len(aws_calls.calls)

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert [call for call in aws_calls.calls[writes:] if call.operation.startswith("Admin")] == []
    assert held_items(dynamodb) == []


@pytest.mark.parametrize("crashed_after", ["TransactWriteItems", "AdminUpdateUserAttributes"])
def test_new_create_right_after_the_rollback_of_an_unanswered_create_succeeds(
    crashed_after, *, driver, aws_calls, clock, new_container, cognito, dynamodb, pool_id, alice
):
    """A Create that never answered, its rollback Delete (invented id), then at once a new
    deploy's Create of the same resource (a new RequestId): only the dead request may be
    refused, never the new one."""
    before = user_attributes(cognito, pool_id, alice)
    properties = declare(pool_id, alice, {"custom:plan": "VAL-pro-redeploy"})
    dead = create_event(driver, "AliceAttributes", properties)
    aws_calls.crash_after(crashed_after)
    with contextlib.suppress(SimulatedCrash):
        driver.container.invoke(dead)
    assert driver.sink.deliveries(dead["RequestId"]) == []
    clock.advance(3600)
    driver.container = new_container()
    rolled_back = driver.send(
        "Delete",
        "AliceAttributes",
        properties,
        physical_id=driver.invented_physical_id("AliceAttributes"),
    )
    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert user_attributes(cognito, pool_id, alice) == before
    clock.advance(1)

    created = driver.create("AliceAttributes", properties)

    assert created.status == "SUCCESS", created.reason
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == "VAL-pro-redeploy"
    assert set(claims(dynamodb)) == {"custom:plan"}


def test_update_of_an_owner_a_replaced_ledger_does_not_know_is_refused_and_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    """The ledger table was replaced (emptied here): the live values are seeded ones, so the
    Update must not record them as originals. It names the table and the way out."""
    created = driver.create("AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-one"}))
    assert created.status == "SUCCESS", created.reason
    for item in ledger_items(dynamodb):
        dynamodb.delete_item(TableName=LEDGER, Key={"pk": item["pk"], "sk": item["sk"]})
    before = world(cognito, dynamodb, pool_id, alice)
    writes = len(aws_calls.calls)

    updated = driver.update(
        "AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-two", "name": "VAL-name"})
    )

    assert updated is not None
    assert updated.status == "FAILED"
    assert updated.physical_id == created.physical_id
    assert f"unknown to ledger table {LEDGER}" in updated.reason
    assert "runbook" in updated.reason
    assert aws_calls.calls[writes:] == []
    assert world(cognito, dynamodb, pool_id, alice) == before


def test_owner_record_names_its_stack_logical_id_and_physical_id(
    *, driver, dynamodb, pool_id, alice
):
    created = driver.create("AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-nick"}))
    assert created.status == "SUCCESS", created.reason

    record = owner_records(dynamodb)[owner_of(created.physical_id)]

    assert record["stack_id"]["S"] == driver.stack_id
    assert record["logical_resource_id"]["S"] == "AliceAttributes"
    assert record["physical_id"]["S"] == created.physical_id
