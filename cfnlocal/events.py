"""Custom resource events shaped as CloudFormation sends them (properties stringified)."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any


def stringify(value: object) -> Any:  # noqa: ANN401 - mirrors JSON
    """CloudFormation turns every scalar in custom resource properties into a string."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): stringify(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [stringify(item) for item in value]
    return value


def make_event(
    request_type: str,
    *,
    stack_id: str,
    logical_id: str,
    properties: Mapping[str, object],
    response_url: str,
    request_id: str | None = None,
    physical_id: str | None = None,
    old_properties: Mapping[str, object] | None = None,
    service_token: str = "arn:aws:lambda:eu-west-1:123456789012:function:provider",
    resource_type: str = "Custom::CognitoUserAttributes",
) -> dict[str, Any]:
    event: dict[str, Any] = {
        "RequestType": request_type,
        "ServiceToken": service_token,
        "ResponseURL": response_url,
        "StackId": stack_id,
        "RequestId": request_id or str(uuid.uuid4()),
        "LogicalResourceId": logical_id,
        "ResourceType": resource_type,
        "ResourceProperties": stringify({"ServiceToken": service_token, **properties}),
    }
    if physical_id is not None:
        event["PhysicalResourceId"] = physical_id
    if old_properties is not None:
        event["OldResourceProperties"] = stringify(
            {"ServiceToken": service_token, **old_properties}
        )
    return event


def stack_id(name: str, region: str = "eu-west-1", account: str = "123456789012") -> str:
    return f"arn:aws:cloudformation:{region}:{account}:stack/{name}/{uuid.uuid4()}"
