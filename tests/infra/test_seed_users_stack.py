"""SeedUsersStack: one resource per seed user, stable ids, and an output without values."""

from __future__ import annotations

import json

import pytest
from aws_cdk.assertions import Template

from cognito_seed_users import OnDelete, SeedUser
from stacks import SeedUsersStack
from tests.infra.support import OTHER_POOL_ID, POOL_ID, cdk_app

RESOURCE_TYPE = "Custom::CognitoUserAttributes"
SECRET = "s3cr3t-value"


def user(username: str, pool: str = POOL_ID, **attributes: str | None) -> SeedUser:
    return SeedUser(
        user_pool_id=pool, username=username, attributes=attributes or {"custom:tenant": SECRET}
    )


def logical_ids_by_username(template: Template) -> dict[tuple[str, str], str]:
    return {
        (resource["Properties"]["UserPoolId"], resource["Properties"]["Username"]): logical_id
        for logical_id, resource in template.find_resources(RESOURCE_TYPE).items()
    }


@pytest.fixture(scope="module")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Template]:
    """Every stack these tests look at, built in one app before it synthesizes once."""
    app = cdk_app(tmp_path_factory.mktemp("cdk.out"))
    seed_users = [
        SeedUser(
            user_pool_id=POOL_ID,
            username="ci-bot",
            attributes={"email": f"{SECRET}@example.com", "nickname": None},
            client_metadata={"source": SECRET},
            on_delete=OnDelete.RETAIN,
        ),
        user("a.b"),
        user("a_b"),
        user("ci-bot", OTHER_POOL_ID),
    ]
    stacks = {
        "seed": SeedUsersStack(app, "Seed", seed_users=seed_users),
        "alone": SeedUsersStack(app, "Alone", seed_users=[user("ci-bot", OTHER_POOL_ID)]),
        "many": SeedUsersStack(
            app, "Many", seed_users=[user(f"service-account-{index:03}") for index in range(40)]
        ),
    }
    return {name: Template.from_stack(stack) for name, stack in stacks.items()}


@pytest.fixture(scope="module")
def template(templates: dict[str, Template]) -> Template:
    return templates["seed"]


def test_each_seed_user_is_one_resource_even_when_names_look_alike(template: Template) -> None:
    assert set(logical_ids_by_username(template)) == {
        (POOL_ID, "ci-bot"),
        (POOL_ID, "a.b"),
        (POOL_ID, "a_b"),
        (OTHER_POOL_ID, "ci-bot"),
    }
    template.resource_count_is("AWS::Lambda::Function", 3)  # one provider


def test_seed_user_declaration_reaches_the_resource(template: Template) -> None:
    template.has_resource_properties(
        RESOURCE_TYPE,
        {
            "UserPoolId": POOL_ID,
            "Username": "ci-bot",
            "UserAttributes": [{"Name": "email", "Value": f"{SECRET}@example.com"}],
            "AbsentAttributes": ["nickname"],
            "ClientMetadata": {"source": SECRET},
            "OnDelete": "RETAIN",
        },
    )


def test_output_names_users_and_attributes_never_values(template: Template) -> None:
    [output] = template.find_outputs("ManagedUsers").values()
    assert SECRET not in json.dumps(output)
    assert json.loads(output["Value"]) == {
        POOL_ID: {
            "a.b": ["custom:tenant"],
            "a_b": ["custom:tenant"],
            "ci-bot": ["email", "nickname"],
        },
        OTHER_POOL_ID: {"ci-bot": ["custom:tenant"]},
    }


def test_logical_id_of_a_user_does_not_depend_on_the_other_users(
    templates: dict[str, Template],
) -> None:
    key = (OTHER_POOL_ID, "ci-bot")
    assert (
        logical_ids_by_username(templates["alone"])[key]
        == logical_ids_by_username(templates["seed"])[key]
    )


def test_output_falls_back_to_counts_when_long(templates: dict[str, Template]) -> None:
    [output] = templates["many"].find_outputs("ManagedUsers").values()
    assert output["Value"] == "users: 40, pools: 1 (too many to list)"
