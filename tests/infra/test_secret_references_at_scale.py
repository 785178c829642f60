"""300 secret references: every one granted exactly, in policies IAM accepts.

IAM counts a policy's characters without white space and refuses a role whose inline policies
together exceed 10,240, and a managed policy over 6,144; a role carries at most 10 managed
policies unless the account's quota is raised (IAM and STS quotas:
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_iam-quotas.html). The policies are
rendered as IAM would store them: pseudo parameters resolved, and each other resource's ARN
replaced by a stand-in longer than any CloudFormation gives these resources.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Final

import aws_cdk as cdk
import pytest
from aws_cdk import aws_secretsmanager as secretsmanager
from aws_cdk.assertions import Match, Template

from cognito_seed_users import SecretReference, SeedUser, SeedUsers
from tests.infra.support import (
    POOL_ID,
    cdk_app,
    iam_chars,
    lint_problems,
    render,
    worker_role,
)

ACCOUNT: Final = "123456789012"
PSEUDO: Final = {"AWS::Partition": "aws", "AWS::AccountId": ACCOUNT, "AWS::Region": "eu-west-1"}
INLINE_LIMIT: Final = 10_240
MANAGED_LIMIT: Final = 6_144
MANAGED_PER_ROLE: Final = 10
USERS: Final = 75
SECRETS = f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:seed"
COGNITO: Final = {"Action": Match.array_with(["cognito-idp:AdminGetUser"])}


def references(stack: cdk.Stack, index: int) -> dict[str, SecretReference]:
    """Four distinct references for user ``index``: complete, partial, by name (as
    ``Secret.from_secret_name_v2`` gives it: a deploy-time partial ARN), and SSM."""
    named = secretsmanager.Secret.from_secret_name_v2(
        stack, f"Named{index}", f"seed/user-{index:03}/named"
    )
    return {
        "custom:api_key": SecretReference.from_secret_arn(
            f"{SECRETS}/user-{index:03}/api-key-Ab{index:04}"
        ),
        "custom:token": SecretReference.from_secret_arn(f"{SECRETS}/user-{index:03}/token"),
        "custom:named": SecretReference.from_secret_arn(named.secret_arn),
        "custom:pin": SecretReference.from_parameter_name(f"/seed/user-{index:03}/pin"),
    }


def granted(document: dict[str, Any]) -> set[str]:
    resources: set[str] = set()
    for statement in render(document, PSEUDO)["Statement"]:
        found = statement["Resource"]
        resources |= set(found if isinstance(found, list) else [found])
    return resources


@pytest.fixture(scope="module")
def template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    stack = cdk.Stack(app, "SecretsAtScale", env=cdk.Environment(region="eu-west-1"))
    SeedUsers(
        stack,
        "SeedUsers",
        seed_users=[
            SeedUser(
                user_pool_id=POOL_ID,
                username=f"user-{index:03}",
                attributes=references(stack, index),
            )
            for index in range(USERS)
        ],
    )
    return Template.from_stack(stack)


def test_three_hundred_references_fit_the_roles_inline_policy_limit(
    template: Template,
) -> None:
    role_id = worker_role(template.to_json())
    inline = template.find_resources(
        "AWS::IAM::Policy", {"Properties": {"Roles": Match.array_with([{"Ref": role_id}])}}
    )
    assert len(inline) == 2, "the default policy (ledger, logs) and the Cognito policy"
    sizes = [
        iam_chars(policy["Properties"]["PolicyDocument"], PSEUDO) for policy in inline.values()
    ]
    assert sum(sizes) <= INLINE_LIMIT, sizes


def test_three_hundred_references_fit_managed_policies_of_the_role(
    template: Template,
) -> None:
    role_id = worker_role(template.to_json())
    managed = template.find_resources("AWS::IAM::ManagedPolicy")
    assert 1 < len(managed) <= MANAGED_PER_ROLE
    for logical_id, policy in managed.items():
        assert policy["Properties"]["Roles"] == [{"Ref": role_id}], logical_id
        size = iam_chars(policy["Properties"]["PolicyDocument"], PSEUDO)
        assert size <= MANAGED_LIMIT, f"{logical_id}: {size} characters"


def test_three_hundred_references_are_each_granted_exactly_and_only_them(
    template: Template,
) -> None:
    managed = template.find_resources("AWS::IAM::ManagedPolicy")
    expected = set()
    for index in range(USERS):
        expected |= {
            f"{SECRETS}/user-{index:03}/api-key-Ab{index:04}",
            f"{SECRETS}/user-{index:03}/token-??????",
            f"{SECRETS}/user-{index:03}/named-??????",
            f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/seed/user-{index:03}/pin",
        }
    grants = [granted(policy["Properties"]["PolicyDocument"]) for policy in managed.values()]
    assert sum(len(grant) for grant in grants) == len(expected) == 4 * USERS
    assert set().union(*grants) == expected


def test_each_user_depends_on_the_policies_that_grant_its_references(
    template: Template,
) -> None:
    """CloudFormation attaches those before the user's Create reads the secrets (and deletes
    the Cognito policy only after the user's Delete)."""
    managed = {
        logical_id: granted(policy["Properties"]["PolicyDocument"])
        for logical_id, policy in template.find_resources("AWS::IAM::ManagedPolicy").items()
    }
    cognito = set(
        template.find_resources(
            "AWS::IAM::Policy",
            {"Properties": {"PolicyDocument": {"Statement": [Match.object_like(COGNITO)]}}},
        )
    )
    assert len(cognito) == 1
    for logical_id, user in template.find_resources("Custom::CognitoUserAttributes").items():
        folder = f"/{user['Properties']['Username']}/"
        needed = {
            policy_id
            for policy_id, resources in managed.items()
            if any(folder in resource for resource in resources)
        }
        assert needed, logical_id
        assert set(user["DependsOn"]) == needed | cognito, logical_id


def test_three_hundred_references_pass_cfn_lint(template: Template) -> None:
    assert lint_problems(template.to_json()) == []


def test_references_beyond_the_roles_managed_policy_quota_fail_synth(tmp_path: Path) -> None:
    """Secret names take up to 512 characters: a hundred such ARNs need more policies than a
    role may carry, which deploy would refuse; synth refuses it first, saying what to do."""
    stack = cdk.Stack(cdk_app(tmp_path), "TooMany", env=cdk.Environment(region="eu-west-1"))
    long_name = "n" * 500
    users = [
        SeedUser(
            user_pool_id=POOL_ID,
            username=f"user-{index:03}",
            attributes={
                "custom:api_key": SecretReference.from_secret_arn(
                    f"{SECRETS}/{long_name}{index:03}-AbCdEf"
                )
            },
        )
        for index in range(120)
    ]

    with pytest.raises(ValueError, match="more than 10 managed policies") as raised:
        SeedUsers(stack, "SeedUsers", seed_users=users)

    assert str(raised.value) == (
        "TooMany/CognitoUserAttributesProvider: the secret and parameter references need more "
        "than 10 managed policies of 6144 characters (IAM attaches at most 10 to a role); "
        "reference fewer distinct secrets, e.g. one JSON secret per group of users with a "
        "jsonKey per user"
    )
