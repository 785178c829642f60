"""An emptied seed-users file (``users: []``): it parses, synthesizes a stack that keeps the
provider and declares no seed resource, and deploying it restores every user.

A pipeline that only deploys has no other way to release its last user. The update must
replace nothing: the provider (function, role, logs) and the ledger keep their logical ids and
definitions, so CloudFormation's only work is deleting the seed resources (whose Deletes
restore the users) and the policies that only they needed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import boto3
import pytest
import yaml
from aws_cdk.assertions import Capture, Match, Template

from cfnlocal.assembly import SynthesizedStack, nested_stacks
from cfnlocal.cloudformation import LocalStack, provider_function
from cfnlocal.https_sink import ResponseSink
from cfnlocal.seed_pool import create_user, create_user_pool, user_attributes
from cognito_seed_users import (
    Placement,
    SecretReference,
    SeedConfigError,
    SeedUser,
    load_seed_document,
)
from cognito_seed_users.seed_users_config import SeedFile, parse_seed_file
from stacks import SeedUsersStack
from tests.infra.support import OTHER_POOL_ID, POOL_ID, cdk_app
from tests.infra.test_app import run_app

SOURCE = "seed-users.yaml"
RESOURCE_TYPE = "Custom::CognitoUserAttributes"
REGION = cdk.Environment(region="eu-west-1")
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/ci-bot-AbCdEf"


def parse_file(text: str, override: str | None = None) -> SeedFile:
    return parse_seed_file(
        load_seed_document(text, source=SOURCE), source=SOURCE, user_pool_id_override=override
    )


# -- the file ---------------------------------------------------------------------------------


def test_empty_users_list_parses_to_no_users_in_the_top_level_pools_region() -> None:
    seed_file = parse_file("userPoolId: us-east-1_Default1\nusers: []\n")

    assert seed_file.users == []
    assert seed_file.region == "us-east-1"


def test_empty_users_list_takes_its_region_from_the_context_pool() -> None:
    seed_file = parse_file("users: []\n", override="ap-southeast-2_Staging7")

    assert seed_file.region == "ap-southeast-2"


def test_empty_users_list_without_any_pool_is_refused_naming_user_pool_id() -> None:
    with pytest.raises(SeedConfigError) as raised:
        parse_file("users: []\n")

    assert str(raised.value) == (
        "seed-users.yaml: userPoolId: required with an empty users list, at the top level or "
        "as context userPoolId (its region is the stack's)"
    )


@pytest.mark.parametrize("users", ["", "users:\n", "users: {}\n", "users: ci-bot\n"])
def test_missing_or_non_list_users_is_still_refused_naming_users(users: str) -> None:
    with pytest.raises(SeedConfigError) as raised:
        parse_file(f"userPoolId: {POOL_ID}\n{users}")

    assert str(raised.value) == (
        "seed-users.yaml: users: required, a list (an empty one releases every user)"
    )


# -- the template -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    """A seeded stack (two pools, a secret reference) and the same stack emptied, in one app."""
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    seeded = [
        SeedUser(
            user_pool_id=POOL_ID,
            username="ci-bot",
            attributes={"custom:api_key": SecretReference.from_secret_arn(SECRET_ARN)},
        ),
        SeedUser(user_pool_id=OTHER_POOL_ID, username="e2e", attributes={"locale": "en-GB"}),
    ]
    stacks = {
        "seeded": SeedUsersStack(app, "Seeded", seed_users=seeded, env=REGION),
        "emptied": SeedUsersStack(app, "Emptied", seed_users=[], env=REGION),
        "emptied-nested": SeedUsersStack(
            app, "EmptiedNested", seed_users=[], placement=Placement.NESTED, env=REGION
        ),
    }
    return {name: Template.from_stack(stack) for name, stack in stacks.items()}


def test_empty_users_list_keeps_provider_and_ledger_and_declares_no_seed_resources(
    templates: dict[str, Template],
) -> None:
    seeded, emptied = templates["seeded"], templates["emptied"]
    emptied.resource_count_is(RESOURCE_TYPE, 0)
    ledger = Capture()
    emptied.has_resource_properties(
        "AWS::Lambda::Function",
        {"Environment": {"Variables": Match.object_like({"LEDGER_TABLE_NAME": {"Ref": ledger}})}},
    )
    functions = set(emptied.find_resources("AWS::Lambda::Function"))
    assert len(functions) == 3
    assert set(emptied.find_resources("AWS::DynamoDB::Table")) == {ledger.as_string()}
    # The same logical ids as with users, so the deploy replaces neither.
    assert set(seeded.find_resources("AWS::Lambda::Function")) == functions
    assert set(seeded.find_resources("AWS::DynamoDB::Table")) == {ledger.as_string()}

    before, kept = resources(seeded), resources(emptied)
    # Every resource the emptied stack keeps is declared as before: not even an update.
    assert {logical_id: before.get(logical_id) for logical_id in kept} == kept
    gone = {before[logical_id]["Type"] for logical_id in before.keys() - kept.keys()}
    assert gone == {RESOURCE_TYPE, "AWS::IAM::Policy", "AWS::IAM::ManagedPolicy"}


def test_empty_users_list_removes_the_grants_the_users_depended_on(
    templates: dict[str, Template],
) -> None:
    """CloudFormation updates a kept policy before its cleanup deletes the removed users, so a
    Cognito policy kept without its statement would deny the restoring Deletes; a removed one
    is deleted after the users that depended on it."""
    seeded, emptied = templates["seeded"], templates["emptied"]
    before, kept = resources(seeded), resources(emptied)
    needed = {
        dependency
        for user in seeded.find_resources(RESOURCE_TYPE).values()
        for dependency in user["DependsOn"]
    }
    assert {before[logical_id]["Type"] for logical_id in needed} == {
        "AWS::IAM::Policy",
        "AWS::IAM::ManagedPolicy",
    }
    assert needed.isdisjoint(kept)
    cognito_statement = Match.array_with(
        [Match.object_like({"Action": Match.array_with(["cognito-idp:AdminGetUser"])})]
    )
    assert seeded.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyDocument": {"Statement": cognito_statement}}}
    )
    assert not emptied.find_resources(
        "AWS::IAM::Policy", {"Properties": {"PolicyDocument": {"Statement": cognito_statement}}}
    )


def test_empty_users_list_in_nested_placement_declares_no_nested_stack(
    templates: dict[str, Template],
) -> None:
    templates["emptied-nested"].resource_count_is("AWS::CloudFormation::Stack", 0)
    templates["emptied-nested"].resource_count_is(RESOURCE_TYPE, 0)
    templates["emptied-nested"].resource_count_is("AWS::Lambda::Function", 3)


def test_empty_users_list_outputs_no_managed_user(templates: dict[str, Template]) -> None:
    templates["emptied"].has_output("ManagedUsers", {"Value": "{}"})


# -- the deploy -------------------------------------------------------------------------------


def test_deploying_an_emptied_seed_file_restores_the_user_and_replaces_nothing(
    tmp_path: Path, response_sink: ResponseSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``app.py`` on the file with one user, then on the same file emptied: the update's only
    event is the user's Delete (cleanup), and the user has its original attributes again."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    cognito = boto3.client("cognito-idp")
    pool = create_user_pool(cognito, "emptied")
    original = {"custom:tenant_id": "orig-tenant", "locale": "fr-FR"}
    create_user(cognito, pool, "ci-bot", original)
    declared = {"custom:tenant_id": "acme", "nickname": "Bot"}
    user = {"username": "ci-bot", "attributes": declared}
    seeded = synth(tmp_path / "seeded", {"userPoolId": pool, "users": [user]})
    emptied = synth(tmp_path / "emptied", {"userPoolId": pool, "users": []})
    assert provider_function(emptied).logical_id == provider_function(seeded).logical_id
    assert [t.logical_id for t in emptied.tables()] == [t.logical_id for t in seeded.tables()]
    assert not emptied.custom_resources()
    assert not nested_stacks(emptied)

    stack = LocalStack.provision(
        seeded, response_sink, environment_overrides={"COGNITO_USER_UPDATE_RATE": "1000"}
    )
    assert stack.deploy().status == "CREATE_COMPLETE"
    assert user_attributes(cognito, pool, "ci-bot") == {**original, **declared}

    update = stack.deploy({r.logical_id: r.properties for r in emptied.custom_resources()})

    assert update.status == "UPDATE_COMPLETE"
    assert [(step.phase, step.request_type) for step, _ in update.invocations] == [
        ("cleanup", "Delete")
    ]
    assert not update.failed_events
    assert not update.orphaned
    assert user_attributes(cognito, pool, "ci-bot") == original
    assert not stack.resources


def resources(template: Template) -> dict[str, Any]:
    """The template's resources without ``Metadata``, which names the stack (here two names
    for what is one stack in the app)."""
    return {
        logical_id: {key: value for key, value in resource.items() if key != "Metadata"}
        for logical_id, resource in template.to_json()["Resources"].items()
    }


def synth(work: Path, document: dict[str, object]) -> SynthesizedStack:
    work.mkdir()
    seed_file = work / "users.yaml"
    seed_file.write_text(yaml.safe_dump(document), encoding="utf-8")
    result = run_app(work / "cdk.out", {"seedUsersFile": str(seed_file)}, cwd=work)
    assert result.returncode == 0, result.stderr
    return SynthesizedStack(work / "cdk.out", "CognitoSeedUsers")
