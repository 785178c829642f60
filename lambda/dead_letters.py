"""The dead-letter queue's consumer (``dead_letters.handler``): answers FAILED for an event no
worker answered in the queue's ``maxReceiveCount`` receives, so CloudFormation does not wait
out the resource's ``ServiceTimeout`` (and then roll back anyway).

The physical id is the one CloudFormation sent, else ours for the declared user, so the
rollback Delete that follows a Create finds the ledger partition; the ledger makes that Delete
correct whatever the lost attempts did.
"""

from __future__ import annotations

import json
import logging
from typing import Any

from user_attributes.cfn_response import answer_failed
from user_attributes.transport import answerable

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

REASON = (
    "the provider did not answer this event in the queue's receive attempts (dead-letter "
    "queue; see the worker function's log)"
)
RELEASE = (
    "; retry the stack operation, or skip this resource and release its owner by hand "
    "(README runbook)"
)
"""A Delete's FAILED answer leaves the stack DELETE_FAILED (or ROLLBACK_FAILED): CloudFormation
sends the Delete again, with a new RequestId, when the operation is retried."""


def handler(event: dict[str, Any], context: Any) -> None:  # noqa: ANN401 - Lambda's context
    for record in event["Records"]:
        request = json.loads(record["body"])
        if not answerable(request):
            logger.error("message %s: not an answerable event, dropped", record.get("messageId"))
            continue
        # The logical id is left out: the construct derives it from the username.
        logger.error(
            "%s (request %s): dead-lettered, answering FAILED",
            request.get("RequestType"),
            request["RequestId"],
        )
        reason = REASON + RELEASE if request.get("RequestType") == "Delete" else REASON
        answer_failed(request, reason, context.get_remaining_time_in_millis())
