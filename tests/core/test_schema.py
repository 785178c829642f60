"""Tables for ``pool_schema`` and ``schema_problems``: a declaration against a pool's schema."""

from __future__ import annotations

from decimal import Decimal

import pytest
from user_attributes.model import ABSENT, SecretRef, SecretSource
from user_attributes.schema import (
    SchemaAttribute,
    UserPool,
    as_stored,
    pool_schema,
    schema_problems,
    user_pool,
)

SECRET = "SECRET-VALUE-123"

# Shaped like DescribeUserPool's SchemaAttributes (constraints are strings there).
RAW_SCHEMA = [
    {"Name": "sub", "AttributeDataType": "String", "Mutable": False, "Required": True},
    {
        "Name": "email",
        "AttributeDataType": "String",
        "Mutable": True,
        "Required": True,
        "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"},
    },
    {"Name": "email_verified", "AttributeDataType": "Boolean", "Mutable": True, "Required": False},
    {
        "Name": "nickname",
        "AttributeDataType": "String",
        "Mutable": True,
        "Required": False,
        "StringAttributeConstraints": {"MinLength": "0", "MaxLength": "2048"},
    },
    {
        "Name": "updated_at",
        "AttributeDataType": "Number",
        "Mutable": True,
        "Required": False,
        "NumberAttributeConstraints": {"MinValue": "0"},
    },
    {
        "Name": "custom:tenant_id",
        "AttributeDataType": "String",
        "Mutable": True,
        "Required": False,
        "StringAttributeConstraints": {"MinLength": "3", "MaxLength": "36"},
    },
    {"Name": "custom:plan", "AttributeDataType": "String", "Mutable": True, "Required": False},
    {
        "Name": "custom:wide",
        "AttributeDataType": "String",
        "Mutable": True,
        "StringAttributeConstraints": {"MaxLength": "4096"},
    },
    {
        "Name": "custom:seats",
        "AttributeDataType": "Number",
        "Mutable": True,
        "Required": False,
        "NumberAttributeConstraints": {"MinValue": "0", "MaxValue": "1000"},
    },
    {"Name": "custom:beta", "AttributeDataType": "Boolean", "Mutable": True, "Required": False},
    {"Name": "custom:since", "AttributeDataType": "DateTime", "Mutable": True},
    {"Name": "custom:region_lock", "AttributeDataType": "String", "Mutable": False},
    {
        "Name": "custom:internal",
        "AttributeDataType": "String",
        "Mutable": True,
        "DeveloperOnlyAttribute": True,
        "StringAttributeConstraints": {"MaxLength": "8"},
    },
    {
        "Name": "dev:custom:listed",
        "AttributeDataType": "String",
        "Mutable": True,
        "DeveloperOnlyAttribute": True,
    },
]
SCHEMA = pool_schema(RAW_SCHEMA)


def test_pool_schema_indexes_entries_and_parses_string_constraints():
    assert set(SCHEMA) == {raw["Name"] for raw in RAW_SCHEMA}
    assert SCHEMA["custom:tenant_id"] == SchemaAttribute(
        name="custom:tenant_id",
        data_type="String",
        mutable=True,
        required=False,
        min_length=3,
        max_length=36,
    )
    assert SCHEMA["custom:seats"].min_value == Decimal(0)
    assert SCHEMA["custom:seats"].max_value == Decimal(1000)
    assert SCHEMA["custom:internal"].developer_only
    assert not SCHEMA["custom:region_lock"].mutable
    assert SCHEMA["email"].required


def test_pool_schema_defaults_missing_fields_to_a_mutable_optional_string():
    (entry,) = pool_schema([{"Name": "custom:bare"}]).values()

    assert entry == SchemaAttribute(
        name="custom:bare", data_type="String", mutable=True, required=False
    )


@pytest.mark.parametrize(
    "attributes",
    [
        pytest.param({"custom:tenant_id": "acme"}, id="string-within-bounds"),
        pytest.param({"custom:tenant_id": "a" * 36}, id="string-at-max"),
        pytest.param({"custom:tenant_id": "abc"}, id="string-at-min"),
        pytest.param({"custom:plan": "p" * 2048}, id="unconstrained-string-at-cap"),
        pytest.param({"custom:wide": "w" * 2048}, id="wide-string-at-cap"),
        pytest.param({"custom:seats": "0"}, id="number-at-min"),
        pytest.param({"custom:seats": "1000"}, id="number-at-max"),
        pytest.param({"updated_at": "1700000000"}, id="number-without-max"),
        pytest.param({"custom:beta": "true", "email_verified": "false"}, id="booleans"),
        pytest.param({"custom:since": "2024-01-01T00:00:00Z"}, id="datetime"),
        pytest.param({"nickname": ABSENT, "custom:plan": ABSENT}, id="optional-absent"),
        pytest.param({"email": "a@example.com"}, id="required-with-value"),
        pytest.param({"dev:custom:internal": "x"}, id="developer-only-via-dev-prefix"),
        pytest.param({"dev:custom:listed": "x"}, id="developer-only-listed-with-prefix"),
    ],
)
def test_valid_declarations_have_no_problems(attributes):
    assert schema_problems(attributes, SCHEMA) == []


@pytest.mark.parametrize(
    ("attributes", "expected"),
    [
        pytest.param(
            {"custom:nope": "x"}, "custom:nope: not in the user pool's schema", id="unknown"
        ),
        pytest.param(
            {"custom:region_lock": "x"},
            "custom:region_lock: immutable in this user pool",
            id="immutable",
        ),
        pytest.param(
            {"custom:region_lock": ABSENT},
            "custom:region_lock: immutable in this user pool",
            id="immutable-absent",
        ),
        pytest.param({"sub": "x"}, "sub: immutable in this user pool", id="sub"),
        pytest.param(
            {"email": ABSENT},
            "email: required in this user pool, cannot be declared absent",
            id="required-absent",
        ),
        pytest.param(
            {"custom:tenant_id": "a" * 37},
            "custom:tenant_id: value is longer than 36 characters",
            id="string-above-max",
        ),
        pytest.param(
            {"custom:tenant_id": "ab"},
            "custom:tenant_id: value is shorter than 3 characters",
            id="string-below-min",
        ),
        pytest.param(
            {"custom:plan": "p" * 2049},
            "custom:plan: value is longer than 2048 characters",
            id="unconstrained-string-over-cap",
        ),
        pytest.param(
            {"custom:wide": "w" * 2049},
            "custom:wide: value is longer than 2048 characters",
            id="schema-max-above-cap-still-capped",
        ),
        pytest.param(
            {"custom:seats": "many"},
            "custom:seats: value is not a whole number",
            id="number-nan-text",
        ),
        *(
            pytest.param(
                {"custom:seats": loose}, "custom:seats: value is not a whole number", id=label
            )
            for loose, label in [
                (" 5 ", "padded"),
                ("1e2", "exponent"),
                ("1_000", "underscore"),
                ("+7", "plus-sign"),
            ]
        ),
        pytest.param(
            {"custom:seats": "2.5"}, "custom:seats: value is not a whole number", id="fraction"
        ),
        pytest.param(
            {"custom:seats": "Infinity"},
            "custom:seats: value is not a whole number",
            id="infinity",
        ),
        pytest.param(
            {"custom:seats": "NaN"}, "custom:seats: value is not a whole number", id="nan"
        ),
        pytest.param(
            {"custom:seats": "-1"},
            "custom:seats: value is below the schema minimum 0",
            id="below-min",
        ),
        pytest.param(
            {"custom:seats": "1001"},
            "custom:seats: value is above the schema maximum 1000",
            id="above-max",
        ),
        pytest.param(
            {"custom:beta": "yes"},
            'custom:beta: value must be "true" or "false"',
            id="boolean",
        ),
        pytest.param(
            {"dev:custom:internal": "123456789"},
            "dev:custom:internal: value is longer than 8 characters",
            id="developer-only-validated-against-its-entry",
        ),
        pytest.param(
            {"dev:custom:plan": "x"},
            "dev:custom:plan: not in the user pool's schema",
            id="dev-prefix-on-ordinary-custom",
        ),
        pytest.param(
            {"dev:nickname": "x"},
            "dev:nickname: not in the user pool's schema",
            id="dev-prefix-on-standard",
        ),
    ],
)
def test_each_schema_problem_names_the_attribute(attributes, expected):
    (problem,) = schema_problems(attributes, SCHEMA)

    assert problem.startswith(expected)


def test_multiple_problems_are_all_reported_in_declaration_order():
    problems = schema_problems(
        {
            "custom:nope": "x",
            "nickname": "fine",
            "custom:seats": "5000",
            "email": ABSENT,
            "custom:region_lock": "x",
        },
        SCHEMA,
    )

    assert problems == [
        "custom:nope: not in the user pool's schema",
        "custom:seats: value is above the schema maximum 1000",
        "email: required in this user pool, cannot be declared absent",
        "custom:region_lock: immutable in this user pool (set only when a user is created)",
    ]


@pytest.mark.parametrize(
    ("name", "value"),
    [
        pytest.param("custom:tenant_id", SECRET * 3, id="string-too-long"),
        pytest.param("custom:tenant_id", "S", id="string-too-short"),
        pytest.param("custom:seats", SECRET, id="not-a-number"),
        pytest.param("custom:seats", "12345678901234", id="number-too-big"),
        pytest.param("custom:beta", SECRET, id="boolean"),
        pytest.param("custom:region_lock", SECRET, id="immutable"),
        pytest.param("custom:nope", SECRET, id="unknown"),
    ],
)
def test_no_problem_message_contains_the_value(name, value):
    problems = schema_problems({name: value}, SCHEMA)

    assert problems
    assert all(value not in problem for problem in problems)


# -- as_stored: how a case-insensitive pool stores sign-in attributes -------------------------

INSENSITIVE = UserPool(schema={}, case_insensitive=True)
SENSITIVE = UserPool(schema={})


@pytest.mark.parametrize(
    ("username_configuration", "case_insensitive"),
    [
        pytest.param({"UsernameConfiguration": {"CaseSensitive": False}}, True, id="insensitive"),
        pytest.param({"UsernameConfiguration": {"CaseSensitive": True}}, False, id="sensitive"),
        pytest.param({}, False, id="legacy-pool-without-configuration"),
    ],
)
def test_user_pool_reads_case_sensitivity(username_configuration, case_insensitive):
    assert user_pool(username_configuration).case_insensitive is case_insensitive


def test_case_insensitive_pool_stores_email_and_preferred_username_in_lower_case():
    declared = {
        "email": "Alice.Seed@Example.COM",
        "preferred_username": "Alice",
        "nickname": "Alice",
        "custom:plan": ABSENT,
    }

    assert as_stored(declared, INSENSITIVE) == {
        "email": "alice.seed@example.com",
        "preferred_username": "alice",
        "nickname": "Alice",
        "custom:plan": ABSENT,
    }


def test_case_insensitive_pool_keeps_a_referenced_address_as_its_secret_holds_it():
    reference = SecretRef(
        SecretSource.SECRETS_MANAGER,
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:Mail-AbCdEf",
    )

    assert as_stored({"email": reference}, INSENSITIVE) == {"email": reference}


def test_case_sensitive_pool_stores_values_as_declared():
    declared = {"email": "Alice.Seed@Example.COM", "preferred_username": "Alice"}

    assert as_stored(declared, SENSITIVE) == declared
