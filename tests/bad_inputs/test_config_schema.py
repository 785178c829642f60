"""The seed-users JSON Schema and the parser agree: on every example seed file in the
repository, every row of the bad-file table (``test_config_file.ROWS``) and the rows below.

Each text is loaded once with ``load_seed_document`` (the parser's own YAML loader), so the
schema judges the document the parser sees: YAML 1.1 scalars such as ``yes``, ``42`` or a date
stay booleans, numbers and dates, which the schema's ``type: string`` refuses like the parser.
The schema is applied with jsonschema's ``Draft202012Validator``; the parser is
``parse_seed_file`` without a ``userPoolId`` context, as ``app.py`` calls it.

Both must accept or both refuse, except for the rows in ``NOT_EXPRESSIBLE``: there the parser
refuses while the schema accepts (or never gets a document: the YAML itself is refused). Each
listed row must still disagree, so the list cannot go stale.

At the time of writing: 82 documents (3 example files, 49 table rows, 30 rows here): 71 agree,
11 not expressible. ``test_agreement_count`` prints the line for the current files.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

import pytest
from jsonschema import Draft202012Validator

from cognito_seed_users import (
    SEED_USERS_SCHEMA,
    SeedConfigError,
    load_seed_document,
    parse_seed_file,
)
from tests.bad_inputs.test_config_file import ROWS as TABLE_ROWS

REPO: Final = Path(__file__).resolve().parents[2]
SOURCE: Final = "seed-users.yaml"
MODELINE: Final = "# yaml-language-server: $schema="
SCHEMA: Final[dict[str, Any]] = json.loads(SEED_USERS_SCHEMA.read_text(encoding="utf-8"))
VALIDATOR: Final = Draft202012Validator(SCHEMA)

EXPECTED_EXAMPLES: Final = {"seed-users.yaml", "tests/lifecycle/seed-users.lifecycle.yaml"}
_SKIPPED_DIRS: Final = {"node_modules", "cdk.out", "build", "dist", "__pycache__"}

ARN: Final = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ci-bot-AbCdEf"
HEAD: Final = "userPoolId: eu-west-1_Default1\nusers:\n"


def ci_bot(attributes: str, extra: str = "") -> str:
    """One user, ci-bot, with an inline attributes mapping and more (indented) fields."""
    return HEAD + f"  - username: ci-bot\n    attributes: {attributes}\n" + extra


# Valid files: together they use every field and every kind of value.
VALID_ROWS: Final = [
    pytest.param(
        HEAD
        + "  - username: ci-bot\n"
        + "    attributes:\n"
        + "      custom:tenant_id: acme\n"
        + "      dev:custom:build: '42'\n"
        + "      email: ci-bot@example.com\n"
        + "      email_verified: 'false'\n"
        + "      phone_number: '+447700900123'\n"
        + "      updated_at: '1700000000'\n"
        + "      nickname: null\n"
        + f"      custom:api_key: {{secret: '{ARN}', jsonKey: token, versionStage: AWSCURRENT}}\n"
        + f"      custom:old_key: {{secret: '{ARN}', versionId: 3f1e0c2a-0000-4000-8000-1}}\n"
        + "      custom:pin: {ssmParameter: /seed/ci-bot/pin, version: '3'}\n"
        + "    clientMetadata: {source: seed-users, attempt: '2'}\n"
        + "    onDelete: restore\n"
        + "  - username: reporting-service\n"
        + "    userPoolId: eu-west-1_Other99\n"
        + "    attributes: {custom:plan: enterprise, locale: null}\n"
        + "    onDelete: retain\n",
        id="every-field",
    ),
    pytest.param("userPoolId: eu-west-1_A1\nusers: []\n", id="empty-users-list"),
    pytest.param(
        "users:\n"
        "  - {username: ci-bot, userPoolId: eu-west-1_A1, attributes: {nickname: null}}\n"
        "  - {username: ops@example.com, userPoolId: eu-west-1_B2, attributes: {locale: fr}}\n",
        id="every-user-names-its-pool",
    ),
    pytest.param(
        ci_bot(
            "{custom:pin: {ssmParameter: 'arn:aws:ssm:eu-west-1:123456789012:parameter/seed/pin'},"
            " custom:key: {secret: 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:app'}}"
        ),
        id="parameter-arn-and-partial-secret-arn",
    ),
    pytest.param(
        ci_bot("{phone_number: '{{resolve:ssm:/seed/ci-bot/phone}}'}"),
        id="ssm-dynamic-reference-is-checked-at-deploy",
    ),
    pytest.param(ci_bot("{locale: en-GB}", "    onDelete: RETAIN\n"), id="on-delete-any-case"),
    # Edges, where a simpler schema would refuse what the parser accepts:
    pytest.param(
        "userPoolId: not-a-pool\nusers:\n"
        "  - {username: ci-bot, userPoolId: eu-west-1_A1, attributes: {locale: en-GB}}\n",
        id="unused-top-level-pool-is-not-checked",
    ),
    pytest.param(
        ci_bot("{locale: en-GB}", "    userPoolId: ''\n"), id="empty-user-pool-is-the-top-level-one"
    ),
    pytest.param(ci_bot("{nickname: " + "n" * 2048 + "}"), id="value-of-2048-characters"),
]

# Bad files the table does not have, for the rules only the schema's shapes state.
BAD_ROWS: Final = [
    pytest.param(ci_bot("{sub: abc}"), id="sub-is-not-writable"),
    pytest.param(ci_bot("{phone_number: '07700 900123'}"), id="phone-not-e164"),
    pytest.param(ci_bot("{email_verified: 'TRUE'}"), id="verified-flag-in-capitals"),
    pytest.param(ci_bot("{updated_at: '1.5'}"), id="updated-at-not-whole"),
    pytest.param(ci_bot("{}"), id="attributes-empty"),
    pytest.param(ci_bot("{locale: en-GB}", "    onDelete: delete\n"), id="on-delete-unknown"),
    pytest.param(ci_bot("{locale: en-GB}", "    clientMetadata: null\n"), id="metadata-null"),
    pytest.param(
        ci_bot("{locale: en-GB}", "    userPoolId: eu-west-1\n"), id="user-pool-without-id"
    ),
    pytest.param(ci_bot("{custom:key: {secret: prod/db}}"), id="secret-not-an-arn"),
    pytest.param(
        ci_bot(f"{{custom:key: {{secret: '{ARN}', version: '1'}}}}"),
        id="secret-with-parameter-field",
    ),
    pytest.param(
        ci_bot(f"{{custom:key: {{secret: '{ARN}', ssmParameter: /seed/pin}}}}"),
        id="secret-and-parameter",
    ),
    pytest.param(ci_bot(f"{{custom:key: {{secret: '{ARN}', jsonKey: ''}}}}"), id="json-key-empty"),
    pytest.param(
        ci_bot("{custom:pin: {ssmParameter: /seed/pin, version: latest}}"),
        id="parameter-version-not-a-number",
    ),
    pytest.param(ci_bot("{custom:pin: {ssmParameter: 'seed pin'}}"), id="parameter-name-space"),
    pytest.param("userPoolId: eu-west-1\nusers: []\n", id="empty-list-pool-without-region"),
]

# Bad files the schema cannot tell from good ones.
UNEXPRESSIBLE_ROWS: Final = [
    pytest.param(
        HEAD
        + "  - {username: ci-bot, attributes: {locale: en-GB}}\n"
        + "  - {username: ci-bot, attributes: {nickname: null}}\n",
        id="same-user-twice",
    ),
    pytest.param(
        "users:\n"
        "  - {username: ci-bot, userPoolId: eu-west-1_A1, attributes: {locale: en-GB}}\n"
        "  - {username: ci-bot, userPoolId: us-east-1_B2, attributes: {locale: en-GB}}\n",
        id="pools-in-two-regions",
    ),
    pytest.param(
        ci_bot("{" + ", ".join(f"custom:a{i}: x" for i in range(51)) + "}"),
        id="51-custom-attributes",
    ),
    pytest.param("users: []\n", id="empty-list-without-pool"),
    pytest.param(
        HEAD + '  - {username: "ci-bot\\u0378", attributes: {locale: en-GB}}\n',
        id="unassigned-code-point-in-username",
    ),
    pytest.param(
        HEAD + "  - username: ci-bot\n    attributes: {locale: en-GB}\n    attributes: {}\n",
        id="duplicate-yaml-key",
    ),
]

NOT_EXPRESSIBLE: Final = {
    # -- rows of test_config_file.ROWS --------------------------------------------------------
    "no-pool-anywhere": (
        "the pool may come from the userPoolId context (cdk deploy -c userPoolId=...), "
        "which the schema never sees, so it requires no pool in the file"
    ),
    "custom-names-differ-in-case": (
        "JSON Schema compares property names exactly; it cannot say that two names differ "
        "only in case"
    ),
    "tab": "not valid YAML: there is no document to validate",
    "python-object-tag": "not valid YAML (an unknown tag): there is no document to validate",
    "deeply-nested": "not valid YAML (nested too deeply): there is no document to validate",
    # -- rows of this module ------------------------------------------------------------------
    "same-user-twice": (
        "uniqueItems compares whole items; nothing compares one field across the items"
    ),
    "pools-in-two-regions": (
        "the Region is a prefix of each user's pool id; nothing compares it across the items"
    ),
    "51-custom-attributes": (
        "no keyword counts only the properties matching a pattern; the schema bounds the "
        "total (69: 50 custom and the 19 writable standard ones)"
    ),
    "empty-list-without-pool": (
        "the pool may come from the userPoolId context, which the schema never sees"
    ),
    "unassigned-code-point-in-username": (
        "the unassigned code points (category Cn: 698 ranges, and new with every Unicode "
        "version) are left out of the schema's class of forbidden characters"
    ),
    "duplicate-yaml-key": (
        "a YAML-level problem: the parser's loader refuses the key before any document exists"
    ),
}


def example_files() -> list[Path]:
    """Every ``*seed-users*.yaml``/``.yml`` file in the repository (hidden and generated
    directories aside): the example and test seed files."""
    found: list[Path] = []
    for directory, subdirectories, files in os.walk(REPO):
        subdirectories[:] = [
            name
            for name in subdirectories
            if not name.startswith(".") and name not in _SKIPPED_DIRS
        ]
        found.extend(
            Path(directory, name)
            for name in files
            if "seed-users" in name and name.endswith((".yaml", ".yml"))
        )
    return sorted(found)


def _relative(path: Path) -> str:
    return path.relative_to(REPO).as_posix()


EXAMPLES: Final = example_files()
EXAMPLE_ROWS: Final = [
    pytest.param(path.read_text(encoding="utf-8"), id=f"example:{_relative(path)}")
    for path in EXAMPLES
]
OWN_ROWS: Final = [*VALID_ROWS, *BAD_ROWS, *UNEXPRESSIBLE_ROWS]
DOCUMENTS: Final = [
    *EXAMPLE_ROWS,
    *(pytest.param(row.values[0], id=row.id) for row in TABLE_ROWS),
    *OWN_ROWS,
]


def schema_verdict(text: str) -> bool | None:
    """Whether the schema accepts the file's document; None when the YAML gives none."""
    try:
        document = load_seed_document(text, source=SOURCE)
    except SeedConfigError:
        return None
    return VALIDATOR.is_valid(document)


def parser_verdict(text: str) -> bool:
    """Whether synth accepts the file (``app.py`` without a ``userPoolId`` context)."""
    try:
        parse_seed_file(
            load_seed_document(text, source=SOURCE), source=SOURCE, user_pool_id_override=None
        )
    except SeedConfigError:
        return False
    return True


def schema_errors(text: str) -> list[str]:
    """The schema's complaints, for a failing assertion's message."""
    document = load_seed_document(text, source=SOURCE)
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message[:200]}"
        for error in VALIDATOR.iter_errors(document)
    ]


def test_schema_is_a_valid_draft_2020_12_schema() -> None:
    Draft202012Validator.check_schema(SCHEMA)
    assert SCHEMA["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert SCHEMA["$id"]
    assert SCHEMA["title"]


def test_every_property_has_a_description() -> None:
    """Editors show a property's description on hover: none may be missing. (Constraints
    inside ``if``, ``anyOf`` and ``not`` only narrow a property declared elsewhere.)"""
    declared = list(_property_schemas(SCHEMA, "#"))
    assert len(declared) > 30
    assert not [path for path, node in declared if "description" not in node]


def _property_schemas(node: object, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if isinstance(node, dict):
        for keyword in ("properties", "patternProperties"):
            for name, child in node.get(keyword, {}).items():
                yield f"{path}/{keyword}/{name}", child
        for key, child in node.items():
            if key not in ("if", "anyOf", "not"):
                yield from _property_schemas(child, f"{path}/{key}")
    elif isinstance(node, list):
        for index, child in enumerate(node):
            yield from _property_schemas(child, f"{path}/{index}")


def test_the_example_files_are_found_and_point_at_the_schema() -> None:
    assert {_relative(path) for path in EXAMPLES} >= EXPECTED_EXAMPLES
    for path in EXAMPLES:
        first = path.read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith(MODELINE), f"{_relative(path)}: no schema modeline"
        target = (path.parent / first.removeprefix(MODELINE)).resolve()
        assert target == SEED_USERS_SCHEMA, f"{_relative(path)}: the modeline names {target}"


def test_the_not_expressible_rows_exist() -> None:
    """A renamed or removed row must leave this module's list too."""
    ids = {row.id for row in DOCUMENTS}
    assert set(NOT_EXPRESSIBLE) <= ids
    assert len(ids) == len(DOCUMENTS), "row ids must be unique"


@pytest.mark.parametrize("text", DOCUMENTS)
def test_schema_and_parser_agree(text: str, request: pytest.FixtureRequest) -> None:
    row_id = request.node.callspec.id
    schema, parser = schema_verdict(text), parser_verdict(text)
    if row_id in NOT_EXPRESSIBLE:
        assert not parser, "a not-expressible row the parser now accepts: drop it from the list"
        assert schema is not False, f"the schema now refuses {row_id}: drop it from NOT_EXPRESSIBLE"
    elif schema is None:
        pytest.fail("the parser could not load this file: not valid YAML")
    else:
        assert schema == parser, (
            f"schema {'accepts' if schema else 'refuses'}, parser "
            f"{'accepts' if parser else 'refuses'}; schema errors: {schema_errors(text)}"
        )


@pytest.mark.parametrize("text", [*EXAMPLE_ROWS, *VALID_ROWS])
def test_valid_files_are_accepted(text: str) -> None:
    """The positive rows really are valid (agreement alone would also hold if both refused)."""
    assert parser_verdict(text)


def test_agreement_count(capsys: pytest.CaptureFixture[str]) -> None:
    """``N documents: M agree, K not expressible``, printed past the capture for the record."""
    total = len(DOCUMENTS)
    agree = sum(
        schema_verdict(row.values[0]) == parser_verdict(row.values[0])
        for row in DOCUMENTS
        if row.id not in NOT_EXPRESSIBLE
    )
    assert agree == total - len(NOT_EXPRESSIBLE)
    assert total == len(EXAMPLES) + len(TABLE_ROWS) + len(OWN_ROWS)
    with capsys.disabled():
        sys.stdout.write(
            f"\nseed-users schema: {total} documents: {agree} agree, "
            f"{len(NOT_EXPRESSIBLE)} not expressible "
            f"({len(EXAMPLES)} example files, {len(TABLE_ROWS)} table rows, "
            f"{len(OWN_ROWS)} rows of test_config_schema)\n"
        )


# -- the Unicode rules: the schema's character classes are the parser's own predicates --------


def _pattern(*path: str | int) -> re.Pattern[str]:
    node: Any = SCHEMA
    for step in path:
        node = node[step]
    return re.compile(node)


def _differences(pattern: re.Pattern[str], predicate: Any) -> list[str]:
    return [
        f"U+{code:04X}"
        for code in range(sys.maxunicode + 1)
        if bool(pattern.fullmatch(chr(code))) != predicate(chr(code))
    ][:10]


def test_username_characters_are_the_lambdas() -> None:
    """No separators, control, format, surrogate or private-use characters (Cognito's
    pattern); unassigned code points (category Cn) are left to the parser."""
    forbidden = _pattern("$defs", "user", "properties", "username", "anyOf", 1, "not", "pattern")

    def refused(char: str) -> bool:
        category = unicodedata.category(char)
        return category[0] in "CZ" and category != "Cn"

    assert not _differences(forbidden, refused), "regenerate the class from unicodedata"


def test_parameter_version_digits_are_str_isdigit() -> None:
    """The Lambda checks ``ParameterVersion`` with ``str.isdigit``, which is Unicode-aware."""
    version = _pattern(
        "$defs", "parameterReference", "anyOf", 0, "properties", "version", "pattern"
    )
    digit = re.compile(version.pattern.removeprefix("^").split("+", 1)[0])
    assert not _differences(digit, str.isdigit), "regenerate the class from str.isdigit"


def test_on_delete_is_case_insensitive_like_str_upper() -> None:
    """The parser takes any ``raw.upper()`` of RESTORE or RETAIN, so also the dotless i, the
    long s and the st ligatures."""
    on_delete = _pattern("$defs", "user", "properties", "onDelete", "anyOf", 1, "pattern")
    letters = set("RESTORERETAIN")
    exotic = {
        chr(code)
        for code in range(128, sys.maxunicode + 1)
        if (upper := chr(code).upper()) and set(upper) <= letters and upper in "RESTORE RETAIN"
    }
    assert exotic == {"\u0131", "\u017f", "\ufb05", "\ufb06"}
    for word in ("restore", "RESTORE", "Retain", "reta\u0131n", "re\ufb06ore"):
        assert on_delete.search(word), word
        assert word.upper() in ("RESTORE", "RETAIN")
    for word in ("restored", "retain\n", "delete", "re\u017f\u017fore"):
        assert not on_delete.search(word), word
