"""A Cognito fidelity layer over moto: make moto refuse the attribute writes real Cognito refuses.

moto implements ``AdminUpdateUserAttributes`` and ``AdminDeleteUserAttributes`` but validates almost
nothing on that path: unknown and immutable attributes are stored, ``sub`` can be overwritten, a
blank value is stored as ``""``, e-mail changes keep ``email_verified``, deleting an attribute the
user lacks fails, and a user re-setting its own e-mail in an e-mail-username pool gets
``AliasExistsException``. Tests that pass against that would not prove much about the real service.

``strict_cognito()`` patches moto's Cognito backend classes for as long as it is active, so the
in-process ``mock_aws()`` and an in-process ``ThreadedMotoServer`` (same backend classes) both
behave like the documented service. Nothing is patched at import time; leaving the context restores
moto exactly. Refusals are moto's own exception classes, so clients see real-shaped
``ClientError``\\ s with the real error codes (``InvalidParameterException``,
``AliasExistsException``, ``UserNotFoundException``, ``ResourceNotFoundException``).

Usage (a test, or a fixture that yields the layer)::

    with strict_cognito() as layer:
        cognito.admin_update_user_attributes(...)
        assert layer.codes_sent == [CodeSent(pool_id, "alice", "email")]

Rules (each mirrors the real service; see the methods for the details):

1. an attribute must be in the pool's schema (standard, ``custom:x``, ``dev:custom:x``);
2. immutable attributes can be set only when the user is created, never written or deleted later;
3. ``sub`` can never be written or deleted;
4. values must fit the schema: String length (schema bounds, at most 2048), Number parses and is
   within bounds, Boolean is ``"true"``/``"false"``, ``phone_number`` is E.164, ``email`` looks
   like an address;
5. a blank value in ``AdminUpdateUserAttributes`` deletes the attribute;
6. changing ``email``/``phone_number`` without ``*_verified`` in the same call marks it unverified
   and sends a verification code (recorded in ``codes_sent``);
7. with ``AttributesRequireVerificationBeforeUpdate`` the old value stays active until the new one
   is verified (the new one is recorded in ``pending``) unless ``*_verified="true"`` is in the call;
8. alias and username attributes are unique within the pool (``AliasExistsException``), but a user
   may re-set its own value;
9. admin calls accept the username, a sign-in alias, or the ``sub`` as ``Username``;
10. deleting an attribute the user does not have succeeds; deleting a required one is refused;
11. in a pool created with ``UsernameConfiguration={"CaseSensitive": False}`` the username and the
    ``email`` and ``preferred_username`` aliases match in any case, and they are shown in lower
    case (the Developer Guide, "User pool case sensitivity": "When a user pool is case
    insensitive, user@example.com and User@example.com refer to the same user [...] the
    preferred_username and email attributes also are case insensitive [...] Mixed-case attribute
    values in case-insensitive user pools are flattened to lowercase in user pool text output",
    https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-case-sensitivity.html);
12. ``DescribeUserPool`` lists every standard attribute, also for a pool created with ``Schema=``
    (moto then lists only the declared ones; the API reference, SchemaAttributeType: "The
    attribute schema contains standard attributes, custom attributes with a custom: prefix, and
    developer attributes with a dev: prefix",
    https://docs.aws.amazon.com/cognito-user-identity-pools/latest/APIReference/API_SchemaAttributeType.html);
13. in a pool with a custom message trigger (``LambdaConfig.CustomMessage``) every
    ``AdminUpdateUserAttributes`` call is recorded in ``custom_messages`` with the
    ``ClientMetadata`` the trigger receives as ``request.clientMetadata``; Cognito invokes the
    trigger, with the trigger source ``CustomMessage_UpdateUserAttribute``, once for each
    verification message the call sends (rules 6 and 7), and not at all for a call that sends
    none (see ``CustomMessage``).

Every call is validated completely before anything changes, so a refused call changes nothing.

Scope: only the two admin attribute-write calls are made strict (plus the user lookup every admin
call shares, the case folding of ``AdminCreateUser`` (rule 11) and the schema ``CreateUserPool``
gives a pool (rule 12)). ``SignUp`` and the access-token ``UpdateUserAttributes`` keep moto's
behaviour.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any, Final, NamedTuple
from unittest import mock

from moto.cognitoidp.exceptions import AliasExistsException, InvalidParameterException
from moto.cognitoidp.models import (
    CognitoIdpBackend,
    CognitoIdpUserPool,
    CognitoIdpUserPoolAttribute,
)
from moto.cognitoidp.responses import CognitoIdpResponse
from moto.core.exceptions import JsonRESTError
from moto.core.responses import EmptyResult

__all__ = ["CodeSent", "CognitoFidelity", "CustomMessage", "strict_cognito"]

MAX_STRING_LENGTH: Final = 2048

# Contact attributes whose change Cognito verifies, and the flag that records the verification.
VERIFICATION_FLAGS: Final[Mapping[str, str]] = {
    "email": "email_verified",
    "phone_number": "phone_number_verified",
}

# Attributes a pool may use as sign-in names (UsernameAttributes / AliasAttributes).
_SIGN_IN_ATTRIBUTES: Final = ("email", "phone_number", "preferred_username")

# Sign-in attributes a case-insensitive pool matches in any case and shows in lower case (rule
# 11); a phone number has no case.
_CASE_FOLDED_ATTRIBUTES: Final = frozenset({"email", "preferred_username"})

# The Developer Guide, "Custom message Lambda trigger", trigger sources: "CustomMessage_
# UpdateUserAttribute: When a user's email or phone number is changed, this trigger sends a
# verification code automatically to the user. Cannot be used for other attributes."
# (CustomMessage_VerifyUserAttribute is for a code the user asks for, which no admin call does.)
# https://docs.aws.amazon.com/cognito/latest/developerguide/user-pool-lambda-custom-message.html
UPDATE_USER_ATTRIBUTE_TRIGGER: Final = "CustomMessage_UpdateUserAttribute"

_SCHEMA_PREFIX: Final = "Attributes did not conform to the schema: "
_E164: Final = re.compile(r"\+\d{1,15}")
_EMAIL: Final = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
_BOOLEAN_VALUES: Final = frozenset({"true", "false"})


class CodeSent(NamedTuple):
    """A verification code the real service would have delivered.

    ``username`` is the user's canonical username (in an e-mail-username pool, the generated one).
    """

    pool_id: str
    username: str
    attribute: str


@dataclass(frozen=True)
class CustomMessage:
    """One ``AdminUpdateUserAttributes`` call in a pool with a custom message trigger (rule 13).

    The API reference, AdminUpdateUserAttributes ``ClientMetadata``: "When you use the
    AdminUpdateUserAttributes API action, Amazon Cognito invokes the function that is assigned to
    the custom message trigger. When Amazon Cognito invokes this function, it passes a JSON
    payload [...] This payload contains a clientMetadata attribute, which provides the data that
    you assigned to the ClientMetadata parameter in your AdminUpdateUserAttributes request."
    The Developer Guide, "Custom message Lambda trigger": "Amazon Cognito invokes this trigger
    before it sends an email or phone verification message". So the trigger runs once for each
    message in ``messages`` (the contact a verification code goes to); for a call that sends
    none, ``client_metadata`` is what the trigger would have received, and it is not invoked.
    """

    pool_id: str
    username: str
    client_metadata: Mapping[str, str]
    messages: tuple[str, ...] = ()
    trigger_source: str = UPDATE_USER_ATTRIBUTE_TRIGGER

    @property
    def invoked(self) -> bool:
        return bool(self.messages)


@dataclass(frozen=True)
class _AttributeRule:
    """One schema attribute, reduced to what the write rules need."""

    name: str
    data_type: str
    mutable: bool
    required: bool
    min_length: int | None = None
    max_length: int | None = None
    min_value: Decimal | None = None
    max_value: Decimal | None = None


def _int(raw: object) -> int | None:
    try:
        return int(str(raw)) if raw not in (None, "") else None
    except ValueError:
        return None


def _decimal(raw: object) -> Decimal | None:
    try:
        return Decimal(str(raw)) if raw not in (None, "") else None
    except InvalidOperation:
        return None


def _rule(
    name: str,
    data_type: str,
    *,
    mutable: bool,
    required: bool,
    strings: Mapping[str, Any] | None,
    numbers: Mapping[str, Any] | None,
) -> _AttributeRule:
    strings = strings or {}
    numbers = numbers or {}
    return _AttributeRule(
        name=name,
        data_type=data_type,
        # Cognito generates sub; no pool configuration makes it writable.
        mutable=mutable and name != "sub",
        required=required,
        min_length=_int(strings.get("MinLength")),
        max_length=_int(strings.get("MaxLength")),
        min_value=_decimal(numbers.get("MinValue")),
        max_value=_decimal(numbers.get("MaxValue")),
    )


def _pool_schema(pool: CognitoIdpUserPool) -> dict[str, _AttributeRule]:
    """The pool's schema as real Cognito describes it: every standard attribute, plus custom ones.

    A moto pool created with ``Schema=`` keeps only the attributes it was given, while real
    Cognito always has the full standard set, so the standard defaults fill the gaps.
    """
    standard: Mapping[str, Mapping[str, Any]] = CognitoIdpUserPoolAttribute.STANDARD_SCHEMA
    rules = {
        name: _rule(
            name,
            str(spec["AttributeDataType"]),
            mutable=bool(spec["Mutable"]),
            required=bool(spec["Required"]),
            strings=spec.get("StringAttributeConstraints"),
            numbers=spec.get("NumberAttributeConstraints"),
        )
        for name, spec in standard.items()
    }
    for name, attribute in pool.schema_attributes.items():
        defaults = standard.get(name, {})
        rules[name] = _rule(
            name,
            str(attribute.data_type),
            mutable=bool(attribute.mutable),
            required=bool(attribute.required),
            # moto drops a standard attribute's constraints when its declaration omitted the data
            # type; Cognito keeps the standard ones.
            strings=attribute.string_constraints or defaults.get("StringAttributeConstraints"),
            numbers=attribute.number_constraints or defaults.get("NumberAttributeConstraints"),
        )
    return rules


def _unknown(name: str) -> str:
    return f"{_SCHEMA_PREFIX}Type for attribute {{{name}}} could not be determined"


def _immutable(name: str) -> str:
    return f"user.{name}: Attribute cannot be updated. (changing an immutable attribute)"


def _required(name: str) -> str:
    return f"{_SCHEMA_PREFIX}{name}: The attribute is required"


def _value_problem(rule: _AttributeRule, value: str) -> str | None:
    """What real Cognito says about a non-blank ``value`` for ``rule``, or None if it accepts it."""
    if rule.name == "phone_number" and not _E164.fullmatch(value):
        return "Invalid phone number format."
    if rule.name == "email" and not _EMAIL.fullmatch(value):
        return "Invalid email address format."
    if rule.data_type == "Boolean" and value not in _BOOLEAN_VALUES:
        return f"{_SCHEMA_PREFIX}{rule.name}: Boolean attributes must be 'true' or 'false'"
    if rule.data_type == "Number":
        number = _decimal(value)
        if number is None or not number.is_finite():
            return f"{_SCHEMA_PREFIX}{rule.name}: Number must be a valid number"
        if rule.min_value is not None and number < rule.min_value:
            return f"{_SCHEMA_PREFIX}{rule.name}: Number must be no less than {rule.min_value}"
        if rule.max_value is not None and number > rule.max_value:
            return f"{_SCHEMA_PREFIX}{rule.name}: Number must be no greater than {rule.max_value}"
    if rule.data_type == "String":
        longest = min(rule.max_length or MAX_STRING_LENGTH, MAX_STRING_LENGTH)
        if len(value) > longest:
            return (
                f"{_SCHEMA_PREFIX}{rule.name}: String must be no longer than {longest} characters"
            )
        if rule.min_length is not None and len(value) < rule.min_length:
            return (
                f"{_SCHEMA_PREFIX}{rule.name}: "
                f"String must be no shorter than {rule.min_length} characters"
            )
    return None


def _refuse(problems: Sequence[str]) -> None:
    if problems:
        raise InvalidParameterException("\n".join(problems))


def _name_problems(names: Sequence[str], schema: Mapping[str, _AttributeRule]) -> list[str]:
    """Rules 1-3: the attribute must be in the schema, mutable, and not ``sub``.

    A developer-only custom attribute is in the schema only as ``dev:custom:x``; its
    ``custom:x`` spelling is unknown to Cognito.
    """
    problems: list[str] = []
    for name in names:
        rule = schema.get(name)
        if rule is None:
            problems.append(_unknown(name))
        elif not rule.mutable:
            problems.append(_immutable(name))
    return problems


def _attributes(user: Any) -> dict[str, str]:  # noqa: ANN401 - moto's CognitoIdpUser
    return {str(a["Name"]): str(a["Value"]) for a in user.attributes}


def case_insensitive(pool: CognitoIdpUserPool) -> bool:
    """Whether the pool was created with ``UsernameConfiguration.CaseSensitive = False``."""
    config: Mapping[str, Any] = pool.extended_config
    settings: Mapping[str, Any] = config.get("UsernameConfiguration") or {}
    return settings.get("CaseSensitive", True) in (False, "false", "False")


def _folded(pool: CognitoIdpUserPool, name: str, value: str) -> str:
    """Rule 11: the value as a case-insensitive pool stores and shows it."""
    if name in _CASE_FOLDED_ATTRIBUTES and case_insensitive(pool):
        return value.lower()
    return value


def _same_sign_in(pool: CognitoIdpUserPool, attribute: str, a: str | None, b: str | None) -> bool:
    if a is None or b is None:
        return False
    return _folded(pool, attribute, a) == _folded(pool, attribute, b)


def _has_custom_message_trigger(pool: CognitoIdpUserPool) -> bool:
    config: Mapping[str, Any] = pool.extended_config
    triggers: Mapping[str, Any] = config.get("LambdaConfig") or {}
    return bool(triggers.get("CustomMessage"))


def _sign_in_settings(pool: CognitoIdpUserPool) -> tuple[set[str], set[str]]:
    config: Mapping[str, Any] = pool.extended_config
    return (
        set(config.get("UsernameAttributes") or ()),
        set(config.get("AliasAttributes") or ()),
    )


def _alias_exists(attribute: str) -> Exception:
    if attribute == "email":
        error: Exception = AliasExistsException()
        return error
    return JsonRESTError(
        "AliasExistsException", f"An account with the given {attribute} already exists."
    )


def _validate_update(requested: Mapping[str, str], schema: Mapping[str, _AttributeRule]) -> None:
    """Rules 1-5 for an update: names first, then values; each refusal lists all its problems."""
    _refuse(_name_problems(list(requested), schema))
    problems = []
    for name, value in requested.items():
        # Rule 5: a blank value is Cognito's way of deleting, so it is checked as a deletion.
        if value == "":
            if schema[name].required:
                problems.append(_required(name))
            continue
        problem = _value_problem(schema[name], value)
        if problem:
            problems.append(problem)
    _refuse(problems)


def _hold_unverified_contacts(
    pool: CognitoIdpUserPool,
    requested: Mapping[str, str],
    current: Mapping[str, str],
    writes: dict[str, str],
) -> tuple[dict[str, str], list[str]]:
    """Rules 6 and 7: what a changed ``email``/``phone_number`` does to verification.

    Adjusts ``writes`` in place and returns the values held back for verification and the
    attributes a code goes to. An administrator vouches for a new value by sending
    ``*_verified="true"`` with it, which applies it directly, verified, without a code.
    """
    config: Mapping[str, Any] = pool.extended_config
    settings: Mapping[str, Any] = config.get("UserAttributeUpdateSettings") or {}
    verify_first = set(settings.get("AttributesRequireVerificationBeforeUpdate") or ())
    pending: dict[str, str] = {}
    codes: list[str] = []
    for contact, flag in VERIFICATION_FLAGS.items():
        new = writes.get(contact)
        if new is None or new == current.get(contact) or requested.get(flag) == "true":
            continue
        if contact in verify_first:
            # Rule 7: the old value stays active until the user confirms the new one.
            pending[contact] = writes.pop(contact)
            codes.append(contact)
        elif flag not in requested:
            # Rule 6: an unconfirmed address is not verified; Cognito sends a code to it.
            writes[flag] = "false"
            codes.append(contact)
    return pending, codes


@dataclass
class CognitoFidelity:
    """What the strict layer observed: the codes Cognito would have sent, the pending changes,
    and each call's input to a custom message trigger (``custom_messages``, rule 13).

    ``pending`` maps ``(pool_id, username, attribute)`` to a new ``email``/``phone_number`` that
    waits for verification in a pool with ``AttributesRequireVerificationBeforeUpdate`` (rule 7);
    the user's active value is unchanged meanwhile.
    """

    codes_sent: list[CodeSent] = field(default_factory=list)
    pending: dict[tuple[str, str, str], str] = field(default_factory=dict)
    custom_messages: list[CustomMessage] = field(default_factory=list)

    def pending_value(self, pool_id: str, username: str, attribute: str) -> str | None:
        return self.pending.get((pool_id, username, attribute))

    # --- user lookup (rule 9) ---------------------------------------------------------------

    @staticmethod
    def find_user(pool: CognitoIdpUserPool, username: str) -> Any:  # noqa: ANN401
        """Resolve ``Username`` the way Cognito's admin calls do.

        The API reference: the value "is typically your user's username, but it can be any of
        their alias attributes. If username isn't an alias attribute in your user pool, this
        value must be the sub of a local user". A username attribute (e-mail-username pool)
        identifies its user whether verified or not; an e-mail or phone alias signs in only once
        verified; ``preferred_username`` needs no verification.
        """
        users: Mapping[str, Any] = pool.users
        if username in users:
            return users[username]
        if case_insensitive(pool):
            # Rule 11: the username matches in any case.
            for name, user in users.items():
                if name.lower() == username.lower():
                    return user
        username_attributes, alias_attributes = _sign_in_settings(pool)
        for user in users.values():
            attributes = _attributes(user)
            for attribute in _SIGN_IN_ATTRIBUTES:
                if not _same_sign_in(pool, attribute, attributes.get(attribute), username):
                    continue
                flag = VERIFICATION_FLAGS.get(attribute)
                if attribute in username_attributes or (
                    attribute in alias_attributes
                    and (flag is None or attributes.get(flag) == "true")
                ):
                    return user
        for user in users.values():
            if user.id == username:
                return user
        return None

    # --- AdminUpdateUserAttributes ------------------------------------------------------------

    def admin_update_user_attributes(
        self,
        backend: Any,  # noqa: ANN401 - moto's CognitoIdpBackend
        user_pool_id: str,
        username: str,
        attributes: Sequence[Mapping[str, Any]],
        client_metadata: Mapping[str, str] | None = None,
    ) -> None:
        """Rules 1-8, 11 and 13 for ``AdminUpdateUserAttributes``; validates everything, then
        applies.

        An attribute listed twice takes its last value; an attribute without ``Value`` counts as
        blank.
        """
        pool = backend.describe_user_pool(user_pool_id)
        user = backend.admin_get_user(user_pool_id, username)
        requested = {str(a["Name"]): str(a.get("Value") or "") for a in attributes}
        _validate_update(requested, _pool_schema(pool))
        requested = {name: _folded(pool, name, value) for name, value in requested.items()}

        current = _attributes(user)
        writes = {name: value for name, value in requested.items() if value != ""}
        deletes = [name for name, value in requested.items() if value == "" and name in current]
        pending, codes = _hold_unverified_contacts(pool, requested, current, writes)
        final = {**current, **writes}
        for name in deletes:
            final.pop(name, None)
        self._check_unique_sign_in(pool, user, requested, final)

        if writes:
            user.update_attributes([{"Name": n, "Value": v} for n, v in writes.items()])
        if deletes:
            user.delete_attributes(deletes)
        for contact in VERIFICATION_FLAGS:
            key = (pool.id, user.username, contact)
            if contact in pending:
                self.pending[key] = pending[contact]
            elif contact in requested:
                # The call settled the attribute itself, so an older pending value is obsolete.
                self.pending.pop(key, None)
        self.codes_sent.extend(CodeSent(pool.id, user.username, c) for c in codes)
        if _has_custom_message_trigger(pool):
            self.custom_messages.append(
                CustomMessage(pool.id, user.username, dict(client_metadata or {}), tuple(codes))
            )

    def trigger_invocations(self) -> list[CustomMessage]:
        """The custom message trigger's actual invocations: calls that sent a message."""
        return [call for call in self.custom_messages if call.invoked]

    # --- AdminCreateUser and CreateUserPool (rules 11 and 12) ---------------------------------

    @staticmethod
    def create_user_arguments(
        pool: CognitoIdpUserPool, username: str, attributes: Sequence[Mapping[str, Any]]
    ) -> tuple[str, list[dict[str, Any]]]:
        """Rule 11: a case-insensitive pool keeps the username and its sign-in aliases in
        lower case (so a case variant of an existing username is that user)."""
        if not case_insensitive(pool):
            return username, [dict(a) for a in attributes]
        return username.lower(), [
            {**a, "Value": _folded(pool, str(a["Name"]), str(a.get("Value") or ""))}
            for a in attributes
        ]

    @staticmethod
    def complete_schema(pool: CognitoIdpUserPool) -> None:
        """Rule 12: give a pool created with ``Schema=`` the standard attributes it omitted."""
        declared: dict[str, Any] = dict(pool.schema_attributes)
        standard: Mapping[str, Mapping[str, Any]] = CognitoIdpUserPoolAttribute.STANDARD_SCHEMA
        complete: dict[str, Any] = {}
        for name, spec in standard.items():
            complete[name] = declared.pop(name, None) or CognitoIdpUserPoolAttribute(
                name, False, dict(spec)
            )
        complete.update(declared)
        pool.schema_attributes = complete

    @staticmethod
    def _check_unique_sign_in(
        pool: CognitoIdpUserPool,
        user: Any,  # noqa: ANN401
        requested: Mapping[str, str],
        final: Mapping[str, str],
    ) -> None:
        """Rule 8: a sign-in name belongs to one user of the pool.

        A username attribute identifies its user whether verified or not, so it may not equal any
        other user's. An e-mail or phone alias counts only once verified (``ForceAliasCreation``
        is "used only if the phone_number_verified or email_verified attribute is set to True"),
        so the conflict is between two verified values. ``preferred_username`` needs no
        verification. The user's own current value is never a conflict (moto says it is). In a
        case-insensitive pool a case variant is the same name (rule 11).
        """
        username_attributes, alias_attributes = _sign_in_settings(pool)
        for attribute in _SIGN_IN_ATTRIBUTES:
            if attribute not in username_attributes | alias_attributes:
                continue
            flag = VERIFICATION_FLAGS.get(attribute)
            touched = attribute in requested or (flag is not None and flag in requested)
            value = final.get(attribute)
            if not touched or not value:
                continue
            for other in pool.users.values():
                if other is user:
                    continue
                theirs = _attributes(other)
                if not _same_sign_in(pool, attribute, theirs.get(attribute), value):
                    continue
                if (
                    attribute in username_attributes
                    or flag is None
                    or (final.get(flag) == "true" and theirs.get(flag) == "true")
                ):
                    raise _alias_exists(attribute)

    # --- AdminDeleteUserAttributes ------------------------------------------------------------

    def admin_delete_user_attributes(
        self,
        backend: Any,  # noqa: ANN401
        user_pool_id: str,
        username: str,
        names: Sequence[str],
    ) -> None:
        """Rules 1-3 and 10 for ``AdminDeleteUserAttributes``.

        Cognito treats deleting an attribute the user does not have as done (moto refuses it);
        a required attribute cannot be deleted.
        """
        pool = backend.describe_user_pool(user_pool_id)
        user = backend.admin_get_user(user_pool_id, username)
        schema = _pool_schema(pool)
        _refuse(_name_problems(names, schema))
        _refuse([_required(name) for name in names if schema[name].required])

        current = _attributes(user)
        present = list(dict.fromkeys(name for name in names if name in current))
        if present:
            user.delete_attributes(present)
        for contact in VERIFICATION_FLAGS:
            if contact in names:
                self.pending.pop((pool.id, user.username, contact), None)


@contextmanager
def strict_cognito() -> Iterator[CognitoFidelity]:
    """Make moto's Cognito backend enforce the real attribute-write rules while active.

    Works for the in-process ``mock_aws()`` and an in-process ``ThreadedMotoServer`` alike (the
    patches are on the shared backend classes, so they apply to every account and Region). The
    yielded layer records the verification codes and pending changes (rules 6 and 7) and what a
    custom message trigger receives (rule 13).
    """
    layer = CognitoFidelity()
    # The request's ClientMetadata, for the backend call the response handler makes next.
    request = threading.local()

    def update(
        backend: Any,  # noqa: ANN401
        user_pool_id: str,
        username: str,
        attributes: Sequence[Mapping[str, Any]],
    ) -> None:
        metadata: Mapping[str, str] = getattr(request, "client_metadata", {})
        layer.admin_update_user_attributes(
            backend, user_pool_id, username, attributes, client_metadata=metadata
        )

    def delete(
        backend: Any,  # noqa: ANN401
        user_pool_id: str,
        username: str,
        names: Sequence[str],
    ) -> None:
        layer.admin_delete_user_attributes(backend, user_pool_id, username, names)

    def get_user(pool: CognitoIdpUserPool, username: str) -> Any:  # noqa: ANN401
        return CognitoFidelity.find_user(pool, username)

    def update_response(response: CognitoIdpResponse) -> EmptyResult:
        # moto's handler drops ClientMetadata before the backend sees it (rule 13 needs it); the
        # call still goes through the backend method, so other patches on it (a quota) apply.
        request.client_metadata = response._get_param("ClientMetadata") or {}
        try:
            response.backend.admin_update_user_attributes(
                response._get_param("UserPoolId"),
                response._get_param("Username"),
                response._get_param("UserAttributes") or [],
            )
        finally:
            request.client_metadata = {}
        return EmptyResult()

    moto_create_user = CognitoIdpBackend.admin_create_user
    moto_create_pool = CognitoIdpBackend.create_user_pool

    def create_user(  # noqa: PLR0917 - moto's positional signature
        backend: Any,  # noqa: ANN401
        user_pool_id: str,
        username: str,
        message_action: str,
        temporary_password: str,
        attributes: Sequence[Mapping[str, Any]] | None,
    ) -> Any:  # noqa: ANN401 - moto's CognitoIdpUser
        pool = backend.describe_user_pool(user_pool_id)
        username, folded = CognitoFidelity.create_user_arguments(pool, username, attributes or [])
        return moto_create_user(
            backend, user_pool_id, username, message_action, temporary_password, folded
        )

    def create_pool(
        backend: Any,  # noqa: ANN401
        name: str,
        extended_config: dict[str, Any],
    ) -> CognitoIdpUserPool:
        pool = moto_create_pool(backend, name, extended_config)
        CognitoFidelity.complete_schema(pool)
        return pool

    with ExitStack() as patches:
        patches.enter_context(
            mock.patch.object(CognitoIdpBackend, "admin_update_user_attributes", update)
        )
        patches.enter_context(
            mock.patch.object(CognitoIdpBackend, "admin_delete_user_attributes", delete)
        )
        # Every admin call (and token creation) resolves its user through the pool's _get_user.
        patches.enter_context(mock.patch.object(CognitoIdpUserPool, "_get_user", get_user))
        patches.enter_context(
            mock.patch.object(CognitoIdpResponse, "admin_update_user_attributes", update_response)
        )
        patches.enter_context(
            mock.patch.object(CognitoIdpBackend, "admin_create_user", create_user)
        )
        patches.enter_context(mock.patch.object(CognitoIdpBackend, "create_user_pool", create_pool))
        yield layer
