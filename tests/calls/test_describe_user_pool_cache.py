"""DescribeUserPool (quota: 15/s per account, shared) at most once per warm execution
environment per pool per cache period."""

from __future__ import annotations

from collections import Counter
from typing import Any

from user_attributes.cognito import SCHEMA_CACHE_SECONDS, CognitoUsers

from cfnlocal.driver import CustomResourceDriver

from .conftest import CallCounter
from .test_calls_per_event import declare, succeeded


def test_each_pool_is_described_once_per_environment(
    driver: CustomResourceDriver, counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    from cfnlocal.seed_pool import create_user, create_user_pool

    other = create_user_pool(cognito, "other")
    create_user(cognito, other, "carol", {"custom:plan": "ORIG-plan-3c3c"})
    for logical_id, pool, user in (
        ("Alice", pool_id, "alice"),
        ("Bob", pool_id, "bob"),
        ("Carol", other, "carol"),
    ):
        succeeded(driver.create(logical_id, declare(pool, user, custom__plan="VAL-plan-4d4d")))
    for logical_id in ("Alice", "Bob", "Carol"):
        succeeded(driver.delete(logical_id))
    assert counter.by_operation()["DescribeUserPool"] == 2


def test_the_cache_expires_after_five_minutes(
    counter: CallCounter, pool_id: str, cognito: Any
) -> None:
    import boto3

    now = [1000.0]
    users = CognitoUsers(boto3.client("cognito-idp"), clock=lambda: now[0])
    counter.reset()
    users.describe_user_pool(pool_id)
    now[0] += SCHEMA_CACHE_SECONDS - 1
    users.describe_user_pool(pool_id)
    assert counter.by_operation() == Counter(DescribeUserPool=1)
    now[0] += 1
    users.describe_user_pool(pool_id)
    assert counter.by_operation() == Counter(DescribeUserPool=2)
    assert SCHEMA_CACHE_SECONDS <= 300
