"""Bad ``Custom::CognitoUserAttributes`` properties, refused at deploy time before any AWS call.

Each row is a change to a valid declaration and the exact problems ``parse_properties`` must
report (``InvalidDeclaration.problems``, in order). Properties arrive as CloudFormation sends
them: every scalar a string, so a real boolean or number is itself a bad input (a direct caller
or a hand-written template). No problem may quote a value (``SECRET`` stands for one).

Rows marked ``# DEFECT`` fail with the current code; the reply to issue 5 lists them.
"""

from __future__ import annotations

import contextlib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from user_attributes.errors import InvalidDeclaration
from user_attributes.properties import parse_properties

POOL = "eu-west-1_AbCdEf123"
SECRET = "s3cr3t-VALUE-7a2"
SECRET_ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:seed/ci-bot-AbCdEf"
NAME_CHARS = "may contain only letters, digits and _ : . -"
USERNAME_RULE = "Username: must be 1 to 128 characters without spaces or control characters"
ITEM_SHAPE = "must be an object with Name and either Value or ValueFrom"
REAPPLY_TOKEN_RULE = (
    "ReapplyToken: must be a string of 1 to 128 printable characters "
    "(no control characters or line breaks)"
)
FULLWIDTH_EMAIL = "\uff45\uff4d\uff41\uff49\uff4c"
"""``email`` in fullwidth letters: a look-alike of a standard attribute name."""
DROP = object()
"""Marks a property to remove from the valid declaration."""


def properties(**changes: Any) -> dict[str, Any]:
    valid: dict[str, Any] = {
        "ServiceToken": "arn:aws:lambda:eu-west-1:123456789012:function:provider",
        "ServiceTimeout": "420",
        "UserPoolId": POOL,
        "Username": "ci-bot",
        "UserAttributes": [{"Name": "custom:tenant_id", "Value": SECRET}],
    }
    valid.update(changes)
    return {key: value for key, value in valid.items() if value is not DROP}


def attribute(name: str, value: object = SECRET) -> dict[str, Any]:
    return properties(UserAttributes=[{"Name": name, "Value": value}])


def reference(value_from: object) -> dict[str, Any]:
    return properties(UserAttributes=[{"Name": "custom:tenant_id", "ValueFrom": value_from}])


ROWS = [
    # -- wrong types --------------------------------------------------------------------------
    pytest.param(
        properties(UserAttributes={"custom:tenant_id": SECRET}),
        ["UserAttributes: must be a list of {Name, Value}"],
        id="attributes-a-map",
    ),
    pytest.param(
        properties(UserAttributes=f'[{{"Name": "nickname", "Value": "{SECRET}"}}]'),
        ["UserAttributes: must be a list of {Name, Value}"],
        id="attributes-a-json-string",
    ),
    pytest.param(
        attribute("custom:seats", 42),
        ["UserAttributes[0] (custom:seats).Value: must be a string"],
        id="value-a-number",
    ),
    pytest.param(
        properties(UserAttributes=[{"Name": 7, "Value": SECRET}]),
        ["UserAttributes[0].Name: must be a string"],
        id="name-a-number",
    ),
    pytest.param(
        properties(Username=["ci-bot"]),
        ["Username: required, a non-empty string"],
        id="username-a-list",
    ),
    pytest.param(
        properties(UserPoolId=12345),
        ["UserPoolId: required, a non-empty string"],
        id="pool-a-number",
    ),
    pytest.param(
        properties(AbsentAttributes="nickname"),
        ["AbsentAttributes: must be a list of attribute names"],
        id="absent-a-string",
    ),
    pytest.param(
        properties(ClientMetadata=[SECRET]),
        ["ClientMetadata: must be a map of strings to strings"],
        id="metadata-a-list",
    ),
    pytest.param(
        reference(SECRET_ARN),
        ["UserAttributes[0] (custom:tenant_id).ValueFrom: must be an object of non-empty strings"],
        id="reference-a-string",
    ),
    # -- booleans and numbers, real or stringified the wrong way -------------------------------
    pytest.param(
        attribute("email_verified", True),
        ["UserAttributes[0] (email_verified).Value: must be a string"],
        id="real-boolean-value",
    ),
    pytest.param(
        attribute("email_verified", "True"),
        ['UserAttributes[0] (email_verified): value must be "true" or "false"'],
        id="capitalised-boolean-string",
    ),
    pytest.param(
        properties(MarkContactsVerified=False),
        ['MarkContactsVerified: must be "true" or "false"'],
        id="real-boolean-option",
    ),
    pytest.param(
        properties(MarkContactsVerified="1"),
        ['MarkContactsVerified: must be "true" or "false"'],
        id="numeric-boolean-option",
    ),
    pytest.param(
        properties(OnDelete="restore"),
        ["OnDelete: must be one of RESTORE, RETAIN"],
        id="lower-case-on-delete",
    ),
    pytest.param(
        attribute("updated_at", "1.7e9"),
        ["UserAttributes[0] (updated_at): value must be a whole number of seconds"],
        id="float-seconds",
    ),
    pytest.param(
        attribute("phone_number", "+44 7700 900123"),
        [
            "UserAttributes[0] (phone_number): value is not an E.164 phone number (+ and up to 15 "
            "digits)"
        ],
        id="phone-with-spaces",
    ),
    pytest.param(
        properties(ClientMetadata={"attempt": 2}),
        ["ClientMetadata (attempt): keys and values must be strings"],
        id="metadata-number",
    ),
    pytest.param(
        reference({"ParameterName": "/seed/ci-bot", "ParameterVersion": "latest"}),
        [
            "UserAttributes[0] (custom:tenant_id).ValueFrom: ParameterName must be an SSM "
            "parameter name or ARN, with an optional numeric ParameterVersion"
        ],
        id="parameter-version-not-a-number",
    ),
    # -- missing and unknown keys -------------------------------------------------------------
    pytest.param(
        properties(UserPoolId=DROP),
        ["UserPoolId: required, a non-empty string"],
        id="no-pool",
    ),
    pytest.param(
        properties(Username=DROP),
        ["Username: required, a non-empty string"],
        id="no-username",
    ),
    pytest.param(
        properties(UserAttributes=DROP),
        ["UserAttributes: declares no attribute (and AbsentAttributes is empty)"],
        id="no-attributes",
    ),
    pytest.param(
        properties(UserAttributes=[{"Name": "nickname"}]),
        [f"UserAttributes[0]: {ITEM_SHAPE}"],
        id="no-value",
    ),
    pytest.param(
        properties(UserAttributes=[{"name": "nickname", "value": SECRET}]),
        [f"UserAttributes[0]: {ITEM_SHAPE}"],
        id="lower-case-item-keys",
    ),
    pytest.param(
        properties(
            UserAttributes=[{"Name": "nickname", "Value": SECRET, "ValueFrom": {"SecretId": "x"}}]
        ),
        [f"UserAttributes[0]: {ITEM_SHAPE}"],
        id="value-and-reference",
    ),
    pytest.param(
        properties(userPoolId=POOL),
        ["userPoolId: unknown property"],
        id="unknown-property-case",
    ),
    pytest.param(
        properties(Mutable="true"),
        ["Mutable: unknown property"],
        id="unknown-property",
    ),
    pytest.param(
        reference({}),
        [
            "UserAttributes[0] (custom:tenant_id).ValueFrom: needs SecretId (Secrets Manager) or "
            "ParameterName (SSM)"
        ],
        id="empty-reference",
    ),
    pytest.param(
        reference({"SecretId": "seed/ci-bot"}),
        [
            "UserAttributes[0] (custom:tenant_id).ValueFrom: SecretId must be a secret's full ARN, "
            "with optional JsonKey, VersionStage or VersionId"
        ],
        id="secret-by-name",
    ),
    pytest.param(
        # DEFECT (unclear): the SecretId is a full ARN; what is wrong is the second source.
        reference({"SecretId": SECRET_ARN, "ParameterName": "/seed/ci-bot"}),
        [
            "UserAttributes[0] (custom:tenant_id).ValueFrom: give SecretId or ParameterName, "
            "not both"
        ],
        id="secret-and-parameter",
    ),
    # -- empty and huge values ----------------------------------------------------------------
    pytest.param(
        properties(Username=""),
        ["Username: required, a non-empty string"],
        id="empty-username",
    ),
    pytest.param(
        attribute("nickname", ""),
        [
            "UserAttributes[0] (nickname): value is empty; declare the attribute absent (null) to "
            "remove it"
        ],
        id="empty-value",
    ),
    pytest.param(
        attribute("nickname", SECRET * 200),
        ["UserAttributes[0] (nickname): value is longer than 2048 characters"],
        id="huge-value",
    ),
    pytest.param(
        attribute("", SECRET),
        ["UserAttributes[0] (): must be 1 to 32 characters"],
        id="empty-name",
    ),
    pytest.param(
        properties(Username="u" * 129),
        [USERNAME_RULE],
        id="username-129-characters",
    ),
    pytest.param(
        properties(UserPoolId="eu-west-1_" + "A" * 50),
        ["UserPoolId: not a user pool id (expected <region>_<id>)"],
        id="pool-id-too-long",
    ),
    pytest.param(
        properties(ClientMetadata={f"key{i}": SECRET for i in range(51)}),
        ["ClientMetadata: more than 50 entries"],
        id="51-metadata-entries",
    ),
    pytest.param(
        # DEFECT: accepted; a pool has at most 50 custom attributes (Cognito quota), so this can
        # never deploy, and synth (which runs this parser) should say so.
        properties(UserAttributes=[{"Name": f"custom:a{i}", "Value": SECRET} for i in range(1000)]),
        ["UserAttributes: declares 1000 custom attributes; a user pool has at most 50"],
        id="1000-attributes",
    ),
    # -- names differing only in case ---------------------------------------------------------
    pytest.param(
        properties(
            UserAttributes=[
                {"Name": "custom:plan", "Value": SECRET},
                {"Name": "custom:PLAN", "Value": SECRET},
            ]
        ),
        ["UserAttributes[1] (custom:PLAN): declared more than once (see custom:plan)"],
        id="names-differ-in-case",
    ),
    pytest.param(
        properties(AbsentAttributes=["custom:Tenant_ID"]),
        ["AbsentAttributes[0] (custom:Tenant_ID): declared more than once (see custom:tenant_id)"],
        id="absent-differs-in-case",
    ),
    # -- unicode and control characters -------------------------------------------------------
    pytest.param(
        attribute(FULLWIDTH_EMAIL),
        [f"UserAttributes[0] ({FULLWIDTH_EMAIL}): {NAME_CHARS}"],
        id="fullwidth-name",
    ),
    pytest.param(
        attribute("e\u200bmail"),
        [f"UserAttributes[0] ('e\\u200bmail'): {NAME_CHARS}"],
        id="zero-width-space-in-name",
    ),
    pytest.param(
        attribute("nickname", SECRET + "\x00"),
        ["UserAttributes[0] (nickname): value contains a NUL character"],
        id="nul-in-value",
    ),
    pytest.param(
        properties(Username="ci\u00a0bot"),
        [USERNAME_RULE],
        id="no-break-space-in-username",
    ),
    pytest.param(
        # DEFECT: accepted; invisible, and outside Cognito's username pattern
        # ([\p{L}\p{M}\p{S}\p{N}\p{P}]+): AdminGetUser would fail with a less clear error.
        properties(Username="ci\u200bbot"),
        [USERNAME_RULE],
        id="zero-width-space-in-username",
    ),
    pytest.param(
        properties(UserPoolId="eu-west-1_AbC\u0661\u0662"),
        ["UserPoolId: not a user pool id (expected <region>_<id>)"],
        id="arabic-digits-in-pool-id",
    ),
    # -- injection-shaped strings -------------------------------------------------------------
    pytest.param(
        attribute("nickname\r\nX-Injected: 1"),
        [f"UserAttributes[0] ('nickname\\r\\nX-Injected: 1'): {NAME_CHARS}"],
        id="crlf-in-name",
    ),
    pytest.param(
        properties(Username="ci-bot\nERROR forged log line"),
        [USERNAME_RULE],
        id="newline-in-username",
    ),
    pytest.param(
        attribute("custom:x'; DROP TABLE users; --"),
        [f"UserAttributes[0] (custom:x'; DROP TABLE users; --): {NAME_CHARS}"],
        id="sql-shaped-name",
    ),
    pytest.param(
        attribute("${AWS::AccountId}"),
        [f"UserAttributes[0] (${{AWS::AccountId}}): {NAME_CHARS}"],
        id="substitution-shaped-name",
    ),
    pytest.param(
        attribute("{{resolve:ssm:x}}"),
        [f"UserAttributes[0] ({{{{resolve:ssm:x}}}}): {NAME_CHARS}"],
        id="dynamic-reference-as-name",
    ),
    pytest.param(
        properties(UserPoolId="eu-west-1_x'; DROP TABLE users"),
        ["UserPoolId: not a user pool id (expected <region>_<id>)"],
        id="sql-shaped-pool-id",
    ),
    pytest.param(
        properties(UserPoolId="{{resolve:ssm:/seed/pool}}"),
        ["UserPoolId: not a user pool id (expected <region>_<id>)"],
        id="unresolved-reference-as-pool-id",
    ),
    pytest.param(
        properties(UserPoolId="eu-west-1_AbC\n"),
        ["UserPoolId: not a user pool id (expected <region>_<id>)"],
        id="newline-after-pool-id",
    ),
    # -- nested objects -----------------------------------------------------------------------
    pytest.param(
        attribute("nickname", {"first": SECRET}),
        ["UserAttributes[0] (nickname).Value: must be a string"],
        id="nested-value",
    ),
    pytest.param(
        properties(ClientMetadata={"source": {"nested": SECRET}}),
        ["ClientMetadata (source): keys and values must be strings"],
        id="nested-metadata",
    ),
    pytest.param(
        reference({"SecretId": {"Ref": "Secret"}}),
        ["UserAttributes[0] (custom:tenant_id).ValueFrom: must be an object of non-empty strings"],
        id="unresolved-intrinsic-in-reference",
    ),
    # -- ReapplyToken: declares nothing, so only its shape is checked ---------------------------
    pytest.param(
        properties(ReapplyToken=20261205),
        [REAPPLY_TOKEN_RULE],
        id="reapply-token-a-number",
    ),
    pytest.param(
        properties(ReapplyToken=""),
        [REAPPLY_TOKEN_RULE],
        id="reapply-token-empty",
    ),
    pytest.param(
        properties(ReapplyToken=SECRET * 8 + "x"),
        [REAPPLY_TOKEN_RULE],
        id="reapply-token-129-characters",
    ),
    pytest.param(
        properties(ReapplyToken=f"{SECRET}\nERROR forged log line"),
        [REAPPLY_TOKEN_RULE],
        id="newline-in-reapply-token",
    ),
    pytest.param(
        properties(ReapplyToken={"Ref": "Token"}),
        [REAPPLY_TOKEN_RULE],
        id="unresolved-intrinsic-as-reapply-token",
    ),
    # -- several problems: all named in one message --------------------------------------------
    pytest.param(
        properties(UserPoolId=DROP, Username=DROP, OnDelete="KEEP", Extra=SECRET),
        [
            "Extra: unknown property",
            "UserPoolId: required, a non-empty string",
            "Username: required, a non-empty string",
            "OnDelete: must be one of RESTORE, RETAIN",
        ],
        id="four-problems",
    ),
]


@pytest.mark.parametrize(("raw", "problems"), ROWS)
def test_bad_properties_are_refused_with_their_exact_problems(
    raw: dict[str, Any], problems: list[str]
) -> None:
    with pytest.raises(InvalidDeclaration) as raised:
        parse_properties(raw)
    assert list(raised.value.problems) == problems
    assert str(raised.value) == "; ".join(problems)
    assert SECRET not in str(raised.value)


def test_properties_that_are_not_an_object_are_refused() -> None:
    """DEFECT: a list (a hand-written template, a direct caller) raises AttributeError."""
    with pytest.raises(InvalidDeclaration) as raised:
        parse_properties(["UserPoolId", POOL])  # type: ignore[arg-type]
    assert str(raised.value) == "properties: must be an object"


def test_injection_shaped_values_are_inert_data() -> None:
    """A value is data: accepted verbatim, never interpreted (CloudFormation has already
    resolved what it resolves before the handler sees the properties)."""
    values = {
        "nickname": "'; DROP TABLE users; --",
        "custom:tenant_id": "${AWS::AccountId}",
        "name": "{{resolve:ssm:/not/resolved}}",
        "profile": "<script>alert(1)</script>",
        "locale": "en-GB\r\nX-Injected: 1",
    }
    declaration = parse_properties(
        properties(UserAttributes=[{"Name": n, "Value": v} for n, v in values.items()])
    )
    assert declaration.attributes == values


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.sampled_from(["true", "false", "RESTORE", "RETAIN", POOL, "ci-bot", "custom:plan"]),
)
_json = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.sampled_from(["Name", "Value", "ValueFrom", "SecretId", "ParameterName", "x"]),
            children,
            max_size=3,
        )
    ),
    max_leaves=12,
)


@settings(max_examples=150, deadline=None)
@given(
    st.fixed_dictionaries(
        {},
        optional={
            "UserPoolId": _json,
            "Username": _json,
            "UserAttributes": _json,
            "AbsentAttributes": _json,
            "ClientMetadata": _json,
            "OnDelete": _json,
            "MarkContactsVerified": _json,
            "Other": _json,
        },
    )
)
def test_parser_fuzz_shaped_like_properties_raises_only_invalid_declaration(
    raw: dict[str, Any],
) -> None:
    """Complements ``tests/core``'s fuzz with the property names and item keys filled in, so
    the parser's inner branches (items, references) see garbage too."""
    with contextlib.suppress(InvalidDeclaration):
        parse_properties(raw)


@pytest.mark.parametrize("token", ["1", SECRET * 8, "2026-12-05T10:00:00Z", "commit 3f9a1c2"])
def test_a_valid_reapply_token_declares_nothing(token: str) -> None:
    """The longest token (128 characters) is accepted, and no token changes the declaration:
    an Update whose only change is the token claims and releases nothing."""
    assert parse_properties(properties(ReapplyToken=token)) == parse_properties(properties())
