"""Create and Update: values applied, originals recorded before the first write, diffs."""

from __future__ import annotations

from cfnlocal.seed_pool import user_attributes

from .helpers import (
    ABSENT,
    claim_owners,
    declare,
    held_items,
    originals,
    owner_of,
    owner_records,
    world,
)


def test_create_sets_values_and_records_originals(*, driver, cognito, dynamodb, pool_id, alice):
    before = user_attributes(cognito, pool_id, alice)

    answer = driver.create(
        "AliceAttributes",
        declare(
            pool_id,
            alice,
            {"custom:plan": "VAL-pro-7f3a", "nickname": "VAL-nick-7f3a", "custom:seats": "42"},
        ),
    )

    assert answer.status == "SUCCESS", answer.reason
    owner = owner_of(answer.physical_id)
    assert user_attributes(cognito, pool_id, alice) == {
        **before,
        "custom:plan": "VAL-pro-7f3a",
        "nickname": "VAL-nick-7f3a",
        "custom:seats": "42",
    }
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "nickname": ABSENT,
        "custom:seats": ABSENT,
    }
    assert claim_owners(dynamodb, alice) == {
        "custom:plan": {owner},
        "nickname": {owner},
        "custom:seats": {owner},
    }
    records = owner_records(dynamodb, alice)
    assert set(records) == {owner}
    assert {a["S"] for a in records[owner]["attributes"]["L"]} == {
        "custom:plan",
        "nickname",
        "custom:seats",
    }


def test_update_adds_removes_and_changes(*, driver, cognito, dynamodb, pool_id, alice):
    before = user_attributes(cognito, pool_id, alice)
    created = driver.create(
        "AliceAttributes",
        declare(
            pool_id,
            alice,
            {
                "custom:plan": "VAL-pro-1-7f3a",
                "name": "VAL-name-1-7f3a",
                "nickname": "VAL-nick-1-7f3a",
            },
        ),
    )
    assert created.status == "SUCCESS", created.reason

    updated = driver.update(
        "AliceAttributes",
        declare(
            pool_id,
            alice,
            {"custom:plan": "VAL-pro-2-7f3a", "custom:tenant_id": "VAL-tenant-2-7f3a"},
        ),
    )

    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id
    expected = {
        **before,
        "custom:plan": "VAL-pro-2-7f3a",
        "custom:tenant_id": "VAL-tenant-2-7f3a",
    }
    # name had a value: restored; nickname was absent: deleted again.
    assert expected["name"] == "ORIG-name-Alice-5c1e"
    assert "nickname" not in expected
    assert user_attributes(cognito, pool_id, alice) == expected
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "custom:tenant_id": ABSENT,
    }
    owner = owner_of(created.physical_id)
    records = owner_records(dynamodb, alice)
    assert {a["S"] for a in records[owner]["attributes"]["L"]} == {
        "custom:plan",
        "custom:tenant_id",
    }

    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []


def test_update_that_changes_nothing_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    attributes = {"custom:plan": "VAL-pro-7f3a", "nickname": "VAL-nick-7f3a"}
    created = driver.create("AliceAttributes", declare(pool_id, alice, attributes))
    assert created.status == "SUCCESS", created.reason
    before = world(cognito, dynamodb, pool_id, alice)
    writes_before = aws_calls.count()

    # Same declaration in another order: the properties differ, so CloudFormation sends an Update.
    reordered = dict(reversed(list(attributes.items())))
    updated = driver.update("AliceAttributes", declare(pool_id, alice, reordered))

    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id
    assert aws_calls.calls[writes_before:] == []
    assert world(cognito, dynamodb, pool_id, alice) == before


def test_absent_attribute_is_removed_while_declared_and_restored_after(
    *, driver, cognito, dynamodb, pool_id, bob
):
    before = user_attributes(cognito, pool_id, bob)
    assert before["nickname"] == "ORIG-nick-b0b2"

    answer = driver.create(
        "BobAttributes",
        declare(pool_id, bob, {"custom:plan": "VAL-team-9d1c"}, absent=["nickname"]),
    )

    assert answer.status == "SUCCESS", answer.reason
    during = user_attributes(cognito, pool_id, bob)
    assert "nickname" not in during
    assert during["custom:plan"] == "VAL-team-9d1c"
    assert originals(dynamodb, bob) == {
        "custom:plan": "ORIG-plan-basic-b0b2",
        "nickname": "ORIG-nick-b0b2",
    }

    deleted = driver.delete("BobAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, bob) == before
    assert held_items(dynamodb) == []
