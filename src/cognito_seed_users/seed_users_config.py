"""The seed-users file: YAML (or JSON) declaring attribute values for existing Cognito users.

Pure: ``app.py`` reads the file; this module turns its text into ``SeedUser`` values or one
``SeedConfigError`` naming the file, the user and the field. Messages never contain an
attribute or metadata value: the file holds e-mail addresses and tenant ids.
"""

from __future__ import annotations

import datetime
from collections.abc import Hashable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final

import yaml

from .resource_properties import OnDelete, resource_properties
from .runtime_rules import attribute_name_problem, declaration_problem, value_problem
from .secret_reference import SecretReference

SEED_USERS_SCHEMA: Final = Path(__file__).resolve().with_name("seed-users.schema.json")
"""The seed-users file's JSON Schema (draft 2020-12), shipped in the package beside this module.

Editors validate and complete a file with it (first line
``# yaml-language-server: $schema=<path to this file>``). It states every rule of this parser
that JSON Schema can express; the parser stays the authority (it also knows the ``userPoolId``
context, case-insensitive duplicate names, repeated users, one Region per file and the custom
attribute count, which the schema cannot check).
"""

_TOP_LEVEL_FIELDS: Final = ("userPoolId", "users")
_USER_FIELDS: Final = ("username", "userPoolId", "attributes", "clientMetadata", "onDelete")


class SeedConfigError(ValueError):
    """The seed-users file is unusable; the message names file, user and field, never a value."""


@dataclass(frozen=True)
class SeedUser:
    """One user's declaration from the file, ready for ``CognitoUserAttributes``."""

    user_pool_id: str
    username: str
    attributes: Mapping[str, str | SecretReference | None]
    """Attribute name to value; None keeps the attribute absent while declared."""
    client_metadata: Mapping[str, str] = field(default_factory=dict)
    on_delete: OnDelete = OnDelete.RESTORE

    @property
    def region(self) -> str:
        """The pool's region, which a user pool id starts with."""
        return self.user_pool_id.split("_", 1)[0]

    def resource_properties(self, *, reapply_token: str | None = None) -> dict[str, object]:
        """The properties of this user's ``Custom::CognitoUserAttributes`` in the template."""
        return resource_properties(
            user_pool_id=self.user_pool_id,
            username=self.username,
            attributes=self.attributes,
            client_metadata=self.client_metadata or None,
            on_delete=self.on_delete,
            reapply_token=reapply_token,
        )


def load_seed_document(text: str, *, source: str) -> object:
    """Parse YAML safely, refusing duplicate keys (PyYAML would silently keep the last one)."""
    try:
        return yaml.load(text, Loader=_StrictLoader)  # noqa: S506 - a SafeLoader subclass
    except yaml.MarkedYAMLError as error:
        # str(error) quotes the offending line, which may hold a value: only say where.
        mark = error.problem_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        raise SeedConfigError(f"{source}: {where}not valid YAML: {error.problem}") from None
    except yaml.YAMLError:
        raise SeedConfigError(f"{source}: not valid YAML") from None
    except RecursionError:
        raise SeedConfigError(f"{source}: not valid YAML: nested too deeply") from None


def parse_seed_users(
    document: object, *, source: str, user_pool_id_override: str | None
) -> list[SeedUser]:
    """Turn a loaded seed-users document into ``SeedUser`` values.

    An empty ``users`` list declares nothing: deploying it releases (restores) every user
    the stack held.

    :param source: how to name the file in messages.
    :param user_pool_id_override: replaces the top-level ``userPoolId`` (the ``userPoolId``
        context); a user with its own ``userPoolId`` then is an error, not silently retargeted.
    :raises SeedConfigError: on the first problem found.
    """
    if not isinstance(document, Mapping):
        raise SeedConfigError(f"{source}: must be a mapping with userPoolId and users")
    _refuse_unknown(document, _TOP_LEVEL_FIELDS, source)
    default_pool = document.get("userPoolId")
    if default_pool is not None and not isinstance(default_pool, str):
        raise SeedConfigError(f"{source}: userPoolId: must be a string")
    users = document.get("users")
    if not isinstance(users, list):
        raise SeedConfigError(
            f"{source}: users: required, a list (an empty one releases every user)"
        )
    seed_users: list[SeedUser] = []
    seen: dict[tuple[str, str], int] = {}
    for index, raw in enumerate(users):
        user = _parse_user(
            raw,
            where=f"{source}: users[{index}]",
            default_pool=user_pool_id_override or default_pool,
            override=user_pool_id_override is not None,
        )
        target = (user.user_pool_id, user.username)
        if target in seen:
            raise SeedConfigError(
                f"{source}: users[{index}] ({user.username}): declared again (see "
                f"users[{seen[target]}]); merge the two entries"
            )
        seen[target] = index
        seed_users.append(user)
    return seed_users


@dataclass(frozen=True)
class SeedFile:
    """A seed-users file's declarations and the region its stack deploys to."""

    users: list[SeedUser]
    region: str


def parse_seed_file(
    document: object, *, source: str, user_pool_id_override: str | None
) -> SeedFile:
    """``parse_seed_users``, and the region: the pools' (``deployment_region``), or for an
    empty ``users`` list the region of the top-level or context ``userPoolId``, so the update
    reaches the stack that holds the users it releases.

    :raises SeedConfigError: as ``parse_seed_users``; or an empty list without a pool id.
    """
    users = parse_seed_users(document, source=source, user_pool_id_override=user_pool_id_override)
    if users:
        return SeedFile(users, deployment_region(users, source=source))
    assert isinstance(document, Mapping)  # parse_seed_users refuses anything else
    pool = user_pool_id_override or document.get("userPoolId")
    if not isinstance(pool, str) or "_" not in pool:
        raise SeedConfigError(
            f"{source}: userPoolId: required with an empty users list, at the top level or as "
            "context userPoolId (its region is the stack's)"
        )
    return SeedFile(users, pool.split("_", 1)[0])


def deployment_region(seed_users: list[SeedUser], *, source: str) -> str:
    """The one region all pools are in: the stack's IAM ARNs and Cognito calls are regional."""
    regions = sorted({user.region for user in seed_users})
    if len(regions) != 1:
        raise SeedConfigError(
            f"{source}: userPoolId: the pools are in {', '.join(regions)}; a stack deploys to "
            "one region, so use one file per region"
        )
    return regions[0]


def _parse_user(raw: object, *, where: str, default_pool: str | None, override: bool) -> SeedUser:
    if not isinstance(raw, Mapping):
        raise SeedConfigError(f"{where}: must be a mapping with username and attributes")
    username = raw.get("username")
    if not isinstance(username, str) or not username:
        raise SeedConfigError(f"{where}: username: required, a non-empty string{_hint(username)}")
    where = f"{where} ({_show(username)})"
    _refuse_unknown(raw, _USER_FIELDS, where)
    own_pool = raw.get("userPoolId")
    if own_pool is not None and not isinstance(own_pool, str):
        raise SeedConfigError(f"{where}: userPoolId: must be a string")
    if own_pool is not None and override:
        raise SeedConfigError(
            f"{where}: userPoolId: set for this user, so the userPoolId context cannot retarget "
            "it; remove one of them"
        )
    pool = own_pool or default_pool
    if pool is None:
        raise SeedConfigError(
            f"{where}: userPoolId: required, here, at the top level or as context userPoolId"
        )
    user = SeedUser(
        user_pool_id=pool,
        username=username,
        attributes=_parse_attributes(raw.get("attributes"), where),
        client_metadata=_parse_client_metadata(raw.get("clientMetadata", {}), where),
        on_delete=_parse_on_delete(raw.get("onDelete", "restore"), where),
    )
    problem = declaration_problem(user.resource_properties())
    if problem is not None:
        raise SeedConfigError(f"{where}: {problem}")
    return user


def _parse_attributes(raw: object, where: str) -> dict[str, str | SecretReference | None]:
    if not isinstance(raw, Mapping) or not raw:
        raise SeedConfigError(
            f"{where}: attributes: required, a mapping of attribute names to values"
        )
    attributes: dict[str, str | SecretReference | None] = {}
    seen: dict[str, str] = {}
    for name, value in raw.items():
        if not isinstance(name, str):
            raise SeedConfigError(f"{where}: attributes: names must be strings{_hint(name)}")
        problem = attribute_name_problem(name)
        if problem is None and name.lower() in seen:
            problem = f"declared more than once (see {_show(seen[name.lower()])})"
        seen[name.lower()] = name
        if problem is None and isinstance(value, Mapping):
            attributes[name] = _parse_reference(value, f"{where}: attributes.{_show(name)}")
            continue
        if problem is None and value is not None:
            problem = (
                value_problem(name, value)
                if isinstance(value, str)
                else f"must be a string{_hint(value)}"
            )
        if problem is not None:
            raise SeedConfigError(f"{where}: attributes.{_show(name)}: {problem}")
        attributes[name] = value
    return attributes


NOT_A_VALUE: Final = "must be a string, or a reference: {secret: <ARN>} or {ssmParameter: <name>}"
_SECRET_FIELDS: Final = ("secret", "jsonKey", "versionStage", "versionId")
_PARAMETER_FIELDS: Final = ("ssmParameter", "version")


def _parse_reference(raw: Mapping[object, object], where: str) -> SecretReference:
    """``{secret: <ARN>, jsonKey?, versionStage?, versionId?}`` or
    ``{ssmParameter: <name>, version?}``: the value is read at deploy time."""
    if "secret" not in raw and "ssmParameter" not in raw:
        raise SeedConfigError(f"{where}: {NOT_A_VALUE}")
    known = _SECRET_FIELDS if "secret" in raw else _PARAMETER_FIELDS
    _refuse_unknown(raw, known, where)
    fields: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(value, str) or not value:
            raise SeedConfigError(
                f"{where}.{_show(str(key))}: must be a non-empty string{_hint(value)}"
            )
        fields[str(key)] = value
    if "secret" in fields:
        return SecretReference.from_secret_arn(
            fields["secret"],
            json_key=fields.get("jsonKey"),
            version_stage=fields.get("versionStage"),
            version_id=fields.get("versionId"),
        )
    return SecretReference.from_parameter_name(
        fields["ssmParameter"], version=fields.get("version")
    )


def _parse_client_metadata(raw: object, where: str) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        raise SeedConfigError(f"{where}: clientMetadata: must be a mapping of strings to strings")
    metadata: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str):
            raise SeedConfigError(f"{where}: clientMetadata: keys must be strings{_hint(key)}")
        if not isinstance(value, str):
            raise SeedConfigError(
                f"{where}: clientMetadata.{_show(key)}: must be a string{_hint(value)}"
            )
        metadata[key] = value
    return metadata


def _parse_on_delete(raw: object, where: str) -> OnDelete:
    if isinstance(raw, str) and raw.upper() in OnDelete.__members__:
        return OnDelete[raw.upper()]
    raise SeedConfigError(f"{where}: onDelete: must be restore or retain")


def _refuse_unknown(mapping: Mapping[object, object], known: tuple[str, ...], where: str) -> None:
    for key in mapping:
        if key not in known:
            raise SeedConfigError(
                f"{where}: {_show(str(key))}: unknown field (expected {', '.join(known)})"
            )


def _hint(value: object) -> str:
    """How to fix a YAML scalar that parsed as something other than a string; names no value."""
    if isinstance(value, bool):
        return " (quote true/false, yes/no, on/off)"
    if isinstance(value, int | float):
        return " (quote the number)"
    if isinstance(value, datetime.date):
        return " (quote the date)"
    return ""


def _show(name: str) -> str:
    """A field or attribute name fit for a message: bounded and printable."""
    shown = name if len(name) <= 40 else name[:37] + "..."
    return shown if shown.isprintable() else repr(shown)


class _StrictLoader(yaml.SafeLoader):
    """``SafeLoader`` that refuses a mapping with the same key twice."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[object, object]:
        keys: set[object] = set()
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue  # `<<: *defaults`: merged keys may be overridden, as YAML intends
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                continue  # SafeLoader refuses it with its own message
            if key in keys:
                raise yaml.constructor.ConstructorError(
                    None, None, f"duplicate key {_show(str(key))}", key_node.start_mark
                )
            keys.add(key)
        return super().construct_mapping(node, deep=deep)
