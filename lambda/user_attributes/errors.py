"""The errors the handler reports as FAILED.

Every message names what is wrong (a property, an attribute name, an AWS action and error code)
and never carries an attribute value, a ClientMetadata value or a response URL.
"""

from __future__ import annotations

from collections.abc import Sequence


class UserAttributesError(Exception):
    """Base class: the message is safe to log and to send to CloudFormation as ``Reason``."""


class InvalidDeclaration(UserAttributesError):
    """The declared properties are malformed or break the pool's schema; nothing was written."""

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("; ".join(self.problems))


class OwnerUnknown(UserAttributesError):
    """An Update carries a physical id we issued, but the ledger does not know its owner: the
    ledger was replaced, so the live values are seeded ones, not originals."""


class AwsCallFailed(UserAttributesError):
    """A Cognito or DynamoDB call failed; names the action and the error code first."""

    def __init__(self, action: str, code: str, detail: str = "") -> None:
        self.action = action
        self.code = code
        super().__init__(f"{action} failed: {code}" + (f": {detail}" if detail else ""))


class UserNotFound(AwsCallFailed):
    """Cognito says the user does not exist in the pool (``UserNotFoundException``), on a read
    or, when another actor deleted it after our read, on a write."""


class PoolNotFound(UserNotFound):
    """The user pool itself does not exist (``ResourceNotFoundException``: a typo in the id, or
    the pool was deleted): for a Delete, as for a missing user, there is no user left to
    restore."""


class LedgerConflict(AwsCallFailed):
    """The ledger changed between our read and our transaction (another writer won): DynamoDB
    cancelled the transaction with ``reason`` (``ConditionalCheckFailed`` or
    ``TransactionConflict``)."""

    def __init__(self, reason: str, detail: str = "the ledger changed during this step") -> None:
        self.reason = reason
        super().__init__(
            "TransactWriteItems", "TransactionCanceledException", f"{reason}: {detail}"
        )


class CreateRefused(UserAttributesError):
    """A Create arrived for an owner that a Delete has just released (a late duplicate)."""


class DeadlineReached(UserAttributesError):
    """The invocation's time is up: the response was already sent; no more writes."""
