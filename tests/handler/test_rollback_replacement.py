"""Failed updates, rollback Updates (old and new properties swapped) and replacements."""

from __future__ import annotations

from cfnlocal.seed_pool import user_attributes

from .helpers import (
    ABSENT,
    attribute_is,
    claims,
    declare,
    held_items,
    originals,
    owner_of,
    rollback_update,
    world,
)

PRIOR = {"custom:plan": "VAL-pro-1-3e8b", "custom:seats": "10", "nickname": "VAL-nick-1-3e8b"}


def _create_prior(driver, cognito, pool_id, alice):
    before = user_attributes(cognito, pool_id, alice)
    properties = declare(pool_id, alice, PRIOR)
    answer = driver.create("AliceAttributes", properties)
    assert answer.status == "SUCCESS", answer.reason
    return before, properties, answer.physical_id


def _assert_prior(cognito, dynamodb, pool_id, alice, before):
    assert user_attributes(cognito, pool_id, alice) == {**before, **PRIOR}
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "custom:seats": ABSENT,
        "nickname": ABSENT,
    }


def test_failed_update_refused_by_schema_then_rollback_restores_prior_values(
    *, driver, cognito, dynamodb, pool_id, alice
):
    before, prior, physical_id = _create_prior(driver, cognito, pool_id, alice)
    after_create = world(cognito, dynamodb, pool_id, alice)
    attempted = declare(
        pool_id,
        alice,
        {"custom:plan": "VAL-pro-2-3e8b", "custom:seats": "5000", "name": "VAL-name-2-3e8b"},
    )

    failed = driver.update("AliceAttributes", attempted)

    assert failed is not None
    assert failed.status == "FAILED"
    assert "custom:seats" in failed.reason
    assert failed.physical_id == physical_id
    assert world(cognito, dynamodb, pool_id, alice) == after_create

    rolled_back = rollback_update(driver, "AliceAttributes", to=prior, attempted=attempted)

    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == physical_id
    _assert_prior(cognito, dynamodb, pool_id, alice, before)

    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before


def test_failed_update_at_cognito_write_is_undone_then_rollback_restores_prior_values(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    before, prior, physical_id = _create_prior(driver, cognito, pool_id, alice)
    # Changes plan, drops seats and nickname (absent before: deleted, before the write that
    # fails), adds name and tenant_id; the write of the new values fails.
    attempted = declare(
        pool_id,
        alice,
        {
            "custom:plan": "VAL-pro-2-3e8b",
            "name": "VAL-name-2-3e8b",
            "custom:tenant_id": "VAL-tenant-2-3e8b",
        },
    )
    aws_calls.fail_before(
        "AdminUpdateUserAttributes", attribute_is("custom:plan", "VAL-pro-2-3e8b")
    )

    failed = driver.update("AliceAttributes", attempted)

    assert failed is not None
    assert failed.status == "FAILED"
    assert "AdminUpdateUserAttributes" in failed.reason
    assert failed.physical_id == physical_id
    # The handler undid what it changed: the prior declaration is live again.
    _assert_prior(cognito, dynamodb, pool_id, alice, before)

    rolled_back = rollback_update(driver, "AliceAttributes", to=prior, attempted=attempted)

    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == physical_id
    _assert_prior(cognito, dynamodb, pool_id, alice, before)

    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []


def test_rollback_after_successful_update_restores_prior_values(
    *, driver, cognito, dynamodb, pool_id, alice
):
    """The update succeeded, another resource failed: CloudFormation rolls this one back."""
    before, prior, physical_id = _create_prior(driver, cognito, pool_id, alice)
    attempted = declare(
        pool_id,
        alice,
        {"custom:plan": "VAL-pro-2-3e8b", "name": "VAL-name-2-3e8b", "custom:beta": "true"},
    )
    updated = driver.update("AliceAttributes", attempted)
    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert user_attributes(cognito, pool_id, alice)["name"] == "VAL-name-2-3e8b"

    rolled_back = rollback_update(driver, "AliceAttributes", to=prior, attempted=attempted)

    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == physical_id
    _assert_prior(cognito, dynamodb, pool_id, alice, before)

    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []


def test_replacement_applies_to_new_user_and_cleanup_restores_only_old_user(
    *, driver, cognito, dynamodb, pool_id, alice, bob
):
    alice_before = user_attributes(cognito, pool_id, alice)
    bob_before = user_attributes(cognito, pool_id, bob)
    values = {"custom:plan": "VAL-ent-51aa", "custom:tenant_id": "VAL-tenant-51aa"}
    created = driver.create("SeedAttributes", declare(pool_id, alice, values))
    assert created.status == "SUCCESS", created.reason

    replaced = driver.update("SeedAttributes", declare(pool_id, bob, values))

    assert replaced is not None
    assert replaced.status == "SUCCESS", replaced.reason
    assert replaced.physical_id != created.physical_id
    assert owner_of(replaced.physical_id) != owner_of(created.physical_id)
    assert user_attributes(cognito, pool_id, bob) == {**bob_before, **values}
    # Until the cleanup Delete, the old resource still exists.
    assert user_attributes(cognito, pool_id, alice) == {**alice_before, **values}
    assert originals(dynamodb, bob) == {
        "custom:plan": "ORIG-plan-basic-b0b2",
        "custom:tenant_id": ABSENT,
    }

    cleanup = driver.cleanup()

    assert [answer.status for answer in cleanup] == ["SUCCESS"], [a.reason for a in cleanup]
    assert cleanup[0].physical_id == created.physical_id
    assert user_attributes(cognito, pool_id, alice) == alice_before
    assert user_attributes(cognito, pool_id, bob) == {**bob_before, **values}
    assert claims(dynamodb, alice) == {}

    deleted = driver.delete("SeedAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, bob) == bob_before
    assert held_items(dynamodb) == []


def test_replacement_rolled_back_returns_old_id_and_restores_new_user(
    *, driver, cognito, dynamodb, pool_id, alice, bob
):
    """The replacement succeeded, another resource failed: CloudFormation sends the rollback
    Update (old and new swapped), then deletes whichever physical id is no longer current."""
    alice_before = user_attributes(cognito, pool_id, alice)
    bob_before = user_attributes(cognito, pool_id, bob)
    values = {"custom:plan": "VAL-ent-51aa"}
    old = declare(pool_id, alice, values)
    created = driver.create("SeedAttributes", old)
    assert created.status == "SUCCESS", created.reason
    new = declare(pool_id, bob, values)
    replaced = driver.update("SeedAttributes", new)
    assert replaced is not None
    assert replaced.status == "SUCCESS", replaced.reason
    driver.pending_cleanup.clear()  # the stack update failed: no cleanup of the old id

    rolled_back = rollback_update(driver, "SeedAttributes", to=old, attempted=new)

    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == created.physical_id
    assert user_attributes(cognito, pool_id, alice) == {**alice_before, **values}

    # UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS: the replacement's id goes.
    cleanup = driver.send("Delete", "SeedAttributes", new, physical_id=replaced.physical_id)

    assert cleanup.status == "SUCCESS", cleanup.reason
    assert user_attributes(cognito, pool_id, bob) == bob_before
    assert claims(dynamodb, bob) == {}
    assert user_attributes(cognito, pool_id, alice) == {**alice_before, **values}

    deleted = driver.delete("SeedAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == alice_before
    assert held_items(dynamodb) == []


def test_failed_replacement_leaves_no_claims_on_new_user(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice, bob
):
    alice_before = user_attributes(cognito, pool_id, alice)
    bob_before = user_attributes(cognito, pool_id, bob)
    values = {"custom:plan": "VAL-ent-51aa", "nickname": "VAL-nick-51aa"}
    old = declare(pool_id, alice, values)
    created = driver.create("SeedAttributes", old)
    assert created.status == "SUCCESS", created.reason
    alice_ledger = claims(dynamodb, alice)
    aws_calls.fail_before(
        "AdminUpdateUserAttributes",
        lambda params: params["Username"] == bob,
        code="TooManyRequestsException",
    )

    new = declare(pool_id, bob, values)
    failed = driver.update("SeedAttributes", new)

    assert failed is not None
    assert failed.status == "FAILED"
    assert failed.physical_id == created.physical_id
    assert user_attributes(cognito, pool_id, bob) == bob_before
    assert claims(dynamodb, bob) == {}
    assert claims(dynamodb, alice) == alice_ledger
    assert user_attributes(cognito, pool_id, alice) == {**alice_before, **values}

    rolled_back = rollback_update(driver, "SeedAttributes", to=old, attempted=new)
    assert rolled_back.status == "SUCCESS", rolled_back.reason
    assert rolled_back.physical_id == created.physical_id
    deleted = driver.delete("SeedAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == alice_before
    assert user_attributes(cognito, pool_id, bob) == bob_before
    assert held_items(dynamodb) == []
