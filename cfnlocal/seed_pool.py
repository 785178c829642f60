"""Create what the handler needs in an emulator: a user pool with users, and the ledger table.

moto returns the full standard-plus-custom schema (as Cognito does) only for a pool created
without ``Schema=`` whose custom attributes are added afterwards.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

CUSTOM_ATTRIBUTES: tuple[dict[str, Any], ...] = (
    {
        "Name": "tenant_id",
        "AttributeDataType": "String",
        "Mutable": True,
        "StringAttributeConstraints": {"MinLength": "1", "MaxLength": "36"},
    },
    {"Name": "plan", "AttributeDataType": "String", "Mutable": True},
    {
        "Name": "seats",
        "AttributeDataType": "Number",
        "Mutable": True,
        "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "1000"},
    },
    {"Name": "beta", "AttributeDataType": "Boolean", "Mutable": True},
    {"Name": "region_lock", "AttributeDataType": "String", "Mutable": False},
)

LEDGER_KEY_SCHEMA: tuple[dict[str, str], ...] = (
    {"AttributeName": "pk", "KeyType": "HASH"},
    {"AttributeName": "sk", "KeyType": "RANGE"},
)


def create_user_pool(
    cognito: Any,  # noqa: ANN401 - boto3 client
    name: str = "seed-demo",
    *,
    custom_attributes: Sequence[Mapping[str, Any]] = CUSTOM_ATTRIBUTES,
    **pool_options: Any,  # noqa: ANN401
) -> str:
    pool_id: str = cognito.create_user_pool(PoolName=name, **pool_options)["UserPool"]["Id"]
    if custom_attributes:
        cognito.add_custom_attributes(UserPoolId=pool_id, CustomAttributes=list(custom_attributes))
    return pool_id


def create_user(
    cognito: Any,  # noqa: ANN401
    pool_id: str,
    username: str,
    attributes: Mapping[str, str],
) -> str:
    response = cognito.admin_create_user(
        UserPoolId=pool_id,
        Username=username,
        UserAttributes=[{"Name": n, "Value": v} for n, v in attributes.items()],
        MessageAction="SUPPRESS",
    )
    return str(response["User"]["Username"])


def user_attributes(cognito: Any, pool_id: str, username: str) -> dict[str, str]:  # noqa: ANN401
    """The user's attributes without ``sub`` (which nothing may change)."""
    user = cognito.admin_get_user(UserPoolId=pool_id, Username=username)
    return {a["Name"]: a["Value"] for a in user["UserAttributes"] if a["Name"] != "sub"}


def create_ledger_table(
    dynamodb: Any,  # noqa: ANN401
    name: str,
    key_schema: Sequence[Mapping[str, str]] = LEDGER_KEY_SCHEMA,
) -> str:
    dynamodb.create_table(
        TableName=name,
        KeySchema=list(key_schema),
        AttributeDefinitions=[
            {"AttributeName": key["AttributeName"], "AttributeType": "S"} for key in key_schema
        ],
        BillingMode="PAY_PER_REQUEST",
    )
    return name
