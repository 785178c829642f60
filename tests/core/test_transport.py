"""Tables for ``transport``: what the front function puts on the queue, and what a lost event
answers."""

from __future__ import annotations

from typing import Any

import pytest
from user_attributes.identity import parse_physical_id
from user_attributes.transport import (
    answerable,
    event_problem,
    failed_answer,
    message_deduplication_id,
    message_group_id,
)

STACK = "arn:aws:cloudformation:eu-west-1:123456789012:stack/S/1"
POOL = "eu-west-1_Pool1"


def _event(request_type: str = "Create", **changes: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ResponseURL": "https://example.invalid/answer",
        "StackId": STACK,
        "RequestId": "req-1",
        "LogicalResourceId": "SeedAlice",
        "ResourceType": "Custom::CognitoUserAttributes",
        "ResourceProperties": {"UserPoolId": POOL, "Username": "alice", "Attributes": {}},
    }
    if request_type != "Create":
        event["PhysicalResourceId"] = "cua1.sent-id"
    event.update(changes)
    return {name: value for name, value in event.items() if value is not None}


@pytest.mark.parametrize(
    ("event", "problem"),
    [
        pytest.param(_event(), None, id="create"),
        pytest.param(_event("Update"), None, id="update"),
        pytest.param(_event("Delete"), None, id="delete"),
        pytest.param(
            _event(RequestType="Rename"), "RequestType: must be Create, Update or Delete", id="type"
        ),
        pytest.param(
            _event(RequestId=None), "RequestId: required, a non-empty string", id="no-request-id"
        ),
        pytest.param(
            _event(ResponseURL=""), "ResponseURL: required, a non-empty string", id="empty-url"
        ),
        pytest.param(
            _event(ResourceProperties=["x"]), "ResourceProperties: must be an object", id="props"
        ),
        pytest.param(
            _event("Delete", PhysicalResourceId=None),
            "PhysicalResourceId: required for Update and Delete",
            id="delete-without-id",
        ),
    ],
)
def test_event_problem_names_the_field(event, problem):
    assert event_problem(event) == problem


def test_one_users_events_share_a_group_whatever_the_request_or_the_case():
    create = _event()
    delete = _event("Delete", RequestId="req-2")
    shouted = _event(ResourceProperties={"UserPoolId": POOL, "Username": "ALICE", "Attributes": {}})

    assert message_group_id(create) == message_group_id(delete) == message_group_id(shouted)


def test_other_users_and_other_pools_get_other_groups():
    bob = _event(ResourceProperties={"UserPoolId": POOL, "Username": "bob"})
    other_pool = _event(ResourceProperties={"UserPoolId": "eu-west-1_Pool2", "Username": "alice"})

    assert len({message_group_id(e) for e in (_event(), bob, other_pool)}) == 3


def test_an_event_naming_no_user_groups_by_resource():
    refused = _event(ResourceProperties={"Username": "alice"})
    rollback = _event("Delete", ResourceProperties={"Username": "alice"}, RequestId="req-2")
    other = _event(ResourceProperties={"Username": "alice"}, LogicalResourceId="SeedBob")

    assert message_group_id(refused) == message_group_id(rollback) != message_group_id(other)


def test_group_ids_fit_sqs_limits():
    group = message_group_id(_event(ResourceProperties={"UserPoolId": POOL, "Username": "x" * 128}))

    assert len(group) <= 128
    assert group.isalnum()


def test_the_request_id_is_the_deduplication_id():
    assert message_deduplication_id(_event(RequestId="3f1c")) == "3f1c"


def test_a_lost_create_fails_with_our_id_for_the_declared_user():
    answer = failed_answer(_event(), "lost")
    parsed = parse_physical_id(answer["PhysicalResourceId"])

    assert answer["Status"] == "FAILED"
    assert answer["Reason"] == "lost"
    assert parsed is not None
    assert (parsed.user_pool_id, parsed.username) == (POOL, "alice")
    assert (answer["RequestId"], answer["LogicalResourceId"]) == ("req-1", "SeedAlice")


@pytest.mark.parametrize("request_type", ["Update", "Delete"])
def test_a_lost_update_or_delete_fails_with_the_id_cloudformation_sent(request_type):
    assert failed_answer(_event(request_type), "lost")["PhysicalResourceId"] == "cua1.sent-id"


def test_an_event_without_what_an_answer_needs_is_not_answerable():
    assert answerable(_event(RequestType="Rename"))
    assert not answerable(_event(StackId=None))
    assert not answerable(_event(ResponseURL=""))
