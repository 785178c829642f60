"""The benchmarks' throttle (``cfnlocal.throttle``): Cognito's UserUpdate quota on moto's side,
and the handler's clients absorbing it with adaptive retries."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError
from user_attributes.aws_clients import CLIENT_CONFIG

from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes
from cfnlocal.throttle import throttled_cognito


@pytest.fixture
def pool() -> str:
    cognito = boto3.client("cognito-idp")
    pool_id = create_user_pool(cognito)
    create_user(cognito, pool_id, "alice", {"custom:plan": "ORIG-plan-7a7a"})
    return pool_id


def update(client: Any, pool_id: str, value: str) -> None:
    client.admin_update_user_attributes(
        UserPoolId=pool_id,
        Username="alice",
        UserAttributes=[{"Name": "custom:plan", "Value": value}],
    )


def test_calls_above_the_limit_are_refused_and_change_nothing(pool: str) -> None:
    now = [0.0]
    client = boto3.client(
        "cognito-idp", config=Config(retries={"mode": "standard", "total_max_attempts": 1})
    )
    with throttled_cognito(limit=3, clock=lambda: now[0]) as limiter:
        for index in range(3):
            update(client, pool, f"VAL-{index}")
        with pytest.raises(ClientError) as refused:
            update(client, pool, "VAL-refused")
        assert refused.value.response["Error"]["Code"] == "TooManyRequestsException"
        assert user_attributes(client, pool, "alice")["custom:plan"] == "VAL-2"
        now[0] += 1.0  # the window has passed
        update(client, pool, "VAL-later")
    assert limiter.stats().accepted == 4
    assert limiter.stats().throttled == 1
    assert limiter.stats().max_in_window == 3


def test_adaptive_retries_absorb_throttling(pool: str) -> None:
    client = boto3.client("cognito-idp", config=CLIENT_CONFIG)
    with throttled_cognito(limit=2, window_s=0.2) as limiter:
        for index in range(6):
            update(client, pool, f"VAL-{index}")
    stats = limiter.stats()
    assert stats.accepted == 6
    assert stats.throttled > 0
    assert stats.max_in_window <= 2
