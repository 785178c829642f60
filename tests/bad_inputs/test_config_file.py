"""Bad seed-users files, refused at synth time: one exact message per input.

Each row is a file's text and the one message ``load_seed_document`` + ``parse_seed_users``
must raise (``SeedConfigError``), after ``seed-users.yaml: ``. Every message is one line, names
the file, the user and the field, and never contains a value (``SECRET`` stands for one).

Rows marked ``# DEFECT`` fail with the current code; the reply to issue 5 lists them.
"""

from __future__ import annotations

import pytest

from cognito_seed_users import SeedConfigError, load_seed_document, parse_seed_users

SOURCE = "seed-users.yaml"
SECRET = "s3cr3t-VALUE-9f1"
HEAD = "userPoolId: eu-west-1_Default1\nusers:\n"
CI_BOT = HEAD + "  - username: ci-bot\n"
USERNAME_RULE = "Username: must be 1 to 128 characters without spaces or control characters"
NAME_CHARS = "may contain only letters, digits and _ : . -"


def with_attributes(attributes: str, extra: str = "") -> str:
    """ci-bot with an inline attributes mapping, and more fields (indented lines) after it."""
    return CI_BOT + f"    attributes: {attributes}\n" + extra


def user_named(username: str) -> str:
    """A user whose ``username`` is the given YAML scalar (quoted or not, as written)."""
    return HEAD + f"  - username: {username}\n    attributes: {{locale: en-GB}}\n"


def parse(text: str, override: str | None = None) -> object:
    document = load_seed_document(text, source=SOURCE)
    return parse_seed_users(document, source=SOURCE, user_pool_id_override=override)


ROWS = [
    # -- wrong types --------------------------------------------------------------------------
    pytest.param("- ci-bot\n", "must be a mapping with userPoolId and users", id="top-level-list"),
    pytest.param(
        "userPoolId: eu-west-1_A1\nusers: {ci-bot: {locale: en-GB}}\n",
        "users: required, a list (an empty one releases every user)",
        id="users-a-mapping",
    ),
    pytest.param(
        "userPoolId: [eu-west-1_A1]\nusers: []\n",
        "userPoolId: must be a string",
        id="pool-a-list",
    ),
    pytest.param(
        HEAD + "  - [ci-bot, locale]\n",
        "users[0]: must be a mapping with username and attributes",
        id="user-a-list",
    ),
    pytest.param(
        user_named("[ci-bot]"),
        "users[0]: username: required, a non-empty string",
        id="username-a-list",
    ),
    pytest.param(
        with_attributes(f"[locale, {SECRET}]"),
        "users[0] (ci-bot): attributes: required, a mapping of attribute names to values",
        id="attributes-a-list",
    ),
    pytest.param(
        with_attributes("{locale: en-GB}", f"    clientMetadata: {SECRET}\n"),
        "users[0] (ci-bot): clientMetadata: must be a mapping of strings to strings",
        id="metadata-a-string",
    ),
    # -- stringified booleans and numbers (YAML reads them as bool, int, float, date) ---------
    pytest.param(
        with_attributes("{email_verified: yes}"),
        "users[0] (ci-bot): attributes.email_verified: must be a string "
        "(quote true/false, yes/no, on/off)",
        id="yes-is-a-boolean",
    ),
    pytest.param(
        with_attributes("{custom:seats: 42}"),
        "users[0] (ci-bot): attributes.custom:seats: must be a string (quote the number)",
        id="unquoted-integer",
    ),
    pytest.param(
        with_attributes("{custom:ratio: .nan}"),
        "users[0] (ci-bot): attributes.custom:ratio: must be a string (quote the number)",
        id="unquoted-nan",
    ),
    pytest.param(
        with_attributes("{updated_at: 2001-12-14t21:59:43.10-05:00}"),
        "users[0] (ci-bot): attributes.updated_at: must be a string (quote the date)",
        id="unquoted-timestamp",
    ),
    pytest.param(
        user_named("1234"),
        "users[0]: username: required, a non-empty string (quote the number)",
        id="numeric-username",
    ),
    pytest.param(
        user_named("off"),
        "users[0]: username: required, a non-empty string (quote true/false, yes/no, on/off)",
        id="boolean-username",
    ),
    pytest.param(
        with_attributes("{locale: en-GB}", "    onDelete: false\n"),
        "users[0] (ci-bot): onDelete: must be restore or retain",
        id="on-delete-boolean",
    ),
    pytest.param(
        with_attributes("{locale: en-GB}", "    clientMetadata: {attempt: 2}\n"),
        "users[0] (ci-bot): clientMetadata.attempt: must be a string (quote the number)",
        id="metadata-number",
    ),
    pytest.param(
        with_attributes('{email_verified: "yes"}'),
        'users[0] (ci-bot): attributes.email_verified: value must be "true" or "false"',
        id="quoted-yes-is-not-a-boolean",
    ),
    # -- missing and unknown keys -------------------------------------------------------------
    pytest.param(
        "userPoolId: eu-west-1_A1\n",
        "users: required, a list (an empty one releases every user)",
        id="no-users",
    ),
    pytest.param(
        "userPoolId: eu-west-1_A1\nuser: []\nusers: []\n",
        "user: unknown field (expected userPoolId, users)",
        id="unknown-top-level-key",
    ),
    pytest.param(
        with_attributes("{locale: en-GB}", "    on_delete: retain\n"),
        "users[0] (ci-bot): on_delete: unknown field "
        "(expected username, userPoolId, attributes, clientMetadata, onDelete)",
        id="unknown-user-key",
    ),
    pytest.param(
        HEAD + "  - {Username: ci-bot, attributes: {locale: en-GB}}\n",
        "users[0]: username: required, a non-empty string",
        id="username-key-capitalised",
    ),
    pytest.param(
        "users:\n  - {username: ci-bot, attributes: {locale: en-GB}}\n",
        "users[0] (ci-bot): userPoolId: required, here, at the top level or as context userPoolId",
        id="no-pool-anywhere",
    ),
    pytest.param(
        CI_BOT,
        "users[0] (ci-bot): attributes: required, a mapping of attribute names to values",
        id="no-attributes",
    ),
    # -- empty and huge values ----------------------------------------------------------------
    pytest.param("", "must be a mapping with userPoolId and users", id="empty-file"),
    pytest.param(
        user_named('""'), "users[0]: username: required, a non-empty string", id="empty-username"
    ),
    pytest.param(
        with_attributes('{nickname: ""}'),
        "users[0] (ci-bot): attributes.nickname: value is empty; declare the attribute absent "
        "(null) to remove it",
        id="empty-value",
    ),
    pytest.param(
        with_attributes("{nickname: " + SECRET * 200 + "}"),
        "users[0] (ci-bot): attributes.nickname: value is longer than 2048 characters",
        id="huge-value",
    ),
    pytest.param(
        with_attributes("{custom:" + "a" * 21 + ": x}"),
        "users[0] (ci-bot): attributes.custom:aaaaaaaaaaaaaaaaaaaaa: a custom attribute name "
        "is 1 to 20 characters after custom:",
        id="long-custom-name",
    ),
    pytest.param(
        with_attributes(
            "{locale: en-GB}",
            "    clientMetadata: {" + ", ".join(f"k{i}: v" for i in range(51)) + "}\n",
        ),
        "users[0] (ci-bot): ClientMetadata: more than 50 entries",
        id="51-metadata-entries",
    ),
    pytest.param(
        # DEFECT: the username is echoed whole (129 characters) instead of shortened.
        user_named("u" * 129),
        f"users[0] ({'u' * 37}...): {USERNAME_RULE}",
        id="username-129-characters",
    ),
    pytest.param(
        # DEFECT: accepted; a pool has at most 50 custom attributes (Cognito quota), so a
        # declaration of 1000 can never deploy. The check belongs in the Lambda's parser,
        # which synth runs too.
        CI_BOT
        + "    attributes:\n"
        + "".join(f"      custom:a{i}: {SECRET}\n" for i in range(1000)),
        "users[0] (ci-bot): UserAttributes: declares 1000 custom attributes; a user pool has "
        "at most 50",
        id="1000-attributes",
    ),
    # -- names differing only in case ---------------------------------------------------------
    pytest.param(
        # DEFECT (unclear): names UserAttributes[1] (custom:tenant), a template path the file
        # does not have, in sorted order; in the file the later entry is the repeat.
        with_attributes(f"{{custom:tenant: {SECRET}, custom:Tenant: {SECRET}}}"),
        "users[0] (ci-bot): attributes.custom:Tenant: declared more than once (see custom:tenant)",
        id="custom-names-differ-in-case",
    ),
    pytest.param(
        with_attributes(f"{{nickname: null, NickName: {SECRET}}}"),
        "users[0] (ci-bot): attributes.NickName: not a standard attribute; custom attributes "
        "start with custom:",
        id="standard-name-in-other-case",
    ),
    # -- unicode and control characters -------------------------------------------------------
    pytest.param(
        with_attributes(f"{{custom:tenänt: {SECRET}}}"),
        f"users[0] (ci-bot): attributes.custom:tenänt: {NAME_CHARS}",
        id="non-ascii-name",
    ),
    pytest.param(
        with_attributes(f'{{"e\\u200bmail": {SECRET}}}'),
        f"users[0] (ci-bot): attributes.'e\\u200bmail': {NAME_CHARS}",
        id="zero-width-space-in-name",
    ),
    pytest.param(
        with_attributes(f'{{nickname: "{SECRET}\\0"}}'),
        "users[0] (ci-bot): attributes.nickname: value contains a NUL character",
        id="nul-in-value",
    ),
    pytest.param(
        "userPoolId:\teu-west-1_A1\n",
        "line 1, column 12: not valid YAML: found character '\\t' that cannot start any token",
        id="tab",
    ),
    pytest.param(
        # DEFECT: accepted at synth; Cognito's username pattern ([\p{L}\p{M}\p{S}\p{N}\p{P}]+)
        # has no format characters, and this one is invisible: "ci-bot" with a hidden U+200B.
        user_named('"ci\\u200bbot"'),
        f"users[0] ('ci\\u200bbot'): {USERNAME_RULE}",
        id="zero-width-space-in-username",
    ),
    # -- injection-shaped strings -------------------------------------------------------------
    pytest.param(
        # DEFECT: the username is echoed raw, so the message spans two lines and the second
        # can pose as another log line.
        user_named('"ci-bot\\nERROR forged"'),
        f"users[0] ('ci-bot\\nERROR forged'): {USERNAME_RULE}",
        id="newline-in-username",
    ),
    pytest.param(
        with_attributes(f'{{"nickname\\nX-Injected: 1": {SECRET}}}'),
        f"users[0] (ci-bot): attributes.'nickname\\nX-Injected: 1': {NAME_CHARS}",
        id="newline-in-name",
    ),
    pytest.param(
        with_attributes(f'{{"custom:x\'; DROP TABLE users; --": {SECRET}}}'),
        f"users[0] (ci-bot): attributes.custom:x'; DROP TABLE users; --: {NAME_CHARS}",
        id="sql-shaped-name",
    ),
    pytest.param(
        with_attributes(f'{{"${{AWS::AccountId}}": {SECRET}}}'),
        f"users[0] (ci-bot): attributes.${{AWS::AccountId}}: {NAME_CHARS}",
        id="substitution-shaped-name",
    ),
    pytest.param(
        'userPoolId: "eu-west-1_x\'; DROP TABLE users"\n'
        "users: [{username: ci-bot, attributes: {locale: en-GB}}]\n",
        "users[0] (ci-bot): UserPoolId: not a user pool id (expected <region>_<id>)",
        id="sql-shaped-pool-id",
    ),
    pytest.param(
        'userPoolId: "${AWS::Region}_Pool1"\n'
        "users: [{username: ci-bot, attributes: {locale: en-GB}}]\n",
        "users[0] (ci-bot): UserPoolId: not a user pool id (expected <region>_<id>)",
        id="substitution-shaped-pool-id",
    ),
    pytest.param(
        # DEFECT: accepted. CloudFormation resolves a dynamic reference in any property, so
        # a secretsmanager reference puts the plaintext secret in the event as a plain Value
        # (which the ledger then stores as the declared value). Secrets go by reference.
        with_attributes('{nickname: "{{resolve:secretsmanager:prod/db:SecretString:password}}"}'),
        "users[0] (ci-bot): attributes.nickname: a CloudFormation dynamic reference "
        "({{resolve:...}}) is not allowed in a value; declare a secret reference instead",
        id="dynamic-reference-in-value",
    ),
    pytest.param(
        with_attributes("{nickname: !!python/object/apply:os.system [id]}"),
        "line 4, column 28: not valid YAML: could not determine a constructor for the tag "
        "'tag:yaml.org,2002:python/object/apply:os.system'",
        id="python-object-tag",
    ),
    pytest.param(
        # DEFECT: RecursionError escapes instead of a SeedConfigError.
        "[" * 5000 + "]" * 5000,
        "not valid YAML: nested too deeply",
        id="deeply-nested",
    ),
    # -- nested objects -----------------------------------------------------------------------
    pytest.param(
        with_attributes(f"{{nickname: {{first: {SECRET}}}}}"),
        "users[0] (ci-bot): attributes.nickname: must be a string, or a reference: "
        "{secret: <ARN>} or {ssmParameter: <name>}",
        id="nested-value",
    ),
    pytest.param(
        with_attributes("{locale: en-GB}", f"    clientMetadata: {{source: {{a: {SECRET}}}}}\n"),
        "users[0] (ci-bot): clientMetadata.source: must be a string",
        id="nested-metadata-value",
    ),
    pytest.param(
        with_attributes("{nickname: !!binary aGVsbG8=}"),
        "users[0] (ci-bot): attributes.nickname: must be a string",
        id="binary-value",
    ),
]


@pytest.mark.parametrize(("text", "message"), ROWS)
def test_bad_seed_file_is_refused_with_its_exact_message(text: str, message: str) -> None:
    with pytest.raises(SeedConfigError) as raised:
        parse(text)
    assert str(raised.value) == f"{SOURCE}: {message}"
    assert "\n" not in str(raised.value)
    assert SECRET not in str(raised.value)


@pytest.mark.parametrize(
    ("override", "message"),
    [
        pytest.param(
            "eu-west-1_x'; DROP TABLE",
            "users[0] (ci-bot): UserPoolId: not a user pool id (expected <region>_<id>)",
            id="sql-shaped-context-pool",
        ),
        pytest.param(
            "",
            "users[0] (ci-bot): userPoolId: required, here, at the top level or as context "
            "userPoolId",
            id="empty-context-pool",
        ),
    ],
)
def test_bad_user_pool_context_is_refused(override: str, message: str) -> None:
    text = "users: [{username: ci-bot, attributes: {locale: en-GB}}]\n"
    with pytest.raises(SeedConfigError) as raised:
        parse(text, override=override)
    assert str(raised.value) == f"{SOURCE}: {message}"


def test_yaml_merge_keys_are_understood() -> None:
    """DEFECT: ``<<: *defaults`` is plain YAML (SafeLoader supports it), but the duplicate-key
    check constructs the merge key itself and refuses the file with a constructor error."""
    text = (
        "defaults: &defaults {attributes: {locale: en-GB}}\n"
        "userPoolId: eu-west-1_A1\n"
        "users:\n"
        "  - {<<: *defaults, username: ci-bot}\n"
    )
    document = load_seed_document(text, source=SOURCE)
    assert isinstance(document, dict)
    assert document["users"] == [{"attributes": {"locale": "en-GB"}, "username": "ci-bot"}]
