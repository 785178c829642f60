"""The ServiceToken function (``front.handler``): puts CloudFormation's event on the queue.

It does no Cognito work and reserves no concurrency. CloudFormation invokes it asynchronously;
Lambda retries a throttled or failed asynchronous invocation and may deliver one twice (Lambda
Developer Guide, "How Lambda handles errors and retries with asynchronous invocation"), and
the RequestId as the message's deduplication id makes SQS drop the second copy. It answers
CloudFormation itself only when the event cannot be queued: a malformed event, or a failed
SendMessage. ``QUEUE_URL`` is set by the construct.
"""

from __future__ import annotations

import functools
import json
import logging
import os
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from user_attributes.aws_clients import error_code, sqs_client
from user_attributes.cfn_response import answer_failed
from user_attributes.transport import (
    MAX_MESSAGE_BYTES,
    answerable,
    event_problem,
    message_deduplication_id,
    message_group_id,
)

if TYPE_CHECKING:
    from mypy_boto3_sqs import SQSClient

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


def handler(event: dict[str, Any], context: Any) -> None:  # noqa: ANN401 - Lambda's context
    problem = event_problem(event)
    if problem is not None:
        logger.error("not a custom resource request: %s", problem)
        if answerable(event):
            _answer_failed(event, context, f"invalid event: {problem}")
        return
    body = json.dumps(event)
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        _answer_failed(
            event, context, f"the event is larger than SQS's {MAX_MESSAGE_BYTES}-byte message limit"
        )
        return
    try:
        _sqs().send_message(
            QueueUrl=os.environ["QUEUE_URL"],
            MessageBody=body,
            MessageGroupId=message_group_id(event),
            MessageDeduplicationId=message_deduplication_id(event),
        )
    except ClientError as error:
        _answer_failed(event, context, f"SendMessage failed: {error_code(error)}")
        return
    except BotoCoreError as error:
        _answer_failed(event, context, f"SendMessage failed: {type(error).__name__}")
        return
    # The logical id is left out: the construct derives it from the username.
    logger.info("queued %s (request %s)", event["RequestType"], event["RequestId"])


def _answer_failed(event: dict[str, Any], context: Any, reason: str) -> None:  # noqa: ANN401
    logger.error("answering FAILED: %s", reason)
    answer_failed(event, reason, context.get_remaining_time_in_millis())


@functools.cache
def _sqs() -> SQSClient:
    return sqs_client()
