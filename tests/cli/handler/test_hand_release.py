"""Handler level: after ``seed-users release OWNER --apply``, CloudFormation's next Update of
that resource (our physical id, an owner the ledger no longer knows) claims anew instead of
being refused (DESIGN 4), and its Delete restores the originals."""

from __future__ import annotations

from cfnlocal.seed_pool import user_attributes
from tests.handler.helpers import LEDGER, claims, declare, owner_of


def test_update_after_a_release_by_hand_claims_anew(
    *, driver, cognito, dynamodb, pool_id, alice, seed_users
):
    before = user_attributes(cognito, pool_id, alice)
    created = driver.create(
        "AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-one-hand"})
    )
    assert created.status == "SUCCESS", created.reason
    owner = owner_of(created.physical_id)

    released = seed_users("release", owner, "--apply", "--ledger-table", LEDGER)

    assert released.code == 0, released.err
    assert user_attributes(cognito, pool_id, alice) == before
    updated = driver.update(
        "AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-two-hand"})
    )
    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id
    assert user_attributes(cognito, pool_id, alice)["nickname"] == "VAL-two-hand"
    assert set(claims(dynamodb)) == {"nickname"}
    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before


def test_without_the_mark_the_same_update_is_still_refused(*, driver, dynamodb, pool_id, alice):
    """The control: the ledger forgot the owner without an operator's release."""
    from tests.handler.helpers import ledger_items

    created = driver.create(
        "AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-one-hand"})
    )
    assert created.status == "SUCCESS", created.reason
    for item in ledger_items(dynamodb):
        dynamodb.delete_item(TableName=LEDGER, Key={"pk": item["pk"], "sk": item["sk"]})

    updated = driver.update(
        "AliceAttributes", declare(pool_id, alice, {"nickname": "VAL-two-hand"})
    )

    assert updated is not None
    assert updated.status == "FAILED"
    assert "unknown to ledger table" in updated.reason
