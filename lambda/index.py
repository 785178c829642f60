"""Lambda entry point (``index.handler``): wires crhelper to the attribute lifecycle.

The helper and clients are built on the first event, not at import, so a cold start pays only
for imports. crhelper logs the raw event at DEBUG (it holds values and the response URL), so
the level stays at INFO. ``COGNITO_USER_UPDATE_RATE`` (set by the construct) paces this
environment's Cognito writes (``user_attributes.pacing``).
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable
from typing import Any

from user_attributes.aws_clients import (
    cognito_client,
    dynamodb_client,
    secretsmanager_client,
    ssm_client,
)
from user_attributes.cfn_response import OneAnswerCfnResource, clamp_reason
from user_attributes.cognito import CognitoUsers
from user_attributes.errors import UserAttributesError
from user_attributes.invocation import Deadline, Outcome, ResourceEvent, provisional_physical_id
from user_attributes.ledger import Ledger
from user_attributes.lifecycle import AttributeLifecycle
from user_attributes.pacing import bucket_from_environment
from user_attributes.secrets import SecretReader

Step = Callable[[ResourceEvent, Deadline], Outcome]


class StepFailedError(UserAttributesError):
    """Carries a FAILED outcome's reason through crhelper."""


def handler(event: dict[str, Any], context: Any) -> bool:  # noqa: ANN401 - Lambda's context
    """Run one CloudFormation event; whether its answer reached the response URL."""
    helper = _helper()
    helper(event, context)
    return helper.delivered()


@functools.cache
def _helper() -> OneAnswerCfnResource:
    helper = OneAnswerCfnResource(log_level="INFO", sleep_on_delete=1)
    pacer = bucket_from_environment(os.environ)
    lifecycle = AttributeLifecycle(
        CognitoUsers(cognito_client(), before_write=pacer.acquire if pacer else None),
        Ledger(dynamodb_client(), os.environ["LEDGER_TABLE_NAME"]),
        secrets=SecretReader(secretsmanager_client, ssm_client),
        region=os.environ.get("AWS_REGION"),
    )

    def run(step: Step) -> Callable[[dict[str, Any], Any], str]:
        def wrapped(event: dict[str, Any], context: Any) -> str:  # noqa: ANN401
            resource_event = ResourceEvent.from_cfn(event)
            # Set before the work: crhelper's timeout answer uses whatever id is set then.
            helper.PhysicalResourceId = provisional_physical_id(resource_event)
            now_ms = int(time.time() * 1000)
            deadline = Deadline(
                now_ms + context.get_remaining_time_in_millis(),
                now_ms=lambda: int(time.time() * 1000),
                responded=helper.answered,
            )
            outcome = step(resource_event, deadline)
            helper.PhysicalResourceId = outcome.physical_id
            if outcome.error is not None:
                # crhelper logs the message whole: keep the log line as short as the Reason.
                raise StepFailedError(clamp_reason(outcome.error))
            return outcome.physical_id

        return wrapped

    helper.create(run(lifecycle.create))
    helper.update(run(lifecycle.update))
    helper.delete(run(lifecycle.delete))
    return helper
