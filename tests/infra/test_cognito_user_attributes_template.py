"""The template a stack with several CognitoUserAttributes synthesizes (imported pools)."""

from __future__ import annotations

import re

import pytest
from aws_cdk import App, CfnResource, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk.assertions import Capture, Match, Template

from cognito_seed_users import CognitoUserAttributes, OnDelete
from tests.infra.support import (
    OTHER_POOL_ID,
    POOL_ID,
    cdk_app,
    function_by_handler,
    granted_pool_id,
    lint_problems,
    role_of,
    template_json,
)

RESOURCE_TYPE = "Custom::CognitoUserAttributes"
COGNITO_ACTIONS = {
    "cognito-idp:AdminGetUser",
    "cognito-idp:AdminUpdateUserAttributes",
    "cognito-idp:AdminDeleteUserAttributes",
    "cognito-idp:DescribeUserPool",
}


@pytest.fixture(scope="module")
def three_users(tmp_path_factory: pytest.TempPathFactory) -> tuple[Stack, list[cognito.IUserPool]]:
    app: App = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    stack = Stack(app, "ThreeUsers")
    pool = cognito.UserPool.from_user_pool_id(stack, "Pool", POOL_ID)
    other = cognito.UserPool.from_user_pool_id(stack, "OtherPool", OTHER_POOL_ID)
    CognitoUserAttributes(
        stack,
        "CiBot",
        user_pool=pool,
        username="ci-bot",
        attributes={"email": "ci-bot@example.com", "custom:tenant_id": "acme", "nickname": None},
        client_metadata={"source": "tests"},
    )
    CognitoUserAttributes(
        stack,
        "Reporting",
        user_pool=pool,
        username="reporting-service",
        attributes={"custom:role": "reporting"},
        on_delete=OnDelete.RETAIN,
        mark_contacts_verified=False,
    )
    CognitoUserAttributes(
        stack, "Tester", user_pool=other, username="e2e", attributes={"locale": "en-GB"}
    )
    return stack, [pool, other]


@pytest.fixture(scope="module")
def template(three_users: tuple[Stack, list[cognito.IUserPool]]) -> Template:
    return Template.from_stack(three_users[0])


def policies(template: Template) -> dict[str, dict[str, object]]:
    found: dict[str, dict[str, object]] = template.find_resources("AWS::IAM::Policy")
    return found


def statements(template: Template) -> list[dict[str, object]]:
    return [
        statement
        for policy in policies(template).values()
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]
    ]


def actions(statement: dict[str, object]) -> list[str]:
    action = statement["Action"]
    return [action] if isinstance(action, str) else list(action)


def cognito_policies(template: Template) -> dict[str, dict[str, object]]:
    """The policies that grant Cognito actions, by logical id."""
    return {
        logical_id: policy
        for logical_id, policy in policies(template).items()
        if any(
            action.startswith("cognito-idp:")
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            for action in actions(statement)
        )
    }


def front_id(template: Template) -> str:
    logical_id, _ = function_by_handler(template.to_json(), "front.handler")
    return logical_id


def worker_role_id(template: Template) -> str:
    json_template = template.to_json()
    _, worker = function_by_handler(json_template, "worker.handler")
    return role_of(json_template, worker)


def test_three_users_share_one_provider_and_one_ledger(template: Template) -> None:
    template.resource_count_is(RESOURCE_TYPE, 3)
    # The front function, the worker and the dead-letter consumer, each with its role and logs.
    template.resource_count_is("AWS::Lambda::Function", 3)
    template.resource_count_is("AWS::IAM::Role", 3)
    template.resource_count_is("AWS::Logs::LogGroup", 3)
    template.resource_count_is("AWS::SQS::Queue", 2)
    template.resource_count_is("AWS::DynamoDB::Table", 1)
    # The ledger's key and the queues'.
    template.resource_count_is("AWS::KMS::Key", 2)


def test_every_resource_has_the_contract_properties_as_strings(template: Template) -> None:
    function_id = front_id(template)
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_equals(
            {
                "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
                "ServiceTimeout": "1800",
                "UserPoolId": POOL_ID,
                "Username": "ci-bot",
                "UserAttributes": [
                    {"Name": "custom:tenant_id", "Value": "acme"},
                    {"Name": "email", "Value": "ci-bot@example.com"},
                ],
                "AbsentAttributes": ["nickname"],
                "ClientMetadata": {"source": "tests"},
                "OnDelete": "RESTORE",
            }
        ),
    )
    template.has_resource_properties(
        RESOURCE_TYPE,
        Match.object_equals(
            {
                "ServiceToken": {"Fn::GetAtt": [function_id, "Arn"]},
                "ServiceTimeout": "1800",
                "UserPoolId": POOL_ID,
                "Username": "reporting-service",
                "UserAttributes": [{"Name": "custom:role", "Value": "reporting"}],
                "OnDelete": "RETAIN",
                "MarkContactsVerified": "false",
            }
        ),
    )


def test_optional_properties_are_omitted_when_not_declared(template: Template) -> None:
    tester = template.find_resources(
        RESOURCE_TYPE, {"Properties": {"Username": "e2e", "UserPoolId": OTHER_POOL_ID}}
    )
    [properties] = [resource["Properties"] for resource in tester.values()]
    assert set(properties) == {
        "ServiceToken",
        "ServiceTimeout",
        "UserPoolId",
        "Username",
        "UserAttributes",
        "OnDelete",
    }


def test_cognito_actions_are_allowed_only_on_the_declared_pools_one_policy_each(
    three_users: tuple[Stack, list[cognito.IUserPool]], template: Template
) -> None:
    stack, pools = three_users
    role_id = worker_role_id(template)
    found = cognito_policies(template)
    # Two users share the first pool: one policy per pool, each naming its pool only.
    assert len(found) == len(pools) == 2
    granted = []
    for logical_id, policy in found.items():
        assert policy["Properties"]["Roles"] == [{"Ref": role_id}], logical_id
        [statement] = policy["Properties"]["PolicyDocument"]["Statement"]
        assert set(actions(statement)) == COGNITO_ACTIONS
        assert statement["Effect"] == "Allow"
        granted.append(statement["Resource"])
    assert sorted(map(str, granted)) == sorted(
        str(stack.resolve(pool.user_pool_arn)) for pool in pools
    )


def test_each_pools_policy_is_named_after_the_pool(template: Template) -> None:
    """Readable and stable: the pool id, not an order or a hash of what else is declared."""
    found = cognito_policies(template)
    assert {granted_pool_id(policy) for policy in found.values()} == {POOL_ID, OTHER_POOL_ID}
    for logical_id, policy in found.items():
        readable = re.sub(r"[^A-Za-z0-9]", "", granted_pool_id(policy))
        assert re.fullmatch(
            rf"CognitoUserAttributesProviderCognitoAccess{readable}[0-9A-F]{{8}}", logical_id
        ), logical_id


def test_no_cognito_dynamodb_or_kms_statement_allows_every_resource(template: Template) -> None:
    # Key policies are not checked: there "*" means the key itself.
    checked = [
        statement
        for statement in statements(template)
        if any(
            action.split(":")[0] in {"cognito-idp", "dynamodb", "kms"}
            for action in actions(statement)
        )
    ]
    assert checked
    for statement in checked:
        resources = statement["Resource"]
        for resource in resources if isinstance(resources, list) else [resources]:
            assert resource != "*"
            assert not (isinstance(resource, str) and "*" in resource)


def test_ledger_access_is_scoped_to_the_ledger_and_its_key(template: Template) -> None:
    [table_id] = template.find_resources("AWS::DynamoDB::Table")
    ledger_key = Capture()
    template.has_resource_properties(
        "AWS::DynamoDB::Table",
        {"SSESpecification": {"KMSMasterKeyId": {"Fn::GetAtt": [ledger_key, "Arn"]}}},
    )
    keys = set(template.find_resources("AWS::KMS::Key"))
    assert ledger_key.as_string() in keys
    for logical_id, policy in policies(template).items():
        for statement in policy["Properties"]["PolicyDocument"]["Statement"]:
            services = {action.split(":")[0] for action in actions(statement)}
            resources = statement["Resource"]
            resources = resources if isinstance(resources, list) else [resources]
            if "dynamodb" in services:
                assert resources == [{"Fn::GetAtt": [table_id, "Arn"]}]
            if "kms" in services:
                [resource] = resources
                assert resource["Fn::GetAtt"][0] in keys
            if resources == [{"Fn::GetAtt": [ledger_key.as_string(), "Arn"]}] or (
                "dynamodb" in services
            ):
                # Only the worker reads and writes the ledger.
                roles = policy["Properties"]["Roles"]
                assert roles == [{"Ref": worker_role_id(template)}], logical_id


def test_each_function_logs_only_to_its_own_log_group(template: Template) -> None:
    functions = template.find_resources("AWS::Lambda::Function")
    assert len(functions) == 3
    for logical_id, function in functions.items():
        role_id = role_of(template.to_json(), function)
        role = template.to_json()["Resources"][role_id]
        assert "ManagedPolicyArns" not in role["Properties"]
        log_group_id = function["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
        logging = [
            statement
            for policy in policies(template).values()
            if policy["Properties"]["Roles"] == [{"Ref": role_id}]
            for statement in policy["Properties"]["PolicyDocument"]["Statement"]
            if any(action.startswith("logs:") for action in actions(statement))
        ]
        assert logging == [
            {
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Effect": "Allow",
                "Resource": {"Fn::GetAtt": [log_group_id, "Arn"]},
            }
        ], logical_id


def test_every_resource_depends_on_its_own_pools_policy_only(template: Template) -> None:
    """Removing a pool's last user then removes the policy it depends on (deleted after the
    user's Delete) and leaves the other pools' policies untouched."""
    policy_of_pool = {
        granted_pool_id(policy): logical_id
        for logical_id, policy in cognito_policies(template).items()
    }
    resources = template.find_resources(RESOURCE_TYPE)
    assert len(resources) == 3
    for logical_id, resource in resources.items():
        pool_id = resource["Properties"]["UserPoolId"]
        assert resource["DependsOn"] == [policy_of_pool[pool_id]], logical_id


def test_ledger_is_encrypted_with_a_rotating_key_recoverable_and_retained(
    template: Template,
) -> None:
    key = Capture()
    template.has_resource(
        "AWS::DynamoDB::Table",
        {
            "Properties": Match.object_like(
                {
                    "KeySchema": [
                        {"AttributeName": "pk", "KeyType": "HASH"},
                        {"AttributeName": "sk", "KeyType": "RANGE"},
                    ],
                    "AttributeDefinitions": [
                        {"AttributeName": "pk", "AttributeType": "S"},
                        {"AttributeName": "sk", "AttributeType": "S"},
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                    "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
                    "SSESpecification": {
                        "SSEEnabled": True,
                        "SSEType": "KMS",
                        "KMSMasterKeyId": {"Fn::GetAtt": [key, "Arn"]},
                    },
                    "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
                }
            ),
            "DeletionPolicy": "Retain",
            "UpdateReplacePolicy": "Retain",
        },
    )
    # The retained table is unreadable without its key.
    ledger_key = template.to_json()["Resources"][key.as_string()]
    assert ledger_key["Properties"]["EnableKeyRotation"] is True
    assert ledger_key["DeletionPolicy"] == ledger_key["UpdateReplacePolicy"] == "Retain"


def test_every_function_times_out_below_service_timeout_below_one_hour(
    template: Template,
) -> None:
    functions = template.find_resources("AWS::Lambda::Function").values()
    for resource in template.find_resources(RESOURCE_TYPE).values():
        service_timeout = int(resource["Properties"]["ServiceTimeout"])
        assert service_timeout < 3600
        for function in functions:
            assert function["Properties"]["Timeout"] < service_timeout


def test_functions_run_python_3_13_on_arm64_and_the_worker_knows_the_ledger(
    template: Template,
) -> None:
    [table_id] = template.find_resources("AWS::DynamoDB::Table")
    for function in template.find_resources("AWS::Lambda::Function").values():
        assert function["Properties"]["Runtime"] == "python3.13"
        assert function["Properties"]["Architectures"] == ["arm64"]
        assert function["Properties"]["MemorySize"] == 256
    _, worker = function_by_handler(template.to_json(), "worker.handler")
    assert worker["Properties"]["Environment"]["Variables"]["LEDGER_TABLE_NAME"] == {
        "Ref": table_id
    }
    for log_group in template.find_resources("AWS::Logs::LogGroup").values():
        assert log_group["Properties"]["RetentionInDays"] == 365


def test_template_passes_cfn_lint(three_users: tuple[Stack, list[cognito.IUserPool]]) -> None:
    assert lint_problems(template_json(three_users[0])) == []


def test_construct_exposes_function_ledger_and_resource(
    three_users: tuple[Stack, list[cognito.IUserPool]],
) -> None:
    stack, _ = three_users
    instances = [child for child in stack.node.children if isinstance(child, CognitoUserAttributes)]
    assert len(instances) == 3
    assert len({id(instance.function) for instance in instances}) == 1
    assert len({id(instance.ledger) for instance in instances}) == 1
    resource = instances[0].resource.node.default_child
    assert isinstance(resource, CfnResource)
    assert resource.cfn_resource_type == RESOURCE_TYPE
