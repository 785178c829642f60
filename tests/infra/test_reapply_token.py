"""The reapply token (issue 11, item 5): context ``reapply`` puts one ``ReapplyToken`` on every
seed resource, in the stack and in every shard, and changes nothing else; without it the
property is absent, so existing stacks see no change."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import CfnParameter, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Capture, Match, Template

from cognito_seed_users import CognitoUserAttributes, Placement, SeedUser, SeedUsers
from stacks import SeedUsersStack
from tests.infra.support import OTHER_POOL_ID, POOL_ID, cdk_app, run_app

RESOURCE_TYPE = "Custom::CognitoUserAttributes"
TOKEN = "2026-12-05T10:00:00Z"
TOKEN_RULE = (
    "must be a string of 1 to 128 printable characters (no control characters or line breaks)"
)


def seed_users() -> list[SeedUser]:
    return [
        SeedUser(
            user_pool_id=pool,
            username=f"service-{index:02}",
            attributes={"custom:tenant_id": f"tenant-{index}", "nickname": None},
        )
        for index in range(6)
        for pool in (POOL_ID, OTHER_POOL_ID)
    ]


@pytest.fixture(scope="module")
def stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SeedUsersStack]:
    """The same users with and without a token, inline and in nested stacks, in one app."""
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    return {
        "inline": SeedUsersStack(app, "Inline", seed_users=seed_users(), reapply_token=TOKEN),
        "plain": SeedUsersStack(app, "Plain", seed_users=seed_users()),
        "nested": SeedUsersStack(
            app,
            "Nested",
            seed_users=seed_users(),
            placement=Placement.NESTED,
            reapply_token=TOKEN,
        ),
        "nested-plain": SeedUsersStack(
            app, "NestedPlain", seed_users=seed_users(), placement=Placement.NESTED
        ),
    }


def user_templates(stack: SeedUsersStack) -> list[Template]:
    """The templates that hold the stack's seed resources (the stack's own, or its shards')."""
    seed = stack.seed_users
    if seed.placement is Placement.INLINE:
        return [Template.from_stack(stack)]
    return [Template.from_stack(nested) for nested in seed.nested_stacks.values()]


def resources(stack: SeedUsersStack) -> dict[str, dict[str, Any]]:
    """Logical id -> properties of every seed resource, in whichever template it is."""
    return {
        logical_id: resource["Properties"]
        for template in user_templates(stack)
        for logical_id, resource in template.find_resources(RESOURCE_TYPE).items()
    }


@pytest.mark.parametrize("name", ["inline", "nested"])
def test_every_seed_resource_carries_the_token(stacks: dict[str, SeedUsersStack], name: str):
    stack = stacks[name]
    templates = user_templates(stack)
    assert len(templates) >= (1 if name == "inline" else 2)
    for template in templates:
        template.all_resources_properties(RESOURCE_TYPE, Match.object_like({"ReapplyToken": TOKEN}))
    assert len(resources(stack)) == len(seed_users())


@pytest.mark.parametrize("name", ["plain", "nested-plain"])
def test_without_a_token_no_resource_has_the_property(stacks: dict[str, SeedUsersStack], name: str):
    stack = stacks[name]
    for template in user_templates(stack):
        template.all_resources_properties(
            RESOURCE_TYPE, Match.object_like({"ReapplyToken": Match.absent()})
        )
    assert len(resources(stack)) == len(seed_users())


@pytest.mark.parametrize(
    ("with_token", "without"), [("inline", "plain"), ("nested", "nested-plain")]
)
def test_the_token_changes_nothing_else(
    stacks: dict[str, SeedUsersStack], with_token: str, without: str
):
    """Same logical ids (no resource moves or is replaced), same declaration: CloudFormation's
    Update carries the token as its only change."""
    # A shard's ServiceToken is a parameter named after the parent stack, another one here.
    ignored = {"ReapplyToken", "ServiceToken"}
    tokened = resources(stacks[with_token])
    plain = resources(stacks[without])
    assert set(tokened) == set(plain)
    for logical_id, properties in tokened.items():
        assert {key: value for key, value in properties.items() if key not in ignored} == {
            key: value for key, value in plain[logical_id].items() if key not in ignored
        }


def test_the_construct_takes_a_token_known_only_at_deploy_time(tmp_path: Path):
    """A parameter's value is a token at synth: the synth-time check lets it through, and
    the template passes the reference for CloudFormation to resolve."""
    app = cdk_app(tmp_path / "cdk.out")
    stack = Stack(app, "Parameterised")
    token = CfnParameter(stack, "ReapplyToken", type="String")
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
        username="ci-bot",
        attributes={"custom:tenant_id": "acme"},
        reapply_token=token.value_as_string,
    )
    reference = Capture()
    Template.from_stack(stack).has_resource_properties(
        RESOURCE_TYPE, {"Username": "ci-bot", "ReapplyToken": reference}
    )
    assert reference.as_object() == {"Ref": "ReapplyToken"}


@pytest.mark.parametrize("token", ["", "x" * 129, "deploy\n2"])
def test_a_bad_token_is_refused_at_synth(tmp_path: Path, token: str):
    app = cdk_app(tmp_path / "cdk.out")
    stack = Stack(app, "Refused")
    with pytest.raises(ValueError, match=r"^Refused/SeedUsers: reapply_token: ") as raised:
        SeedUsers(stack, "SeedUsers", seed_users=seed_users(), reapply_token=token)
    assert str(raised.value) == f"Refused/SeedUsers: reapply_token: {TOKEN_RULE}"
    with pytest.raises(ValueError, match=r"\(user ci-bot\): ReapplyToken: must be") as raised:
        CognitoUserAttributes(
            stack,
            "CiBot",
            user_pool=cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID),
            username="ci-bot",
            attributes={"custom:tenant_id": "acme"},
            reapply_token=token,
        )


# -- app.py, as `cdk synth -c reapply=...` runs it --------------------------------------------


def test_context_reapply_reaches_every_seed_resource(tmp_path: Path):
    result = run_app(tmp_path / "cdk.out", {"reapply": "deploy-7"}, cwd=tmp_path)

    assert result.returncode == 0, result.stderr
    template = json.loads((tmp_path / "cdk.out" / "CognitoSeedUsers.template.json").read_text())
    users = [r for r in template["Resources"].values() if r["Type"] == RESOURCE_TYPE]
    assert users
    assert {user["Properties"]["ReapplyToken"] for user in users} == {"deploy-7"}


@pytest.mark.parametrize(
    ("value", "message"),
    [
        pytest.param(42, "context reapply: must be a string", id="a-number"),
        pytest.param(["a"], "context reapply: must be a string", id="a-list"),
        pytest.param("", f"context reapply: {TOKEN_RULE}", id="empty"),
        pytest.param("x" * 129, f"context reapply: {TOKEN_RULE}", id="too-long"),
    ],
)
def test_a_bad_reapply_context_fails_synth_with_one_line(
    tmp_path: Path, value: object, message: str
):
    result = run_app(tmp_path / "cdk.out", {"reapply": value}, cwd=tmp_path)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == message + "\n"
    assert not (tmp_path / "cdk.out" / "manifest.json").exists()
