"""The queue's consumer (``worker.handler``): runs each CloudFormation event and answers it.

An SQS event source mapping (batch size 1, ``ScalingConfig.MaximumConcurrency``) invokes it. A
message whose answer reached CloudFormation is done: the invocation returns and Lambda deletes
it. Otherwise the invocation raises, and SQS delivers the message again once its visibility
timeout has passed, as it does when the environment died mid-event (Lambda Developer Guide,
"Using Lambda with Amazon SQS": a failed batch becomes visible again). The ledger makes the
retry idempotent. After the queue's ``maxReceiveCount`` receives SQS moves the message to the
dead-letter queue, whose consumer answers FAILED (``dead_letters.py``).
"""

from __future__ import annotations

import json
import logging
from typing import Any

import index
from user_attributes.errors import UserAttributesError

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)


class AnswerNotDelivered(UserAttributesError):
    """Raised so that SQS delivers the message again."""


def handler(event: dict[str, Any], context: Any) -> None:  # noqa: ANN401 - Lambda's context
    undelivered = 0
    for record in event["Records"]:
        receives = record.get("attributes", {}).get("ApproximateReceiveCount", "?")
        logger.info("message %s, receive %s", record.get("messageId"), receives)
        if not index.handler(json.loads(record["body"]), context):
            undelivered += 1
    if undelivered:
        raise AnswerNotDelivered(
            f"{undelivered} answer(s) not delivered; the message returns to the queue"
        )
