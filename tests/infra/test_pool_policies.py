"""One Cognito policy per user pool: removing a pool's last user removes that pool's policy
and changes nothing else, so the user's Delete still has its permissions.

CloudFormation updates the resources a template keeps in the update phase and deletes the
removed ones in the cleanup phase, a resource only after those that depend on it. A policy
shared by several pools would lose the removed pool's ARN in the update phase, before the
cleanup phase sends the removed user's Delete, whose AdminGetUser and
AdminUpdateUserAttributes IAM then denies (and CloudFormation ignores the failed cleanup: the
user keeps its seeded values). ``cfnlocal`` runs only the custom resources (moto enforces no
IAM), so the order is asserted on the templates: every Cognito policy a removed or replaced
declaration depended on is either declared exactly as before or gone.

IAM allows a role 10,240 characters of inline policies in all (white space not counted; IAM
and STS quotas, https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html):
``MAX_USER_POOLS`` pools per provider, checked at synth.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Match, Template

from cognito_seed_users import (
    MAX_USER_POOLS,
    CognitoUserAttributes,
    Placement,
    SecretReference,
    SeedUser,
    SeedUsers,
    shard_of,
)
from cognito_seed_users.cognito_user_attributes import (
    _DEFAULT_POLICY_BUDGET_CHARS,
    _POOL_POLICY_MAX_CHARS,
    ROLE_INLINE_POLICIES_MAX_CHARS,
)
from stacks import SeedUsersStack
from tests.infra.support import (
    OTHER_POOL_ID,
    POOL_ID,
    cdk_app,
    function_by_handler,
    granted_pool_id,
    iam_chars,
    lint_problems,
    role_of,
)

RESOURCE_TYPE: Final = "Custom::CognitoUserAttributes"
REGION: Final = cdk.Environment(region="eu-west-1")
SECRET_ARN: Final = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/ci-bot-AbCdEf"
COGNITO_STATEMENT: Final = Match.object_like(
    {"Action": Match.array_with(["cognito-idp:AdminGetUser"])}
)
LONGEST: Final = {
    "AWS::Partition": "aws-us-gov",
    "AWS::AccountId": "123456789012",
    "AWS::Region": "ap-southeast-5",
}
"""Pseudo parameters at their longest, so a rendered policy is never shorter than IAM's."""


def a_pool_user(username: str = "ci-bot") -> SeedUser:
    return SeedUser(
        user_pool_id=POOL_ID,
        username=username,
        attributes={"custom:api_key": SecretReference.from_secret_arn(SECRET_ARN)},
    )


REPORTING: Final = SeedUser(
    user_pool_id=POOL_ID, username="reporting", attributes={"custom:role": "reporting"}
)
E2E: Final = SeedUser(user_pool_id=OTHER_POOL_ID, username="e2e", attributes={"locale": "en-GB"})
E2E_MOVED: Final = SeedUser(user_pool_id=POOL_ID, username="e2e", attributes={"locale": "en-GB"})


def shard_mate_of_e2e() -> SeedUser:
    """A user of the first pool whose shard is e2e's: that shard keeps a user when e2e goes."""
    target = shard_of(E2E.user_pool_id, E2E.username)
    username = next(
        name
        for name in (f"shard-mate-{index}" for index in range(10_000))
        if shard_of(POOL_ID, name) == target
    )
    return a_pool_user(username)


def resources(template: Template) -> dict[str, Any]:
    """The template's resources without ``Metadata`` (it names the stack: here several names
    for what is one stack deployed over time)."""
    return {
        logical_id: {key: value for key, value in resource.items() if key != "Metadata"}
        for logical_id, resource in template.to_json()["Resources"].items()
    }


def cognito_policies(template: Template) -> dict[str, Any]:
    found: dict[str, Any] = template.find_resources(
        "AWS::IAM::Policy",
        {"Properties": {"PolicyDocument": {"Statement": [COGNITO_STATEMENT]}}},
    )
    return found


def policy_of_pool(template: Template) -> dict[str, str]:
    return {
        granted_pool_id(policy): logical_id
        for logical_id, policy in cognito_policies(template).items()
    }


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    """One stack over time: two users in the first pool (one with a secret), one in the other;
    then without the other pool's user; then with that user moved to the first pool."""
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    declared = {
        "before": [a_pool_user(), REPORTING, E2E],
        "pool-b-emptied": [a_pool_user(), REPORTING],
        "one-of-two-removed": [a_pool_user(), E2E],
        "e2e-moved": [a_pool_user(), REPORTING, E2E_MOVED],
    }
    # Every stack before the first synth: CDK refuses to add constructs after it.
    stacks = {
        name: SeedUsersStack(app, f"Seed-{name}", seed_users=users, env=REGION)
        for name, users in declared.items()
    }
    return {name: Template.from_stack(stack) for name, stack in stacks.items()}


@pytest.fixture(scope="module")
def nested(tmp_path_factory: pytest.TempPathFactory) -> dict[str, SeedUsersStack]:
    """The same in nested placement, e2e sharing its shard with a user of the first pool."""
    mate = shard_mate_of_e2e()
    declared = {"before": [a_pool_user(), mate, E2E], "pool-b-emptied": [a_pool_user(), mate]}
    # One app per version, the stack's name the same in each: the nested stacks' parameter
    # names contain it, as they do across a real stack's deploys.
    return {
        name: SeedUsersStack(
            cdk_app(tmp_path_factory.mktemp("cdk.out")),
            "Nested",
            seed_users=users,
            placement=Placement.NESTED,
            env=REGION,
        )
        for name, users in declared.items()
    }


# -- removing a pool's last user --------------------------------------------------------------


def test_removing_a_pools_last_user_removes_only_that_pools_policy(
    templates: dict[str, Template],
) -> None:
    before, after = templates["before"], templates["pool-b-emptied"]
    removed_policy = policy_of_pool(before)[OTHER_POOL_ID]
    [removed_user] = before.find_resources(RESOURCE_TYPE, {"Properties": {"Username": "e2e"}})
    was, now = resources(before), resources(after)

    assert was.keys() - now.keys() == {removed_user, removed_policy}
    assert now.keys() <= was.keys()
    # Nothing kept is updated: the first pool's policy, the secret grant, the other users.
    assert {logical_id: was[logical_id] for logical_id in now} == now
    assert set(policy_of_pool(after)) == {POOL_ID}


def test_the_removed_user_depended_on_its_pools_policy_which_cleanup_deletes_after_it(
    templates: dict[str, Template],
) -> None:
    before, after = templates["before"], templates["pool-b-emptied"]
    [user] = before.find_resources(RESOURCE_TYPE, {"Properties": {"Username": "e2e"}}).values()
    assert user["DependsOn"] == [policy_of_pool(before)[OTHER_POOL_ID]]
    after.resource_properties_count_is(
        "AWS::IAM::Policy",
        {"PolicyDocument": {"Statement": [COGNITO_STATEMENT]}},
        1,
    )


def test_the_remaining_users_still_depend_on_their_pools_policy(
    templates: dict[str, Template],
) -> None:
    after = templates["pool-b-emptied"]
    [pool_policy] = policy_of_pool(after).values()
    [secret_policy] = after.find_resources("AWS::IAM::ManagedPolicy")
    users = after.find_resources(RESOURCE_TYPE)
    assert {user["Properties"]["Username"] for user in users.values()} == {"ci-bot", "reporting"}
    for logical_id, user in users.items():
        needed = {pool_policy} | (
            {secret_policy} if user["Properties"]["Username"] == "ci-bot" else set()
        )
        assert set(user["DependsOn"]) == needed, logical_id


def _cognito_dependencies(template: Template, logical_id: str) -> set[str]:
    policies = cognito_policies(template)
    user = template.to_json()["Resources"][logical_id]
    return {dependency for dependency in user.get("DependsOn", []) if dependency in policies}


def _gone_or_replaced(before: Template, after: Template) -> Iterator[str]:
    """Users whose Delete the update's cleanup phase sends: removed, or given another pool."""
    now = after.find_resources(RESOURCE_TYPE)
    for logical_id, user in before.find_resources(RESOURCE_TYPE).items():
        kept = now.get(logical_id)
        if kept is None or kept["Properties"]["UserPoolId"] != user["Properties"]["UserPoolId"]:
            yield logical_id


@pytest.mark.parametrize("change", ["pool-b-emptied", "one-of-two-removed", "e2e-moved"])
def test_every_cognito_policy_a_deleted_user_needed_is_kept_unchanged_or_removed(
    templates: dict[str, Template], change: str
) -> None:
    """The update phase changes no Cognito permission a cleanup Delete still needs."""
    before, after = templates["before"], templates[change]
    was, now = resources(before), resources(after)
    deleted = list(_gone_or_replaced(before, after))
    assert deleted
    for logical_id in deleted:
        needed = _cognito_dependencies(before, logical_id)
        assert needed, logical_id
        for policy in needed:
            assert now.get(policy, was[policy]) == was[policy], f"{change}: {policy} changed"


def test_moving_a_pools_last_user_to_another_pool_removes_the_old_pools_policy(
    templates: dict[str, Template],
) -> None:
    before, after = templates["before"], templates["e2e-moved"]
    assert set(policy_of_pool(after)) == {POOL_ID}
    [user] = after.find_resources(RESOURCE_TYPE, {"Properties": {"Username": "e2e"}}).values()
    assert user["DependsOn"] == [policy_of_pool(after)[POOL_ID]]
    assert policy_of_pool(after)[POOL_ID] == policy_of_pool(before)[POOL_ID]


# -- nested stacks ----------------------------------------------------------------------------


def test_removing_a_pools_last_user_from_a_shard_removes_only_that_pools_policy(
    nested: dict[str, SeedUsersStack],
) -> None:
    """The shard keeps its other user: the parent's nested-stack resource loses its dependency
    on the removed pool's policy, and that policy goes; nothing else in the parent changes but
    that shard's template."""
    before_stack, after_stack = nested["before"], nested["pool-b-emptied"]
    before, after = Template.from_stack(before_stack), Template.from_stack(after_stack)
    shard = shard_of(E2E.user_pool_id, E2E.username)
    assert shard in after_stack.seed_users.nested_stacks, "e2e's shard keeps a user"
    policies_before, policies_after = policy_of_pool(before), policy_of_pool(after)
    assert set(policies_before) == {POOL_ID, OTHER_POOL_ID}
    assert set(policies_after) == {POOL_ID}
    assert policies_after[POOL_ID] == policies_before[POOL_ID]

    was, now = resources(before), resources(after)
    assert was.keys() - now.keys() == {policies_before[OTHER_POOL_ID]}
    shard_resource = after_stack.seed_users.nested_stacks[shard].nested_stack_resource
    assert shard_resource is not None
    shard_id = after_stack.resolve(shard_resource.logical_id)
    changed = {logical_id for logical_id in now if now[logical_id] != was.get(logical_id)}
    assert changed == {shard_id}
    [secret_policy] = after.find_resources("AWS::IAM::ManagedPolicy")
    assert set(was[shard_id]["DependsOn"]) == {*policies_before.values(), secret_policy}
    assert set(now[shard_id]["DependsOn"]) == {policies_after[POOL_ID], secret_policy}

    shard_before = resources(Template.from_stack(before_stack.seed_users.nested_stacks[shard]))
    shard_after = resources(Template.from_stack(after_stack.seed_users.nested_stacks[shard]))
    [e2e] = [k for k, r in shard_before.items() if r["Properties"].get("Username") == "e2e"]
    assert shard_before.keys() - shard_after.keys() == {e2e}
    assert {k: shard_before[k] for k in shard_after} == shard_after


def test_every_shard_depends_on_the_policies_of_its_users_pools_and_secrets(
    nested: dict[str, SeedUsersStack],
) -> None:
    stack = nested["before"]
    parent = Template.from_stack(stack)
    pools = policy_of_pool(parent)
    [secret_policy] = parent.find_resources("AWS::IAM::ManagedPolicy")
    shard_resources = parent.find_resources("AWS::CloudFormation::Stack")
    for nested_stack in stack.seed_users.nested_stacks.values():
        users = Template.from_stack(nested_stack).find_resources(RESOURCE_TYPE).values()
        expected = {pools[user["Properties"]["UserPoolId"]] for user in users}
        if any("ValueFrom" in str(user["Properties"]["UserAttributes"]) for user in users):
            expected.add(secret_policy)
        resource = nested_stack.nested_stack_resource
        assert resource is not None
        assert set(shard_resources[stack.resolve(resource.logical_id)]["DependsOn"]) == expected


# -- pools given as tokens --------------------------------------------------------------------


def test_a_pool_created_in_the_app_has_a_policy_named_by_its_construct_path(
    stack: cdk.Stack,
) -> None:
    created = cognito.UserPool(stack, "AppPool")
    imported = cognito.UserPool.from_user_pool_id(stack, "Imported", POOL_ID)
    again = cognito.UserPool.from_user_pool_id(stack, "ImportedAgain", POOL_ID)
    for name, pool in (("ci-bot", created), ("e2e", created), ("a", imported), ("b", again)):
        CognitoUserAttributes(
            stack, name, user_pool=pool, username=name, attributes={"locale": "en-GB"}
        )

    template = Template.from_stack(stack)
    [pool_id] = template.find_resources("AWS::Cognito::UserPool")
    policies = cognito_policies(template)
    # One for the pool the app creates, one for the imported pool (whichever import names it).
    assert len(policies) == 2
    [created_policy] = [
        logical_id
        for logical_id, policy in policies.items()
        if policy["Properties"]["PolicyDocument"]["Statement"][0]["Resource"]
        == {"Fn::GetAtt": [pool_id, "Arn"]}
    ]
    assert re.fullmatch(
        r"CognitoUserAttributesProviderCognitoAccessTestStackAppPool[0-9A-F]{8}", created_policy
    )
    for user in template.find_resources(RESOURCE_TYPE).values():
        if user["Properties"]["UserPoolId"] == {"Ref": pool_id}:
            assert user["DependsOn"] == [created_policy]
        else:
            assert user["DependsOn"] == list(policies.keys() - {created_policy})


# -- the role's inline policy limit -----------------------------------------------------------


def longest_pool_ids(count: int) -> list[str]:
    """Pool ids at Cognito's maximum of 55 characters."""
    return [f"ap-southeast-5_{index:03}".ljust(55, "x") for index in range(count)]


@pytest.fixture(scope="module")
def most_pools(tmp_path_factory: pytest.TempPathFactory) -> Template:
    """``MAX_USER_POOLS`` pools with the longest ids, in a stack without a Region (every pool
    ARN then carries the partition, Region and account as parameters)."""
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "MostPools")
    SeedUsers(
        stack,
        "SeedUsers",
        seed_users=[
            SeedUser(
                user_pool_id=pool_id,
                username="ci-bot",
                attributes={"custom:api_key": SecretReference.from_secret_arn(SECRET_ARN)},
            )
            for pool_id in longest_pool_ids(MAX_USER_POOLS)
        ],
    )
    return Template.from_stack(stack)


def test_the_most_pools_a_provider_serves_fit_the_roles_inline_policy_limit(
    most_pools: Template,
) -> None:
    _, worker = function_by_handler(most_pools.to_json(), "worker.handler")
    role_id = role_of(most_pools.to_json(), worker)
    inline = most_pools.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": Match.array_with([{"Ref": role_id}])}}
    )
    pools = cognito_policies(most_pools)
    # 24 before the queue: the worker's default policy grew by the queue's two statements.
    assert MAX_USER_POOLS == 23
    assert len(pools) == MAX_USER_POOLS == len(inline) - 1, "and the default policy"
    sizes = {
        logical_id: iam_chars(p["Properties"]["PolicyDocument"], LONGEST)
        for logical_id, p in inline.items()
    }
    [default] = [size for logical_id, size in sizes.items() if logical_id not in pools]
    assert default <= _DEFAULT_POLICY_BUDGET_CHARS
    assert all(sizes[logical_id] <= _POOL_POLICY_MAX_CHARS for logical_id in pools)
    assert sum(sizes.values()) <= ROLE_INLINE_POLICIES_MAX_CHARS, sizes
    # Secret grants stay in managed policies, outside the inline total.
    [secret_policy] = most_pools.find_resources("AWS::IAM::ManagedPolicy")
    assert secret_policy not in sizes


def test_the_most_pools_a_provider_serves_pass_cfn_lint(most_pools: Template) -> None:
    assert lint_problems(most_pools.to_json()) == []


def test_one_pool_beyond_the_limit_fails_synth_naming_the_pool_and_what_to_do(
    tmp_path: Path,
) -> None:
    stack = cdk.Stack(cdk_app(tmp_path), "TooManyPools", env=REGION)
    pool_ids = [f"eu-west-1_Pool{index:03}" for index in range(MAX_USER_POOLS + 1)]

    with pytest.raises(ValueError, match="at most 23") as raised:
        SeedUsers(
            stack,
            "SeedUsers",
            seed_users=[
                SeedUser(user_pool_id=pool_id, username="ci-bot", attributes={"locale": "en-GB"})
                for pool_id in pool_ids
            ],
        )

    assert str(raised.value) == (
        "TooManyPools/CognitoUserAttributesProvider: user pool eu-west-1_Pool023 would be pool "
        "24 of this provider, which serves at most 23: each pool has an inline policy on the "
        "worker's role, and IAM allows a role 10240 characters of inline policies in all; "
        "declare the users of further pools in another stack (each stack has its own provider)"
    )
