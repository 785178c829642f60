"""boto3 clients with explicit timeouts and retries.

Cognito's UserUpdate quota (25/s per account and Region) is shared with production traffic and
``TooManyRequestsException`` is retried only by botocore's standard and adaptive modes; adaptive
also slows this client down when throttled. Timeouts are explicit so a hung call ends well
before the worker's deadline: a call makes at most 5 attempts, each at most 2 s to connect and
5 s to read, with at most 1+2+4+8 s of backoff between them: 50 s, inside the worker's 60 s
timeout less crhelper's 5 s margin.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_sqs import SQSClient
    from mypy_boto3_ssm import SSMClient

CLIENT_CONFIG: Final = Config(
    connect_timeout=2,
    read_timeout=5,
    retries={"mode": "adaptive", "max_attempts": 4},
)


def cognito_client(region: str | None = None) -> CognitoIdentityProviderClient:
    return boto3.client("cognito-idp", region_name=region, config=CLIENT_CONFIG)


def dynamodb_client(region: str | None = None) -> DynamoDBClient:
    return boto3.client("dynamodb", region_name=region, config=CLIENT_CONFIG)


def secretsmanager_client(region: str | None = None) -> SecretsManagerClient:
    return boto3.client("secretsmanager", region_name=region, config=CLIENT_CONFIG)


def sqs_client(region: str | None = None) -> SQSClient:
    return boto3.client("sqs", region_name=region, config=CLIENT_CONFIG)


def ssm_client(region: str | None = None) -> SSMClient:
    return boto3.client("ssm", region_name=region, config=CLIENT_CONFIG)


def error_code(error: ClientError) -> str:
    """The AWS error code of a failed call (never its message, which may echo input)."""
    return str(error.response.get("Error", {}).get("Code", "Unknown"))
