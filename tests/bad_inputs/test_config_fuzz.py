"""Fuzz the seed-users file parser: it returns users or raises ``SeedConfigError``, nothing else.

Three sources of input: any text (through ``load_seed_document``), any document of the types
YAML's safe loader produces, and mutations of a valid file's document (so the fuzzing reaches
the per-user and per-attribute checks rather than stopping at the top level).
"""

from __future__ import annotations

import datetime
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cognito_seed_users import SeedConfigError, SeedUser, load_seed_document, parse_seed_users

SOURCE = "seed-users.yaml"
FIELDS = ("userPoolId", "users", "username", "attributes", "clientMetadata", "onDelete")
NAMES = ("email", "email_verified", "custom:tenant_id", "nickname", "phone_number", "sub")

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=True),
    st.dates(),
    st.datetimes(timezones=st.none() | st.just(datetime.UTC)),
    st.binary(max_size=8),
    st.text(max_size=16),
    st.sampled_from(
        [
            "eu-west-1_A1",
            "us-east-1_B2",
            "ci-bot",
            "restore",
            "RETAIN",
            "true",
            "+447700900123",
            "{{resolve:ssm:x}}",
            *FIELDS,
            *NAMES,
        ]
    ),
)
_keys = st.one_of(
    st.sampled_from([*FIELDS, *NAMES]),
    st.text(max_size=12),
    st.integers(),
    st.booleans(),
    st.none(),
    st.dates(),
)
_documents = st.recursive(
    _scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(_keys, children, max_size=4)
        | st.sets(st.text(max_size=4), max_size=3)
    ),
    max_leaves=20,
)


def _refused_or_parsed(document: object, override: str | None = None) -> None:
    try:
        users = parse_seed_users(document, source=SOURCE, user_pool_id_override=override)
    except SeedConfigError as error:
        message = str(error)
        assert message.startswith(f"{SOURCE}: ")
    else:
        assert all(isinstance(user, SeedUser) for user in users)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_is_refused_with_seed_config_error_or_parsed(text: str) -> None:
    try:
        document = load_seed_document(text, source=SOURCE)
    except SeedConfigError:
        return
    _refused_or_parsed(document)


@settings(max_examples=300, deadline=None)
@given(_documents, st.none() | st.sampled_from(["eu-west-1_Ctx1", "", "not a pool"]))
def test_any_document_is_refused_with_seed_config_error_or_parsed(
    document: Any, override: str | None
) -> None:
    _refused_or_parsed(document, override)


def _valid() -> dict[str, Any]:
    return {
        "userPoolId": "eu-west-1_A1",
        "users": [
            {
                "username": "ci-bot",
                "attributes": {"custom:tenant_id": "acme", "nickname": None},
                "clientMetadata": {"source": "seed"},
                "onDelete": "restore",
            }
        ],
    }


_paths = st.sampled_from(
    [
        ("userPoolId",),
        ("users",),
        ("users", 0),
        ("users", 0, "username"),
        ("users", 0, "userPoolId"),
        ("users", 0, "attributes"),
        ("users", 0, "attributes", "custom:tenant_id"),
        ("users", 0, "attributes", "nickname"),
        ("users", 0, "clientMetadata"),
        ("users", 0, "clientMetadata", "source"),
        ("users", 0, "onDelete"),
    ]
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(_paths, _documents), min_size=1, max_size=3))
def test_mutated_valid_file_is_refused_with_seed_config_error_or_parsed(
    mutations: list[tuple[tuple[str | int, ...], Any]],
) -> None:
    document = _valid()
    for path, value in mutations:
        _set(document, path, value)
    _refused_or_parsed(document)


def _set(document: Any, path: tuple[str | int, ...], value: Any) -> None:
    """Replace what ``path`` names, if an earlier mutation left it reachable."""
    target = document
    for step in path[:-1]:
        target = _child(target, step)
        if target is None:
            return
    last = path[-1]
    in_list = isinstance(target, list) and isinstance(last, int) and last < len(target)
    if isinstance(target, dict) or in_list:
        target[last] = value


def _child(container: Any, step: str | int) -> Any:
    if isinstance(container, dict):
        return container.get(step)
    if isinstance(container, list) and isinstance(step, int) and step < len(container):
        return container[step]
    return None
