"""Handler scenarios: the real ``index.handler`` from ``lambda/``, moto, and the HTTPS sink."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import boto3
import pytest

from cfnlocal.driver import CustomResourceDriver
from cfnlocal.events import stack_id
from cfnlocal.https_sink import ResponseSink
from cfnlocal.lambda_runtime import LambdaContainer
from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
LEDGER = "ledger"


@pytest.fixture
def cognito() -> Any:
    return boto3.client("cognito-idp")


@pytest.fixture
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def pool_id(cognito: Any, dynamodb: Any) -> str:
    create_ledger_table(dynamodb, LEDGER)
    return create_user_pool(cognito)


@pytest.fixture
def alice(cognito: Any, pool_id: str) -> str:
    """A seed user that already has some attributes."""
    return create_user(
        cognito,
        pool_id,
        "alice",
        {"email": "alice@example.com", "email_verified": "true", "custom:plan": "free"},
    )


@pytest.fixture
def container() -> LambdaContainer:
    return LambdaContainer(LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": LEDGER}, timeout_s=60)


@pytest.fixture
def driver(container: LambdaContainer, response_sink: ResponseSink) -> CustomResourceDriver:
    return CustomResourceDriver(container, response_sink, stack_id=stack_id("SeedUsers"))
