"""One invocation as the lifecycle sees it: the event, the answer, and the deadline.

Also the lenient readings a Delete or a FAILED answer need when the properties were never
valid: CloudFormation still sends them, and the answer still needs a physical id.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Final

from .errors import DeadlineReached, InvalidDeclaration
from .identity import PhysicalId, owner_id
from .model import OnDelete, Target
from .properties import parse_properties

WRITE_MARGIN_MS: Final = 3_000
"""No write starts this close to the deadline: the timeout response may already be on its way."""


@dataclass(frozen=True)
class ResourceEvent:
    """The parts of a CloudFormation custom resource event the lifecycle reads."""

    request_type: str
    stack_id: str
    logical_resource_id: str
    properties: Mapping[str, object]
    old_properties: Mapping[str, object] | None = None
    physical_resource_id: str | None = None
    request_id: str = ""

    @classmethod
    def from_cfn(cls, event: Mapping[str, Any]) -> ResourceEvent:
        return cls(
            request_type=str(event["RequestType"]),
            stack_id=str(event["StackId"]),
            logical_resource_id=str(event["LogicalResourceId"]),
            properties=event.get("ResourceProperties") or {},
            old_properties=event.get("OldResourceProperties"),
            physical_resource_id=event.get("PhysicalResourceId"),
            request_id=str(event.get("RequestId", "")),
        )


@dataclass(frozen=True)
class Outcome:
    """What to answer CloudFormation: SUCCESS when ``error`` is None, else FAILED."""

    physical_id: str
    error: str | None = None


class Deadline:
    """The invocation's deadline, and whether the timeout response has already been sent."""

    def __init__(
        self,
        deadline_ms: int,
        *,
        now_ms: Callable[[], int],
        responded: Callable[[], bool] = lambda: False,
    ) -> None:
        self.deadline_ms = deadline_ms
        self._now_ms = now_ms
        self._responded = responded

    def remaining_ms(self) -> int:
        return self.deadline_ms - self._now_ms()

    def check(self) -> None:
        """Refuse to start a write once the answer is sent or the deadline is too close."""
        if self._responded() or self.remaining_ms() < WRITE_MARGIN_MS:
            raise DeadlineReached("the invocation's time ran out before all writes were done")


def provisional_physical_id(event: ResourceEvent) -> str:
    """The id to answer with until the step knows better: the one CloudFormation sent, else
    ours for the declared target (the username may still be an alias)."""
    if event.physical_resource_id:
        return event.physical_resource_id
    target = lenient_target(event.properties) or Target("unknown", "unknown")
    owner = owner_id(event.stack_id, event.logical_resource_id, target)
    return str(PhysicalId(owner, target.user_pool_id, target.username))


def lenient_target(properties: Mapping[str, object]) -> Target | None:
    pool, username = properties.get("UserPoolId"), properties.get("Username")
    if isinstance(pool, str) and pool and isinstance(username, str) and username:
        return Target(pool, username)
    return None


def lenient_delete_options(properties: Mapping[str, object]) -> tuple[OnDelete, Mapping[str, str]]:
    """A Delete must proceed even when the properties were never valid (failed Create)."""
    try:
        declaration = parse_properties(properties)
    except InvalidDeclaration:
        return OnDelete.RESTORE, {}
    return declaration.on_delete, declaration.client_metadata
