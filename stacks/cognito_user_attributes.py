"""``CognitoUserAttributes``: declared attribute values for a Cognito user that already exists."""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from typing import Final

from aws_cdk import CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .lambda_bundle import lambda_code
from .runtime_rules import declaration_problem

RESOURCE_TYPE: Final = "Custom::CognitoUserAttributes"
LAMBDA_TIMEOUT: Final = Duration.minutes(3)
SERVICE_TIMEOUT: Final = Duration.minutes(7)
"""How long CloudFormation waits for a response.

Invariant: ``LAMBDA_TIMEOUT`` < ``SERVICE_TIMEOUT`` < 3600 s. Every invocation responds before
its own timeout, so a slow one is never cut off; a response that is lost anyway costs minutes
instead of CloudFormation's default hour.
"""

_PROVIDER_ID: Final = "CognitoUserAttributesProvider"
_COGNITO_ACTIONS: Final = (
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminDeleteUserAttributes",
    "cognito-idp:DescribeUserPool",
)


class OnDelete(StrEnum):
    """What deleting the declaration does to the attributes it was the last to claim."""

    RESTORE = "RESTORE"
    """Put back the values the user had before the first declaration (delete those it lacked)."""
    RETAIN = "RETAIN"
    """Leave the declared values in place; only the ledger forgets the claim."""


def resource_properties(
    *,
    user_pool_id: str,
    username: str,
    attributes: Mapping[str, str | None],
    client_metadata: Mapping[str, str] | None = None,
    on_delete: OnDelete = OnDelete.RESTORE,
    mark_contacts_verified: bool = True,
) -> dict[str, object]:
    """The ``Custom::CognitoUserAttributes`` properties of one declaration, as in the template.

    Attributes are sorted by name, so reordering a declaration is not an update.
    """
    properties: dict[str, object] = {
        "UserPoolId": user_pool_id,
        "Username": username,
        "UserAttributes": [
            {"Name": name, "Value": value}
            for name, value in sorted(attributes.items())
            if value is not None
        ],
        "OnDelete": on_delete.value,
    }
    # CloudFormation has no null: CDK would drop a None value, so absence is a list of names.
    absent = sorted(name for name, value in attributes.items() if value is None)
    if absent:
        properties["AbsentAttributes"] = absent
    if client_metadata is not None:
        properties["ClientMetadata"] = dict(client_metadata)
    if not mark_contacts_verified:
        properties["MarkContactsVerified"] = "false"
    return properties


class CognitoUserAttributes(Construct):
    """Declares attribute values for one existing Cognito user, applied on deploy.

    Lifecycle of the underlying ``Custom::CognitoUserAttributes`` resource:

    - **Create** records each declared attribute's original value (or its absence) in the
      ledger, then sets the declared values.
    - **Update** diffs old and new declarations: added attributes are claimed and set, removed
      ones are restored, changed ones are set. A new pool or username is a replacement.
    - **Delete** restores the originals (attributes the user lacked are deleted again), or with
      ``OnDelete.RETAIN`` leaves the values in place.

    The user itself is never created or deleted; it must exist when the stack deploys.

    Every instance in a stack shares one provider function and one ledger table.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        username: str,
        attributes: Mapping[str, str | None],
        client_metadata: Mapping[str, str] | None = None,
        on_delete: OnDelete = OnDelete.RESTORE,
        mark_contacts_verified: bool = True,
        ledger: dynamodb.ITable | None = None,
    ) -> None:
        """Declare ``attributes`` for ``username`` in ``user_pool``.

        :param user_pool: the pool the user lives in (imported or created in this app).
        :param username: the username, or an alias the pool accepts (email, phone number).
        :param attributes: attribute name to value; ``None`` keeps the attribute absent while
            declared (it is deleted on apply and restored on delete).
        :param client_metadata: passed to the pool's custom message trigger on every update.
        :param on_delete: ``RESTORE`` the original values on delete, or ``RETAIN`` the declared.
        :param mark_contacts_verified: when ``email``/``phone_number`` is set without its
            ``*_verified`` flag, send the flag as ``"true"`` so Cognito sends no verification code.
        :param ledger: a ledger table shared across stacks (pass it with its KMS key); by default
            the stack's provider creates one. All instances in a stack must pass the same.
        :raises ValueError: if the declaration is one the provider would refuse (names, values,
            duplicates), as far as it is known at synth time.
        """
        super().__init__(scope, construct_id)
        properties = resource_properties(
            user_pool_id=user_pool.user_pool_id,
            username=username,
            attributes=attributes,
            client_metadata=client_metadata,
            on_delete=on_delete,
            mark_contacts_verified=mark_contacts_verified,
        )
        problem = declaration_problem(properties)
        if problem is not None:
            raise ValueError(f"{self.node.path} (user {username}): {problem}")
        self._provider = _Provider.of(self, ledger)
        self._provider.allow_pool(user_pool)
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=self._provider.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            pascal_case_properties=False,
            service_timeout=SERVICE_TIMEOUT,
        )
        # Without it CloudFormation may delete the Cognito permissions before the Delete runs.
        self._resource.node.add_dependency(self._provider.policy)

    @property
    def resource(self) -> CustomResource:
        """The ``Custom::CognitoUserAttributes`` resource."""
        return self._resource

    @property
    def function(self) -> lambda_.Function:
        """The stack's shared provider function."""
        return self._provider.function

    @property
    def ledger(self) -> dynamodb.ITable:
        """The ledger table that records original values."""
        return self._provider.ledger


class _Provider(Construct):
    """One per stack: the function, its permissions and (unless passed in) the ledger."""

    @classmethod
    def of(cls, user: CognitoUserAttributes, ledger: dynamodb.ITable | None) -> _Provider:
        stack = Stack.of(user)
        existing = stack.node.try_find_child(_PROVIDER_ID)
        if existing is None:
            return cls(stack, ledger=ledger, first_user=user.node.path)
        if not isinstance(existing, _Provider):
            raise ValueError(f"{stack.node.path}: the construct id {_PROVIDER_ID} is reserved")
        if existing.requested_ledger is not ledger:
            raise ValueError(
                f"{user.node.path}: all CognitoUserAttributes in stack {stack.node.path} share one "
                f"provider and one ledger, and this one passes a different ledger than "
                f"{existing.first_user}; pass the same table (or none) to all of them"
            )
        return existing

    def __init__(self, scope: Stack, *, ledger: dynamodb.ITable | None, first_user: str) -> None:
        super().__init__(scope, _PROVIDER_ID)
        self.requested_ledger = ledger
        self.first_user = first_user
        self.ledger = ledger if ledger is not None else self._default_ledger()

        log_group = logs.LogGroup(self, "Logs", retention=logs.RetentionDays.ONE_YEAR)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Custom::CognitoUserAttributes provider",
        )
        # Instead of AWSLambdaBasicExecutionRole, which may write to any log group.
        log_group.grant_write(role)
        self.function = lambda_.Function(
            self,
            "Function",
            description="Custom::CognitoUserAttributes provider: applies and restores attributes",
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_code(),
            timeout=LAMBDA_TIMEOUT,
            memory_size=256,
            # CloudFormation invokes asynchronously; a Lambda retry after an error or timeout
            # would rerun an event whose response may already have been sent.
            retry_attempts=0,
            role=role,
            log_group=log_group,
            environment={"LEDGER_TABLE_NAME": self.ledger.table_name},
        )
        self.ledger.grant_read_write_data(self.function)
        self._pool_statement = iam.PolicyStatement(actions=list(_COGNITO_ACTIONS))
        self._pool_arns: set[str] = set()
        self.policy = iam.Policy(
            self, "CognitoAccess", roles=[role], statements=[self._pool_statement]
        )

    def allow_pool(self, user_pool: cognito.IUserPool) -> None:
        """Let the function manage users of ``user_pool`` (and only of the pools allowed)."""
        arn = user_pool.user_pool_arn
        if arn not in self._pool_arns:
            self._pool_arns.add(arn)
            self._pool_statement.add_resources(arn)

    def _default_ledger(self) -> dynamodb.Table:
        key = kms.Key(
            self,
            "LedgerKey",
            description="Encrypts the Custom::CognitoUserAttributes ledger (original values)",
            enable_key_rotation=True,
            removal_policy=RemovalPolicy.RETAIN,
        )
        # Retained: deleting the stack must not lose the only record of the users' originals.
        return dynamodb.Table(
            self,
            "Ledger",
            partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
            sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
            billing_mode=dynamodb.BillingMode.PAY_PER_REQUEST,
            time_to_live_attribute="expires_at",
            point_in_time_recovery_specification=dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
            encryption_key=key,
            removal_policy=RemovalPolicy.RETAIN,
        )
