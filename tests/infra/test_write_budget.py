"""The synth-time write budget: a deploy whose declared users' paced writes cannot all start
within the window before CloudFormation's ServiceTimeout fails at synth, naming the numbers."""

from __future__ import annotations

import pytest
from aws_cdk import App, Stack
from aws_cdk import aws_cognito as cognito

from cognito_seed_users import CognitoUserAttributes, CognitoUserAttributesProvider
from cognito_seed_users.cognito_user_attributes import (
    SERVICE_TIMEOUT,
    WRITE_WINDOW,
    write_budget,
    write_budget_problem,
    writes_per_event,
)
from tests.infra.support import POOL_ID


@pytest.mark.parametrize(
    ("share", "budget"),
    [
        pytest.param(0.04, 1_620, id="one-write-per-second"),
        pytest.param(0.4, 16_200, id="default-40-percent"),
        pytest.param(1.0, 40_498, id="whole-quota"),
    ],
)
def test_budget_is_the_paced_rate_over_the_write_window(share: float, budget: int) -> None:
    assert write_budget(share) == budget
    assert budget <= WRITE_WINDOW.to_seconds() * share * 25
    assert WRITE_WINDOW.to_seconds() < SERVICE_TIMEOUT.to_seconds()


def test_writes_within_the_budget_pass_and_one_more_fails_naming_the_numbers() -> None:
    assert write_budget_problem(16_200, 0.4) is None

    problem = write_budget_problem(16_201, 0.4)

    assert problem is not None
    assert problem.startswith(
        "the declared users need up to 16,201 Cognito writes per deploy, more than the 16,200 "
        "that 0.4 of the UserUpdate quota (10 writes/s) completes within 27 minutes"
    )
    assert "raise update_quota_share" in problem


@pytest.mark.parametrize(
    ("properties", "writes"),
    [
        pytest.param({"UserAttributes": [{"Name": "nickname", "Value": "x"}]}, 1, id="values"),
        pytest.param({"AbsentAttributes": ["nickname"]}, 1, id="absent-only"),
        pytest.param(
            {"UserAttributes": [{"Name": "a", "Value": "x"}], "AbsentAttributes": ["b"]},
            2,
            id="values-and-absent",
        ),
        pytest.param({"UserAttributes": []}, 1, id="nothing-declared-still-reads-and-answers"),
    ],
)
def test_writes_per_event(properties: dict[str, object], writes: int) -> None:
    assert writes_per_event(properties) == writes


def test_each_resource_counts_its_writes_against_its_provider(stack: Stack) -> None:
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "Alice", user_pool=pool, username="alice", attributes={"nickname": "a"}
    )
    CognitoUserAttributes(
        stack,
        "Bob",
        user_pool=pool,
        username="bob",
        attributes={"nickname": "b", "custom:plan": None},
    )

    assert CognitoUserAttributesProvider.of(stack).writes == 3


def test_synth_fails_when_the_declared_writes_exceed_the_budget() -> None:
    app = App()
    stack = Stack(app, "OverBudget")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    CognitoUserAttributes(
        stack, "Alice", user_pool=pool, username="alice", attributes={"nickname": "a"}
    )
    provider = CognitoUserAttributesProvider.of(stack)
    # Stands for 16,200 more resources, which would take minutes to synthesize.
    provider.add_writes(write_budget(provider.update_quota_share))

    with pytest.raises(RuntimeError, match=r"need up to 16,201 Cognito writes per deploy"):
        app.synth()
