"""What ``DescribeUserPool`` says about a pool that the writes depend on: its attribute schema
(a declaration is checked against it before any write) and which contact attributes it verifies
before an update.

moto accepts writes that real Cognito refuses (unknown and immutable attributes, ``sub``, values
outside the constraints), so the handler checks them itself rather than trusting the write call.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Final

from .model import ABSENT, Declared, Value
from .properties import MAX_VALUE_LENGTH

_DEVELOPER_PREFIX: Final = "dev:"
_INTEGER: Final = re.compile(r"-?[0-9]+")
_CASE_FOLDED: Final = frozenset({"email", "preferred_username"})


@dataclass(frozen=True)
class SchemaAttribute:
    """One entry of a pool's ``SchemaAttributes``, reduced to what validation needs."""

    name: str
    data_type: str
    mutable: bool
    required: bool
    developer_only: bool = False
    min_length: int | None = None
    max_length: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None


PoolSchema = Mapping[str, SchemaAttribute]


@dataclass(frozen=True)
class UserPool:
    """The parts of a ``DescribeUserPool`` answer the handler acts on.

    ``verify_before_update`` is ``UserAttributeUpdateSettings``
    ``AttributesRequireVerificationBeforeUpdate``: Cognito keeps the old ``email`` or
    ``phone_number`` active and sends a code to the new one, unless the same call sets its
    ``*_verified`` flag to true (Cognito API reference: UserAttributeUpdateSettingsType,
    AdminUpdateUserAttributes).

    ``case_insensitive`` is ``UsernameConfiguration`` ``CaseSensitive`` false: such a pool stores
    and shows ``email`` and ``preferred_username`` in lower case (see ``as_stored``). A pool
    without ``UsernameConfiguration`` is case sensitive (Cognito API reference:
    UsernameConfigurationType).
    """

    schema: PoolSchema
    verify_before_update: frozenset[str] = frozenset()
    case_insensitive: bool = False


def user_pool(description: Mapping[str, object]) -> UserPool:
    """Read a ``DescribeUserPool`` ``UserPool`` structure."""
    raw_schema = description.get("SchemaAttributes")
    settings = _mapping(description.get("UserAttributeUpdateSettings"))
    verify = settings.get("AttributesRequireVerificationBeforeUpdate")
    usernames = _mapping(description.get("UsernameConfiguration"))
    return UserPool(
        schema=pool_schema(raw_schema if isinstance(raw_schema, Sequence) else []),
        verify_before_update=frozenset(
            str(name) for name in (verify if isinstance(verify, Sequence) else ())
        ),
        case_insensitive=usernames.get("CaseSensitive") is False,
    )


def as_stored(attributes: Mapping[str, Declared], pool: UserPool) -> dict[str, Declared]:
    """``attributes`` as the pool will store and show them.

    A case-insensitive pool flattens mixed-case ``email`` and ``preferred_username`` values to
    lower case (Developer Guide, "User pool case sensitivity",
    https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-case-sensitivity.html),
    so a declaration compared as written would never equal the live value and every Update
    would write it again. Anything that is not a plain value (absent, a reference) is kept: a
    referenced address is compared as its secret holds it, so keep such secrets in lower case.
    """
    if not pool.case_insensitive:
        return dict(attributes)
    return {
        name: value.lower() if name in _CASE_FOLDED and isinstance(value, str) else value
        for name, value in attributes.items()
    }


def pool_schema(schema_attributes: Sequence[Mapping[str, object]]) -> PoolSchema:
    """Index a ``DescribeUserPool`` ``SchemaAttributes`` list by attribute name."""
    schema: dict[str, SchemaAttribute] = {}
    for raw in schema_attributes:
        strings = _mapping(raw.get("StringAttributeConstraints"))
        numbers = _mapping(raw.get("NumberAttributeConstraints"))
        name = str(raw["Name"])
        schema[name] = SchemaAttribute(
            name=name,
            data_type=str(raw.get("AttributeDataType", "String")),
            mutable=bool(raw.get("Mutable", True)),
            required=bool(raw.get("Required", False)),
            developer_only=bool(raw.get("DeveloperOnlyAttribute", False)),
            min_length=_int(strings.get("MinLength")),
            max_length=_int(strings.get("MaxLength")),
            min_value=_decimal(numbers.get("MinValue")),
            max_value=_decimal(numbers.get("MaxValue")),
        )
    return schema


def schema_problems(attributes: Mapping[str, Value], schema: PoolSchema) -> list[str]:
    """Every way ``attributes`` breaks the pool schema, each naming the attribute (no values)."""
    problems: list[str] = []
    for name, value in attributes.items():
        entry = _lookup(name, schema)
        if entry is None:
            problems.append(f"{name}: not in the user pool's schema")
            continue
        if not entry.mutable:
            problems.append(
                f"{name}: immutable in this user pool (set only when a user is created)"
            )
            continue
        if value is ABSENT:
            if entry.required:
                problems.append(f"{name}: required in this user pool, cannot be declared absent")
            continue
        problem = _value_problem(entry, value)
        if problem:
            problems.append(f"{name}: {problem}")
    return problems


def _lookup(name: str, schema: PoolSchema) -> SchemaAttribute | None:
    if name in schema:
        return schema[name]
    # Developer-only attributes are written as dev:custom:x; pools may list them either way.
    if name.startswith(_DEVELOPER_PREFIX):
        entry = schema.get(name[len(_DEVELOPER_PREFIX) :])
        if entry is not None and entry.developer_only:
            return entry
    return None


def _value_problem(entry: SchemaAttribute, value: str) -> str | None:
    if entry.data_type == "Number":
        # Decimal() also takes " 5 ", "1e2", "1_000" and "+7"; Cognito stores integers.
        if not _INTEGER.fullmatch(value):
            return "value is not a whole number"
        number = Decimal(value)
        if entry.min_value is not None and number < entry.min_value:
            return f"value is below the schema minimum {entry.min_value}"
        if entry.max_value is not None and number > entry.max_value:
            return f"value is above the schema maximum {entry.max_value}"
        return None
    if entry.data_type == "Boolean":
        return None if value in ("true", "false") else 'value must be "true" or "false"'
    if entry.data_type == "DateTime":
        return None
    length = len(value)
    maximum = min(entry.max_length or MAX_VALUE_LENGTH, MAX_VALUE_LENGTH)
    if length > maximum:
        return f"value is longer than {maximum} characters"
    if entry.min_length is not None and length < entry.min_length:
        return f"value is shorter than {entry.min_length} characters"
    return None


def _mapping(raw: object) -> Mapping[str, object]:
    return raw if isinstance(raw, Mapping) else {}


def _int(raw: object) -> int | None:
    return int(str(raw)) if raw is not None else None


def _decimal(raw: object) -> Decimal | None:
    return Decimal(str(raw)) if raw is not None else None
