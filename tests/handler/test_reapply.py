"""``ReapplyToken``: an Update whose only change is the token rewrites drifted values, and only
those; it claims, releases and replaces nothing (issue 11, item 5).

The handler needs no rule of its own for it: every Update diffs the owner's declared values
against the user's live attributes (``plan.cognito_writes``), so a value changed outside
CloudFormation is written again, while the ledger, whose claims the token does not touch, is
left as it is.
"""

from __future__ import annotations

from typing import Any

from cfnlocal.seed_pool import user_attributes

from .helpers import ABSENT, declare, held_items, ledger_items, originals, owner_records


def test_update_with_a_new_reapply_token_rewrites_a_drifted_value(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    before = user_attributes(cognito, pool_id, alice)
    declared: dict[str, Any] = {
        **declare(
            pool_id,
            alice,
            {"custom:plan": "VAL-pro-3b7e", "nickname": "VAL-nick-3b7e"},
            absent=["name"],
        ),
        "ReapplyToken": "deploy-1",
    }
    created = driver.create("AliceAttributes", declared)
    assert created.status == "SUCCESS", created.reason
    seeded = user_attributes(cognito, pool_id, alice)
    ledger = ledger_items(dynamodb)
    # Someone edits the user outside CloudFormation: a declared value changes, and an attribute
    # declared absent comes back. nickname stays as declared.
    cognito.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username=alice,
        UserAttributes=[
            {"Name": "custom:plan", "Value": "DRIFT-plan-3b7e"},
            {"Name": "name", "Value": "DRIFT-name-3b7e"},
        ],
    )
    writes_before = aws_calls.count()

    updated = driver.update("AliceAttributes", {**declared, "ReapplyToken": "deploy-2"})

    assert updated is not None  # a new token is a property change: CloudFormation sends it
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id  # not a replacement
    assert user_attributes(cognito, pool_id, alice) == seeded
    # Only what drifted was written, and the ledger was not (no claim, no release).
    new_writes = aws_calls.calls[writes_before:]
    assert [(call.operation, call.params["UserAttributes"]) for call in new_writes[:1]] == [
        ("AdminUpdateUserAttributes", [{"Name": "custom:plan", "Value": "VAL-pro-3b7e"}])
    ]
    assert [(call.operation, call.params["UserAttributeNames"]) for call in new_writes[1:]] == [
        ("AdminDeleteUserAttributes", ["name"])
    ]
    assert ledger_items(dynamodb) == ledger
    assert originals(dynamodb, alice) == {
        "custom:plan": "ORIG-plan-free-5c1e",
        "nickname": ABSENT,
        "name": "ORIG-name-Alice-5c1e",
    }

    deleted = driver.delete("AliceAttributes")
    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
    assert held_items(dynamodb) == []


def test_update_with_a_new_reapply_token_and_no_drift_writes_nothing(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    declared: dict[str, Any] = {
        **declare(pool_id, alice, {"custom:plan": "VAL-pro-3b7e"}, absent=["nickname"]),
        "ReapplyToken": "deploy-1",
    }
    created = driver.create("AliceAttributes", declared)
    assert created.status == "SUCCESS", created.reason
    seeded = user_attributes(cognito, pool_id, alice)
    ledger = ledger_items(dynamodb)
    writes_before = aws_calls.count()

    updated = driver.update("AliceAttributes", {**declared, "ReapplyToken": "deploy-2"})

    assert updated is not None
    assert updated.status == "SUCCESS", updated.reason
    assert updated.physical_id == created.physical_id
    assert aws_calls.calls[writes_before:] == []
    assert user_attributes(cognito, pool_id, alice) == seeded
    assert ledger_items(dynamodb) == ledger


def test_adding_and_removing_the_reapply_token_changes_no_claim(
    *, driver, aws_calls, cognito, dynamodb, pool_id, alice
):
    """Existing stacks have no token: the first deploy with one, and a later one without it,
    are Updates like any other token change."""
    declared = declare(pool_id, alice, {"custom:plan": "VAL-pro-3b7e"})
    created = driver.create("AliceAttributes", declared)
    assert created.status == "SUCCESS", created.reason
    owners = owner_records(dynamodb, alice)
    ledger = ledger_items(dynamodb)
    writes_before = aws_calls.count()

    with_token = driver.update("AliceAttributes", {**declared, "ReapplyToken": "deploy-1"})
    without_token = driver.update("AliceAttributes", declared)

    for answer in (with_token, without_token):
        assert answer is not None
        assert answer.status == "SUCCESS", answer.reason
        assert answer.physical_id == created.physical_id
    assert aws_calls.calls[writes_before:] == []
    assert owner_records(dynamodb, alice) == owners
    assert ledger_items(dynamodb) == ledger


def test_a_bad_reapply_token_is_refused_before_any_call(*, driver, aws_calls, pool_id, alice):
    answer = driver.create(
        "AliceAttributes",
        {**declare(pool_id, alice, {"custom:plan": "VAL-pro-3b7e"}), "ReapplyToken": "x" * 129},
    )

    assert answer.status == "FAILED"
    assert answer.reason.startswith("invalid properties: ReapplyToken: must be a string of 1 to")
    assert aws_calls.calls == []
