"""CognitoUserAttributes with a pool from the same app, a caller's ledger, and bad declarations."""

from __future__ import annotations

import re

import pytest
from aws_cdk import App, CfnParameter, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from aws_cdk import aws_kms as kms
from aws_cdk.assertions import Match, Template

from cognito_seed_users import CognitoUserAttributes
from tests.infra.support import POOL_ID

RESOURCE_TYPE = "Custom::CognitoUserAttributes"


@pytest.fixture
def pool(stack: Stack) -> cognito.IUserPool:
    return cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)


def caller_table(stack: Stack, construct_id: str) -> dynamodb.Table:
    """A caller's ledger: like the construct's own, encrypted with the caller's key."""
    return dynamodb.Table(
        stack,
        construct_id,
        partition_key=dynamodb.Attribute(name="pk", type=dynamodb.AttributeType.STRING),
        sort_key=dynamodb.Attribute(name="sk", type=dynamodb.AttributeType.STRING),
        encryption=dynamodb.TableEncryption.CUSTOMER_MANAGED,
        encryption_key=kms.Key(stack, f"{construct_id}Key", enable_key_rotation=True),
    )


def test_pool_created_in_the_same_app_is_referenced_by_token(stack: Stack) -> None:
    pool = cognito.UserPool(stack, "NewPool")
    CognitoUserAttributes(
        stack, "CiBot", user_pool=pool, username="ci-bot", attributes={"custom:tenant_id": "acme"}
    )
    template = Template.from_stack(stack)
    [pool_id] = template.find_resources("AWS::Cognito::UserPool")
    template.has_resource_properties(RESOURCE_TYPE, {"UserPoolId": {"Ref": pool_id}})
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": Match.array_with(["cognito-idp:AdminUpdateUserAttributes"]),
                            "Resource": {"Fn::GetAtt": [pool_id, "Arn"]},
                        }
                    )
                ]
            }
        },
    )


def test_deploy_time_values_skip_only_the_value_checks(
    stack: Stack, pool: cognito.IUserPool
) -> None:
    phone = CfnParameter(stack, "Phone").value_as_string
    CognitoUserAttributes(
        stack,
        "Tokens",
        user_pool=pool,
        username=CfnParameter(stack, "Username").value_as_string,
        attributes={
            "phone_number": phone,
            "custom:api_key_ref": "{{resolve:ssm:/ci-bot/api-key-ref}}",
        },
    )
    with pytest.raises(ValueError, match=r"custom:this_name_is_far_too_long"):
        CognitoUserAttributes(
            stack,
            "BadNameTokenValue",
            user_pool=pool,
            username="ci-bot",
            attributes={"custom:this_name_is_far_too_long": phone},
        )


def test_caller_ledger_is_used_instead_of_creating_one(
    stack: Stack, pool: cognito.IUserPool
) -> None:
    ledger = caller_table(stack, "SharedLedger")
    for username in ("ci-bot", "reporting"):
        CognitoUserAttributes(
            stack,
            username,
            user_pool=pool,
            username=username,
            attributes={"custom:tenant_id": "acme"},
            ledger=ledger,
        )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    # The caller's and the queues': no ledger key of the construct's.
    template.resource_count_is("AWS::KMS::Key", 2)
    template.resource_count_is("AWS::Lambda::Function", 3)
    [table_id] = template.find_resources("AWS::DynamoDB::Table")
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "worker.handler",
            "Environment": {
                "Variables": Match.object_like({"LEDGER_TABLE_NAME": {"Ref": table_id}})
            },
        },
    )


def test_ledger_from_another_stack_is_imported(
    app: App, stack: Stack, pool: cognito.IUserPool
) -> None:
    shared = Stack(app, "SharedLedgerStack")
    ledger = caller_table(shared, "Ledger")
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=pool,
        username="ci-bot",
        attributes={"locale": "en-GB"},
        ledger=ledger,
    )
    template = Template.from_stack(stack)
    template.resource_count_is("AWS::DynamoDB::Table", 0)
    template.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Environment": {
                "Variables": Match.object_like(
                    {"LEDGER_TABLE_NAME": {"Fn::ImportValue": Match.any_value()}}
                )
            }
        },
    )


@pytest.mark.parametrize(
    ("first", "second"),
    [
        pytest.param("LedgerA", "LedgerB", id="two-caller-ledgers"),
        pytest.param(None, "LedgerB", id="default-then-caller-ledger"),
        pytest.param("LedgerA", None, id="caller-then-default-ledger"),
    ],
)
def test_different_ledgers_in_one_stack_raise(
    stack: Stack, pool: cognito.IUserPool, first: str | None, second: str | None
) -> None:
    CognitoUserAttributes(
        stack,
        "First",
        user_pool=pool,
        username="ci-bot",
        attributes={"locale": "en-GB"},
        ledger=caller_table(stack, first) if first else None,
    )
    with pytest.raises(ValueError, match="one provider and one ledger") as raised:
        CognitoUserAttributes(
            stack,
            "Second",
            user_pool=pool,
            username="reporting",
            attributes={"locale": "en-GB"},
            ledger=caller_table(stack, second) if second else None,
        )
    assert "TestStack/Second" in str(raised.value)
    assert "TestStack/First" in str(raised.value)


@pytest.mark.parametrize(
    ("attributes", "named"),
    [
        pytest.param({"Email": "a@example.com"}, "Email", id="unknown-standard-name"),
        pytest.param({"custom:": "x"}, "custom:", id="empty-custom-name"),
        pytest.param({"sub": "0000"}, "sub", id="sub"),
        pytest.param({"custom:tenant": "a", "custom:Tenant": "b"}, "custom:Tenant", id="duplicate"),
        pytest.param({"email_verified": "yes"}, "email_verified", id="boolean-value"),
        pytest.param({"phone_number": "0123 456"}, "phone_number", id="phone-value"),
        pytest.param({"nickname": ""}, "nickname", id="empty-value"),
        pytest.param({}, "UserAttributes", id="nothing-declared"),
    ],
)
def test_invalid_declaration_fails_synth_naming_the_attribute(
    stack: Stack, pool: cognito.IUserPool, attributes: dict[str, str], named: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(named)) as raised:
        CognitoUserAttributes(
            stack, "Bad", user_pool=pool, username="ci-bot", attributes=attributes
        )
    message = str(raised.value)
    assert message.startswith("TestStack/Bad (user ci-bot): ")
    for value in attributes.values():
        if len(value) > 1:
            assert value not in message


def test_invalid_declaration_creates_no_provider(stack: Stack, pool: cognito.IUserPool) -> None:
    with pytest.raises(ValueError, match="sub"):
        CognitoUserAttributes(
            stack, "Bad", user_pool=pool, username="ci-bot", attributes={"sub": "x"}
        )
    assert stack.node.try_find_child("CognitoUserAttributesProvider") is None
