"""Attribute values that stay out of the template: Secrets Manager secrets and SSM
SecureString parameters, read by the function at deploy time.

CloudFormation shows template properties to anyone who can read the stack, so a credential or
PII value is declared by reference. The template (and the ledger) hold only the reference; the
function may read exactly the referenced ARNs. A rotation outside a deploy is not applied until
a deploy changes the reference (e.g. a new ``version_stage`` or ``version_id``).
"""

from __future__ import annotations

from dataclasses import dataclass

from aws_cdk import ArnFormat, Stack
from constructs import IConstruct


@dataclass(frozen=True)
class SecretReference:
    """A reference to a secret (by full ARN) or to an SSM SecureString parameter (by name)."""

    secret_arn: str | None = None
    json_key: str | None = None
    version_stage: str | None = None
    version_id: str | None = None
    parameter_name: str | None = None
    parameter_version: str | None = None

    @classmethod
    def from_secret_arn(
        cls,
        secret_arn: str,
        *,
        json_key: str | None = None,
        version_stage: str | None = None,
        version_id: str | None = None,
    ) -> SecretReference:
        """A Secrets Manager secret by its full ARN (optionally one JSON key, one version)."""
        return cls(
            secret_arn=secret_arn,
            json_key=json_key,
            version_stage=version_stage,
            version_id=version_id,
        )

    @classmethod
    def from_parameter_name(cls, name: str, *, version: str | None = None) -> SecretReference:
        """An SSM SecureString parameter (optionally one version) in the stack's Region."""
        return cls(parameter_name=name, parameter_version=version)

    def value_from(self) -> dict[str, str]:
        """The ``ValueFrom`` property the function reads."""
        fields = (
            {
                "SecretId": self.secret_arn,
                "JsonKey": self.json_key,
                "VersionStage": self.version_stage,
                "VersionId": self.version_id,
            }
            if self.secret_arn is not None
            else {"ParameterName": self.parameter_name, "ParameterVersion": self.parameter_version}
        )
        return {key: value for key, value in fields.items() if value is not None}

    def resource_arn(self, scope: IConstruct) -> str:
        """The one ARN the function needs to read this reference."""
        if self.secret_arn is not None:
            return self.secret_arn
        name = str(self.parameter_name)
        if name.startswith("arn:"):
            return name
        return Stack.of(scope).format_arn(
            service="ssm",
            resource="parameter",
            resource_name=name.lstrip("/"),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    def action(self) -> str:
        return "secretsmanager:GetSecretValue" if self.secret_arn else "ssm:GetParameter"
