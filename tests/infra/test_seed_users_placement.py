"""SeedUsers placement: inline while the users fit, hash shards in nested stacks beyond, and a
place (stack and logical id) for each user that no other user's arrival or departure changes."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest
from aws_cdk import App, CfnResource, NestedStack, Stack
from aws_cdk.assertions import Template

from cfnlocal.assembly import SynthesizedStack, nested_stacks
from cognito_seed_users import (
    MAX_INLINE_USERS,
    MAX_USERS_PER_SHARD,
    Placement,
    SecretReference,
    SeedUser,
    SeedUsers,
    shard_of,
    user_logical_id,
)
from stacks import SeedUsersStack
from tests.infra.support import (
    OTHER_POOL_ID,
    POOL_ID,
    cdk_app,
    function_by_handler,
    lint_problems,
)

RESOURCE_TYPE = "Custom::CognitoUserAttributes"


def users(count: int, *, start: int = 0, pool: str = POOL_ID) -> list[SeedUser]:
    return [
        SeedUser(
            user_pool_id=pool,
            username=f"service-account-{index:05}",
            attributes={"custom:tenant_id": f"tenant-{index % 7}", "nickname": None},
        )
        for index in range(start, start + count)
    ]


def places(seed_users: SeedUsers) -> dict[tuple[str, str], tuple[str, str]]:
    """(pool, username) -> (the stack that holds the resource, its logical id)."""
    found = {}
    for key, construct in seed_users.users.items():
        stack = Stack.of(construct)
        resource = construct.resource.node.default_child
        assert isinstance(resource, CfnResource)
        found[key] = (stack.node.path, str(stack.resolve(resource.logical_id)))
    return found


def test_shard_depends_only_on_pool_and_username() -> None:
    assert shard_of(POOL_ID, "ci-bot") == shard_of(POOL_ID, "ci-bot")
    assert shard_of(POOL_ID, "ci-bot", 64) < 64
    spread = Counter(shard_of(POOL_ID, f"user-{index}") for index in range(6400))
    assert len(spread) == 64
    assert max(spread.values()) < 2 * 100  # about 100 each


def test_logical_id_is_readable_and_tells_look_alike_names_apart() -> None:
    assert re.fullmatch(r"Usercibot[0-9a-f]{8}", user_logical_id(POOL_ID, "ci-bot"))
    assert user_logical_id(POOL_ID, "a.b") != user_logical_id(POOL_ID, "a_b")
    assert user_logical_id(POOL_ID, "ci-bot") != user_logical_id(OTHER_POOL_ID, "ci-bot")


def test_auto_keeps_a_small_set_in_the_stack(app: App) -> None:
    stack = SeedUsersStack(app, "Small", seed_users=users(3))
    assert stack.seed_users.placement is Placement.INLINE
    template = Template.from_stack(stack)
    template.resource_count_is(RESOURCE_TYPE, 3)
    template.resource_count_is("AWS::CloudFormation::Stack", 0)
    assert set(template.find_resources(RESOURCE_TYPE)) == {
        user_logical_id(user.user_pool_id, user.username) for user in users(3)
    }


def test_auto_places_a_large_set_in_hash_shards(app: App) -> None:
    count = MAX_INLINE_USERS + 1
    stack = SeedUsersStack(app, "Large", seed_users=users(count))
    seed = stack.seed_users
    assert seed.placement is Placement.NESTED
    parent = Template.from_stack(stack)
    parent.resource_count_is(RESOURCE_TYPE, 0)
    parent.resource_count_is("AWS::Lambda::Function", 3)
    parent.resource_count_is("AWS::DynamoDB::Table", 1)
    parent.resource_count_is("AWS::CloudFormation::Stack", len(seed.nested_stacks))
    total = 0
    for shard, nested in seed.nested_stacks.items():
        template = Template.from_stack(nested)
        resources = template.find_resources(RESOURCE_TYPE)
        assert resources, "empty shards are not created"
        total += len(resources)
        for logical_id, resource in resources.items():
            username = resource["Properties"]["Username"]
            assert shard_of(POOL_ID, username) == shard
            assert logical_id == user_logical_id(POOL_ID, username)
        template.resource_count_is("AWS::Lambda::Function", 0)
        template.resource_count_is("AWS::DynamoDB::Table", 0)
    assert total == count


def test_nested_stacks_use_the_parent_provider_and_depend_on_their_pools_policies(
    app: App,
) -> None:
    seed_users = [*users(30), *users(10, start=100, pool=OTHER_POOL_ID)]
    stack = SeedUsersStack(app, "Nested", seed_users=seed_users, placement=Placement.NESTED)
    seed = stack.seed_users
    parent = Template.from_stack(stack)
    function_id, _ = function_by_handler(parent.to_json(), "front.handler")
    policy_ids = {}
    for pool_id in (POOL_ID, OTHER_POOL_ID):
        policy = seed.provider.pool_policies[pool_id].node.default_child
        assert isinstance(policy, CfnResource)
        policy_ids[pool_id] = stack.resolve(policy.logical_id)
    nested_resources = parent.find_resources("AWS::CloudFormation::Stack")
    assert len(nested_resources) == len(seed.nested_stacks) <= 40
    pools_of_shard: dict[int, set[str]] = {}
    for user in seed_users:
        shard = shard_of(user.user_pool_id, user.username)
        pools_of_shard.setdefault(shard, set()).add(user.user_pool_id)
    assert {frozenset(pools) for pools in pools_of_shard.values()} >= {
        frozenset({POOL_ID}),
        frozenset({POOL_ID, OTHER_POOL_ID}),
    }, "shards with one pool and shards with both"
    for shard, nested in seed.nested_stacks.items():
        nested_resource = nested.nested_stack_resource
        assert nested_resource is not None
        resource = nested_resources[stack.resolve(nested_resource.logical_id)]
        # CloudFormation deletes a nested stack (and its users) before its pools' policies,
        # and only those: a pool's policy goes when its last user does, wherever that user was.
        assert set(resource["DependsOn"]) == {policy_ids[p] for p in pools_of_shard[shard]}
        [token] = resource["Properties"]["Parameters"].values()
        assert token == {"Fn::GetAtt": [function_id, "Arn"]}
    for nested in seed.nested_stacks.values():
        template = Template.from_stack(nested)
        [parameter] = template.to_json()["Parameters"]
        for resource in template.find_resources(RESOURCE_TYPE).values():
            assert resource["Properties"]["ServiceToken"] == {"Ref": parameter}


@pytest.mark.parametrize("placement", [Placement.INLINE, Placement.NESTED])
def test_adding_and_removing_users_moves_no_other_user(
    tmp_path: Path, placement: Placement
) -> None:
    before_users = users(60)
    after_users = [*before_users[5:], *users(30, start=1000), *users(2, pool=OTHER_POOL_ID)]
    app = cdk_app(tmp_path / "cdk.out")
    before = places(
        SeedUsers(Stack(app, "Before"), "SeedUsers", seed_users=before_users, placement=placement)
    )
    after = places(
        SeedUsers(Stack(app, "After"), "SeedUsers", seed_users=after_users, placement=placement)
    )
    kept = before.keys() & after.keys()
    assert len(kept) == 55
    for key in kept:
        (stack_before, logical_before), (stack_after, logical_after) = before[key], after[key]
        assert stack_before.removeprefix("Before") == stack_after.removeprefix("After"), key
        assert logical_before == logical_after == user_logical_id(*key)


def test_a_user_keeps_its_logical_id_when_auto_switches_to_nested(tmp_path: Path) -> None:
    app = cdk_app(tmp_path / "cdk.out")
    small = places(SeedUsers(Stack(app, "Small"), "SeedUsers", seed_users=users(3)))
    large = places(
        SeedUsers(Stack(app, "Large"), "SeedUsers", seed_users=users(MAX_INLINE_USERS + 1))
    )
    for key, (_, logical_id) in small.items():
        assert large[key][1] == logical_id


def test_inline_refuses_more_users_than_fit(stack: Stack) -> None:
    with pytest.raises(ValueError, match="placement nested"):
        SeedUsers(
            stack, "SeedUsers", seed_users=users(MAX_INLINE_USERS + 1), placement=Placement.INLINE
        )


def test_an_overfull_shard_fails_synth_naming_it(stack: Stack) -> None:
    with pytest.raises(ValueError, match=r"shard 0 of 1 holds 451 users .*raise shards"):
        SeedUsers(
            stack,
            "SeedUsers",
            seed_users=users(MAX_USERS_PER_SHARD + 1),
            placement=Placement.NESTED,
            shards=1,
        )


def test_nested_placement_synthesizes_users_with_secret_references(stack: Stack) -> None:
    """Regression: the shard size estimate once serialized the declarations as given, and a
    ``SecretReference`` made nested placement fail synth with a TypeError."""
    secret_arn = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/api-key-AbCdEf"
    declared = [
        SeedUser(
            user_pool_id=POOL_ID,
            username=f"service-account-{index}",
            attributes={"custom:api_key": SecretReference.from_secret_arn(secret_arn)},
        )
        for index in range(3)
    ]
    seed_users = SeedUsers(stack, "SeedUsers", seed_users=declared, placement=Placement.NESTED)
    templates = [Template.from_stack(shard) for shard in seed_users.nested_stacks.values()]
    assert sum(len(t.find_resources(RESOURCE_TYPE)) for t in templates) == len(declared)
    for template in templates:
        for user in template.find_resources(RESOURCE_TYPE).values():
            [attribute] = user["Properties"]["UserAttributes"]
            assert attribute == {"Name": "custom:api_key", "ValueFrom": {"SecretId": secret_arn}}


def test_a_user_declared_twice_is_refused(stack: Stack) -> None:
    with pytest.raises(ValueError, match="declared twice"):
        SeedUsers(stack, "SeedUsers", seed_users=[*users(2), *users(1)])


def test_nested_templates_pass_cfn_lint(app: App) -> None:
    stack = SeedUsersStack(app, "Linted", seed_users=users(30), placement=Placement.NESTED)
    assembly = app.synth()
    parent = assembly.get_stack_artifact(stack.artifact_id)
    assert lint_problems(parent.template) == []
    nested = nested_stacks(SynthesizedStack(Path(assembly.directory), stack.artifact_id))
    assert len(nested) == len(stack.seed_users.nested_stacks)
    for template in nested[:3]:
        assert lint_problems(template.template) == []
    assert all(isinstance(n, NestedStack) for n in stack.seed_users.nested_stacks.values())
    assert json.dumps(parent.template).count("AWS::CloudFormation::Stack") == len(nested)
