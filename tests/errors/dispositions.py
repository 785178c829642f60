"""The one table: what the handler does when an AWS call it makes fails (issue 8, item A).

Keyed by (service, operation, error code). The codes are not chosen here: botocore's service
model declares the errors each operation can return
(``service_model.operation_model(name).error_shapes``), and every call also meets the failures
any AWS API answers with (AWS's "Common Errors": ``ThrottlingException``, HTTP 503
``ServiceUnavailable``, ``AccessDeniedException``) and those of the network (a read timeout, a
connection that cannot be made). ``uncovered()`` lists every declared error the table lacks,
so a botocore upgrade that declares a new one fails the suite until a row says what to do.

Dispositions:

``RETRIED``   botocore retries it (standard/adaptive modes: a throttling code, HTTP 5xx, a
              transport error); the event comes out as if nothing had failed, inside the
              deadline. Once it outlasts the retries: FAILED, naming the call and the code.
``FAILED``    not worth retrying (a permission, configuration or validation problem): FAILED,
              with a Reason that names the call and the error code first. CloudFormation's
              next event (the rollback) puts everything back.
``GONE``      the user or the user pool no longer exists (the tests delete it just before the
              call, so the service itself answers): a Delete has nothing left to restore and
              answers SUCCESS; any other event answers FAILED naming the call and the code.
``CONFLICT``  the ledger changed under the transaction: the handler reads it again and retries
              (inside the deadline); if it keeps changing, FAILED naming the call and code.

HTTP statuses are the API references' ("Errors" sections; the model does not carry them).
``TransactionCanceledException`` gets one row per cancellation reason the handler tells apart
(``code:reason``): its ``CancellationReasons`` decide whether it is a conflict.
"""

from __future__ import annotations

import enum
import functools
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final

import botocore.session


class Disposition(enum.Enum):
    RETRIED = "retried inside the deadline"
    FAILED = "FAILED naming the call and the code"
    GONE = "nothing left: a Delete succeeds, any other event fails naming the call and code"
    CONFLICT = "the ledger is read again and the transaction retried"


RETRIED: Final = Disposition.RETRIED
FAILED: Final = Disposition.FAILED
GONE: Final = Disposition.GONE
CONFLICT: Final = Disposition.CONFLICT


@dataclass(frozen=True)
class Row:
    disposition: Disposition
    status: int | None = 400
    """The HTTP status AWS answers with; None for a transport error (no answer at all)."""


OPERATIONS: Final[Mapping[str, tuple[str, ...]]] = {
    "cognito-idp": (
        "AdminGetUser",
        "DescribeUserPool",
        "AdminUpdateUserAttributes",
        "AdminDeleteUserAttributes",
    ),
    "dynamodb": ("Query", "TransactWriteItems"),
    "secretsmanager": ("GetSecretValue",),
    "ssm": ("GetParameter",),
}
"""Every operation the function calls."""

GENERIC: Final[Mapping[str, Row]] = {
    # AWS Common Errors, returned by every API.
    "ThrottlingException": Row(RETRIED, 400),
    "ServiceUnavailable": Row(RETRIED, 503),
    "AccessDeniedException": Row(FAILED, 400),  # the role lacks the action
    # The network: botocore raises these itself (no answer), and retries them.
    "ReadTimeoutError": Row(RETRIED, None),
    "EndpointConnectionError": Row(RETRIED, None),
}
"""Errors any call can meet, whatever its model declares."""

_COGNITO_COMMON: Final[Mapping[str, Row]] = {
    "ResourceNotFoundException": Row(GONE),  # the user pool does not exist
    "InvalidParameterException": Row(FAILED),
    "TooManyRequestsException": Row(RETRIED),  # HTTP 400; a throttling code for botocore
    "NotAuthorizedException": Row(FAILED),
    "OperationNotEnabledException": Row(FAILED),
    "InternalErrorException": Row(RETRIED, 500),
}

_DYNAMODB_COMMON: Final[Mapping[str, Row]] = {
    "ProvisionedThroughputExceededException": Row(RETRIED),
    "RequestLimitExceeded": Row(RETRIED),
    "ThrottlingException": Row(RETRIED),
    "InternalServerError": Row(RETRIED, 500),
    "ResourceNotFoundException": Row(FAILED),  # the ledger table does not exist
}

TABLE: Final[Mapping[tuple[str, str], Mapping[str, Row]]] = {
    ("cognito-idp", "AdminGetUser"): {
        **_COGNITO_COMMON,
        "UserNotFoundException": Row(GONE),
        **GENERIC,
    },
    ("cognito-idp", "DescribeUserPool"): {
        **_COGNITO_COMMON,
        "UserPoolTaggingException": Row(FAILED),
        **GENERIC,
    },
    ("cognito-idp", "AdminUpdateUserAttributes"): {
        **_COGNITO_COMMON,
        "UserNotFoundException": Row(GONE),
        "AliasExistsException": Row(FAILED),  # another user holds the email/phone as alias
        # A custom message or pre-token trigger failed, or answered badly.
        "UnexpectedLambdaException": Row(FAILED),
        "UserLambdaValidationException": Row(FAILED),
        "InvalidLambdaResponseException": Row(FAILED),
        # Cognito could not send a verification message (SMS role, SES identity).
        "InvalidSmsRoleAccessPolicyException": Row(FAILED),
        "InvalidSmsRoleTrustRelationshipException": Row(FAILED),
        "InvalidEmailRoleAccessPolicyException": Row(FAILED),
        **GENERIC,
    },
    ("cognito-idp", "AdminDeleteUserAttributes"): {
        **_COGNITO_COMMON,
        "UserNotFoundException": Row(GONE),
        **GENERIC,
    },
    ("dynamodb", "Query"): {**GENERIC, **_DYNAMODB_COMMON},
    ("dynamodb", "TransactWriteItems"): {
        **GENERIC,
        **_DYNAMODB_COMMON,
        # Another writer changed a claim or the owner since the Query (our conditions), or
        # a concurrent transaction held an item.
        "TransactionCanceledException:ConditionalCheckFailed": Row(CONFLICT),
        "TransactionCanceledException:TransactionConflict": Row(CONFLICT),
        # Not a conflict: the transaction is reported, CloudFormation's rollback repairs.
        "TransactionCanceledException:ThrottlingError": Row(FAILED),
        "TransactionCanceledException:ValidationError": Row(FAILED),
        # Only with ClientRequestToken, which the handler does not send; retried if ever.
        "TransactionInProgressException": Row(RETRIED),
        "IdempotentParameterMismatchException": Row(FAILED),
    },
    ("secretsmanager", "GetSecretValue"): {
        "ResourceNotFoundException": Row(FAILED),  # no such secret (or version)
        "InvalidParameterException": Row(FAILED),
        "InvalidRequestException": Row(FAILED),  # e.g. the secret is scheduled for deletion
        "DecryptionFailure": Row(FAILED),  # the role may not use the secret's KMS key
        "InternalServiceError": Row(RETRIED, 500),
        **GENERIC,
    },
    ("ssm", "GetParameter"): {
        "ParameterNotFound": Row(FAILED),
        "ParameterVersionNotFound": Row(FAILED),
        "InvalidKeyId": Row(FAILED),  # the parameter's KMS key is disabled or not allowed
        "InternalServerError": Row(RETRIED, 500),
        **GENERIC,
    },
}

CANCELLATION_MESSAGES: Final[Mapping[str, str]] = {
    "ConditionalCheckFailed": "The conditional request failed",
    "TransactionConflict": "Transaction is ongoing for the item",
    "ThrottlingError": "Throughput exceeds the current capacity for one or more global secondary"
    " indexes. DynamoDB is automatically scaling your index so please try again shortly.",
    "ValidationError": "Item size has exceeded the maximum allowed size",
}


@dataclass(frozen=True)
class ErrorCase:
    """One (service, operation, error) to inject: a key of ``TABLE``, or a declared error the
    table lacks (``row`` None, so its test fails)."""

    service: str
    operation: str
    key: str
    row: Row | None
    declared: bool

    @property
    def code(self) -> str:
        """The error code AWS (or botocore, for a transport error) reports."""
        return self.key.split(":", 1)[0]

    @property
    def reason(self) -> str | None:
        """A ``TransactionCanceledException``'s cancellation reason."""
        parts = self.key.split(":", 1)
        return parts[1] if len(parts) == 2 else None

    @property
    def id(self) -> str:
        return f"{self.operation}-{self.key.replace(':', '-')}"

    def fields(self) -> dict[str, Any] | None:
        """Modeled members of the error body."""
        if self.reason is None:
            return None
        return {
            "CancellationReasons": [
                {"Code": self.reason, "Message": CANCELLATION_MESSAGES.get(self.reason, "")}
            ]
        }


@functools.cache
def _service_model(service: str) -> Any:
    return botocore.session.get_session().get_service_model(service)


def protocol(service: str) -> str:
    return str(_service_model(service).protocol)


def declared_errors(service: str, operation: str) -> tuple[str, ...]:
    """The error shapes botocore's model declares for the operation."""
    shapes = _service_model(service).operation_model(operation).error_shapes
    return tuple(sorted(shape.name for shape in shapes))


def _codes(service: str, operation: str) -> set[str]:
    return {key.split(":", 1)[0] for key in TABLE.get((service, operation), {})}


def uncovered() -> list[str]:
    """Every declared (or generic) error that no row of the table covers."""
    missing = []
    for service, operations in OPERATIONS.items():
        for operation in operations:
            covered = _codes(service, operation)
            for code in (*declared_errors(service, operation), *GENERIC):
                if code not in covered:
                    missing.append(f"{service} {operation} {code}")
    return missing


def stale() -> list[str]:
    """Rows for an error the model no longer declares (and that is not generic)."""
    rows = []
    for (service, operation), codes in TABLE.items():
        known = {*declared_errors(service, operation), *GENERIC}
        rows += [f"{service} {operation} {key}" for key in codes if key.split(":")[0] not in known]
    return rows


def error_cases(service: str, operation: str) -> list[ErrorCase]:
    """Every row for the operation, then every declared error without one."""
    rows = TABLE.get((service, operation), {})
    declared = set(declared_errors(service, operation))
    cases = [
        ErrorCase(service, operation, key, row, key.split(":")[0] in declared)
        for key, row in rows.items()
    ]
    covered = _codes(service, operation)
    cases += [
        ErrorCase(service, operation, code, None, declared=True)
        for code in sorted(declared - covered)
    ]
    return cases


def all_error_cases() -> list[ErrorCase]:
    return [
        case
        for service, operations in OPERATIONS.items()
        for operation in operations
        for case in error_cases(service, operation)
    ]
