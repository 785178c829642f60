"""Attribute values that stay out of the template: Secrets Manager secrets and SSM
SecureString parameters, read by the function at deploy time.

CloudFormation shows template properties to anyone who can read the stack, so a credential or
PII value is declared by reference. The template (and the ledger) hold only the reference; the
function may read exactly the referenced ARNs. A rotation outside a deploy is not applied until
a deploy changes the reference (e.g. a new ``version_stage`` or ``version_id``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

from .runtime_rules import is_deploy_time

if TYPE_CHECKING:
    from constructs import IConstruct

# Secrets Manager ends every secret's ARN with a hyphen and 6 random characters, which a
# partial ARN (a name, or what ``Secret.from_secret_name_v2`` gives) lacks. CDK's
# ``Secret.from_secret_complete_arn`` draws the line the same way.
_COMPLETE_SECRET_NAME: Final = re.compile(r".*-[A-Za-z0-9]{6}")
_ANY_SUFFIX: Final = "-??????"


@dataclass(frozen=True)
class SecretReference:
    """A reference to a Secrets Manager secret (by ARN) or to an SSM SecureString parameter
    (by name or ARN)."""

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
        """A Secrets Manager secret by its ARN (optionally one JSON key, one version).

        The ARN is complete (it ends with the 6-character suffix Secrets Manager adds) or
        partial (without it, as ``Secret.from_secret_name_v2(...).secret_arn`` gives): the
        function may then read the one secret of that name. A partial ARN whose name itself
        ends with a hyphen and 6 letters or digits (``app-signup``) reads as complete: give
        such a secret by its complete ARN. An ARN only known at deploy time (``Ref`` of a
        secret in this app) must be complete.
        """
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
        """The IAM resource that lets the function read exactly this reference: its ARN, or
        for a partial secret ARN ``<arn>-??????`` (IAM matches the complete ARN, and ``?`` is
        one character: that secret's suffix, never a longer name)."""
        if self.secret_arn is not None:
            return self.secret_arn + ("" if _is_complete(self.secret_arn) else _ANY_SUFFIX)
        name = str(self.parameter_name)
        if name.startswith("arn:"):
            return name
        # Imported here: the seed-file parser and the operator tool build references without
        # loading the CDK (and the Node.js process jsii starts); only a grant formats an ARN.
        from aws_cdk import ArnFormat, Stack  # noqa: PLC0415

        return Stack.of(scope).format_arn(
            service="ssm",
            resource="parameter",
            resource_name=name.lstrip("/"),
            arn_format=ArnFormat.SLASH_RESOURCE_NAME,
        )

    def action(self) -> str:
        return "secretsmanager:GetSecretValue" if self.secret_arn else "ssm:GetParameter"


def _is_complete(secret_arn: str) -> bool:
    """Whether the ARN ends with Secrets Manager's suffix; one whose name is only known at
    deploy time counts as complete."""
    name = secret_arn.rpartition(":secret:")[2]
    return is_deploy_time(name) or _COMPLETE_SECRET_NAME.fullmatch(name) is not None
