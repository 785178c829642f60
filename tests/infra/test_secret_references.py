"""Secret-valued attributes in the template: only the reference, and read access to exactly it."""

from __future__ import annotations

import json

import pytest
from aws_cdk import Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Capture, Match, Template

from cognito_seed_users import (
    CognitoUserAttributes,
    SecretReference,
    SeedConfigError,
    load_seed_document,
    parse_seed_users,
)

POOL_ID = "eu-west-1_AbCdEf123"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/ci-bot-AbCdEf"
PARTIAL_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/ci-bot"


def _declare(stack: Stack, **attributes: object) -> None:
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
        username="ci-bot",
        attributes=attributes,  # type: ignore[arg-type]
    )


def _statements(template: Template) -> list[dict[str, object]]:
    return [
        statement
        for kind in ("AWS::IAM::Policy", "AWS::IAM::ManagedPolicy")
        for policy in template.find_resources(kind).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def test_secret_reference_puts_only_the_reference_in_the_template(stack: Stack) -> None:
    reference = SecretReference.from_secret_arn(SECRET_ARN, json_key="token", version_stage="v2")
    _declare(stack, **{"custom:api_key": reference, "locale": "en-GB"})

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::CognitoUserAttributes",
        {
            "UserAttributes": [
                {
                    "Name": "custom:api_key",
                    "ValueFrom": {"SecretId": SECRET_ARN, "JsonKey": "token", "VersionStage": "v2"},
                },
                {"Name": "locale", "Value": "en-GB"},
            ]
        },
    )
    reads = [s for s in _statements(template) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert reads == [
        {"Action": "secretsmanager:GetSecretValue", "Effect": "Allow", "Resource": SECRET_ARN}
    ]


def test_a_secret_arn_without_its_suffix_is_granted_with_one_wildcard_per_suffix_character(
    stack: Stack,
) -> None:
    """IAM matches the secret's complete ARN, so the partial one alone would deny the read;
    ``?`` matches one character, so no secret with a longer name is granted."""
    _declare(stack, **{"custom:api_key": SecretReference.from_secret_arn(PARTIAL_ARN)})

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::CognitoUserAttributes",
        {"UserAttributes": [{"Name": "custom:api_key", "ValueFrom": {"SecretId": PARTIAL_ARN}}]},
    )
    reads = [s for s in _statements(template) if s["Action"] == "secretsmanager:GetSecretValue"]
    assert reads == [
        {
            "Action": "secretsmanager:GetSecretValue",
            "Effect": "Allow",
            "Resource": f"{PARTIAL_ARN}-??????",
        }
    ]


def test_a_from_secret_name_v2_reference_is_granted_as_cdk_grants_that_secret(
    stack: Stack,
) -> None:
    secret = secretsmanager.Secret.from_secret_name_v2(stack, "Named", "seed/ci-bot")
    _declare(stack, **{"custom:api_key": SecretReference.from_secret_arn(secret.secret_arn)})
    secret.grant_read(iam.Role(stack, "Reader", assumed_by=iam.AccountRootPrincipal()))

    template = Template.from_stack(stack)
    ours, cdks = Capture(), Capture()
    template.has_resource_properties(
        "AWS::IAM::ManagedPolicy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like({"Action": "secretsmanager:GetSecretValue", "Resource": ours})
                ]
            }
        },
    )
    template.has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    Match.object_like(
                        {
                            "Action": Match.array_with(["secretsmanager:DescribeSecret"]),
                            "Resource": cdks,
                        }
                    )
                ]
            }
        },
    )
    assert ours.as_object() == cdks.as_object()
    assert json.dumps(ours.as_object()).endswith(':secret:seed/ci-bot-??????"]]}')


def test_parameter_reference_grants_get_parameter_on_that_parameter_only(stack: Stack) -> None:
    _declare(stack, **{"custom:pin": SecretReference.from_parameter_name("/seed/pin", version="3")})

    template = Template.from_stack(stack)
    template.has_resource_properties(
        "Custom::CognitoUserAttributes",
        {
            "UserAttributes": [
                {
                    "Name": "custom:pin",
                    "ValueFrom": {"ParameterName": "/seed/pin", "ParameterVersion": "3"},
                }
            ]
        },
    )
    (read,) = [s for s in _statements(template) if s["Action"] == "ssm:GetParameter"]
    resource = json.dumps(read["Resource"])
    assert "parameter/seed/pin" in resource
    assert "*" not in resource


def test_a_malformed_secret_arn_fails_synth_naming_the_attribute(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"custom:api_key\)\.ValueFrom: SecretId must be"):
        _declare(stack, **{"custom:api_key": SecretReference.from_secret_arn("seed/ci-bot")})


def test_config_file_declares_secret_and_parameter_references() -> None:
    text = (
        f"userPoolId: {POOL_ID}\n"
        "users:\n"
        "  - username: ci-bot\n"
        "    attributes:\n"
        f"      custom:api_key: {{secret: '{SECRET_ARN}', jsonKey: token}}\n"
        "      custom:pin: {ssmParameter: /seed/pin, version: '3'}\n"
    )
    (user,) = parse_seed_users(
        load_seed_document(text, source="f.yaml"), source="f.yaml", user_pool_id_override=None
    )
    assert user.attributes["custom:api_key"] == SecretReference.from_secret_arn(
        SECRET_ARN, json_key="token"
    )
    assert user.attributes["custom:pin"] == SecretReference.from_parameter_name(
        "/seed/pin", version="3"
    )


@pytest.mark.parametrize(
    ("reference", "message"),
    [
        pytest.param(
            "{secret: x, region: eu}",
            "attributes.custom:api_key: region: unknown field",
            id="unknown",
        ),
        pytest.param(
            "{ssmParameter: /p, version: 3}",
            "attributes.custom:api_key.version: must be a non-empty string (quote the number)",
            id="number",
        ),
        pytest.param("{secret: seed/x}", "SecretId must be a secret's full ARN", id="not-an-arn"),
    ],
)
def test_config_file_refuses_a_bad_reference(reference: str, message: str) -> None:
    text = (
        f"userPoolId: {POOL_ID}\nusers:\n  - username: ci-bot\n    attributes:\n"
        f"      custom:api_key: {reference}\n"
    )
    with pytest.raises(SeedConfigError, match=None) as raised:
        parse_seed_users(
            load_seed_document(text, source="f.yaml"), source="f.yaml", user_pool_id_override=None
        )
    assert message in str(raised.value)
    assert str(raised.value).startswith("f.yaml: users[0] (ci-bot): ")
