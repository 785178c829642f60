"""Tables for ``parse_properties``: what a valid declaration becomes, and every refusal."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from user_attributes.errors import InvalidDeclaration
from user_attributes.model import ABSENT, Declaration, OnDelete, Target
from user_attributes.properties import parse_properties

POOL = "eu-west-1_AbCdEf123"
SECRET = "SECRET-VALUE-123"


def props(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        "UserPoolId": POOL,
        "Username": "ci-bot",
        "UserAttributes": [{"Name": "custom:tenant_id", "Value": "acme"}],
    }
    base.update(overrides)
    return {key: value for key, value in base.items() if value is not None}


def attrs(**pairs: str) -> list[dict[str, str]]:
    return [{"Name": name.replace("__", ":"), "Value": value} for name, value in pairs.items()]


def problems_of(properties: dict[str, Any]) -> tuple[str, ...]:
    with pytest.raises(InvalidDeclaration) as caught:
        parse_properties(properties)
    return caught.value.problems


# -- valid ----------------------------------------------------------------------------------


def test_minimal_declaration_parses_with_defaults():
    declaration = parse_properties(props())

    assert declaration == Declaration(
        target=Target(POOL, "ci-bot"),
        attributes={"custom:tenant_id": "acme"},
        client_metadata={},
        on_delete=OnDelete.RESTORE,
    )


def test_full_declaration_parses_every_property():
    declaration = parse_properties(
        props(
            ServiceTimeout="300",
            UserAttributes=[
                {"Name": "custom:tenant_id", "Value": "acme"},
                {"Name": "email", "Value": "ci-bot@example.com"},
                {"Name": "email_verified", "Value": "false"},
                {"Name": "phone_number", "Value": "+441234567890"},
                {"Name": "updated_at", "Value": "1700000000"},
                {"Name": "dev:custom:internal", "Value": "x"},
            ],
            AbsentAttributes=["nickname", "custom:plan"],
            ClientMetadata={"source": "bootstrap"},
            OnDelete="RETAIN",
            MarkContactsVerified="true",
        )
    )

    assert declaration.target == Target(POOL, "ci-bot")
    assert declaration.attributes == {
        "custom:tenant_id": "acme",
        "email": "ci-bot@example.com",
        "email_verified": "false",
        "phone_number": "+441234567890",
        "phone_number_verified": "true",
        "updated_at": "1700000000",
        "dev:custom:internal": "x",
        "nickname": ABSENT,
        "custom:plan": ABSENT,
    }
    assert declaration.client_metadata == {"source": "bootstrap"}
    assert declaration.on_delete is OnDelete.RETAIN


def test_absent_attributes_alone_are_a_declaration():
    declaration = parse_properties(props(UserAttributes=None, AbsentAttributes=["nickname"]))

    assert declaration.attributes == {"nickname": ABSENT}


@pytest.mark.parametrize(
    ("user_attributes", "absent", "mark", "expected"),
    [
        pytest.param(
            attrs(email="a@example.com"),
            [],
            None,
            {"email": "a@example.com", "email_verified": "true"},
            id="email-gets-implicit-flag",
        ),
        pytest.param(
            attrs(phone_number="+15555550100"),
            [],
            None,
            {"phone_number": "+15555550100", "phone_number_verified": "true"},
            id="phone-gets-implicit-flag",
        ),
        pytest.param(
            attrs(email="a@example.com", phone_number="+15555550100"),
            [],
            "true",
            {
                "email": "a@example.com",
                "email_verified": "true",
                "phone_number": "+15555550100",
                "phone_number_verified": "true",
            },
            id="both-with-explicit-mark-true",
        ),
        pytest.param(
            attrs(email="a@example.com", phone_number="+15555550100"),
            [],
            "false",
            {"email": "a@example.com", "phone_number": "+15555550100"},
            id="mark-contacts-verified-false-adds-nothing",
        ),
        pytest.param(
            attrs(email="a@example.com", email_verified="false"),
            [],
            None,
            {"email": "a@example.com", "email_verified": "false"},
            id="declared-flag-kept",
        ),
        pytest.param(
            attrs(email="a@example.com"),
            ["email_verified"],
            None,
            {"email": "a@example.com", "email_verified": ABSENT},
            id="flag-declared-absent-kept-absent",
        ),
        pytest.param(
            attrs(nickname="n"),
            ["email", "phone_number"],
            None,
            {"nickname": "n", "email": ABSENT, "phone_number": ABSENT},
            id="addresses-declared-absent-get-no-flag",
        ),
        pytest.param(
            attrs(nickname="n"),
            [],
            None,
            {"nickname": "n"},
            id="no-address-no-flag",
        ),
    ],
)
def test_implicit_verified_flags(user_attributes, absent, mark, expected):
    declaration = parse_properties(
        props(UserAttributes=user_attributes, AbsentAttributes=absent, MarkContactsVerified=mark)
    )

    assert dict(declaration.attributes) == expected


# -- one problem each ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("overrides", "fragment"),
    [
        pytest.param({"Userpoolid": POOL}, "Userpoolid: unknown property", id="unknown-property"),
        pytest.param({"UserPoolId": None}, "UserPoolId: required", id="missing-pool"),
        pytest.param({"Username": None}, "Username: required", id="missing-username"),
        pytest.param({"Username": ""}, "Username: required", id="empty-username"),
        pytest.param({"UserPoolId": 42}, "UserPoolId: required", id="non-string-pool"),
        pytest.param({"UserPoolId": "not-a-pool"}, "UserPoolId: not a user pool id", id="bad-pool"),
        pytest.param(
            {"UserPoolId": "eu-west-1_" + "a" * 50},
            "UserPoolId: not a user pool id",
            id="long-pool",
        ),
        pytest.param({"Username": "ci bot"}, "Username: must be 1 to 128", id="username-space"),
        pytest.param({"Username": "u" * 129}, "Username: must be 1 to 128", id="username-long"),
        pytest.param(
            {"UserAttributes": [{"Name": "custom:flag", "Value": True}]},
            "UserAttributes[0] (custom:flag).Value: must be a string",
            id="bool-value",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "custom:seats", "Value": 42}]},
            "UserAttributes[0] (custom:seats).Value: must be a string",
            id="int-value",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": 7, "Value": "x"}]},
            "UserAttributes[0].Name: must be a string",
            id="non-string-name",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "nickname"}]},
            "UserAttributes[0]: must be an object with Name and either Value or ValueFrom",
            id="missing-value-key",
        ),
        pytest.param(
            {"UserAttributes": {"Name": "nickname", "Value": "x"}},
            "UserAttributes: must be a list",
            id="user-attributes-not-a-list",
        ),
        pytest.param(
            {"UserAttributes": attrs(nickname="")},
            "UserAttributes[0] (nickname): value is empty",
            id="empty-value",
        ),
        pytest.param(
            {"UserAttributes": attrs(nickname="x" * 2049)},
            "UserAttributes[0] (nickname): value is longer than 2048 characters",
            id="value-too-long",
        ),
        pytest.param(
            {"UserAttributes": attrs(custom__a="x\x00y")},
            "UserAttributes[0] (custom:a): value contains a NUL character",
            id="nul-in-value",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "dev:custom:" + "n" * 22, "Value": "x"}]},
            "must be 1 to 32 characters",
            id="name-longer-than-32",
        ),
        pytest.param(
            {"UserAttributes": attrs(favourite_colour="blue")},
            "UserAttributes[0] (favourite_colour): not a standard attribute",
            id="unknown-standard-name",
        ),
        pytest.param(
            {"UserAttributes": attrs(sub="x")},
            "UserAttributes[0] (sub): sub is the user's immutable identifier",
            id="sub",
        ),
        pytest.param(
            {"AbsentAttributes": ["sub"]},
            "AbsentAttributes[0] (sub): sub is the user's immutable identifier",
            id="sub-absent",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "custom:" + "c" * 21, "Value": "x"}]},
            "a custom attribute name is 1 to 20 characters after custom:",
            id="custom-name-too-long",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "custom:", "Value": "x"}]},
            "a custom attribute name is 1 to 20 characters after custom:",
            id="custom-name-empty",
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "custom:a b", "Value": "x"}]},
            "(custom:a b): may contain only letters, digits",
            id="name-with-space",
        ),
        pytest.param(
            {"UserAttributes": attrs(nickname="a", custom__x="b") + attrs(nickname="c")},
            "UserAttributes[2] (nickname): declared more than once (see nickname)",
            id="duplicate",
        ),
        pytest.param(
            {
                "UserAttributes": [
                    {"Name": "custom:Tenant", "Value": "a"},
                    {"Name": "custom:tenant", "Value": "b"},
                ]
            },
            "UserAttributes[1] (custom:tenant): declared more than once (see custom:Tenant)",
            id="duplicate-case-only",
        ),
        pytest.param(
            {"UserAttributes": attrs(nickname="a"), "AbsentAttributes": ["nickname"]},
            "AbsentAttributes[0] (nickname): declared more than once (see nickname)",
            id="value-and-absent",
        ),
        pytest.param(
            {"AbsentAttributes": "nickname"},
            "AbsentAttributes: must be a list of attribute names",
            id="absent-not-a-list",
        ),
        pytest.param(
            {"AbsentAttributes": [3]},
            "AbsentAttributes[0]: must be a string",
            id="absent-non-string",
        ),
        pytest.param(
            {"UserAttributes": attrs(email_verified="yes")},
            'UserAttributes[0] (email_verified): value must be "true" or "false"',
            id="bad-email-verified",
        ),
        pytest.param(
            {"UserAttributes": attrs(phone_number_verified="True")},
            'UserAttributes[0] (phone_number_verified): value must be "true" or "false"',
            id="bad-phone-verified",
        ),
        pytest.param(
            {"UserAttributes": attrs(phone_number="07700 900123")},
            "UserAttributes[0] (phone_number): value is not an E.164 phone number",
            id="bad-phone",
        ),
        pytest.param(
            {"UserAttributes": attrs(phone_number="+0123456")},
            "UserAttributes[0] (phone_number): value is not an E.164 phone number",
            id="phone-leading-zero",
        ),
        pytest.param(
            {"UserAttributes": attrs(phone_number="+1234567890123456")},
            "UserAttributes[0] (phone_number): value is not an E.164 phone number",
            id="phone-too-long",
        ),
        pytest.param(
            {"UserAttributes": attrs(updated_at="2024-01-01")},
            "UserAttributes[0] (updated_at): value must be a whole number of seconds",
            id="non-integer-updated-at",
        ),
        pytest.param(
            {"OnDelete": "restore"}, "OnDelete: must be one of RESTORE, RETAIN", id="bad-on-delete"
        ),
        pytest.param(
            {"OnDelete": True}, "OnDelete: must be one of RESTORE, RETAIN", id="bool-on-delete"
        ),
        pytest.param(
            {"MarkContactsVerified": "yes"},
            'MarkContactsVerified: must be "true" or "false"',
            id="bad-mark-contacts-verified",
        ),
        pytest.param(
            {"MarkContactsVerified": True},
            'MarkContactsVerified: must be "true" or "false"',
            id="bool-mark-contacts-verified",
        ),
        pytest.param(
            {"ClientMetadata": {"source": 1}},
            "ClientMetadata (source): keys and values must be strings",
            id="client-metadata-non-string",
        ),
        pytest.param(
            {"ClientMetadata": ["source"]},
            "ClientMetadata: must be a map of strings to strings",
            id="client-metadata-not-a-map",
        ),
        pytest.param(
            {"ClientMetadata": {f"k{i}": "v" for i in range(51)}},
            "ClientMetadata: more than 50 entries",
            id="client-metadata-too-many",
        ),
        pytest.param(
            {"UserAttributes": []},
            "UserAttributes: declares no attribute",
            id="nothing-declared",
        ),
        pytest.param(
            {"UserAttributes": None},
            "UserAttributes: declares no attribute",
            id="nothing-declared-missing-lists",
        ),
    ],
)
def test_each_problem_is_refused_with_a_message_naming_it(overrides, fragment):
    problems = problems_of(props(**overrides))

    assert any(fragment in problem for problem in problems), problems


def test_several_problems_are_reported_together_in_one_message():
    with pytest.raises(InvalidDeclaration) as caught:
        parse_properties(
            {
                "UserPoolId": "nope",
                "Bogus": "x",
                "UserAttributes": [
                    {"Name": "sub", "Value": "x"},
                    {"Name": "email_verified", "Value": "maybe"},
                ],
                "OnDelete": "KEEP",
            }
        )

    problems = caught.value.problems
    expected = [
        "Bogus: unknown property",
        "UserPoolId: not a user pool id",
        "Username: required",
        "UserAttributes[0] (sub)",
        "UserAttributes[1] (email_verified)",
        "OnDelete: must be one of",
    ]
    for fragment in expected:
        assert any(fragment in problem for problem in problems), fragment
    assert len(problems) == len(expected)
    assert str(caught.value) == "; ".join(problems)


@pytest.mark.parametrize(
    "overrides",
    [
        pytest.param({"UserAttributes": attrs(nickname="x" * 2049 + SECRET)}, id="too-long"),
        pytest.param({"UserAttributes": attrs(email_verified=SECRET)}, id="bad-boolean"),
        pytest.param({"UserAttributes": attrs(phone_number=SECRET)}, id="bad-phone"),
        pytest.param({"UserAttributes": attrs(updated_at=SECRET)}, id="bad-updated-at"),
        pytest.param({"UserAttributes": attrs(nickname=SECRET + "\x00")}, id="nul"),
        pytest.param({"UserAttributes": attrs(sub=SECRET)}, id="sub"),
        pytest.param({"UserAttributes": attrs(nonsense=SECRET)}, id="unknown-name"),
        pytest.param(
            {"UserAttributes": attrs(nickname=SECRET) + attrs(nickname=SECRET)}, id="duplicate"
        ),
        pytest.param(
            {"UserAttributes": [{"Name": "nickname", "Value": SECRET, "Extra": SECRET}]},
            id="extra-key",
        ),
        pytest.param({"UserAttributes": [{"Name": "no such", "Value": SECRET}]}, id="bad-name"),
        pytest.param({"ClientMetadata": {"k": SECRET, "n": 1}}, id="client-metadata"),
        pytest.param({"OnDelete": SECRET}, id="on-delete"),
        pytest.param({"MarkContactsVerified": SECRET}, id="mark-contacts-verified"),
        pytest.param({"UserPoolId": SECRET}, id="pool-id"),
        pytest.param({"Username": SECRET + " with spaces"}, id="username"),
    ],
)
def test_no_message_contains_the_offending_value(overrides):
    with pytest.raises(InvalidDeclaration) as caught:
        parse_properties(props(**overrides))

    assert caught.value.problems
    assert SECRET not in str(caught.value)
    assert all(SECRET not in problem for problem in caught.value.problems)


# -- fuzzing ------------------------------------------------------------------------------

JSON_SCALARS = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
JSON = st.recursive(
    JSON_SCALARS,
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
KEYS = st.sampled_from(
    [
        "UserPoolId",
        "Username",
        "UserAttributes",
        "AbsentAttributes",
        "ClientMetadata",
        "OnDelete",
        "MarkContactsVerified",
        "ServiceToken",
    ]
) | st.text(max_size=10)
ATTRIBUTE_ITEM = st.fixed_dictionaries(
    {"Name": st.sampled_from(["email", "custom:a", "sub", "phone_number", "x"]) | JSON},
    optional={"Value": JSON},
)
LIKELY = st.fixed_dictionaries(
    {},
    optional={
        "UserPoolId": st.sampled_from([POOL, "bad"]) | JSON,
        "Username": st.sampled_from(["ci-bot", ""]) | JSON,
        "UserAttributes": st.lists(ATTRIBUTE_ITEM, max_size=4) | JSON,
        "AbsentAttributes": st.lists(st.sampled_from(["nickname", "email"]) | JSON, max_size=3)
        | JSON,
        "ClientMetadata": st.dictionaries(st.text(max_size=5), JSON, max_size=3) | JSON,
        "OnDelete": st.sampled_from(["RESTORE", "RETAIN"]) | JSON,
        "MarkContactsVerified": st.sampled_from(["true", "false"]) | JSON,
    },
)


@settings(max_examples=200, deadline=None)
@given(properties=LIKELY | st.dictionaries(KEYS, JSON, max_size=6))
def test_parse_properties_only_returns_a_declaration_or_raises_invalid_declaration(properties):
    refusal: InvalidDeclaration | None = None
    try:
        result = parse_properties(properties)
    except InvalidDeclaration as error:
        refusal = error
    if refusal is not None:
        assert refusal.problems
        assert str(refusal) == "; ".join(refusal.problems)
    else:
        assert isinstance(result, Declaration)
        assert result.attributes
        assert all(isinstance(v, str) or v is ABSENT for v in result.attributes.values())
