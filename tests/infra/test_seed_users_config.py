"""The seed-users file parser: good files, and one exact message per kind of bad field."""

from __future__ import annotations

import textwrap

import pytest

from cognito_seed_users import (
    OnDelete,
    SeedConfigError,
    SeedUser,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)
from tests.infra.support import REPO

SOURCE = "seed-users.yaml"
SECRET = "s3cr3t-value"


def parse(text: str, override: str | None = None) -> list[SeedUser]:
    document = load_seed_document(textwrap.dedent(text), source=SOURCE)
    return parse_seed_users(document, source=SOURCE, user_pool_id_override=override)


def test_example_file_parses() -> None:
    text = (REPO / "seed-users.yaml").read_text(encoding="utf-8")
    users = parse_seed_users(
        load_seed_document(text, source=SOURCE), source=SOURCE, user_pool_id_override=None
    )
    assert [user.username for user in users] == ["ci-bot", "reporting-service", "e2e-tester"]
    assert {user.user_pool_id for user in users} == {"eu-west-1_Example123"}
    assert users[0].client_metadata == {"source": "seed-users"}
    assert users[1].attributes["nickname"] is None
    assert users[1].on_delete is OnDelete.RESTORE
    assert users[2].attributes["email_verified"] == "false"


def test_full_user_entry_parses() -> None:
    [user] = parse(
        """
        userPoolId: eu-west-1_Default1
        users:
          - username: ci-bot
            userPoolId: eu-west-1_Other99
            attributes:
              custom:tenant_id: acme
              nickname: null
            clientMetadata: {source: bootstrap}
            onDelete: RETAIN
        """
    )
    assert user == SeedUser(
        user_pool_id="eu-west-1_Other99",
        username="ci-bot",
        attributes={"custom:tenant_id": "acme", "nickname": None},
        client_metadata={"source": "bootstrap"},
        on_delete=OnDelete.RETAIN,
    )


def test_json_is_accepted() -> None:
    [user] = parse(
        '{"userPoolId": "eu-west-1_Default1",'
        ' "users": [{"username": "ci-bot", "attributes": {"locale": "en-GB"}}]}'
    )
    assert user.on_delete is OnDelete.RESTORE
    assert user.client_metadata == {}


def test_context_override_replaces_the_top_level_pool() -> None:
    users = parse(
        """
        userPoolId: eu-west-1_Default1
        users:
          - {username: ci-bot, attributes: {locale: en-GB}}
        """,
        override="eu-west-1_Staging7",
    )
    assert [user.user_pool_id for user in users] == ["eu-west-1_Staging7"]


def test_override_alone_supplies_the_pool() -> None:
    users = parse("users: [{username: ci-bot, attributes: {locale: en-GB}}]", "eu-west-1_Dev1")
    assert deployment_region(users, source=SOURCE) == "eu-west-1"


def test_same_username_in_two_pools_is_two_users() -> None:
    users = parse(
        """
        users:
          - {username: ci-bot, userPoolId: eu-west-1_One1, attributes: {locale: en-GB}}
          - {username: ci-bot, userPoolId: eu-west-1_Two2, attributes: {locale: en-GB}}
        """
    )
    assert len(users) == 2


def test_pools_in_two_regions_cannot_share_a_stack() -> None:
    users = parse(
        """
        users:
          - {username: a, userPoolId: eu-west-1_One1, attributes: {locale: en-GB}}
          - {username: b, userPoolId: us-east-1_Two2, attributes: {locale: en-GB}}
        """
    )
    with pytest.raises(SeedConfigError) as raised:
        deployment_region(users, source=SOURCE)
    assert str(raised.value) == (
        "seed-users.yaml: userPoolId: the pools are in eu-west-1, us-east-1; a stack deploys to "
        "one region, so use one file per region"
    )


USER = "userPoolId: eu-west-1_Default1\nusers:\n  - username: ci-bot\n"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("- ci-bot", "must be a mapping with userPoolId and users", id="not-a-mapping"),
        pytest.param(
            "userPoolId: eu-west-1_A1\nuser: []",
            "user: unknown field (expected userPoolId, users)",
            id="unknown-top-level-field",
        ),
        pytest.param(
            "userPoolId: eu-west-1_A1",
            "users: required, a list (an empty one releases every user)",
            id="no-users",
        ),
        pytest.param(
            "userPoolId: 12\nusers: []", "userPoolId: must be a string", id="pool-not-a-string"
        ),
        pytest.param(
            "userPoolId: eu-west-1_A1\nusers: [ci-bot]",
            "users[0]: must be a mapping with username and attributes",
            id="user-not-a-mapping",
        ),
        pytest.param(
            "userPoolId: eu-west-1_A1\nusers: [{attributes: {locale: en-GB}}]",
            "users[0]: username: required, a non-empty string",
            id="no-username",
        ),
        pytest.param(
            "userPoolId: eu-west-1_A1\nusers: [{username: 42, attributes: {locale: en-GB}}]",
            "users[0]: username: required, a non-empty string (quote the number)",
            id="numeric-username",
        ),
        pytest.param(
            USER + "    attribute: {locale: en-GB}",
            "users[0] (ci-bot): attribute: unknown field "
            "(expected username, userPoolId, attributes, clientMetadata, onDelete)",
            id="unknown-user-field",
        ),
        pytest.param(
            USER,
            "users[0] (ci-bot): attributes: required, a mapping of attribute names to values",
            id="no-attributes",
        ),
        pytest.param(
            USER + "    attributes: {}",
            "users[0] (ci-bot): attributes: required, a mapping of attribute names to values",
            id="empty-attributes",
        ),
        pytest.param(
            USER + "    attributes: {email_verified: true}",
            "users[0] (ci-bot): attributes.email_verified: must be a string "
            "(quote true/false, yes/no, on/off)",
            id="boolean-value",
        ),
        pytest.param(
            USER + "    attributes: {custom:level: 3}",
            "users[0] (ci-bot): attributes.custom:level: must be a string (quote the number)",
            id="number-value",
        ),
        pytest.param(
            USER + "    attributes: {birthdate: 1990-01-31}",
            "users[0] (ci-bot): attributes.birthdate: must be a string (quote the date)",
            id="date-value",
        ),
        pytest.param(
            USER + f"    attributes: {{nickname: [{SECRET}]}}",
            "users[0] (ci-bot): attributes.nickname: must be a string",
            id="list-value",
        ),
        pytest.param(
            USER + "    attributes: {1: x}",
            "users[0] (ci-bot): attributes: names must be strings (quote the number)",
            id="numeric-name",
        ),
        pytest.param(
            USER + f"    attributes: {{Email: {SECRET}}}",
            "users[0] (ci-bot): attributes.Email: not a standard attribute; "
            "custom attributes start with custom:",
            id="unknown-name",
        ),
        pytest.param(
            USER + f"    attributes: {{sub: {SECRET}}}",
            "users[0] (ci-bot): attributes.sub: sub is the user's immutable identifier "
            "and cannot be written",
            id="sub",
        ),
        pytest.param(
            USER + f'    attributes: {{email_verified: "{SECRET}"}}',
            'users[0] (ci-bot): attributes.email_verified: value must be "true" or "false"',
            id="bad-boolean-string",
        ),
        pytest.param(
            USER + f'    attributes: {{phone_number: "{SECRET}"}}',
            "users[0] (ci-bot): attributes.phone_number: value is not an E.164 phone number "
            "(+ and up to 15 digits)",
            id="bad-phone-number",
        ),
        pytest.param(
            USER + f"    attributes: {{custom:tenant: {SECRET}, custom:Tenant: {SECRET}}}",
            "users[0] (ci-bot): attributes.custom:Tenant: declared more than once "
            "(see custom:tenant)",
            id="names-differ-only-in-case",
        ),
        pytest.param(
            "userPoolId: not-a-pool\nusers: [{username: ci-bot, attributes: {locale: en-GB}}]",
            "users[0] (ci-bot): UserPoolId: not a user pool id (expected <region>_<id>)",
            id="bad-pool-id",
        ),
        pytest.param(
            "users: [{username: ci-bot, attributes: {locale: en-GB}}]",
            "users[0] (ci-bot): userPoolId: required, here, at the top level or as context "
            "userPoolId",
            id="no-pool-anywhere",
        ),
        pytest.param(
            USER + "    attributes: {locale: en-GB}\n    clientMetadata: {attempt: 2}",
            "users[0] (ci-bot): clientMetadata.attempt: must be a string (quote the number)",
            id="metadata-number",
        ),
        pytest.param(
            USER + f"    attributes: {{locale: en-GB}}\n    clientMetadata: [{SECRET}]",
            "users[0] (ci-bot): clientMetadata: must be a mapping of strings to strings",
            id="metadata-not-a-mapping",
        ),
        pytest.param(
            USER + "    attributes: {locale: en-GB}\n    onDelete: keep",
            "users[0] (ci-bot): onDelete: must be restore or retain",
            id="bad-on-delete",
        ),
        pytest.param(
            USER + "    attributes: {locale: en-GB}\n"
            "  - {username: ci-bot, attributes: {nickname: x}}",
            "users[1] (ci-bot): declared again (see users[0]); merge the two entries",
            id="same-user-twice",
        ),
        pytest.param(
            USER + f"    attributes:\n      email: {SECRET}\n      email: {SECRET}",
            "line 6, column 7: not valid YAML: duplicate key email",
            id="duplicate-yaml-key",
        ),
        pytest.param(
            USER + f"    attributes: {{email: {SECRET}: x}}",
            "line 4, column 37: not valid YAML: expected ',' or '}', but got ':'",
            id="yaml-syntax",
        ),
    ],
)
def test_bad_file_gives_one_message_naming_file_user_and_field(text: str, message: str) -> None:
    with pytest.raises(SeedConfigError) as raised:
        parse(text)
    assert str(raised.value) == f"{SOURCE}: {message}"
    assert SECRET not in str(raised.value)


def test_per_user_pool_cannot_be_silently_retargeted_by_the_override() -> None:
    with pytest.raises(SeedConfigError) as raised:
        parse(
            "users: [{username: ci-bot, userPoolId: eu-west-1_Prod1, attributes: {locale: x}}]",
            override="eu-west-1_Dev1",
        )
    assert str(raised.value) == (
        "seed-users.yaml: users[0] (ci-bot): userPoolId: set for this user, so the userPoolId "
        "context cannot retarget it; remove one of them"
    )
