"""Adapter for secret-valued attributes: Secrets Manager GetSecretValue and SSM GetParameter.

The template holds only the reference; the value is read here at deploy time, once per
reference per event, and goes nowhere but the Cognito write. A rotation outside a deploy is
not applied until a deploy sends an event for the resource.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING

from botocore.exceptions import BotoCoreError, ClientError

from .aws_clients import error_code
from .errors import UserAttributesError
from .model import SecretRef, SecretSource

if TYPE_CHECKING:
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient


class SecretUnavailable(UserAttributesError):
    """A referenced secret or parameter could not be read or has no usable string value."""


class SecretReader:
    """Reads references; clients are made on first use, so declarations without references
    cost nothing."""

    def __init__(
        self,
        secretsmanager: Callable[[], SecretsManagerClient],
        ssm: Callable[[], SSMClient],
    ) -> None:
        self._secretsmanager_factory = secretsmanager
        self._ssm_factory = ssm
        self._secretsmanager: SecretsManagerClient | None = None
        self._ssm: SSMClient | None = None

    def read_all(self, references: Iterable[SecretRef]) -> dict[SecretRef, str]:
        return {reference: self.read(reference) for reference in set(references)}

    def read(self, reference: SecretRef) -> str:
        if reference.source is SecretSource.SECRETS_MANAGER:
            return self._get_secret_value(reference)
        return self._get_parameter(reference)

    def _get_secret_value(self, reference: SecretRef) -> str:
        if self._secretsmanager is None:
            self._secretsmanager = self._secretsmanager_factory()
        request: dict[str, str] = {"SecretId": reference.identifier}
        if reference.version_id:
            request["VersionId"] = reference.version_id
        if reference.version_stage:
            request["VersionStage"] = reference.version_stage
        try:
            response = self._secretsmanager.get_secret_value(**request)
        except ClientError as error:
            raise SecretUnavailable(
                f"{reference}: GetSecretValue failed: {error_code(error)}"
            ) from None
        except BotoCoreError as error:
            raise SecretUnavailable(
                f"{reference}: GetSecretValue failed: {type(error).__name__}"
            ) from None
        text = response.get("SecretString")
        if text is None:
            raise SecretUnavailable(f"{reference}: a binary secret has no string value")
        return _select(reference, text)

    def _get_parameter(self, reference: SecretRef) -> str:
        if self._ssm is None:
            self._ssm = self._ssm_factory()
        name = reference.identifier + (f":{reference.version_id}" if reference.version_id else "")
        try:
            parameter = self._ssm.get_parameter(Name=name, WithDecryption=True)["Parameter"]
        except ClientError as error:
            raise SecretUnavailable(
                f"{reference}: GetParameter failed: {error_code(error)}"
            ) from None
        except BotoCoreError as error:
            raise SecretUnavailable(
                f"{reference}: GetParameter failed: {type(error).__name__}"
            ) from None
        if parameter.get("Type") != "SecureString":
            raise SecretUnavailable(f"{reference}: is not a SecureString parameter")
        return _select(reference, parameter.get("Value", ""))


def _select(reference: SecretRef, text: str) -> str:
    if reference.json_key is None:
        return text
    try:
        document = json.loads(text)
    except ValueError:
        raise SecretUnavailable(f"{reference}: the secret is not a JSON object") from None
    if not isinstance(document, Mapping) or reference.json_key not in document:
        raise SecretUnavailable(f"{reference}: the secret has no key {reference.json_key}")
    value = document[reference.json_key]
    if not isinstance(value, str):
        raise SecretUnavailable(f"{reference}: key {reference.json_key} is not a string")
    return value
