"""SecretReader against moto's Secrets Manager and SSM."""

from __future__ import annotations

import json

import boto3
import pytest
from user_attributes.model import SecretRef, SecretSource
from user_attributes.secrets import SecretReader, SecretUnavailable

SECRET_VALUE = "S3cr3t-Value-9d1e"


@pytest.fixture
def reader():
    return SecretReader(lambda: boto3.client("secretsmanager"), lambda: boto3.client("ssm"))


@pytest.fixture
def secret_arn():
    client = boto3.client("secretsmanager")
    return client.create_secret(
        Name="seed/api", SecretString=json.dumps({"key": SECRET_VALUE, "n": 4})
    )["ARN"]


def test_secret_json_key_is_read(reader, secret_arn):
    ref = SecretRef(SecretSource.SECRETS_MANAGER, secret_arn, json_key="key")
    assert reader.read(ref) == SECRET_VALUE


def test_whole_secret_string_without_json_key(reader, secret_arn):
    ref = SecretRef(SecretSource.SECRETS_MANAGER, secret_arn)
    assert json.loads(reader.read(ref))["key"] == SECRET_VALUE


def test_version_stage_selects_the_previous_version(reader, secret_arn):
    boto3.client("secretsmanager").put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"key": "rotated-value-2"})
    )
    previous = SecretRef(
        SecretSource.SECRETS_MANAGER, secret_arn, json_key="key", version_stage="AWSPREVIOUS"
    )
    current = SecretRef(SecretSource.SECRETS_MANAGER, secret_arn, json_key="key")
    assert reader.read(previous) == SECRET_VALUE
    assert reader.read(current) == "rotated-value-2"


@pytest.mark.parametrize(
    ("json_key", "fragment"),
    [("missing", "has no key missing"), ("n", "key n is not a string")],
)
def test_unusable_json_key_names_the_key_not_the_value(reader, secret_arn, json_key, fragment):
    ref = SecretRef(SecretSource.SECRETS_MANAGER, secret_arn, json_key=json_key)
    with pytest.raises(SecretUnavailable) as caught:
        reader.read(ref)
    assert fragment in str(caught.value)
    assert SECRET_VALUE not in str(caught.value)


def test_missing_secret_names_the_reference_and_the_error_code(reader):
    arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:nope-AbCdEf"
    with pytest.raises(SecretUnavailable) as caught:
        reader.read(SecretRef(SecretSource.SECRETS_MANAGER, arn))
    assert arn in str(caught.value)
    assert "ResourceNotFoundException" in str(caught.value)


def test_secure_string_parameter_is_decrypted(reader):
    boto3.client("ssm").put_parameter(Name="/seed/pin", Value="pin-4711", Type="SecureString")
    assert reader.read(SecretRef(SecretSource.SSM_PARAMETER, "/seed/pin")) == "pin-4711"


def test_parameter_version_is_honoured(reader):
    ssm = boto3.client("ssm")
    ssm.put_parameter(Name="/seed/pin", Value="pin-v1", Type="SecureString")
    ssm.put_parameter(Name="/seed/pin", Value="pin-v2", Type="SecureString", Overwrite=True)
    first = SecretRef(SecretSource.SSM_PARAMETER, "/seed/pin", version_id="1")
    assert reader.read(first) == "pin-v1"


def test_plain_string_parameter_is_refused(reader):
    boto3.client("ssm").put_parameter(Name="/seed/plain", Value="visible", Type="String")
    with pytest.raises(SecretUnavailable, match="not a SecureString"):
        reader.read(SecretRef(SecretSource.SSM_PARAMETER, "/seed/plain"))


def test_clients_are_made_only_when_a_reference_is_read():
    made: list[str] = []

    def factory(name):
        def make():
            made.append(name)
            return boto3.client(name)

        return make

    reader = SecretReader(factory("secretsmanager"), factory("ssm"))
    assert reader.read_all([]) == {}
    assert made == []
