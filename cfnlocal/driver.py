"""Drive custom resources through CloudFormation's lifecycle, as CloudFormation would.

CloudFormation remembers each resource's properties and physical id, sends Update only when the
properties changed, treats a new physical id from Update as a replacement (a cleanup Delete of
the old id follows once the stack update succeeds), invents a physical id when a Create never
answered, and swaps old and new properties for a rollback Update.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .events import make_event, stringify
from .https_sink import ResponseSink
from .lambda_runtime import LambdaContainer

MAX_BODY_BYTES = 4096
MAX_REASON = 256


class ResponseDefect(AssertionError):
    """An answer broke CloudFormation's contract (none, two, oversized, empty id...)."""


@dataclass(frozen=True)
class Answer:
    status: str
    physical_id: str
    reason: str
    body: dict[str, Any]


@dataclass
class ResourceState:
    """What CloudFormation knows of one resource."""

    properties: dict[str, Any]
    physical_id: str
    history: list[Answer] = field(default_factory=list)


class CustomResourceDriver:
    """Sends events for resources of one stack to one provider container, checks each answer."""

    def __init__(
        self,
        container: LambdaContainer,
        sink: ResponseSink,
        *,
        stack_id: str,
        service_token: str = "arn:aws:lambda:eu-west-1:123456789012:function:provider",
    ) -> None:
        self.container = container
        self.sink = sink
        self.stack_id = stack_id
        self.service_token = service_token
        self.resources: dict[str, ResourceState] = {}
        self.pending_cleanup: list[tuple[str, ResourceState]] = []

    # -- raw events ----------------------------------------------------------------------

    def send(
        self,
        request_type: str,
        logical_id: str,
        properties: Mapping[str, object],
        *,
        physical_id: str | None = None,
        old_properties: Mapping[str, object] | None = None,
        request_id: str | None = None,
        timeout_s: float | None = None,
    ) -> Answer:
        """Invoke the provider once and return its single, checked answer."""
        request_id = request_id or str(uuid.uuid4())
        event = make_event(
            request_type,
            stack_id=self.stack_id,
            logical_id=logical_id,
            properties=properties,
            response_url=self.sink.url(request_id),
            request_id=request_id,
            physical_id=physical_id,
            old_properties=old_properties,
            service_token=self.service_token,
        )
        before = len(self.sink.deliveries(request_id))
        self.container.invoke(event, timeout_s=timeout_s)
        deliveries = self.sink.deliveries(request_id)[before:]
        if len(deliveries) != 1:
            raise ResponseDefect(
                f"{request_type} {logical_id}: {len(deliveries)} answers, expected 1"
            )
        return check_answer(deliveries[0].body, deliveries[0].size, event)

    # -- CloudFormation's view -------------------------------------------------------------

    def create(self, logical_id: str, properties: Mapping[str, object]) -> Answer:
        answer = self.send("Create", logical_id, properties)
        if answer.status == "SUCCESS":
            self.resources[logical_id] = ResourceState(
                dict(stringify(properties)), answer.physical_id, [answer]
            )
        return answer

    def update(self, logical_id: str, properties: Mapping[str, object]) -> Answer | None:
        """Update if the properties changed (None: CloudFormation sends nothing).

        On success with a new physical id, the old one is queued for the cleanup Delete.
        """
        state = self.resources[logical_id]
        new = dict(stringify(properties))
        if new == state.properties:
            return None
        answer = self.send(
            "Update",
            logical_id,
            new,
            physical_id=state.physical_id,
            old_properties=state.properties,
        )
        if answer.status == "SUCCESS":
            if answer.physical_id != state.physical_id:
                self.pending_cleanup.append(
                    (logical_id, ResourceState(state.properties, state.physical_id))
                )
            self.resources[logical_id] = ResourceState(
                new, answer.physical_id, [*state.history, answer]
            )
        return answer

    def cleanup(self) -> list[Answer]:
        """UPDATE_COMPLETE_CLEANUP_IN_PROGRESS: delete replaced physical ids."""
        answers = [
            self.send("Delete", logical_id, old.properties, physical_id=old.physical_id)
            for logical_id, old in self.pending_cleanup
        ]
        self.pending_cleanup.clear()
        return answers

    def delete(self, logical_id: str) -> Answer:
        state = self.resources.pop(logical_id)
        return self.send("Delete", logical_id, state.properties, physical_id=state.physical_id)

    def invented_physical_id(self, logical_id: str) -> str:
        """The id CloudFormation makes up for a resource whose Create never answered."""
        stack_name = self.stack_id.split("/")[1]
        return f"{stack_name}-{logical_id}-{uuid.uuid4().hex[:12].upper()}"


def check_answer(body: dict[str, Any], size: int, event: Mapping[str, Any]) -> Answer:
    """Enforce the answer contract (DESIGN invariant 4) on one delivered body."""
    if size > MAX_BODY_BYTES:
        raise ResponseDefect(f"answer body is {size} bytes (max {MAX_BODY_BYTES})")
    if body.get("Status") not in ("SUCCESS", "FAILED"):
        raise ResponseDefect(f"answer status {body.get('Status')!r}")
    physical_id = body.get("PhysicalResourceId")
    if not isinstance(physical_id, str) or not physical_id:
        raise ResponseDefect("answer has an empty physical id")
    reason = str(body.get("Reason", ""))
    if len(reason) > MAX_REASON:
        raise ResponseDefect(f"Reason is {len(reason)} characters (max {MAX_REASON})")
    for key in ("StackId", "RequestId", "LogicalResourceId"):
        if body.get(key) != event[key]:
            raise ResponseDefect(f"answer {key} does not echo the event")
    return Answer(body["Status"], physical_id, reason, body)
