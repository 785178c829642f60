"""Secret-valued attributes: the template names a secret, the handler reads it at deploy time."""

from __future__ import annotations

import json

import boto3
import pytest

from cfnlocal.seed_pool import user_attributes

from .helpers import answer_text, assert_no_secret, declare, ledger_items

API_KEY = "api-key-SECRET-77e1"
ROTATED = "api-key-ROTATED-3b9c"


@pytest.fixture
def secret_arn():
    return boto3.client("secretsmanager").create_secret(
        Name="seed/alice", SecretString=json.dumps({"plan": API_KEY})
    )["ARN"]


def _with_reference(pool_id, username, value_from, **plain):
    properties = declare(pool_id, username, plain)
    properties["UserAttributes"].append({"Name": "custom:plan", "ValueFrom": value_from})
    return properties


def test_create_writes_the_secret_and_the_ledger_holds_only_the_reference(
    driver, cognito, dynamodb, pool_id, alice, secret_arn, log_texts
):
    before = user_attributes(cognito, pool_id, alice)
    reference = {"SecretId": secret_arn, "JsonKey": "plan"}

    answer = driver.create("Alice", _with_reference(pool_id, alice, reference))

    assert answer.status == "SUCCESS", answer.reason
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == API_KEY
    stored = json.dumps(ledger_items(dynamodb))
    assert secret_arn in stored
    assert_no_secret([stored, answer_text(answer), *log_texts], [API_KEY], "ledger/answer/logs")

    assert driver.delete("Alice").status == "SUCCESS"
    assert user_attributes(cognito, pool_id, alice) == before


def test_a_new_version_stage_in_the_template_applies_the_rotated_value(
    driver, cognito, pool_id, alice, secret_arn
):
    driver.create(
        "Alice", _with_reference(pool_id, alice, {"SecretId": secret_arn, "JsonKey": "plan"})
    )
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_arn,
        SecretString=json.dumps({"plan": ROTATED}),
        VersionStages=["AWSCURRENT", "v2"],
    )
    # Unchanged properties: CloudFormation sends no Update, so the rotation waits for a deploy
    # that changes the reference.
    assert (
        driver.update(
            "Alice", _with_reference(pool_id, alice, {"SecretId": secret_arn, "JsonKey": "plan"})
        )
        is None
    )
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == API_KEY

    changed = {"SecretId": secret_arn, "JsonKey": "plan", "VersionStage": "v2"}
    answer = driver.update("Alice", _with_reference(pool_id, alice, changed))

    assert answer is not None
    assert answer.status == "SUCCESS", answer.reason
    assert user_attributes(cognito, pool_id, alice)["custom:plan"] == ROTATED


def test_missing_secret_is_failed_naming_the_attribute_and_writes_nothing(
    driver, cognito, dynamodb, pool_id, alice
):
    missing = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gone-AbCdEf"
    before = (user_attributes(cognito, pool_id, alice), ledger_items(dynamodb))

    answer = driver.create("Alice", _with_reference(pool_id, alice, {"SecretId": missing}))

    assert answer.status == "FAILED"
    assert answer.reason.startswith("invalid attributes: custom:plan: secretsmanager")
    assert "ResourceNotFoundException" in answer.reason
    assert (user_attributes(cognito, pool_id, alice), ledger_items(dynamodb)) == before


def test_secure_string_parameter_value_is_validated_against_the_schema(
    driver, cognito, pool_id, alice
):
    boto3.client("ssm").put_parameter(Name="/seed/seats", Value="5000", Type="SecureString")
    properties = declare(pool_id, alice, {})
    properties["UserAttributes"].append(
        {"Name": "custom:seats", "ValueFrom": {"ParameterName": "/seed/seats"}}
    )

    answer = driver.create("Alice", properties)

    assert answer.status == "FAILED"
    assert "custom:seats: value is above the schema maximum 1000" in answer.reason
    assert "5000" not in answer.reason.replace("1000", "")
    assert "custom:seats" not in user_attributes(cognito, pool_id, alice)


def test_pool_in_another_region_is_refused_and_writes_nothing(driver, aws_calls):
    properties = declare("us-east-1_Elsewhere1", "alice", {"nickname": "n-1"})

    answer = driver.create("Alice", properties)

    assert answer.status == "FAILED"
    assert answer.reason.startswith(
        "UserPoolId: the pool is in us-east-1; this function runs in eu-west-1"
    )
    assert aws_calls.calls == []


def test_delete_after_the_secret_became_unreadable_restores_without_reading_it(
    driver, cognito, pool_id, alice, secret_arn
):
    before = user_attributes(cognito, pool_id, alice)
    reference = {"SecretId": secret_arn, "JsonKey": "plan"}
    assert driver.create("Alice", _with_reference(pool_id, alice, reference)).status == "SUCCESS"
    # CloudFormation updates the provider's policies (dropping this secret's grant) in the
    # update phase, before the cleanup phase sends this resource's Delete.
    boto3.client("secretsmanager").delete_secret(
        SecretId=secret_arn, ForceDeleteWithoutRecovery=True
    )

    deleted = driver.delete("Alice")

    assert deleted.status == "SUCCESS", deleted.reason
    assert user_attributes(cognito, pool_id, alice) == before
