"""Verified flags travel with their address in the same call; ClientMetadata is passed on."""

from __future__ import annotations

import pytest

from cfnlocal.seed_pool import create_user, user_attributes

from .helpers import declare, originals

NEW_EMAIL = "carol-new-9e27@example.com"
ORIGINAL_EMAIL = "carol-orig-9e27@example.com"


@pytest.fixture
def carol(*, cognito, pool_id):
    """A seed user whose email is not verified."""
    return create_user(
        cognito,
        pool_id,
        "carol",
        {"email": ORIGINAL_EMAIL, "email_verified": "false", "custom:plan": "ORIG-plan-9e27"},
    )


def _sent(call):
    return {item["Name"]: item["Value"] for item in call["UserAttributes"]}


def test_email_change_sends_email_verified_in_same_call_and_restore_sends_original_flag(
    *, driver, aws_calls, cognito, dynamodb, pool_id, carol
):
    before = user_attributes(cognito, pool_id, carol)

    created = driver.create("CarolAttributes", declare(pool_id, carol, {"email": NEW_EMAIL}))

    assert created.status == "SUCCESS", created.reason
    updates = aws_calls.of("AdminUpdateUserAttributes")
    assert len(updates) == 1
    assert _sent(updates[0]) == {"email": NEW_EMAIL, "email_verified": "true"}
    assert aws_calls.of("AdminDeleteUserAttributes") == []
    assert user_attributes(cognito, pool_id, carol) == {
        **before,
        "email": NEW_EMAIL,
        "email_verified": "true",
    }
    assert originals(dynamodb, carol) == {"email": ORIGINAL_EMAIL, "email_verified": "false"}

    deleted = driver.delete("CarolAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    updates = aws_calls.of("AdminUpdateUserAttributes")
    assert len(updates) == 2
    assert _sent(updates[1]) == {"email": ORIGINAL_EMAIL, "email_verified": "false"}
    assert aws_calls.of("AdminDeleteUserAttributes") == []
    assert user_attributes(cognito, pool_id, carol) == before


def test_declared_email_verified_value_is_sent_with_email(
    *, driver, aws_calls, cognito, pool_id, carol
):
    before = user_attributes(cognito, pool_id, carol)

    created = driver.create(
        "CarolAttributes",
        declare(pool_id, carol, {"email": NEW_EMAIL, "email_verified": "false"}),
    )

    assert created.status == "SUCCESS", created.reason
    updates = aws_calls.of("AdminUpdateUserAttributes")
    assert [_sent(call) for call in updates] == [{"email": NEW_EMAIL, "email_verified": "false"}]
    deleted = driver.delete("CarolAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert _sent(aws_calls.of("AdminUpdateUserAttributes")[-1]) == {
        "email": ORIGINAL_EMAIL,
        "email_verified": "false",
    }
    assert user_attributes(cognito, pool_id, carol) == before


def test_phone_number_change_sends_phone_number_verified_in_same_call(
    *, driver, aws_calls, cognito, pool_id, carol
):
    before = user_attributes(cognito, pool_id, carol)
    assert "phone_number" not in before

    created = driver.create(
        "CarolAttributes", declare(pool_id, carol, {"phone_number": "+4915112340927"})
    )

    assert created.status == "SUCCESS", created.reason
    updates = aws_calls.of("AdminUpdateUserAttributes")
    assert [_sent(call) for call in updates] == [
        {"phone_number": "+4915112340927", "phone_number_verified": "true"}
    ]

    deleted = driver.delete("CarolAttributes")

    assert deleted.status == "SUCCESS", deleted.reason
    # Both were absent: both are deleted again, in one call.
    deletes = aws_calls.of("AdminDeleteUserAttributes")
    assert [sorted(call["UserAttributeNames"]) for call in deletes] == [
        ["phone_number", "phone_number_verified"]
    ]
    assert user_attributes(cognito, pool_id, carol) == before


def test_client_metadata_is_passed_on_apply_and_on_restore(
    *, driver, aws_calls, cognito, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    metadata = {"source": "META-bootstrap-9e27", "ticket": "META-ticket-9e27"}

    created = driver.create(
        "AliceAttributes",
        declare(pool_id, alice, {"custom:plan": "VAL-pro-9e27"}, client_metadata=metadata),
    )
    assert created.status == "SUCCESS", created.reason
    updated = driver.update(
        "AliceAttributes",
        declare(pool_id, alice, {"custom:plan": "VAL-pro-2-9e27"}, client_metadata=metadata),
    )
    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason

    updates = aws_calls.of("AdminUpdateUserAttributes")
    assert [_sent(call) for call in updates] == [
        {"custom:plan": "VAL-pro-9e27"},
        {"custom:plan": "VAL-pro-2-9e27"},
        {"custom:plan": "ORIG-plan-free-5c1e"},
    ]
    assert [call.get("ClientMetadata") for call in updates] == [metadata, metadata, metadata]
    assert user_attributes(cognito, pool_id, alice) == before


def test_update_releasing_email_verified_while_changing_email_restores_the_flag(
    *, driver, aws_calls, cognito, dynamodb, pool_id, carol
):
    """Told not to mark contacts verified, the update stops declaring email_verified (its only
    owner: back to its original "false") in the same step as email changes; the flag that
    travels with the new address is the restored one, not the stale "true"."""
    before = user_attributes(cognito, pool_id, carol)
    created = driver.create(
        "CarolAttributes",
        declare(pool_id, carol, {"email": NEW_EMAIL, "email_verified": "true"}),
    )
    assert created.status == "SUCCESS", created.reason
    calls = len(aws_calls.calls)
    newer = "carol-newer-9e27@example.com"
    properties = declare(pool_id, carol, {"email": newer})
    properties["MarkContactsVerified"] = "false"

    updated = driver.update("CarolAttributes", properties)

    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert user_attributes(cognito, pool_id, carol) == {
        **before,
        "email": newer,
        "email_verified": "false",
    }
    assert originals(dynamodb, carol) == {"email": ORIGINAL_EMAIL}
    sent = [
        _sent(call.params) for call in aws_calls.calls[calls:] if "UserAttributes" in call.params
    ]
    assert {"email": newer, "email_verified": "false"} in sent

    deleted = driver.delete("CarolAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, carol) == before
