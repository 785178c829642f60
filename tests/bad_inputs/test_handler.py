"""Bad input that only the deployed handler can refuse: it needs AWS to know.

Each row is a Create through the real ``index.handler`` (moto, HTTPS sink) and the exact
``Reason`` of its FAILED answer. Before it, another resource already owns a claim on the user,
so "nothing written" compares a non-empty ledger: no Cognito or DynamoDB write call is made
(``aws_calls``) and the user and the ledger are unchanged.

Rows marked ``# DEFECT`` fail with the current code; the reply to issue 5 lists them.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import boto3
import pytest

from cfnlocal.seed_pool import create_user
from tests.handler.helpers import declare, world

VALID = {"nickname": "VAL-nick-ok-3c5e"}
SECRET_VALUE = "SECRET-api-key-3c5e"
ACCOUNT = "123456789012"
GONE_SECRET = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:seed/gone-AbCdEf"


@dataclass(frozen=True)
class World:
    pool_id: str
    username: str
    json_secret: str
    binary_secret: str
    us_secret: str


@pytest.fixture
def bad_world(cognito: Any, pool_id: str, driver: Any) -> World:
    username = create_user(
        cognito,
        pool_id,
        "erin",
        {"nickname": "ORIG-nick-3c5e", "custom:plan": "ORIG-plan-3c5e", "locale": "en-GB"},
    )
    secrets = boto3.client("secretsmanager")
    boto3.client("ssm").put_parameter(Name="/seed/plain", Value="plain-3c5e", Type="String")
    bad = World(
        pool_id=pool_id,
        username=username,
        json_secret=secrets.create_secret(
            Name="seed/erin", SecretString=json.dumps({"other": SECRET_VALUE})
        )["ARN"],
        binary_secret=secrets.create_secret(Name="seed/binary", SecretBinary=b"\x00\x01")["ARN"],
        us_secret=boto3.client("secretsmanager", region_name="us-east-1").create_secret(
            Name="seed/erin-us", SecretString=SECRET_VALUE
        )["ARN"],
    )
    baseline = driver.create(
        "Baseline", declare(pool_id, username, {"custom:tenant_id": "VAL-tenant-3c5e"})
    )
    assert baseline.status == "SUCCESS", baseline.reason
    return bad


def _plan_from(value_from: dict[str, str]) -> Callable[[World], dict[str, Any]]:
    def build(w: World) -> dict[str, Any]:
        properties = declare(w.pool_id, w.username, VALID)
        properties["UserAttributes"].append({"Name": "custom:plan", "ValueFrom": value_from(w)})
        return properties

    return build


def _secret(field: str, **extra: str) -> Callable[[World], dict[str, str]]:
    return lambda w: {"SecretId": getattr(w, field), **extra}


Row = tuple[Callable[[World], dict[str, Any]], Callable[[World], str]]

ROWS: list[Any] = [
    pytest.param(
        lambda w: declare(w.pool_id, "nobody-3c5e", VALID),
        lambda w: (
            f"AdminGetUser failed: UserNotFoundException: Username: no such user in user pool "
            f"{w.pool_id}"
        ),
        id="unknown-user",
    ),
    pytest.param(
        lambda w: declare("eu-west-1_Missing1", w.username, VALID),
        lambda w: (
            "AdminGetUser failed: ResourceNotFoundException: UserPoolId: no such user pool "
            "eu-west-1_Missing1"
        ),
        id="unknown-pool",
    ),
    pytest.param(
        lambda w: declare("us-east-1_Elsewhere1", w.username, VALID),
        lambda w: (
            "UserPoolId: the pool is in us-east-1; this function runs in eu-west-1 "
            "(deploy a stack in the pool's Region)"
        ),
        id="pool-in-another-region",
    ),
    pytest.param(
        lambda w: {
            k: v for k, v in declare(w.pool_id, w.username, VALID).items() if k != "UserPoolId"
        },
        lambda w: "invalid properties: UserPoolId: required, a non-empty string",
        id="missing-pool",
    ),
    pytest.param(
        _plan_from(lambda w: {"SecretId": GONE_SECRET}),
        lambda w: (
            f"invalid attributes: custom:plan: secretsmanager {GONE_SECRET}: "
            "GetSecretValue failed: ResourceNotFoundException"
        ),
        id="missing-secret",
    ),
    pytest.param(
        _plan_from(lambda w: {"ParameterName": "/seed/gone"}),
        lambda w: (
            "invalid attributes: custom:plan: ssm /seed/gone: GetParameter failed: "
            "ParameterNotFound"
        ),
        id="missing-parameter",
    ),
    pytest.param(
        _plan_from(_secret("json_secret", JsonKey="plan")),
        lambda w: (
            f"invalid attributes: custom:plan: secretsmanager {w.json_secret} key plan: "
            "the secret has no key plan"
        ),
        id="missing-json-key",
    ),
    pytest.param(
        _plan_from(_secret("json_secret", VersionStage="NOPE")),
        lambda w: (
            f"invalid attributes: custom:plan: secretsmanager {w.json_secret} (NOPE): "
            "GetSecretValue failed: ResourceNotFoundException"
        ),
        id="missing-version-stage",
    ),
    pytest.param(
        _plan_from(_secret("binary_secret")),
        lambda w: (
            f"invalid attributes: custom:plan: secretsmanager {w.binary_secret}: a binary "
            "secret has no string value"
        ),
        id="binary-secret",
    ),
    pytest.param(
        _plan_from(lambda w: {"ParameterName": "/seed/plain"}),
        lambda w: (
            "invalid attributes: custom:plan: ssm /seed/plain: is not a SecureString parameter"
        ),
        id="plain-string-parameter",
    ),
    pytest.param(
        # DEFECT: reported as ResourceNotFoundException, though the secret exists (in us-east-1;
        # Secrets Manager is regional, the function's client is in eu-west-1).
        _plan_from(_secret("us_secret")),
        lambda w: (
            "invalid attributes: custom:plan: the secret is in us-east-1; this function "
            "runs in eu-west-1 (reference a secret in the function's Region)"
        ),
        id="secret-in-another-region",
    ),
    pytest.param(
        lambda w: declare(w.pool_id, w.username, {**VALID, "nickname\nX-Injected: 1": "x-3c5e"}),
        lambda w: (
            "invalid properties: UserAttributes[1] ('nickname\\nX-Injected: 1'): may "
            "contain only letters, digits and _ : . -"
        ),
        id="newline-in-name",
    ),
    pytest.param(
        lambda w: declare(w.pool_id, w.username, {**VALID, "email_verified": "True"}),
        lambda w: (
            'invalid properties: UserAttributes[1] (email_verified): value must be "true" '
            'or "false"'
        ),
        id="capitalised-boolean",
    ),
    pytest.param(
        lambda w: declare(w.pool_id, w.username, {**VALID, "custom:seats": "1e3"}),
        lambda w: "invalid attributes: custom:seats: value is not a whole number",
        id="number-in-exponent-form",
    ),
    pytest.param(
        # DEFECT: the parser accepts it; the schema check then refuses each name, clamped.
        lambda w: declare(
            w.pool_id, w.username, {f"custom:a{i}": f"v{i}-3c5e" for i in range(1000)}
        ),
        lambda w: (
            "invalid properties: UserAttributes: declares 1000 custom attributes; a user "
            "pool has at most 50"
        ),
        id="1000-attributes",
    ),
    pytest.param(
        lambda w: {**declare(w.pool_id, w.username, VALID), "ReapplyToken": "x" * 129},
        lambda w: (
            "invalid properties: ReapplyToken: must be a string of 1 to 128 printable "
            "characters (no control characters or line breaks)"
        ),
        id="reapply-token-too-long",
    ),
    pytest.param(
        # DEFECT: passes the parser and is looked up (an invisible look-alike of "erin").
        lambda w: declare(w.pool_id, "er\u200bin", VALID),
        lambda w: (
            "invalid properties: Username: must be 1 to 128 characters without spaces "
            "or control characters"
        ),
        id="zero-width-space-in-username",
    ),
]


@pytest.mark.parametrize(("build", "reason"), ROWS)
def test_create_is_refused_with_its_exact_reason_and_writes_nothing(
    build: Callable[[World], dict[str, Any]],
    reason: Callable[[World], str],
    bad_world: World,
    driver: Any,
    aws_calls: Any,
    cognito: Any,
    dynamodb: Any,
) -> None:
    before = world(cognito, dynamodb, bad_world.pool_id, bad_world.username)
    writes = len(aws_calls.calls)

    answer = driver.send("Create", "Candidate", build(bad_world))

    assert answer.status == "FAILED"
    assert answer.reason == reason(bad_world)
    assert answer.physical_id
    assert SECRET_VALUE not in answer.reason
    assert aws_calls.calls[writes:] == []
    assert world(cognito, dynamodb, bad_world.pool_id, bad_world.username) == before


@pytest.mark.parametrize(("build", "reason"), ROWS)
@pytest.mark.parametrize("physical_id", ["reported", "invented"])
def test_rollback_delete_after_a_refused_create_succeeds_and_writes_nothing(
    build: Callable[[World], dict[str, Any]],
    reason: Callable[[World], str],
    physical_id: str,
    bad_world: World,
    driver: Any,
    aws_calls: Any,
    cognito: Any,
    dynamodb: Any,
) -> None:
    """DESIGN 4, a rollback never sticks: whatever refused the Create, the Delete CloudFormation
    sends next (with the id the Create reported, or one it invented after no answer) is
    SUCCESS and writes nothing to Cognito."""
    properties = build(bad_world)
    refused = driver.send("Create", "Candidate", properties)
    assert refused.status == "FAILED"
    before = world(cognito, dynamodb, bad_world.pool_id, bad_world.username)
    writes = len(aws_calls.calls)
    sent_id = (
        refused.physical_id
        if physical_id == "reported"
        else driver.invented_physical_id("Candidate")
    )

    deleted = driver.send("Delete", "Candidate", properties, physical_id=sent_id)

    assert deleted.status == "SUCCESS", deleted.reason
    assert deleted.physical_id == sent_id
    assert [call for call in aws_calls.calls[writes:] if call.operation.startswith("Admin")] == []
    after = world(cognito, dynamodb, bad_world.pool_id, bad_world.username)
    assert after["users"] == before["users"]
    assert after["ledger"] == before["ledger"]


def test_update_to_a_bad_declaration_is_refused_with_the_same_id_and_writes_nothing(
    bad_world: World, driver: Any, aws_calls: Any, cognito: Any, dynamodb: Any
) -> None:
    created = driver.create("Candidate", declare(bad_world.pool_id, bad_world.username, VALID))
    assert created.status == "SUCCESS", created.reason
    before = world(cognito, dynamodb, bad_world.pool_id, bad_world.username)
    writes = len(aws_calls.calls)
    bad = declare(bad_world.pool_id, bad_world.username, {**VALID, "custom:plan": ""})
    bad["ClientMetadata"] = ["not", "a", "map"]

    answer = driver.update("Candidate", bad)

    assert answer is not None
    assert answer.status == "FAILED"
    assert answer.reason == (
        "invalid properties: UserAttributes[1] (custom:plan): value is empty; declare the "
        "attribute absent (null) to remove it; ClientMetadata: must be a map of strings to strings"
    )
    assert answer.physical_id == created.physical_id
    assert aws_calls.calls[writes:] == []
    assert world(cognito, dynamodb, bad_world.pool_id, bad_world.username) == before
