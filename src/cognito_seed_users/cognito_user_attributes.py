"""``CognitoUserAttributes``: declared attribute values for a Cognito user that already exists."""

from __future__ import annotations

import contextlib
import functools
import json
import math
import weakref
from collections.abc import Mapping
from typing import Final

import jsii
from aws_cdk import CfnResource, CustomResource, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IValidation

from .accepted_findings import acknowledge_accepted_findings
from .lambda_bundle import lambda_code
from .resource_properties import OnDelete, resource_properties
from .runtime_rules import declaration_problem, is_deploy_time
from .secret_reference import SecretReference

RESOURCE_TYPE: Final = "Custom::CognitoUserAttributes"
SERVICE_TIMEOUT: Final = Duration.minutes(30)
"""How long CloudFormation waits for a resource's answer, counted from when it invokes the
ServiceToken function. The front function only queues the event; the worker answers it within
``WORKER_TIMEOUT`` of receiving it, and a worker that dies without answering is retried after
``VISIBILITY_TIMEOUT`` (the dead-letter consumer answers FAILED after ``MAX_RECEIVES``), so an
event is answered within ``MAX_RECEIVES x VISIBILITY_TIMEOUT`` (18 minutes) of being queued, plus
the deploy's paced queue (synth checks ``write_budget``: 16,200 writes at the default 40 %)."""
FRONT_TIMEOUT: Final = Duration.seconds(30)
"""The front function validates the event and sends one SQS message (botocore's timeouts and
retries end a hung SendMessage within this)."""
WORKER_TIMEOUT: Final = Duration.seconds(60)
"""One event's work: a user read, the ledger, at most two paced writes and the answer; short, so
that a worker that dies is retried within one ``VISIBILITY_TIMEOUT``."""
VISIBILITY_TIMEOUT: Final = Duration.seconds(6 * 60)
"""Six times ``WORKER_TIMEOUT``: the Lambda Developer Guide's setting for an SQS event source
("Using Lambda with Amazon SQS": "set the source queue's visibility timeout to at least six
times the timeout that you configure on your function")."""
MAX_RECEIVES: Final = 3
"""Receives of one message before SQS moves it to the dead-letter queue (``maxReceiveCount``)."""
MAX_EVENT_AGE: Final = Duration.minutes(27)
"""Lambda drops an asynchronous invocation of the front function older than this, throttled and
retried with Lambda's backoff (1 s doubling to 5 minutes) until then; CloudFormation gives up at
``SERVICE_TIMEOUT``."""
MIN_MAXIMUM_CONCURRENCY: Final = 2
"""The least ``ScalingConfig.MaximumConcurrency`` an SQS event source mapping accepts (Lambda API
reference, ScalingConfig: "Valid Range: Minimum value of 2")."""

WRITE_WINDOW: Final = MAX_EVENT_AGE
"""How long one deploy's paced writes may take: CloudFormation starts every resource at once,
and the last event of the queue must still be answered within ``SERVICE_TIMEOUT``."""

USER_UPDATE_QUOTA_PER_SECOND: Final = 25
"""Cognito's UserUpdate quota (AdminUpdateUserAttributes, AdminDeleteUserAttributes, ...): per
account and Region, not adjustable, shared with production traffic."""
DEFAULT_UPDATE_QUOTA_SHARE: Final = 0.4
"""The share of the UserUpdate quota one provider uses by default: 10 writes per second."""
WRITES_PER_SECOND_PER_CONTAINER: Final = 2.0
"""Target pace of one execution environment. An event needs about 0.3 s of other work (the
user read, the ledger, the answer), so a worker paced at 2 writes/s is seldom idle, and the
queue's ``MaximumConcurrency`` is ``ceil(share x 25 / 2)`` (at least 2): 5 at the default share,
13 at 100 %."""
RATE_ENVIRONMENT_VARIABLE: Final = "COGNITO_USER_UPDATE_RATE"
"""Writes per second one execution environment may send (``lambda/user_attributes/pacing.py``)."""

MANAGED_POLICY_MAX_CHARS: Final = 6_144
"""IAM's size limit of one managed policy, white space not counted (IAM and STS quotas,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html)."""
MAX_SECRET_POLICIES: Final = 10
"""Managed policies IAM attaches to one role unless the account's quota is raised (same page);
the provider's role has no other."""

ROLE_INLINE_POLICIES_MAX_CHARS: Final = 10_240
"""IAM's limit for all inline policies of one role together, white space not counted (same
page)."""

PROVIDER_ID: Final = "CognitoUserAttributesProvider"
"""The construct id of a stack's default provider (a child of the stack)."""
_COGNITO_ACTIONS: Final = (
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminDeleteUserAttributes",
    "cognito-idp:DescribeUserPool",
)
_LEDGER_ACTIONS: Final = (
    "dynamodb:Query",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
    "dynamodb:DeleteItem",
    "dynamodb:ConditionCheckItem",
)
"""The ledger's reads and its TransactWriteItems (authorized per item: DynamoDB Developer Guide,
"Using IAM with DynamoDB transactions"); not ``grant_read_write_data``, whose stream statement
the role's inline policy budget cannot spare."""
_CONSUMER_ACTIONS: Final = ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")
"""What an SQS event source mapping needs of its function's role (Lambda Developer Guide, "Using
Lambda with Amazon SQS", execution role permissions), with ``kms:Decrypt`` on the queue's key."""
_POOL_ARN_MAX_CHARS: Final = (
    len("arn:aws-us-gov:cognito-idp:ap-southeast-5:123456789012:userpool/") + 55
)
"""The longest partition and region, and a pool id of Cognito's maximum 55 characters."""
_POOL_POLICY_MAX_CHARS: Final = len(
    json.dumps(
        {
            "Statement": [
                {
                    "Action": list(_COGNITO_ACTIONS),
                    "Effect": "Allow",
                    "Resource": "x" * _POOL_ARN_MAX_CHARS,
                }
            ],
            "Version": "2012-10-17",
        },
        separators=(",", ":"),
    )
)
"""One pool's policy as IAM counts it: 339 characters (327 for a pool in eu-west-1)."""
_DEFAULT_POLICY_BUDGET_CHARS: Final = 2_300
"""Kept for the worker role's default policy: its log group, ledger, ledger key, queue and queue
key statements measure 2,252 characters with each of their five ARNs given 340
(``tests/infra/test_pool_policies.py``)."""
MAX_USER_POOLS: Final = (
    ROLE_INLINE_POLICIES_MAX_CHARS - _DEFAULT_POLICY_BUDGET_CHARS
) // _POOL_POLICY_MAX_CHARS
"""User pools one provider may serve (23): each has an inline policy of its own on the role, of
at most ``_POOL_POLICY_MAX_CHARS``, next to the role's default policy; together within
``ROLE_INLINE_POLICIES_MAX_CHARS``. Inline rather than managed: a role carries at most
``MAX_SECRET_POLICIES`` managed policies, which the secret grants use."""


class CognitoUserAttributes(Construct):
    """Declares attribute values for one existing Cognito user, applied on deploy.

    Lifecycle of the underlying ``Custom::CognitoUserAttributes`` resource:

    - **Create** records each declared attribute's original value (or its absence) in the
      ledger, then sets the declared values.
    - **Update** diffs old and new declarations: added attributes are claimed and set, removed
      ones are restored, changed ones are set. A new pool or username is a replacement.
    - **Delete** restores the originals (attributes the user lacked are deleted again), or with
      ``OnDelete.RETAIN`` leaves the values in place.

    Every Update also rewrites the declared values that changed outside CloudFormation (drift):
    it writes whatever is not live, leaving the recorded originals alone. ``reapply_token``
    forces such an Update without changing the declaration.

    The user itself is never created or deleted; it must exist when the stack deploys.

    Every instance in a stack shares one provider function and one ledger table, unless it is
    given a ``provider`` (``SeedUsers`` passes its parent stack's provider to nested stacks).
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        user_pool: cognito.IUserPool,
        username: str,
        attributes: Mapping[str, str | SecretReference | None],
        client_metadata: Mapping[str, str] | None = None,
        on_delete: OnDelete = OnDelete.RESTORE,
        mark_contacts_verified: bool = True,
        ledger: dynamodb.ITable | None = None,
        provider: CognitoUserAttributesProvider | None = None,
        logical_id: str | None = None,
        reapply_token: str | None = None,
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
        :param provider: the provider to use instead of the stack's default one, e.g. one in a
            parent stack (its function ARN becomes a nested stack parameter). Its ledger is used;
            ``ledger`` must then be omitted.
        :param logical_id: the resource's CloudFormation logical id, instead of one derived from
            the construct path (``SeedUsers`` keeps a user's id whatever stack it lands in).
        :param reapply_token: any string of 1 to 128 printable characters (a timestamp, a
            commit id), sent as the ``ReapplyToken`` property. It declares nothing: a deploy
            with a token different from the last one sends this resource an Update whose only
            change is the token, which rewrites every declared value that drifted (changed
            outside CloudFormation) and writes nothing else; originals and claims stay as they
            are, and the physical id stays (no replacement). The same token as last time sends
            no event at all. ``None`` (the default) leaves the property out of the template,
            so adding it or taking it away later is one such Update too.
        :raises ValueError: if the declaration is one the provider would refuse (names, values,
            duplicates), as far as it is known at synth time.
        """
        super().__init__(scope, construct_id)
        properties = resource_properties(
            user_pool_id=_pool_id(user_pool),
            username=username,
            attributes=attributes,
            client_metadata=client_metadata,
            on_delete=on_delete,
            mark_contacts_verified=mark_contacts_verified,
            reapply_token=reapply_token,
        )
        problem = declaration_problem(properties)
        if problem is not None:
            raise ValueError(f"{self.node.path} (user {username}): {problem}")
        if provider is not None and ledger is not None:
            raise ValueError(
                f"{self.node.path}: pass either a provider (which has its own ledger) or a "
                "ledger, not both"
            )
        if ledger is not None and ledger.encryption_key is None:
            # The ledger holds original attribute values: PII under a key the owner controls.
            raise ValueError(
                f"{self.node.path}: the ledger must be encrypted with a customer-managed KMS key "
                "(create or import the table with its encryption_key), or omit ledger"
            )
        self._provider = provider or CognitoUserAttributesProvider.of(
            Stack.of(self), ledger=ledger, requested_by=self.node.path
        )
        self._provider.add_writes(writes_per_event(properties))
        pool_policy = self._provider.allow_pool(user_pool)
        secret_grants = [
            self._provider.allow_secret(value)
            for value in attributes.values()
            if isinstance(value, SecretReference)
        ]
        self._resource = CustomResource(
            self,
            "Resource",
            service_token=self._provider.service_token,
            resource_type=RESOURCE_TYPE,
            properties=properties,
            pascal_case_properties=False,
            service_timeout=SERVICE_TIMEOUT,
        )
        if logical_id is not None:
            cfn_resource = self._resource.node.default_child
            assert isinstance(cfn_resource, CfnResource)
            cfn_resource.override_logical_id(logical_id)
        # Without it CloudFormation may delete the pool's permissions before the Delete runs
        # (and start a Create before it may read the secrets). Its own pool's policy only:
        # when the pool's last user goes, the policy goes with it, and CloudFormation deletes
        # it after this resource (a policy kept for other pools would lose this pool first,
        # in the update phase, before the cleanup phase sends the Delete). For a resource in
        # a nested stack CDK puts the dependency on the nested stack itself.
        self._resource.node.add_dependency(pool_policy, *secret_grants)

    @property
    def resource(self) -> CustomResource:
        """The ``Custom::CognitoUserAttributes`` resource."""
        return self._resource

    @property
    def provider(self) -> CognitoUserAttributesProvider:
        """The provider (function, permissions, ledger) this resource uses."""
        return self._provider

    @property
    def function(self) -> lambda_.Function:
        """The provider's function, shared by every resource that uses the provider."""
        return self._provider.function

    @property
    def ledger(self) -> dynamodb.ITable:
        """The ledger table that records original values."""
        return self._provider.ledger


_POOL_IDS: weakref.WeakKeyDictionary[cognito.IUserPool, str] = weakref.WeakKeyDictionary()


def _pool_id(user_pool: cognito.IUserPool) -> str:
    """``user_pool.user_pool_id``, asked of jsii once per pool object rather than per user."""
    try:
        return _POOL_IDS[user_pool]
    except (KeyError, TypeError):
        pool_id = user_pool.user_pool_id
        with contextlib.suppress(TypeError):  # an object that cannot be weakly referenced
            _POOL_IDS[user_pool] = pool_id
        return pool_id


def pacing(update_quota_share: float) -> tuple[int, float]:
    """``(worker concurrency, writes per second per execution environment)`` for a share of
    Cognito's UserUpdate quota; their product is ``share x 25`` writes per second (rounded
    down).

    :raises ValueError: unless ``0.04 <= share <= 1`` (at least one write per second, which keeps
        a paced write's wait well inside the handler's safety margin before its deadline).
    """
    share = float(update_quota_share)
    if not math.isfinite(share) or not 1 / USER_UPDATE_QUOTA_PER_SECOND <= share <= 1:
        raise ValueError(
            f"update_quota_share must be between {1 / USER_UPDATE_QUOTA_PER_SECOND} (one write "
            f"per second) and 1 (all of Cognito's {USER_UPDATE_QUOTA_PER_SECOND}/s UserUpdate "
            f"quota), not {update_quota_share}"
        )
    writes_per_second = share * USER_UPDATE_QUOTA_PER_SECOND
    # The small tolerance keeps 0.4 x 25 / 2 = 5 from becoming 6 through rounding.
    concurrency = max(
        MIN_MAXIMUM_CONCURRENCY,
        math.ceil(writes_per_second / WRITES_PER_SECOND_PER_CONTAINER - 1e-9),
    )
    # Rounded down: the environments together never exceed the share.
    return concurrency, math.floor(writes_per_second / concurrency * 10_000) / 10_000


def writes_per_event(properties: Mapping[str, object]) -> int:
    """The Cognito writes (UserUpdate calls) one Create or Delete of a resource with these
    properties makes at most: one AdminUpdateUserAttributes for its values, one
    AdminDeleteUserAttributes for its absent attributes."""
    return max(1, bool(properties.get("UserAttributes")) + bool(properties.get("AbsentAttributes")))


def write_budget(update_quota_share: float) -> int:
    """The writes one deploy can pace through within ``WRITE_WINDOW`` at this share."""
    concurrency, rate = pacing(update_quota_share)
    return math.floor(WRITE_WINDOW.to_seconds() * concurrency * rate)


def write_budget_problem(writes: int, update_quota_share: float) -> str | None:
    """Why a deploy of ``writes`` paced writes cannot finish in time (None: it can)."""
    budget = write_budget(update_quota_share)
    if writes <= budget:
        return None
    concurrency, rate = pacing(update_quota_share)
    return (
        f"the declared users need up to {writes:,} Cognito writes per deploy, more than the "
        f"{budget:,} that {update_quota_share:g} of the UserUpdate quota "
        f"({concurrency * rate:g} writes/s) completes within "
        f"{WRITE_WINDOW.to_minutes():g} minutes (CloudFormation's ServiceTimeout is "
        f"{SERVICE_TIMEOUT.to_minutes():g}); raise update_quota_share (at most 1), or declare "
        "the users in several stacks deployed one after the other"
    )


@jsii.implements(IValidation)
class _WriteBudget:
    """Fails synth when the provider's declared writes exceed its budget."""

    def __init__(self, provider: CognitoUserAttributesProvider) -> None:
        self._provider = provider

    def validate(self) -> list[str]:
        problem = write_budget_problem(self._provider.writes, self._provider.update_quota_share)
        return [] if problem is None else [problem]


class CognitoUserAttributesProvider(Construct):
    """What serves ``Custom::CognitoUserAttributes``: the functions, the queue between them,
    their permissions, the pacing and (unless passed in) the ledger. One per stack by default
    (``of``); ``SeedUsers`` shares its stack's provider with the nested stacks it creates.

    Transport: the ServiceToken function (``Function``, ``front.handler``) checks each event and
    puts it on an SQS FIFO queue (``Queue``), one message group per target user, the RequestId
    as deduplication id; the worker (``Worker``, ``worker.handler``) runs and answers it. One
    user's events therefore run one at a time and in order. A worker that dies is retried after
    the visibility timeout; after ``MAX_RECEIVES`` receives the message moves to the dead-letter
    queue, whose consumer (``DeadLetterConsumer``) answers FAILED. No function reserves
    concurrency (new accounts, with a concurrency limit of 10, refuse any reservation).

    Pacing: the event source mapping's ``MaximumConcurrency`` times each worker environment's
    write rate (a token bucket in the handler, ``COGNITO_USER_UPDATE_RATE``) equals
    ``update_quota_share`` of Cognito's UserUpdate quota (25/s per account and Region), so a
    deploy of any size leaves the rest to production traffic. Throttling that happens anyway
    (production bursts) is absorbed by botocore's adaptive retries within the worker's deadline.
    """

    @classmethod
    def of(
        cls,
        stack: Stack,
        *,
        ledger: dynamodb.ITable | None = None,
        update_quota_share: float | None = None,
        requested_by: str | None = None,
    ) -> CognitoUserAttributesProvider:
        """The stack's default provider, created on first use. Every caller must ask for the
        same ledger (or none) and the same share (or none: the first caller's, else 40 %)."""
        requested_by = requested_by or stack.node.path
        existing = stack.node.try_find_child(PROVIDER_ID)
        if existing is None:
            return cls(
                stack,
                PROVIDER_ID,
                ledger=ledger,
                update_quota_share=(
                    DEFAULT_UPDATE_QUOTA_SHARE if update_quota_share is None else update_quota_share
                ),
                first_user=requested_by,
            )
        if not isinstance(existing, CognitoUserAttributesProvider):
            raise ValueError(f"{stack.node.path}: the construct id {PROVIDER_ID} is reserved")
        if existing.requested_ledger is not ledger:
            raise ValueError(
                f"{requested_by}: all CognitoUserAttributes in stack {stack.node.path} share one "
                f"provider and one ledger, and this one passes a different ledger than "
                f"{existing.first_user}; pass the same table (or none) to all of them"
            )
        if update_quota_share is not None and update_quota_share != existing.update_quota_share:
            raise ValueError(
                f"{requested_by}: stack {stack.node.path} already has a provider using "
                f"{existing.update_quota_share} of the UserUpdate quota (for "
                f"{existing.first_user}); one provider has one share"
            )
        return existing

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ledger: dynamodb.ITable | None = None,
        update_quota_share: float = DEFAULT_UPDATE_QUOTA_SHARE,
        first_user: str | None = None,
    ) -> None:
        """:param update_quota_share: the share of Cognito's UserUpdate quota (25 requests per
        second per account and Region, shared with production) this provider may use, from
        0.04 to 1. Two providers deploying at once use two shares.
        :param ledger: a ledger table to share across stacks; by default one is created here.
        """
        concurrency, rate = pacing(update_quota_share)
        super().__init__(scope, construct_id)
        self.update_quota_share = update_quota_share
        self.max_concurrency = concurrency
        """The worker's ``MaximumConcurrency`` (its event source mapping)."""
        self.writes_per_second_per_container = rate
        self.requested_ledger = ledger
        self.first_user = first_user or self.node.path
        self.writes = 0
        """The Cognito writes a deploy of every resource this provider serves makes at most."""
        self.node.add_validation(_WriteBudget(self))
        self.ledger = ledger if ledger is not None else self._default_ledger()

        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="Custom::CognitoUserAttributes worker: applies and restores attributes",
        )
        queue, dead_letters, queue_key = self._queues()
        self.queue = queue
        """The FIFO queue of CloudFormation's events; only the worker reads it."""
        self.dead_letter_queue = dead_letters
        self.worker = self._function(
            "Worker",
            handler="worker.handler",
            description="Custom::CognitoUserAttributes worker: applies and restores attributes",
            timeout=WORKER_TIMEOUT,
            role=role,
            environment={
                "LEDGER_TABLE_NAME": self.ledger.table_name,
                RATE_ENVIRONMENT_VARIABLE: f"{rate:g}",
            },
        )
        self.ledger.grant(self.worker, *_LEDGER_ACTIONS)
        if self.ledger.encryption_key is not None:
            self.ledger.encryption_key.grant_encrypt_decrypt(self.worker)
        # Mappings with ids of their own: SqsEventSource names them after the queue's path,
        # which holds the stack's name.
        self.worker.add_event_source_mapping(
            "QueueMapping",
            event_source_arn=queue.queue_arn,
            batch_size=1,
            max_concurrency=concurrency,
        )
        queue.grant(self.worker, *_CONSUMER_ACTIONS)
        queue_key.grant_decrypt(self.worker)
        consumer = self._function(
            "DeadLetterConsumer",
            handler="dead_letters.handler",
            description="Custom::CognitoUserAttributes: answers FAILED for dead-lettered events",
            timeout=FRONT_TIMEOUT,
        )
        consumer.add_event_source_mapping(
            "DeadLetterMapping", event_source_arn=dead_letters.queue_arn, batch_size=1
        )
        dead_letters.grant(consumer, *_CONSUMER_ACTIONS)
        queue_key.grant_decrypt(consumer)
        # The ServiceToken: its logical id stays "Function" (CloudFormation refuses to change a
        # custom resource's ServiceToken). Lambda retries a failed asynchronous invocation, and
        # the RequestId as deduplication id makes a second SendMessage harmless.
        self.function = self._function(
            "Function",
            handler="front.handler",
            description="Custom::CognitoUserAttributes provider: queues CloudFormation's events",
            timeout=FRONT_TIMEOUT,
            max_event_age=MAX_EVENT_AGE,
            environment={"QUEUE_URL": queue.queue_url},
        )
        # SendMessage alone (not grant_send_messages' queue reads), and of the key what a
        # producer of an encrypted queue needs: GenerateDataKey and Decrypt (SQS Developer
        # Guide, "Amazon SQS key management": "Allow a producer to send messages").
        queue.grant(self.function, "sqs:SendMessage")
        queue_key.grant(self.function, "kms:GenerateDataKey", "kms:Decrypt")
        # Both consumers run before CloudFormation sends an event, and are deleted after its
        # last: the mappings hang off the consumers.
        self.function.node.add_dependency(self.worker, consumer)
        self._role = role
        self._cognito_access = Construct(self, "CognitoAccess")
        self._pool_policies: dict[str, _PoolPolicy] = {}
        self._pools_seen: dict[int, tuple[cognito.IUserPool, _PoolPolicy]] = {}
        self._secret_access = _SecretAccess(self, role)
        acknowledge_accepted_findings(self)

    def _function(
        self,
        construct_id: str,
        *,
        handler: str,
        description: str,
        timeout: Duration,
        role: iam.IRole | None = None,
        environment: Mapping[str, str] | None = None,
        max_event_age: Duration | None = None,
    ) -> lambda_.Function:
        """One of the provider's functions, on the shared asset, logging to a group of its own
        (instead of AWSLambdaBasicExecutionRole, which may write to any log group)."""
        log_group = logs.LogGroup(
            self,
            "Logs" if construct_id == "Worker" else f"{construct_id}Logs",
            retention=logs.RetentionDays.ONE_YEAR,
        )
        function_role = role or iam.Role(
            self,
            f"{construct_id}Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description=description,
        )
        log_group.grant_write(function_role)
        return lambda_.Function(
            self,
            construct_id,
            description=description,
            runtime=lambda_.Runtime.PYTHON_3_13,
            architecture=lambda_.Architecture.ARM_64,
            handler=handler,
            code=lambda_code(),
            timeout=timeout,
            memory_size=256,
            max_event_age=max_event_age,
            role=function_role,
            log_group=log_group,
            environment=dict(environment or {}),
        )

    def _queues(self) -> tuple[sqs.Queue, sqs.Queue, kms.Key]:
        """The FIFO queue and its dead-letter queue, under a key of their own: the events carry
        attribute values and the pre-signed ResponseURL."""
        key = kms.Key(
            self,
            "QueueKey",
            description="Encrypts the Custom::CognitoUserAttributes event queues",
            enable_key_rotation=True,
            # Messages live minutes; unlike the ledger's key, nothing needs it after the stack.
            removal_policy=RemovalPolicy.DESTROY,
            pending_window=Duration.days(7),
        )
        dead_letters = sqs.Queue(
            self,
            "DeadLetterQueue",
            fifo=True,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=Duration.seconds(6 * FRONT_TIMEOUT.to_seconds()),
            retention_period=Duration.days(14),
        )
        queue = sqs.Queue(
            self,
            "Queue",
            fifo=True,
            # The RequestId is the deduplication id: two events with one body stay two.
            content_based_deduplication=False,
            encryption=sqs.QueueEncryption.KMS,
            encryption_master_key=key,
            enforce_ssl=True,
            visibility_timeout=VISIBILITY_TIMEOUT,
            retention_period=Duration.days(1),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=dead_letters, max_receive_count=MAX_RECEIVES
            ),
        )
        return queue, dead_letters, key

    def add_writes(self, writes: int) -> None:
        """Count a resource's writes against the deploy's budget (``write_budget``)."""
        self.writes += writes

    @functools.cached_property
    def service_token(self) -> str:
        """The function's ARN: the ``ServiceToken`` of every resource this provider serves."""
        return self.function.function_arn

    @property
    def pool_policies(self) -> dict[str, iam.Policy]:
        """Pool key (``pool_key``) -> the inline policy that lets the function manage that
        pool's users; the resources of the pool's users depend on it."""
        return {key: pool.policy for key, pool in self._pool_policies.items()}

    def allow_pool(self, user_pool: cognito.IUserPool) -> iam.Policy:
        """Let the function manage users of ``user_pool`` (and only of the pools allowed).

        Each pool gets an inline policy of its own (construct id ``CognitoAccess/<pool key>``),
        created with its first user: removing the pool's last user removes the policy, which
        CloudFormation then deletes after that user's Delete.

        :returns: the pool's policy, which the pool's resources must depend on.
        :raises ValueError: if this would be the provider's pool number
            ``MAX_USER_POOLS + 1``.
        """
        seen = self._pools_seen.get(id(user_pool))
        if seen is not None:
            return seen[1].policy  # the same pool object: thousands of users share a handful
        key = pool_key(user_pool)
        pool = self._pool_policies.get(key)
        if pool is None:
            if len(self._pool_policies) >= MAX_USER_POOLS:
                raise ValueError(
                    f"{self.node.path}: user pool {key} would be pool {MAX_USER_POOLS + 1} of this "
                    f"provider, which serves at most {MAX_USER_POOLS}: each pool has an inline "
                    f"policy on the worker's role, and IAM allows a role "
                    f"{ROLE_INLINE_POLICIES_MAX_CHARS} characters of inline policies in all; "
                    "declare the users of further pools in another stack (each stack has its "
                    "own provider)"
                )
            pool = _PoolPolicy(self._cognito_access, key, self._role)
            self._pool_policies[key] = pool
        self._pools_seen[id(user_pool)] = (user_pool, pool)
        pool.allow(user_pool.user_pool_arn)
        return pool.policy

    def allow_secret(self, reference: SecretReference) -> iam.ManagedPolicy:
        """Let the function read exactly the secret or parameter ``reference`` names.

        :returns: the managed policy that grants it, which the resource must depend on.
        :raises ValueError: if the grants need more managed policies than a role may carry.
        """
        return self._secret_access.grant(reference)

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


def pool_key(user_pool: cognito.IUserPool) -> str:
    """What names a pool's policy (its construct id under the provider's ``CognitoAccess``):
    the pool id when it is known at synth time, else (a pool created in this app, or imported
    from a parameter) the construct path of the pool object, with ``-`` for ``/``. Stable while
    the pool is; CloudFormation's logical id is CDK's, derived from that construct path."""
    pool_id = _pool_id(user_pool)
    if not is_deploy_time(pool_id):
        return pool_id
    return user_pool.node.path.replace("/", "-")


class _PoolPolicy:
    """The inline policy of one pool: the Cognito actions on the pool's ARN (two ARN strings
    when the pool was imported twice in a stack without a Region: both resolve the same)."""

    def __init__(self, scope: Construct, key: str, role: iam.IRole) -> None:
        self._statement = iam.PolicyStatement(actions=list(_COGNITO_ACTIONS))
        # Attached with its statement: CDK refuses an attached policy without one.
        self.policy = iam.Policy(scope, key, statements=[self._statement], roles=[role])
        self._arns: set[str] = set()

    def allow(self, arn: str) -> None:
        if arn not in self._arns:
            self._arns.add(arn)
            self._statement.add_resources(arn)


class _SecretAccess:
    """Read access to the referenced secrets and parameters, in managed policies of the
    provider's role filled one after the other up to IAM's size limit.

    Not inline: a role's inline policies together may hold 10,240 characters, about 100 ARNs
    of 80 characters. Managed policies keep one exact grant per reference, about 70 such ARNs
    each, 700 in ``MAX_SECRET_POLICIES``. A reference keeps its policy while the references
    before it stay, so adding or removing one updates policies but replaces none.
    """

    def __init__(self, provider: Construct, role: iam.IRole) -> None:
        self._provider = provider
        self._role = role
        self._granted: dict[str, iam.ManagedPolicy] = {}
        self._policies: list[_SizedPolicy] = []

    def grant(self, reference: SecretReference) -> iam.ManagedPolicy:
        arn = reference.resource_arn(self._provider)
        if arn in self._granted:
            return self._granted[arn]
        action = reference.action()
        size = _rendered_chars(Stack.of(self._provider), arn)
        if not self._policies or not self._policies[-1].fits(action, size):
            self._policies.append(self._new_policy(len(self._policies) + 1))
        policy = self._policies[-1]
        policy.add(action, arn, size)
        self._granted[arn] = policy.policy
        return policy.policy

    def _new_policy(self, number: int) -> _SizedPolicy:
        if number > MAX_SECRET_POLICIES:
            raise ValueError(
                f"{self._provider.node.path}: the secret and parameter references need more "
                f"than {MAX_SECRET_POLICIES} managed policies of {MANAGED_POLICY_MAX_CHARS} "
                f"characters (IAM attaches at most {MAX_SECRET_POLICIES} to a role); reference "
                "fewer distinct secrets, e.g. one JSON secret per group of users with a jsonKey "
                "per user"
            )
        return _SizedPolicy(
            iam.ManagedPolicy(
                self._provider,
                f"SecretAccess{number}",
                description=f"Custom::CognitoUserAttributes provider: secrets it reads ({number})",
                roles=[self._role],
            )
        )


class _SizedPolicy:
    """One managed policy and the characters IAM will count in it (an upper bound)."""

    _DOCUMENT_CHARS: Final = len('{"Statement":[],"Version":"2012-10-17"}')
    _STATEMENT_CHARS: Final = len('{"Action":"","Effect":"Allow","Resource":[]},')
    """Without the action; the resources add their JSON strings and a comma each."""

    def __init__(self, policy: iam.ManagedPolicy) -> None:
        self.policy = policy
        self._statements: dict[str, iam.PolicyStatement] = {}
        self._chars = self._DOCUMENT_CHARS

    def fits(self, action: str, resource_chars: int) -> bool:
        added = resource_chars + 1
        if action not in self._statements:
            added += self._STATEMENT_CHARS + len(action)
        return self._chars + added <= MANAGED_POLICY_MAX_CHARS

    def add(self, action: str, arn: str, resource_chars: int) -> None:
        statement = self._statements.get(action)
        if statement is None:
            statement = iam.PolicyStatement(actions=[action])
            self._statements[action] = statement
            self.policy.add_statements(statement)
            self._chars += self._STATEMENT_CHARS + len(action)
        statement.add_resources(arn)
        self._chars += resource_chars + 1


# The longest value each pseudo parameter takes (aws-us-gov; a 12-digit account; a region such
# as ap-southeast-5), so a policy IAM renders is never longer than counted.
_PSEUDO_PARAMETER_CHARS: Final = {"AWS::Partition": 10, "AWS::AccountId": 12, "AWS::Region": 14}
# Any other deploy-time value (a secret's Ref): an SSM parameter name takes up to 1,011.
_OPAQUE_ARN_CHARS: Final = 1_100


def _rendered_chars(stack: Stack, arn: str) -> int:
    """The characters IAM counts for ``arn`` as a JSON string in a policy, at most."""
    if not is_deploy_time(arn):
        return len(json.dumps(arn))
    return 2 + _deploy_time_chars(stack.resolve(arn))


def _deploy_time_chars(value: object) -> int:
    if isinstance(value, str):
        return len(json.dumps(value)) - 2
    if isinstance(value, Mapping) and set(value) == {"Ref"}:
        return _PSEUDO_PARAMETER_CHARS.get(str(value["Ref"]), _OPAQUE_ARN_CHARS)
    if isinstance(value, Mapping) and set(value) == {"Fn::Join"}:
        separator, parts = value["Fn::Join"]
        return sum(_deploy_time_chars(part) for part in parts) + len(separator) * (len(parts) - 1)
    return _OPAQUE_ARN_CHARS
