"""Owner ids and physical ids.

CloudFormation gives a Delete only the properties and the physical id. When a Create never
answered, the physical id is one CloudFormation invented, so the owner id must be computable from
the event alone: it hashes (StackId, LogicalResourceId, UserPoolId, Username).

Our physical ids also carry the pool and the canonical username (usernames are immutable in
Cognito), so a Delete finds the owner's ledger partition even when the user is gone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Final

from .model import Target

_PREFIX: Final = "cua1"
_LEGACY_PREFIXES: Final = frozenset({_PREFIX, "cua1t"})
"""``cua1t`` marked a Create answered by the timeout in earlier versions; CloudFormation keeps
such ids in deployed stacks and sends them with the resource's next Update and Delete."""
_SEPARATOR: Final = "."


@dataclass(frozen=True)
class PhysicalId:
    owner_id: str
    user_pool_id: str
    username: str

    def __str__(self) -> str:
        return _SEPARATOR.join((_PREFIX, self.owner_id, self.user_pool_id, self.username))


def owner_id(stack_id: str, logical_resource_id: str, target: Target) -> str:
    """The stable id of one custom resource instance's claims on one declared user."""
    key = "\n".join((stack_id, logical_resource_id, target.user_pool_id, target.username))
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def parse_physical_id(physical_id: str) -> PhysicalId | None:
    """Our physical id's parts, or None for an id we did not issue (e.g. one CloudFormation
    invented after a Create that never answered)."""
    parts = physical_id.split(_SEPARATOR, 3)
    if (
        len(parts) != 4
        or parts[0] not in _LEGACY_PREFIXES
        or len(parts[1]) != 32
        or not all(parts[2:])
    ):
        return None
    return PhysicalId(owner_id=parts[1], user_pool_id=parts[2], username=parts[3])
