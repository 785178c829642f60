"""boto3 clients for the tool: ``--region``, ``--profile`` and ``--endpoint-url`` (an emulator),
with the function's own client configuration (explicit timeouts, adaptive retries).

Problems a client would only report on its first call (no such profile, no region, no
credentials) are found here, up front, and reported as one line.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import BotoCoreError, ProfileNotFound
from user_attributes.aws_clients import CLIENT_CONFIG

from .errors import CliError

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient
    from mypy_boto3_dynamodb import DynamoDBClient


@dataclass(frozen=True)
class AwsOptions:
    region: str | None = None
    profile: str | None = None
    endpoint_url: str | None = None


class Clients:
    """One boto3 session; each client is made on first use, all with ``CLIENT_CONFIG``."""

    def __init__(self, options: AwsOptions) -> None:
        self.options = options
        try:
            self._session = boto3.Session(profile_name=options.profile, region_name=options.region)
        except ProfileNotFound:
            raise CliError(
                f"AWS profile {options.profile} not found (check --profile and ~/.aws/config)"
            ) from None
        if not self._session.region_name:
            raise CliError("no AWS Region: pass --region or set AWS_REGION")
        try:
            credentials = self._session.get_credentials()
        except BotoCoreError as error:
            raise CliError(f"cannot load AWS credentials: {type(error).__name__}") from None
        if credentials is None:
            raise CliError(
                "no AWS credentials found: pass --profile, or set AWS_PROFILE or "
                "AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY"
            )

    @property
    def region(self) -> str:
        return str(self._session.region_name)

    def _client(self, service: str) -> Any:  # noqa: ANN401 - typed by the wrappers below
        return self._session.client(
            service,  # type: ignore[call-overload]
            endpoint_url=self.options.endpoint_url,
            config=CLIENT_CONFIG,
        )

    @functools.cached_property
    def cognito(self) -> CognitoIdentityProviderClient:
        client: CognitoIdentityProviderClient = self._client("cognito-idp")
        return client

    @functools.cached_property
    def dynamodb(self) -> DynamoDBClient:
        client: DynamoDBClient = self._client("dynamodb")
        return client

    @functools.cached_property
    def cloudformation(self) -> Any:  # noqa: ANN401 - no CloudFormation stubs are installed
        return self._client("cloudformation")

    def secretsmanager(self) -> Any:  # noqa: ANN401 - passed to SecretReader as a factory
        return self._client("secretsmanager")

    def ssm(self) -> Any:  # noqa: ANN401 - passed to SecretReader as a factory
        return self._client("ssm")
