"""The queue's three functions through their real entry points, against moto's SQS: the front
function (the ServiceToken) queues CloudFormation's event, the worker runs it and answers, the
dead-letter consumer answers FAILED for an event no worker answered."""

from __future__ import annotations

import json
from typing import Any

import boto3
import pytest

from cfnlocal.driver import Answer, check_answer
from cfnlocal.https_sink import ResponseSink
from cfnlocal.lambda_runtime import LambdaContainer
from cfnlocal.seed_pool import user_attributes
from cfnlocal.sqs_fifo import Received

from .conftest import LAMBDA_DIR
from .helpers import LEDGER, declare, owner_of


@pytest.fixture
def sqs() -> Any:
    return boto3.client("sqs")


@pytest.fixture
def queue_url(sqs: Any) -> str:
    return sqs.create_queue(QueueName="events.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]


def _container(handler: str, **environment: str) -> LambdaContainer:
    return LambdaContainer(LAMBDA_DIR, handler=handler, environment=environment, timeout_s=30)


@pytest.fixture
def front(queue_url: str) -> LambdaContainer:
    return _container("front.handler", QUEUE_URL=queue_url)


def _received(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    return sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["MessageGroupId", "MessageDeduplicationId", "ApproximateReceiveCount"],
    ).get("Messages", [])


def _answers(sink: ResponseSink, event: dict[str, Any]) -> list[Answer]:
    return [
        check_answer(delivery.body, delivery.size, event)
        for delivery in sink.deliveries(event["RequestId"])
    ]


def _sqs_event(message: dict[str, Any], receives: int = 1) -> dict[str, Any]:
    """What the SQS event source mapping passes the worker for ``message`` (as received)."""
    received = Received(
        message["MessageId"], message["ReceiptHandle"], message["Body"], "group", receives
    )
    return {"Records": [received.record()]}


def test_front_queues_the_event_in_its_users_group_and_answers_nothing(
    *, driver, front, sqs, queue_url, response_sink, pool_id, alice
):
    event = driver.event("Create", "Seed", declare(pool_id, alice, {"nickname": "VAL-n-q1"}))

    front.invoke(event)

    (message,) = _received(sqs, queue_url)
    assert json.loads(message["Body"]) == event
    assert message["Attributes"]["MessageDeduplicationId"] == event["RequestId"]
    assert len(message["Attributes"]["MessageGroupId"]) == 64
    assert response_sink.deliveries(event["RequestId"]) == []


def test_front_delivered_twice_queues_the_event_once(
    *, driver, front, sqs, queue_url, pool_id, alice
):
    event = driver.event("Create", "Seed", declare(pool_id, alice, {"nickname": "VAL-n-q2"}))

    front.invoke(event)
    front.invoke(event)

    assert len(_received(sqs, queue_url)) == 1


def test_front_answers_failed_when_the_queue_refuses_the_message(
    *, driver, response_sink, pool_id, alice
):
    front = _container(
        "front.handler",
        QUEUE_URL="https://sqs.eu-west-1.amazonaws.com/123456789012/deleted.fifo",
    )
    event = driver.event("Create", "Seed", declare(pool_id, alice, {"nickname": "VAL-n-q3"}))

    front.invoke(event)

    (answer,) = _answers(response_sink, event)
    assert answer.status == "FAILED"
    assert answer.reason.startswith("SendMessage failed: "), answer.reason
    assert owner_of(answer.physical_id)


def test_front_answers_failed_for_a_malformed_event_naming_the_field(
    *, driver, front, sqs, queue_url, response_sink, pool_id, alice
):
    event = driver.event("Create", "Seed", declare(pool_id, alice))
    event["RequestType"] = "Replace"

    front.invoke(event)

    (answer,) = _answers(response_sink, event)
    assert answer.status == "FAILED"
    assert answer.reason == "invalid event: RequestType: must be Create, Update or Delete"
    assert _received(sqs, queue_url) == []


def test_worker_runs_the_queued_event_and_answers_it(
    *, driver, front, sqs, queue_url, response_sink, cognito, pool_id, alice
):
    event = driver.event("Create", "Seed", declare(pool_id, alice, {"nickname": "VAL-n-q4"}))
    front.invoke(event)
    (message,) = _received(sqs, queue_url)
    worker = _container("worker.handler", LEDGER_TABLE_NAME=LEDGER)

    worker.invoke(_sqs_event(message))

    (answer,) = _answers(response_sink, event)
    assert answer.status == "SUCCESS", answer.reason
    assert user_attributes(cognito, pool_id, alice)["nickname"] == "VAL-n-q4"


def test_worker_raises_when_its_answer_was_not_delivered_so_sqs_delivers_again(
    *, driver, front, sqs, queue_url, response_sink, cognito, pool_id, alice
):
    event = driver.event("Create", "Seed", declare(pool_id, alice, {"nickname": "VAL-n-q5"}))
    response_sink.inject(event["RequestId"], "500")
    front.invoke(event)
    (message,) = _received(sqs, queue_url)
    worker = _container("worker.handler", LEDGER_TABLE_NAME=LEDGER)

    with pytest.raises(Exception, match="not delivered; the message returns to the queue"):
        worker.invoke(_sqs_event(message))

    response_sink.recover(event["RequestId"])
    retry = _container("worker.handler", LEDGER_TABLE_NAME=LEDGER)
    retry.invoke(_sqs_event(message, receives=2))
    answers = [delivery.body["Status"] for delivery in response_sink.deliveries(event["RequestId"])]
    assert answers[-1] == "SUCCESS"
    assert user_attributes(cognito, pool_id, alice)["nickname"] == "VAL-n-q5"


@pytest.mark.parametrize("request_type", ["Create", "Update", "Delete"])
def test_dead_letter_consumer_answers_failed_with_the_id_cloudformation_must_keep(
    *, driver, response_sink, pool_id, alice, request_type: str
):
    sent = None if request_type == "Create" else "cua1.sent-physical-id"
    event = driver.event(request_type, "Seed", declare(pool_id, alice), physical_id=sent)
    consumer = _container("dead_letters.handler")

    consumer.invoke(
        _sqs_event(
            {"MessageId": "m-1", "ReceiptHandle": "r-1", "Body": json.dumps(event)}, receives=1
        )
    )

    (answer,) = _answers(response_sink, event)
    assert answer.status == "FAILED"
    assert "dead-letter queue" in answer.reason
    assert ("README runbook" in answer.reason) is (request_type == "Delete"), answer.reason
    if sent is None:
        assert owner_of(answer.physical_id)
    else:
        assert answer.physical_id == sent
