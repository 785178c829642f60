"""Plain data the core decides over: declarations, claims, owners.

Nothing here talks to AWS. Values are attribute values (PII): they live in these objects and in
Cognito/ledger calls only, never in a log line, a response or an exception message.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum, StrEnum
from typing import Final


class Absent(Enum):
    """The attribute does not exist on the user (Cognito has no null value)."""

    ABSENT = "ABSENT"


ABSENT: Final = Absent.ABSENT

Value = str | Absent
"""An attribute's value, or ABSENT."""


class SecretSource(StrEnum):
    SECRETS_MANAGER = "secretsmanager"
    SSM_PARAMETER = "ssm"


@dataclass(frozen=True)
class SecretRef:
    """A value the template names but does not hold: read at deploy time.

    ``identifier`` is a secret ARN, or an SSM SecureString parameter name or ARN. Only the
    reference is ever stored or logged; what it resolves to is an attribute value.
    """

    source: SecretSource
    identifier: str
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None

    def region(self) -> str | None:
        """The Region an ARN names (None for a parameter given by name: the function's)."""
        parts = self.identifier.split(":")
        return parts[3] if self.identifier.startswith("arn:") and len(parts) > 3 else None

    def __str__(self) -> str:
        key = f" key {self.json_key}" if self.json_key else ""
        version = self.version_id or self.version_stage
        return f"{self.source.value} {self.identifier}{key}" + (f" ({version})" if version else "")


Declared = str | Absent | SecretRef
"""What a declaration states for an attribute: a value, ABSENT, or a reference to one."""


class OnDelete(StrEnum):
    """What a Delete does to the attributes this owner was the last to claim."""

    RESTORE = "RESTORE"
    RETAIN = "RETAIN"


@dataclass(frozen=True)
class Target:
    """The user a declaration is about, as declared (the name may be an alias)."""

    user_pool_id: str
    username: str


@dataclass(frozen=True)
class Declaration:
    """One custom resource's parsed properties.

    ``attributes`` already includes the implicit ``email_verified``/``phone_number_verified``
    flags the handler sends with an address it sets, so they are claimed and restored like any
    declared attribute.
    """

    target: Target
    attributes: Mapping[str, Declared]
    client_metadata: Mapping[str, str] = field(default_factory=dict)
    on_delete: OnDelete = OnDelete.RESTORE


@dataclass(frozen=True)
class OwnerValue:
    """What one owner declared for a claimed attribute, and when (claim version) it applied."""

    value: Declared
    applied_at: int


@dataclass(frozen=True)
class Claim:
    """One (pool, canonical user, attribute) under management.

    ``original`` is what the attribute was before the first owner claimed it; it is written
    once, before the first Cognito write, and never replaced while owners remain.
    ``version`` increases with every change and guards concurrent writers.
    """

    original: Value
    owners: Mapping[str, OwnerValue]
    version: int

    def latest_owner(self) -> str:
        """The owner that applied last (its value is the one that must be live)."""
        return max(self.owners, key=lambda owner: (self.owners[owner].applied_at, owner))


@dataclass(frozen=True)
class OwnerOrigin:
    """Where an owner comes from, so an operator can trace one left behind (a cleanup Delete
    CloudFormation ignored) to its stack. Records written before these were kept hold ""."""

    stack_id: str = ""
    logical_resource_id: str = ""
    physical_id: str = ""


@dataclass(frozen=True)
class OwnerRecord:
    """One custom resource instance as the ledger knows it: which attributes it claims."""

    attributes: frozenset[str]
    version: int
    created_by: str = ""
    """The RequestId of the event that created this owner (a Delete declares it dead)."""
    origin: OwnerOrigin = field(default_factory=OwnerOrigin)


@dataclass(frozen=True)
class ReleaseMarks:
    """What the ledger records beside a release, in the same transaction: the requests it
    declares dead (owner id -> RequestIds), and the owners an operator released by hand."""

    dead_requests: Mapping[str, frozenset[str]] = field(default_factory=dict)
    released_by_hand: frozenset[str] = frozenset()

    def __bool__(self) -> bool:
        return bool(self.dead_requests or self.released_by_hand)


NO_MARKS: Final = ReleaseMarks()


@dataclass(frozen=True)
class UserLedger:
    """Everything the ledger holds for one (pool, canonical user), read in one query."""

    claims: Mapping[str, Claim] = field(default_factory=dict)
    owners: Mapping[str, OwnerRecord] = field(default_factory=dict)
    dead_requests: Mapping[str, frozenset[str]] = field(default_factory=dict)
    """owner id -> RequestIds of the Creates and Updates whose owner a Delete released: a
    duplicate delivery of one arrives after that Delete (same message group) and is refused."""
    released_by_hand: frozenset[str] = frozenset()
    """Owner ids an operator released by hand (``seed-users release --apply``), which restored
    what they were the last to claim: the live values are originals again, so an Update that
    carries our physical id for such an owner may claim anew (DESIGN 4)."""


@dataclass(frozen=True)
class CanonicalUser:
    """A user as Cognito reports it: its real username and its live attributes."""

    user_pool_id: str
    username: str
    attributes: Mapping[str, str]
