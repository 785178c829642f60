"""The queue between CloudFormation and the worker, as synthesized: a FIFO queue and its
dead-letter queue under a customer-managed key, SSL only, the worker reading with a bounded
concurrency, and the ServiceToken function keeping its logical id."""

from __future__ import annotations

import re
from typing import Any

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Capture, Match, Template

from cognito_seed_users import CognitoUserAttributes
from cognito_seed_users.cognito_user_attributes import (
    MAX_RECEIVES,
    VISIBILITY_TIMEOUT,
    WORKER_TIMEOUT,
    pacing,
)
from tests.infra.support import POOL_ID, cdk_app, function_by_handler, role_of


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    app: App = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    stack = Stack(app, "Transport")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"locale": "en-GB"}
    )
    found: dict[str, Any] = Template.from_stack(stack).to_json()
    return found


def queues(template: dict[str, Any]) -> tuple[str, str]:
    """``(queue, dead-letter queue)`` logical ids."""
    found = {k: r for k, r in template["Resources"].items() if r["Type"] == "AWS::SQS::Queue"}
    [queue] = [k for k, r in found.items() if "RedrivePolicy" in r["Properties"]]
    [dead_letters] = [k for k in found if k != queue]
    return queue, dead_letters


def statements_of_role(template: dict[str, Any], role_id: str) -> list[dict[str, Any]]:
    return [
        statement
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::IAM::Policy"
        and resource["Properties"]["Roles"] == [{"Ref": role_id}]
        for statement in resource["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, Any]) -> set[str]:
    action = statement["Action"]
    return {action} if isinstance(action, str) else set(action)


def test_the_service_token_function_keeps_its_logical_id_and_only_queues(
    template: dict[str, Any],
) -> None:
    # CloudFormation refuses to change a custom resource's ServiceToken.
    front_id, front = function_by_handler(template, "front.handler")
    assert re.fullmatch(r"CognitoUserAttributesProviderFunction[0-9A-F]{8}", front_id)
    queue_id, _ = queues(template)
    assert front["Properties"]["Environment"]["Variables"] == {"QUEUE_URL": {"Ref": queue_id}}
    for resource in template["Resources"].values():
        if resource["Type"] == "Custom::CognitoUserAttributes":
            assert resource["Properties"]["ServiceToken"] == {"Fn::GetAtt": [front_id, "Arn"]}


def test_the_queue_is_fifo_without_content_deduplication_and_redrives_after_three_receives(
    template: dict[str, Any],
) -> None:
    queue_id, dead_letters_id = queues(template)
    queue = template["Resources"][queue_id]["Properties"]
    assert queue["FifoQueue"] is True
    # The RequestId is the deduplication id: two events with one body stay two.
    assert queue["ContentBasedDeduplication"] is False
    assert queue["RedrivePolicy"] == {
        "deadLetterTargetArn": {"Fn::GetAtt": [dead_letters_id, "Arn"]},
        "maxReceiveCount": MAX_RECEIVES,
    }
    # The dead-letter queue of a FIFO queue must be FIFO too.
    assert template["Resources"][dead_letters_id]["Properties"]["FifoQueue"] is True


def test_visibility_timeout_is_six_times_the_workers_timeout(template: dict[str, Any]) -> None:
    queue_id, _ = queues(template)
    _, worker = function_by_handler(template, "worker.handler")
    visibility = template["Resources"][queue_id]["Properties"]["VisibilityTimeout"]
    assert visibility == VISIBILITY_TIMEOUT.to_seconds()
    assert visibility >= 6 * worker["Properties"]["Timeout"] == 6 * WORKER_TIMEOUT.to_seconds()


def test_both_queues_are_encrypted_with_a_rotating_customer_managed_key(
    template: dict[str, Any],
) -> None:
    keys = set()
    for queue_id in queues(template):
        key_id, attribute = template["Resources"][queue_id]["Properties"]["KmsMasterKeyId"][
            "Fn::GetAtt"
        ]
        assert attribute == "Arn"
        keys.add(key_id)
    [key_id] = keys
    key = template["Resources"][key_id]
    assert key["Type"] == "AWS::KMS::Key"
    assert key["Properties"]["EnableKeyRotation"] is True


def test_both_queues_refuse_requests_without_ssl(template: dict[str, Any]) -> None:
    for queue_id in queues(template):
        Template.from_json(template).has_resource_properties(
            "AWS::SQS::QueuePolicy",
            {
                "Queues": [{"Ref": queue_id}],
                "PolicyDocument": {
                    "Statement": Match.array_with(
                        [
                            {
                                "Action": "sqs:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                                "Effect": "Deny",
                                "Principal": {"AWS": "*"},
                                "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
                            }
                        ]
                    )
                },
            },
        )


def test_the_worker_reads_one_message_at_a_time_with_the_paced_concurrency(
    template: dict[str, Any],
) -> None:
    queue_id, dead_letters_id = queues(template)
    worker_id, _ = function_by_handler(template, "worker.handler")
    consumer_id, _ = function_by_handler(template, "dead_letters.handler")
    concurrency, _ = pacing(0.4)
    assembled = Template.from_json(template)
    assembled.resource_count_is("AWS::Lambda::EventSourceMapping", 2)
    assembled.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        Match.object_equals(
            {
                "BatchSize": 1,
                "EventSourceArn": {"Fn::GetAtt": [queue_id, "Arn"]},
                "FunctionName": {"Ref": worker_id},
                "ScalingConfig": {"MaximumConcurrency": concurrency},
            }
        ),
    )
    assembled.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 1, "EventSourceArn": {"Fn::GetAtt": [dead_letters_id, "Arn"]}},
    )
    mapping = Capture()
    assembled.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"FunctionName": {"Ref": consumer_id}, "EventSourceArn": mapping},
    )
    assert mapping.as_object() == {"Fn::GetAtt": [dead_letters_id, "Arn"]}


def test_the_front_function_may_only_send_to_the_queue(template: dict[str, Any]) -> None:
    queue_id, _ = queues(template)
    _, front = function_by_handler(template, "front.handler")
    sent = [s for s in statements_of_role(template, role_of(template, front)) if "sqs:" in str(s)]
    assert sent == [
        {
            "Action": "sqs:SendMessage",
            "Effect": "Allow",
            "Resource": {"Fn::GetAtt": [queue_id, "Arn"]},
        }
    ]
    granted = set().union(*map(actions, statements_of_role(template, role_of(template, front))))
    assert granted == {
        "sqs:SendMessage",
        "kms:GenerateDataKey",
        "kms:Decrypt",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }


def test_only_the_worker_reads_the_queue_and_only_the_consumer_the_dead_letters(
    template: dict[str, Any],
) -> None:
    queue_id, dead_letters_id = queues(template)
    readers: dict[str, set[str]] = {}
    for handler in ("front.handler", "worker.handler", "dead_letters.handler"):
        _, function = function_by_handler(template, handler)
        for statement in statements_of_role(template, role_of(template, function)):
            if "sqs:ReceiveMessage" in actions(statement):
                readers.setdefault(handler, set()).add(statement["Resource"]["Fn::GetAtt"][0])
    assert readers == {"worker.handler": {queue_id}, "dead_letters.handler": {dead_letters_id}}


def test_no_function_reserves_concurrency_or_is_given_cognito_access_but_the_worker(
    template: dict[str, Any],
) -> None:
    for handler in ("front.handler", "worker.handler", "dead_letters.handler"):
        _, function = function_by_handler(template, handler)
        assert "ReservedConcurrentExecutions" not in function["Properties"]
        cognito = [
            s
            for s in statements_of_role(template, role_of(template, function))
            if any(a.startswith(("cognito-idp:", "dynamodb:")) for a in actions(s))
        ]
        assert bool(cognito) == (handler == "worker.handler"), handler


def test_the_front_function_is_created_after_and_deleted_before_its_consumers(
    template: dict[str, Any],
) -> None:
    front_id, front = function_by_handler(template, "front.handler")
    worker_id, _ = function_by_handler(template, "worker.handler")
    consumer_id, _ = function_by_handler(template, "dead_letters.handler")
    mappings = [
        k
        for k, r in template["Resources"].items()
        if r["Type"] == "AWS::Lambda::EventSourceMapping"
    ]
    # A Delete CloudFormation sends while deleting the stack still finds both consumers.
    assert set(front["DependsOn"]) >= {worker_id, consumer_id, *mappings}, front_id
