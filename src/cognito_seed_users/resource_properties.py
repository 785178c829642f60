"""What one declaration puts in the template: ``Custom::CognitoUserAttributes`` properties.

Plain data, no CDK: the construct renders its resource with it, and the seed-file parser and
the operator tool (``seed-users plan``) read declarations with it without loading the CDK (or
Node.js, which jsii needs).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum

from .secret_reference import SecretReference


class OnDelete(StrEnum):
    """What deleting the declaration does to the attributes it was the last to claim."""

    RESTORE = "RESTORE"
    """Put back the values the user had before the first declaration (delete those it lacked)."""
    RETAIN = "RETAIN"
    """Leave the declared values in place; only the ledger forgets the claim."""


def resource_properties(
    *,
    user_pool_id: str,
    username: str,
    attributes: Mapping[str, str | SecretReference | None],
    client_metadata: Mapping[str, str] | None = None,
    on_delete: OnDelete = OnDelete.RESTORE,
    mark_contacts_verified: bool = True,
    reapply_token: str | None = None,
) -> dict[str, object]:
    """The ``Custom::CognitoUserAttributes`` properties of one declaration, as in the template.

    Attributes are sorted by name, so reordering a declaration is not an update. Optional
    properties are left out at their defaults, so a new option changes no existing template.
    """
    properties: dict[str, object] = {
        "UserPoolId": user_pool_id,
        "Username": username,
        "UserAttributes": [
            {"Name": name, "ValueFrom": value.value_from()}
            if isinstance(value, SecretReference)
            else {"Name": name, "Value": value}
            for name, value in sorted(attributes.items())
            if value is not None
        ],
        "OnDelete": on_delete.value,
    }
    # CloudFormation has no null: CDK would drop a None value, so absence is a list of names.
    absent = sorted(name for name, value in attributes.items() if value is None)
    if absent:
        properties["AbsentAttributes"] = absent
    if client_metadata is not None:
        properties["ClientMetadata"] = dict(client_metadata)
    if not mark_contacts_verified:
        properties["MarkContactsVerified"] = "false"
    if reapply_token is not None:
        properties["ReapplyToken"] = reapply_token
    return properties
