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
import time
from typing import Any

from user_attributes.cfn_response import put_response
from user_attributes.transport import answerable, failed_answer

logger = logging.getLogger(__name__)
logger.setLevel(logging.INFO)

REASON = (
    "the provider did not answer this event in the queue's receive attempts (dead-letter "
    "queue); see the worker function's log"
)


def handler(event: dict[str, Any], context: Any) -> None:  # noqa: ANN401 - Lambda's context
    for record in event["Records"]:
        request = json.loads(record["body"])
        if not answerable(request):
            logger.error("message %s: not an answerable event, dropped", record.get("messageId"))
            continue
        logger.error(
            "%s %s (request %s): dead-lettered, answering FAILED",
            request.get("RequestType"),
            request["LogicalResourceId"],
            request["RequestId"],
        )
        deadline = time.monotonic() + context.get_remaining_time_in_millis() / 1000.0 - 0.2
        put_response(
            str(request["ResponseURL"]),
            failed_answer(request, REASON),
            ssl_verify=None,
            deadline=deadline,
        )
