"""Parse and check a ``Custom::CognitoUserAttributes`` resource's properties (no AWS needed).

The same function runs at synth time (the CDK construct calls it on token-free properties) and
at deploy time, so both refuse the same inputs with the same words. Checks that need the pool's
schema live in ``schema.py``.

CloudFormation stringifies every scalar in custom resource properties, so every value here must
already be a string; a direct caller that sends ``true`` or ``42`` gets a clear error rather than
a silent conversion.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from typing import Final

from .errors import InvalidDeclaration
from .model import ABSENT, Absent, Declaration, Declared, OnDelete, SecretRef, SecretSource, Target

MAX_NAME_LENGTH: Final = 32
MAX_CUSTOM_NAME_LENGTH: Final = 20
MAX_VALUE_LENGTH: Final = 2048
MAX_USERNAME_LENGTH: Final = 128
MAX_CLIENT_METADATA_ENTRIES: Final = 50
MAX_CUSTOM_ATTRIBUTES: Final = 50
"""A user pool has at most 50 custom attributes (a Cognito quota)."""
MAX_REAPPLY_TOKEN_LENGTH: Final = 128
"""``ReapplyToken`` only has to differ from the previous deploy's (a timestamp, a commit id)."""

STANDARD_ATTRIBUTES: Final = frozenset(
    {
        "address",
        "birthdate",
        "email",
        "email_verified",
        "family_name",
        "gender",
        "given_name",
        "locale",
        "middle_name",
        "name",
        "nickname",
        "phone_number",
        "phone_number_verified",
        "picture",
        "preferred_username",
        "profile",
        "sub",
        "updated_at",
        "website",
        "zoneinfo",
    }
)
BOOLEAN_ATTRIBUTES: Final = frozenset({"email_verified", "phone_number_verified"})
VERIFIED_FLAG: Final = {"email": "email_verified", "phone_number": "phone_number_verified"}
"""Cognito resets the flag and sends a code when the address changes without it in the call."""

_CUSTOM_PREFIXES: Final = ("custom:", "dev:custom:")
_KNOWN_KEYS: Final = frozenset(
    {
        "ServiceToken",
        "ServiceTimeout",
        "UserPoolId",
        "Username",
        "UserAttributes",
        "AbsentAttributes",
        "ClientMetadata",
        "OnDelete",
        "MarkContactsVerified",
        "ReapplyToken",
    }
)
_POOL_ID: Final = re.compile(r"[\w-]+_[0-9a-zA-Z]+")
_SECRET_DYNAMIC_REFERENCE: Final = re.compile(r"\{\{resolve:(secretsmanager|ssm-secure):")
_E164: Final = re.compile(r"\+[1-9][0-9]{1,14}")
_INTEGER: Final = re.compile(r"-?[0-9]+")
_SECRET_ARN: Final = re.compile(
    r"arn:aws[a-z-]*:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:[\w/+=.@-]+"
)
_PARAMETER: Final = re.compile(
    r"(arn:aws[a-z-]*:ssm:[a-z0-9-]+:[0-9]{12}:parameter)?/?[\w.-]+(/[\w.-]+)*"
)
_NAME_CHARS: Final = re.compile(r"[A-Za-z0-9_:.-]+")


def parse_properties(properties: Mapping[str, object]) -> Declaration:
    """Turn raw resource properties into a ``Declaration``, or raise ``InvalidDeclaration``.

    All problems are reported together, each naming the property or attribute at fault.
    """
    if not isinstance(properties, Mapping):
        raise InvalidDeclaration(["properties: must be an object"])
    problems: list[str] = []
    problems.extend(
        f"{_quote(key)}: unknown property" for key in properties if key not in _KNOWN_KEYS
    )
    pool_id = _required_string(properties, "UserPoolId", problems)
    if pool_id is not None and (len(pool_id) > 55 or not _POOL_ID.fullmatch(pool_id)):
        problems.append("UserPoolId: not a user pool id (expected <region>_<id>)")
    username = _required_string(properties, "Username", problems)
    if username is not None and (
        len(username) > MAX_USERNAME_LENGTH
        # Cognito's username pattern is letters, marks, symbols, numbers and punctuation:
        # no separators (spaces) and no control, format (zero-width) or unassigned characters.
        or any(unicodedata.category(c)[0] in "CZ" for c in username)
    ):
        problems.append(
            f"Username: must be 1 to {MAX_USERNAME_LENGTH} characters without spaces "
            "or control characters"
        )
    attributes: dict[str, Declared] = {}
    _parse_user_attributes(properties.get("UserAttributes", []), attributes, problems)
    _parse_absent_attributes(properties.get("AbsentAttributes", []), attributes, problems)
    custom = sum(name.startswith(_CUSTOM_PREFIXES) for name in attributes)
    if custom > MAX_CUSTOM_ATTRIBUTES:
        problems.append(
            f"UserAttributes: declares {custom} custom attributes; "
            f"a user pool has at most {MAX_CUSTOM_ATTRIBUTES}"
        )
    if not attributes and not any(
        p.startswith(("UserAttributes", "AbsentAttributes")) for p in problems
    ):
        problems.append("UserAttributes: declares no attribute (and AbsentAttributes is empty)")
    client_metadata = _parse_client_metadata(properties.get("ClientMetadata", {}), problems)
    on_delete = _parse_enum(properties, "OnDelete", OnDelete, OnDelete.RESTORE, problems)
    mark_verified = _parse_boolean(properties, "MarkContactsVerified", problems)
    # ReapplyToken is checked and then dropped: it declares nothing. Changing it only makes
    # CloudFormation send an Update, whose plan rewrites what is no longer live.
    if "ReapplyToken" in properties:
        token_problem = reapply_token_problem(properties["ReapplyToken"])
        if token_problem:
            problems.append(f"ReapplyToken: {token_problem}")
    if problems:
        raise InvalidDeclaration(problems)
    assert pool_id is not None and username is not None  # noqa: PT018 - narrowed by problems
    if mark_verified:
        for address, flag in VERIFIED_FLAG.items():
            declared = attributes.get(address)
            if declared is not None and not isinstance(declared, Absent) and flag not in attributes:
                attributes[flag] = "true"
    return Declaration(
        target=Target(user_pool_id=pool_id, username=username),
        attributes=attributes,
        client_metadata=client_metadata,
        on_delete=on_delete,
    )


def reapply_token_problem(token: object) -> str | None:
    """Why ``token`` cannot be a ``ReapplyToken``, or None. Names no value.

    The token carries no meaning: a new one changes the resource's properties, so
    CloudFormation sends an Update, and an Update writes every declared value that is not live
    (drift) while it claims and releases nothing. It is bounded and printable because it is
    stored in the template and shown in CloudFormation's console.
    """
    if (
        not isinstance(token, str)
        or not 1 <= len(token) <= MAX_REAPPLY_TOKEN_LENGTH
        or not token.isprintable()
    ):
        return (
            f"must be a string of 1 to {MAX_REAPPLY_TOKEN_LENGTH} printable characters "
            "(no control characters or line breaks)"
        )
    return None


def attribute_name_problem(name: str) -> str | None:
    """Why ``name`` can never be a writable Cognito attribute, or None if it may be one."""
    if not name or len(name) > MAX_NAME_LENGTH:
        return f"must be 1 to {MAX_NAME_LENGTH} characters"
    if not _NAME_CHARS.fullmatch(name):
        return "may contain only letters, digits and _ : . -"
    if name == "sub":
        return "sub is the user's immutable identifier and cannot be written"
    for prefix in _CUSTOM_PREFIXES:
        if name.startswith(prefix):
            rest = name[len(prefix) :]
            if not 1 <= len(rest) <= MAX_CUSTOM_NAME_LENGTH:
                return (
                    f"a custom attribute name is 1 to {MAX_CUSTOM_NAME_LENGTH} characters "
                    f"after {prefix}"
                )
            return None
    if name not in STANDARD_ATTRIBUTES:
        return "not a standard attribute; custom attributes start with custom:"
    return None


def value_problem(name: str, value: str) -> str | None:
    """Why ``value`` can never be valid for ``name`` whatever the pool, or None. Names no value."""
    if len(value) > MAX_VALUE_LENGTH:
        return f"value is longer than {MAX_VALUE_LENGTH} characters"
    if not value:
        # Cognito deletes an attribute written blank; the declaration says so explicitly instead.
        return "value is empty; declare the attribute absent (null) to remove it"
    if "\x00" in value:
        return "value contains a NUL character"
    if _SECRET_DYNAMIC_REFERENCE.search(value):
        # CloudFormation would resolve it into the event, and so into the ledger and this
        # handler's memory, as a plain value.
        return (
            "a CloudFormation dynamic reference ({{resolve:...}}) is not allowed in a value; "
            "declare a secret reference instead"
        )
    if name in BOOLEAN_ATTRIBUTES and value not in ("true", "false"):
        return 'value must be "true" or "false"'
    if name == "phone_number" and not _E164.fullmatch(value):
        return "value is not an E.164 phone number (+ and up to 15 digits)"
    if name == "updated_at" and not _INTEGER.fullmatch(value):
        return "value must be a whole number of seconds"
    return None


def _parse_user_attributes(raw: object, into: dict[str, Declared], problems: list[str]) -> None:
    if not isinstance(raw, list):
        problems.append("UserAttributes: must be a list of {Name, Value}")
        return
    for index, item in enumerate(raw):
        where = f"UserAttributes[{index}]"
        if not isinstance(item, Mapping) or set(item) not in (
            {"Name", "Value"},
            {"Name", "ValueFrom"},
        ):
            problems.append(f"{where}: must be an object with Name and either Value or ValueFrom")
            continue
        name = item["Name"]
        if not isinstance(name, str):
            problems.append(f"{where}.Name: must be a string")
            continue
        if "ValueFrom" in item:
            reference = _parse_reference(
                item["ValueFrom"], f"{where} ({_quote(name)}).ValueFrom", problems
            )
            if reference is not None and _add_name(name, where, into, problems):
                into[name] = reference
            continue
        value = item["Value"]
        if not isinstance(value, str):
            problems.append(f"{where} ({_quote(name)}).Value: must be a string")
            continue
        if _add_name(name, where, into, problems):
            problem = value_problem(name, value)
            if problem:
                problems.append(f"{where} ({name}): {problem}")
            into[name] = value


def _parse_reference(raw: object, where: str, problems: list[str]) -> SecretRef | None:
    """``{SecretId, JsonKey?, VersionStage?, VersionId?}`` (Secrets Manager, by full ARN so
    the function's permission names exactly it) or ``{ParameterName, ParameterVersion?}``
    (an SSM SecureString)."""
    if not isinstance(raw, Mapping) or not all(
        isinstance(key, str) and isinstance(value, str) and value for key, value in raw.items()
    ):
        problems.append(f"{where}: must be an object of non-empty strings")
        return None
    if "SecretId" in raw and "ParameterName" in raw:
        problems.append(f"{where}: give SecretId or ParameterName, not both")
        return None
    if "SecretId" in raw:
        unknown = set(raw) - {"SecretId", "JsonKey", "VersionStage", "VersionId"}
        if unknown or not _SECRET_ARN.fullmatch(raw["SecretId"]):
            problems.append(
                f"{where}: SecretId must be a secret's full ARN, with optional JsonKey, "
                "VersionStage or VersionId"
            )
            return None
        return SecretRef(
            SecretSource.SECRETS_MANAGER,
            raw["SecretId"],
            json_key=raw.get("JsonKey"),
            version_stage=raw.get("VersionStage"),
            version_id=raw.get("VersionId"),
        )
    if "ParameterName" in raw:
        version = raw.get("ParameterVersion")
        if (
            set(raw) - {"ParameterName", "ParameterVersion"}
            or not _PARAMETER.fullmatch(raw["ParameterName"])
            or (version is not None and not version.isdigit())
        ):
            problems.append(
                f"{where}: ParameterName must be an SSM parameter name or ARN, with an optional "
                "numeric ParameterVersion"
            )
            return None
        return SecretRef(SecretSource.SSM_PARAMETER, raw["ParameterName"], version_id=version)
    problems.append(f"{where}: needs SecretId (Secrets Manager) or ParameterName (SSM)")
    return None


def _parse_absent_attributes(raw: object, into: dict[str, Declared], problems: list[str]) -> None:
    if not isinstance(raw, list):
        problems.append("AbsentAttributes: must be a list of attribute names")
        return
    for index, name in enumerate(raw):
        where = f"AbsentAttributes[{index}]"
        if not isinstance(name, str):
            problems.append(f"{where}: must be a string")
        elif _add_name(name, where, into, problems):
            into[name] = ABSENT


def _add_name(name: str, where: str, into: dict[str, Declared], problems: list[str]) -> bool:
    problem = attribute_name_problem(name)
    if problem:
        problems.append(f"{where} ({_quote(name)}): {problem}")
        return False
    clash = next((seen for seen in into if seen.lower() == name.lower()), None)
    if clash is not None:
        problems.append(f"{where} ({name}): declared more than once (see {clash})")
        return False
    return True


def _parse_client_metadata(raw: object, problems: list[str]) -> dict[str, str]:
    if not isinstance(raw, Mapping):
        problems.append("ClientMetadata: must be a map of strings to strings")
        return {}
    if len(raw) > MAX_CLIENT_METADATA_ENTRIES:
        problems.append(f"ClientMetadata: more than {MAX_CLIENT_METADATA_ENTRIES} entries")
    metadata: dict[str, str] = {}
    for key, value in raw.items():
        if not isinstance(key, str) or not isinstance(value, str):
            problems.append(f"ClientMetadata ({_quote(str(key))}): keys and values must be strings")
        else:
            metadata[key] = value
    return metadata


def _required_string(properties: Mapping[str, object], key: str, problems: list[str]) -> str | None:
    value = properties.get(key)
    if not isinstance(value, str) or not value:
        problems.append(f"{key}: required, a non-empty string")
        return None
    return value


def _parse_enum(
    properties: Mapping[str, object],
    key: str,
    enum: type[OnDelete],
    default: OnDelete,
    problems: list[str],
) -> OnDelete:
    raw = properties.get(key, default.value)
    allowed = [member.value for member in enum]
    if raw not in allowed:
        problems.append(f"{key}: must be one of {', '.join(allowed)}")
        return default
    return enum(raw)


def _parse_boolean(properties: Mapping[str, object], key: str, problems: list[str]) -> bool:
    raw = properties.get(key, "true")
    if raw not in ("true", "false"):
        problems.append(f'{key}: must be "true" or "false"')
        return True
    return raw == "true"


def _quote(text: str) -> str:
    """A property key or attribute name fit for a message: bounded and printable."""
    shown = text if len(text) <= 40 else text[:37] + "..."
    return shown if shown.isprintable() else repr(shown)
