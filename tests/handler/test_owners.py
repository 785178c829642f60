"""Several owners of one attribute: a logical id changed (create new, then delete old)."""

from __future__ import annotations

from cfnlocal.seed_pool import user_attributes

from .helpers import ABSENT, claim_owners, declare, held_items, originals, owner_of


def test_two_owners_new_value_survives_old_delete_and_original_returns_when_both_gone(
    *, driver, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    old = driver.create(
        "SeedAlice",
        declare(pool_id, alice, {"custom:plan": "VAL-old-44c2", "nickname": "VAL-nick-44c2"}),
    )
    assert old.status == "SUCCESS", old.reason

    # The CDK refactor renamed the construct: CloudFormation creates the new logical id first.
    new = driver.create(
        "SeedAliceRenamed", declare(pool_id, alice, {"custom:plan": "VAL-new-44c2"})
    )

    assert new.status == "SUCCESS", new.reason
    assert owner_of(new.physical_id) != owner_of(old.physical_id)
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == "VAL-new-44c2"
    assert claim_owners(dynamodb, alice)["custom:plan"] == {
        owner_of(old.physical_id),
        owner_of(new.physical_id),
    }
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "nickname": ABSENT,
    }

    # ...and deletes the old one during cleanup.
    deleted_old = driver.delete("SeedAlice")

    assert deleted_old.status == "SUCCESS", deleted_old.reason
    assert user_attributes(cognito, pool_id, alice) == {
        **before,
        "custom:plan": "VAL-new-44c2",
    }
    assert claim_owners(dynamodb, alice) == {"custom:plan": {owner_of(new.physical_id)}}
    assert originals(dynamodb, alice) == {"custom:plan": "ORIG-plan-free-5c1e"}

    deleted_new = driver.delete("SeedAliceRenamed")

    assert deleted_new.status == "SUCCESS", deleted_new.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []


def test_releasing_latest_owner_reapplies_remaining_owner_value(
    *, driver, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    first = driver.create("SeedAlice", declare(pool_id, alice, {"custom:plan": "VAL-first-44c2"}))
    assert first.status == "SUCCESS", first.reason
    second = driver.create(
        "SeedAliceRenamed", declare(pool_id, alice, {"custom:plan": "VAL-second-44c2"})
    )
    assert second.status == "SUCCESS", second.reason
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == "VAL-second-44c2"

    deleted_latest = driver.delete("SeedAliceRenamed")

    assert deleted_latest.status == "SUCCESS", deleted_latest.reason
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == "VAL-first-44c2"
    assert originals(dynamodb, alice) == {"custom:plan": "ORIG-plan-free-5c1e"}

    deleted_first = driver.delete("SeedAlice")

    assert deleted_first.status == "SUCCESS", deleted_first.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []
