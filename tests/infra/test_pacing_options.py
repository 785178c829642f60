"""The provider's share of Cognito's UserUpdate quota: the worker's MaximumConcurrency x
per-environment rate = share x 25 writes per second, never more; nothing reserves concurrency;
front events CloudFormation gave up on are dropped."""

from __future__ import annotations

import pytest
from aws_cdk import Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template

from cognito_seed_users import (
    CognitoUserAttributes,
    CognitoUserAttributesProvider,
    SeedUser,
    SeedUsers,
)
from cognito_seed_users.cognito_user_attributes import (
    FRONT_TIMEOUT,
    MAX_EVENT_AGE,
    SERVICE_TIMEOUT,
    pacing,
)
from tests.infra import support
from tests.infra.support import POOL_ID, function_by_handler

RATE = "COGNITO_USER_UPDATE_RATE"


def worker_properties(stack: Stack) -> dict[str, object]:
    _, worker = function_by_handler(Template.from_stack(stack).to_json(), "worker.handler")
    properties: dict[str, object] = worker["Properties"]
    return properties


def maximum_concurrency(stack: Stack) -> int:
    return support.maximum_concurrency(Template.from_stack(stack).to_json())


def rate_of(properties: dict[str, object]) -> float:
    environment = properties["Environment"]
    assert isinstance(environment, dict)
    return float(environment["Variables"][RATE])


@pytest.mark.parametrize(
    ("share", "concurrency", "rate"),
    [
        pytest.param(0.4, 5, 2.0, id="default-40-percent"),
        pytest.param(1.0, 13, 1.923, id="whole-quota"),
        pytest.param(0.1, 2, 1.25, id="10-percent"),
        pytest.param(0.04, 2, 0.5, id="one-write-per-second-over-the-least-concurrency"),
    ],
)
def test_share_becomes_a_maximum_concurrency_and_a_rate_per_environment(
    share: float, concurrency: int, rate: float
) -> None:
    assert pacing(share) == (concurrency, rate)
    assert concurrency * rate <= share * 25
    assert concurrency * rate == pytest.approx(share * 25, rel=1e-3)


@pytest.mark.parametrize("share", [0, 0.01, 1.01, float("nan"), float("inf"), -0.4])
def test_share_outside_the_quota_is_refused(share: float) -> None:
    with pytest.raises(ValueError, match="update_quota_share must be between"):
        pacing(share)


def test_default_provider_uses_40_percent(stack: Stack) -> None:
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"locale": "en-GB"}
    )
    assert maximum_concurrency(stack) == 5
    assert rate_of(worker_properties(stack)) == 2.0


def test_seed_users_share_reaches_the_function(stack: Stack) -> None:
    user = SeedUser(user_pool_id=POOL_ID, username="ci-bot", attributes={"locale": "en-GB"})
    SeedUsers(stack, "SeedUsers", seed_users=[user], update_quota_share=0.2)
    assert maximum_concurrency(stack) == 3
    assert rate_of(worker_properties(stack)) * 3 <= 5


def test_no_function_reserves_concurrency(stack: Stack) -> None:
    # New accounts (concurrency limit 10) refuse any reservation: Lambda keeps 10 unreserved.
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"locale": "en-GB"}
    )
    functions = Template.from_stack(stack).find_resources("AWS::Lambda::Function")
    assert len(functions) == 3
    assert all("ReservedConcurrentExecutions" not in f["Properties"] for f in functions.values())


def test_one_stack_has_one_share(stack: Stack) -> None:
    user = SeedUser(user_pool_id=POOL_ID, username="ci-bot", attributes={"locale": "en-GB"})
    SeedUsers(stack, "First", seed_users=[user], update_quota_share=0.2)
    with pytest.raises(ValueError, match="one provider has one share"):
        SeedUsers(stack, "Second", seed_users=[user], update_quota_share=0.5)


def test_throttled_front_events_expire_before_cloudformation_gives_up(stack: Stack) -> None:
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"locale": "en-GB"}
    )
    template = Template.from_stack(stack)
    front, _ = function_by_handler(template.to_json(), "front.handler")
    # Lambda's own retries stay on: a second SendMessage of a request is deduplicated.
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": front},
            "MaximumEventAgeInSeconds": MAX_EVENT_AGE.to_seconds(),
            "MaximumRetryAttempts": Match.absent(),
        },
    )
    assert MAX_EVENT_AGE.to_seconds() + FRONT_TIMEOUT.to_seconds() <= SERVICE_TIMEOUT.to_seconds()


def test_an_explicit_provider_serves_another_stack(stack: Stack) -> None:
    provider = CognitoUserAttributesProvider(stack, "Shared", update_quota_share=0.4)
    other = Stack(stack.node.scope, "Other")  # type: ignore[arg-type]
    pool = cognito.UserPool.from_user_pool_id(other, "Pool", POOL_ID)
    instance = CognitoUserAttributes(
        other,
        "CiBot",
        user_pool=pool,
        username="ci-bot",
        attributes={"locale": "en-GB"},
        provider=provider,
    )
    assert instance.function is provider.function
    assert other.node.try_find_child("CognitoUserAttributesProvider") is None


def test_provider_and_ledger_together_are_refused(stack: Stack) -> None:
    provider = CognitoUserAttributesProvider(stack, "Shared")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    with pytest.raises(ValueError, match="either a provider"):
        CognitoUserAttributes(
            stack,
            "CiBot",
            user_pool=pool,
            username="ci-bot",
            attributes={"locale": "en-GB"},
            provider=provider,
            ledger=provider.ledger,
        )
