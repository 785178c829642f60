"""Delete: restore, RETAIN, failed or unknown owners, users gone, crashed and duplicated Creates."""

from __future__ import annotations

import contextlib

import pytest

from cfnlocal.seed_pool import user_attributes

from .helpers import (
    ABSENT,
    SimulatedCrash,
    adopt,
    attribute_is,
    claims,
    create_event,
    declare,
    deliver,
    held_items,
    originals,
    owner_of,
    owner_records,
    world,
)


def test_delete_restores_originals_and_deletes_attributes_that_were_absent(
    *, driver, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    assert "nickname" not in before
    assert "custom:tenant_id" not in before
    created = driver.create(
        "AliceAttributes",
        declare(
            pool_id,
            alice,
            {
                "custom:plan": "VAL-pro-0d4e",
                "name": "VAL-name-0d4e",
                "nickname": "VAL-nick-0d4e",
                "custom:tenant_id": "VAL-tenant-0d4e",
            },
        ),
    )
    assert created.status == "SUCCESS", created.reason

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.physical_id == created.physical_id
    after = user_attributes(cognito, pool_id, alice)
    assert after == before
    assert "nickname" not in after
    assert "custom:tenant_id" not in after
    assert held_items(dynamodb) == []


def test_delete_after_create_refused_by_validation_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    properties = declare(
        pool_id, alice, {"custom:plan": "VAL-pro-0d4e", "custom:seats": "VAL-not-a-number"}
    )
    before = world(cognito, dynamodb, pool_id, alice)

    failed = driver.send("Create", "AliceAttributes", properties)
    assert failed.status == "FAILED"
    assert "custom:seats" in failed.reason

    deleted = driver.send("Delete", "AliceAttributes", properties, physical_id=failed.physical_id)

    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.physical_id == failed.physical_id
    assert aws_calls.calls == []
    assert world(cognito, dynamodb, pool_id, alice) == before


def test_delete_after_create_failed_at_write_is_undone_and_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    """The Create claimed, then its Cognito write failed: it undoes, answers FAILED with the
    same physical id, and the Delete that follows has nothing left to do."""
    properties = declare(
        pool_id,
        alice,
        {"custom:plan": "VAL-pro-0d4e", "nickname": "VAL-nick-0d4e"},
        absent=["name"],
    )
    before = world(cognito, dynamodb, pool_id, alice)
    # The values are written; the delete of the declared-absent attribute fails.
    aws_calls.fail_before("AdminDeleteUserAttributes", code="InternalErrorException")

    failed = driver.send("Create", "AliceAttributes", properties)

    assert failed.status == "FAILED"
    assert "AdminDeleteUserAttributes" in failed.reason
    assert failed.physical_id.startswith("cua1.")
    assert world(cognito, dynamodb, pool_id, alice) == before
    writes = len(aws_calls.calls)

    deleted = driver.send("Delete", "AliceAttributes", properties, physical_id=failed.physical_id)

    assert deleted.status == "SUCCESS", deleted.reason
    assert aws_calls.calls[writes:] == []
    assert world(cognito, dynamodb, pool_id, alice) == before


def test_delete_with_retain_keeps_values_and_leaves_no_claim(
    *, driver, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    values = {"custom:plan": "VAL-pro-keep-0d4e", "nickname": "VAL-nick-keep-0d4e"}
    created = driver.create("AliceAttributes", declare(pool_id, alice, values, on_delete="RETAIN"))
    assert created.status == "SUCCESS", created.reason

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == {**before, **values}
    assert claims(dynamodb) == {}
    assert owner_records(dynamodb) == {}


def test_delete_after_user_deleted_out_of_band_succeeds_and_cleans_ledger(
    *, driver, cognito, dynamodb, pool_id, alice
):
    created = driver.create(
        "AliceAttributes", declare(pool_id, alice, {"custom:plan": "VAL-pro-0d4e"})
    )
    assert created.status == "SUCCESS", created.reason
    owner = owner_of(created.physical_id)
    assert owner in owner_records(dynamodb, alice)
    cognito.admin_delete_user(UserPoolId=pool_id, Username=alice)

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert owner_records(dynamodb) == {}
    assert claims(dynamodb) == {}


@pytest.mark.parametrize("gone", ["user", "pool"])
@pytest.mark.parametrize(
    ("write", "declared"),
    [
        ("AdminUpdateUserAttributes", {"custom:plan": "VAL-pro-0d4e"}),
        ("AdminDeleteUserAttributes", {"nickname": "VAL-nick-0d4e"}),
    ],
)
def test_delete_whose_user_is_deleted_just_before_the_restore_write_succeeds_and_cleans_ledger(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice, gone, write, declared
):
    """Another actor deletes the user (or its pool) between the Delete's AdminGetUser and its
    restore write: Cognito answers the write UserNotFoundException (ResourceNotFoundException),
    and there is nothing left to restore. Regression: only AdminGetUser's answer meant "gone",
    so this Delete answered FAILED and the stack stuck in DELETE_FAILED."""
    created = driver.create("AliceAttributes", declare(pool_id, alice, declared))
    assert created.status == "SUCCESS", created.reason

    def delete_it(_: dict[str, object]) -> bool:
        if gone == "user":
            cognito.admin_delete_user(UserPoolId=pool_id, Username=alice)
        else:
            cognito.delete_user_pool(UserPoolId=pool_id)
        return False  # the call goes through and Cognito answers it

    aws_calls.fail_before(write, delete_it)
    writes_before = len(aws_calls.cognito_writes())

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert [c.operation for c in aws_calls.cognito_writes()[writes_before:]] == [write]
    assert owner_records(dynamodb) == {}
    assert claims(dynamodb) == {}


def test_update_whose_user_is_deleted_just_before_the_write_fails_naming_the_call_and_code(
    *, driver, aws_calls, cognito, pool_id, alice
):
    """A user gone mid-Update is a failure (there is nothing to set), named call and code first."""
    created = driver.create("AliceAttributes", declare(pool_id, alice, {"custom:plan": "VAL-a"}))
    assert created.status == "SUCCESS", created.reason
    aws_calls.fail_before(
        "AdminUpdateUserAttributes",
        lambda _: bool(cognito.admin_delete_user(UserPoolId=pool_id, Username=alice)) and False,
    )

    updated = driver.update("AliceAttributes", declare(pool_id, alice, {"custom:plan": "VAL-b"}))

    assert updated.status == "FAILED"
    assert updated.reason.startswith("AdminUpdateUserAttributes failed: UserNotFoundException")


@pytest.mark.parametrize("reason", ["ConditionalCheckFailed", "TransactionConflict"])
def test_delete_whose_ledger_keeps_changing_fails_naming_transact_write_items_and_the_reason(
    *, driver, aws_calls, cognito, pool_id, alice, reason
):
    """Regression: the Reason was "the ledger kept changing during 5 attempts", naming neither
    the call nor the error code."""
    created = driver.create("AliceAttributes", declare(pool_id, alice, {"custom:plan": "VAL-a"}))
    assert created.status == "SUCCESS", created.reason
    aws_calls.fail_before(
        "TransactWriteItems",
        code="TransactionCanceledException",
        times=100,
        fields={"CancellationReasons": [{"Code": "None"}, {"Code": reason}]},
    )

    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "FAILED"
    assert deleted.reason.startswith(
        f"TransactWriteItems failed: TransactionCanceledException: {reason}: the ledger kept "
        "changing during 5 attempts"
    )


def test_delete_of_unknown_owner_with_invented_id_succeeds(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    """CloudFormation never got an answer to a Create that never ran: it invents an id."""
    properties = declare(pool_id, alice, {"custom:plan": "VAL-pro-0d4e"})
    before = user_attributes(cognito, pool_id, alice)

    deleted = driver.send(
        "Delete",
        "AliceAttributes",
        properties,
        physical_id=driver.invented_physical_id("AliceAttributes"),
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert aws_calls.cognito_writes() == []
    assert user_attributes(cognito, pool_id, alice) == before
    assert claims(dynamodb) == {}
    assert owner_records(dynamodb) == {}


def test_crashed_create_then_delete_with_invented_id_restores_originals(
    *, driver, aws_calls, clock, new_container, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    values = {"custom:plan": "VAL-pro-dead-0d4e", "nickname": "VAL-nick-dead-0d4e"}
    properties = declare(pool_id, alice, values)
    # The process dies right after the Cognito write (after the ledger transaction).
    aws_calls.crash_after(
        "AdminUpdateUserAttributes", attribute_is("custom:plan", "VAL-pro-dead-0d4e")
    )
    event = create_event(driver, "AliceAttributes", properties)

    try:
        driver.container.invoke(event)
    except SimulatedCrash:
        pass
    else:
        raise AssertionError("the simulated crash did not happen")

    assert driver.sink.deliveries(event["RequestId"]) == []
    assert user_attributes(cognito, pool_id, alice) == {**before, **values}
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "nickname": ABSENT,
    }

    # CloudFormation waits out the ServiceTimeout, then rolls back with an id it invents;
    # a new execution environment answers.
    clock.advance(3600)
    driver.container = new_container()
    deleted = driver.send(
        "Delete",
        "AliceAttributes",
        properties,
        physical_id=driver.invented_physical_id("AliceAttributes"),
    )

    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert claims(dynamodb) == {}
    assert owner_records(dynamodb) == {}


def test_late_duplicate_of_crashed_create_after_its_delete_is_refused(
    *, driver, aws_calls, clock, new_container, cognito, dynamodb, pool_id, alice
):
    """The Create that never answered is delivered again after CloudFormation's Delete: it
    must not seed values that no owner would ever release."""
    before = user_attributes(cognito, pool_id, alice)
    properties = declare(pool_id, alice, {"custom:plan": "VAL-pro-late-0d4e"})
    aws_calls.crash_after("AdminUpdateUserAttributes")
    event = create_event(driver, "AliceAttributes", properties)
    with contextlib.suppress(SimulatedCrash):
        driver.container.invoke(event)
    assert driver.sink.deliveries(event["RequestId"]) == []
    clock.advance(3600)
    driver.container = new_container()
    deleted = driver.send(
        "Delete",
        "AliceAttributes",
        properties,
        physical_id=driver.invented_physical_id("AliceAttributes"),
    )
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    writes = len(aws_calls.calls)

    answers = deliver(driver, event, container=new_container())

    assert [answer.status for answer in answers] == ["FAILED"]
    assert "Delete" in answers[0].reason
    assert aws_calls.calls[writes:] == []
    assert user_attributes(cognito, pool_id, alice) == before
    assert claims(dynamodb) == {}
    assert owner_records(dynamodb) == {}


def test_duplicated_create_does_not_record_seeded_values_as_originals(
    *, driver, new_container, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    values = {"custom:plan": "VAL-pro-twice-0d4e", "nickname": "VAL-nick-twice-0d4e"}
    properties = declare(pool_id, alice, values)
    event = create_event(driver, "AliceAttributes", properties)

    first = deliver(driver, event)
    # The same event again, in another execution environment, after the values are live.
    second = deliver(driver, event, container=new_container())

    assert [a.status for a in first + second] == ["SUCCESS", "SUCCESS"], [
        a.reason for a in first + second
    ]
    assert first[0].physical_id == second[0].physical_id
    assert user_attributes(cognito, pool_id, alice) == {**before, **values}
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "nickname": ABSENT,
    }

    adopt(driver, "AliceAttributes", properties, second[0].physical_id)
    deleted = driver.delete("AliceAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []
