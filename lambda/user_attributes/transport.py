"""The queue between CloudFormation and the worker: what goes on it, and what a lost event
answers. Pure functions over the event; the entry points (``front.py``, ``dead_letters.py``)
perform them.

CloudFormation invokes the ServiceToken function asynchronously and waits for an answer at
the event's pre-signed ``ResponseURL`` for up to the resource's ``ServiceTimeout``. The front
function puts the event on an SQS FIFO queue; the worker answers. SQS FIFO delivers one message
group in order, one message at a time, and drops a message whose deduplication id it has seen in
the last 5 minutes (SQS Developer Guide, "Amazon SQS FIFO queues": "Message ordering" and
"Exactly-once processing").
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Final

from .invocation import ResourceEvent, lenient_target, provisional_physical_id

REQUEST_TYPES: Final = frozenset({"Create", "Update", "Delete"})
_REQUIRED: Final = ("RequestType", "ResponseURL", "StackId", "RequestId", "LogicalResourceId")
MAX_MESSAGE_BYTES: Final = 262_144
"""SendMessage's limit on a message body (SQS API reference: SendMessage, MessageBody)."""


def event_problem(event: Mapping[str, Any]) -> str | None:
    """What makes ``event`` something other than a CloudFormation custom resource request
    (None: it is one). Names the field, never a value."""
    for name in _REQUIRED:
        value = event.get(name)
        if not isinstance(value, str) or not value:
            return f"{name}: required, a non-empty string"
    if event["RequestType"] not in REQUEST_TYPES:
        return "RequestType: must be Create, Update or Delete"
    for name in ("ResourceProperties", "OldResourceProperties"):
        if name in event and not isinstance(event[name], Mapping):
            return f"{name}: must be an object"
    if event["RequestType"] != "Create" and not isinstance(event.get("PhysicalResourceId"), str):
        return "PhysicalResourceId: required for Update and Delete"
    return None


def message_group_id(event: Mapping[str, Any]) -> str:
    """One group per target user, so that one user's events run in order.

    The declared name is folded to lower case: in a case-insensitive pool ``Alice`` and
    ``alice`` are one user, and a coarser group only orders more. Events whose properties name
    no user (a refused Create and its rollback Delete) group by resource.
    """
    properties = event.get("ResourceProperties")
    target = lenient_target(properties) if isinstance(properties, Mapping) else None
    key = (
        f"user\0{target.user_pool_id}\0{target.username.lower()}"
        if target is not None
        else f"resource\0{event['StackId']}\0{event['LogicalResourceId']}"
    )
    # MessageGroupId: at most 128 characters (SQS API reference: SendMessage).
    return hashlib.sha256(key.encode()).hexdigest()


def message_deduplication_id(event: Mapping[str, Any]) -> str:
    """The RequestId: Lambda may deliver an asynchronous invocation twice, and a second
    SendMessage of the same request within 5 minutes is dropped by SQS."""
    return str(event["RequestId"])


def answerable(event: Mapping[str, Any]) -> bool:
    """Whether ``event`` carries what an answer needs (however malformed the rest)."""
    return all(
        isinstance(event.get(name), str) and event[name]
        for name in ("ResponseURL", "StackId", "RequestId", "LogicalResourceId")
    )


def failed_answer(event: Mapping[str, Any], reason: str) -> dict[str, Any]:
    """A FAILED answer for an event no worker will answer (``answerable`` events only), with
    the physical id CloudFormation must keep: the one it sent, else ours for the declared
    user, as a Create's own failure would report."""
    properties = event.get("ResourceProperties")
    sent_id = event.get("PhysicalResourceId")
    resource_event = ResourceEvent(
        request_type=str(event.get("RequestType", "")),
        stack_id=str(event["StackId"]),
        logical_resource_id=str(event["LogicalResourceId"]),
        properties=properties if isinstance(properties, Mapping) else {},
        old_properties=None,
        physical_resource_id=sent_id if isinstance(sent_id, str) and sent_id else None,
        request_id=str(event["RequestId"]),
    )
    return {
        "Status": "FAILED",
        "PhysicalResourceId": provisional_physical_id(resource_event),
        "StackId": resource_event.stack_id,
        "RequestId": resource_event.request_id,
        "LogicalResourceId": resource_event.logical_resource_id,
        "Reason": reason,
        "Data": {},
        "NoEcho": False,
    }
