"""The pool configurations of the matrix (issue 8, item D): one ``PoolConfiguration`` per row.

Each configuration knows how to create its pool (``create_pool``), how to create a seed user in
it (``seed``: the canonical username Cognito gives it may not be the name it was created with)
and how a declaration names that user (``SeedUser.declared``). The Cognito behaviour each row
depends on is modelled by ``cfnlocal.cognito_fidelity`` (its rule numbers are cited here):

- ``default``: a pool with the full standard schema and the seed custom attributes;
- ``email_username``: ``UsernameAttributes=[email]``: a user is created with its email address
  as ``Username``, Cognito gives it a generated username (its ``sub``) and declarations name the
  user by the address (rule 9);
- ``aliases``: ``AliasAttributes`` email, phone_number and preferred_username; declarations name
  the user by its ``preferred_username`` alias, which signs in without verification (rule 9);
- ``case_insensitive``: ``UsernameConfiguration.CaseSensitive=False``; a user created as
  ``Alice`` is ``alice`` (rule 11) and declarations name it ``ALICE``;
- ``verify_email`` / ``verify_phone``: ``AttributesRequireVerificationBeforeUpdate`` on that
  contact (rule 7);
- ``required_attribute``: the standard ``name`` attribute is required (rules 10 and 12);
- ``immutable_and_dev``: an immutable custom attribute and a developer-only one
  (``dev:custom:clearance``, rule 1; ``custom:region_lock`` is immutable, rule 2); the generic
  scenarios write the developer-only one;
- ``custom_message``: a custom message trigger (``LambdaConfig.CustomMessage``); every
  declaration carries ``ClientMetadata``, which must reach the trigger on apply and on restore
  (rule 13).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from cfnlocal.seed_pool import CUSTOM_ATTRIBUTES, create_user, create_user_pool

CUSTOM_MESSAGE_TRIGGER = "arn:aws:lambda:eu-west-1:123456789012:function:matrix-custom-message"
DEV_ATTRIBUTE = "dev:custom:clearance"
IMMUTABLE_ATTRIBUTE = "custom:region_lock"
REQUIRED_ATTRIBUTE = "name"
EMAIL_DOMAIN = "users.matrix.example.com"


@dataclass(frozen=True)
class SeedUser:
    """A user of a matrix pool: ``logical`` is the scenario's name for it, ``canonical`` the
    username Cognito reports (the ledger's key), ``declared`` what a declaration's
    ``Username`` says."""

    logical: str
    canonical: str
    declared: str


@dataclass(frozen=True)
class PoolConfiguration:
    name: str
    summary: str
    pool_options: Mapping[str, Any] = field(default_factory=dict)
    custom_attributes: tuple[Mapping[str, Any], ...] = CUSTOM_ATTRIBUTES
    naming: str = "username"
    """``username`` | ``email`` (email as username) | ``alias`` (preferred_username alias) |
    ``other_case`` (created capitalized, declared upper case)."""
    attributes: tuple[str, str] = ("custom:plan", "nickname")
    """The two attributes the generic scenarios declare."""
    client_metadata: Mapping[str, str] | None = None
    """Sent with every declaration (the custom message row)."""
    user_extras: Mapping[str, str] = field(default_factory=dict)
    """Attributes every seed user gets (``{}`` placeholders: the logical name)."""
    not_declarable: frozenset[str] = frozenset()
    """Attributes the random lifecycles do not declare in this pool (see ``README``/report)."""
    extra_values: Mapping[str, tuple[str | None, ...]] = field(default_factory=dict)
    """Attributes (and values) the random lifecycles also declare in this pool."""

    # -- the pool ----------------------------------------------------------------------------

    def create_pool(self, cognito: Any, suffix: str = "") -> str:
        return create_user_pool(
            cognito,
            f"matrix-{self.name}{suffix}"[:128],
            custom_attributes=self.custom_attributes,
            **dict(self.pool_options),
        )

    @property
    def verify_before_update(self) -> frozenset[str]:
        settings = self.pool_options.get("UserAttributeUpdateSettings") or {}
        return frozenset(settings.get("AttributesRequireVerificationBeforeUpdate") or ())

    @property
    def has_custom_message_trigger(self) -> bool:
        return bool((self.pool_options.get("LambdaConfig") or {}).get("CustomMessage"))

    # -- users -------------------------------------------------------------------------------

    def originals(self, logical: str, attributes: Mapping[str, str]) -> dict[str, str]:
        """What the seed user is created with: ``attributes`` plus the row's extras (and, in an
        alias pool, its preferred_username)."""
        extras = {name: value.format(logical) for name, value in self.user_extras.items()}
        created = {**extras, **attributes}
        if self.naming == "alias":
            created.setdefault("preferred_username", f"{logical}-pref")
        return created

    def seed(
        self,
        cognito: Any,
        pool_id: str,
        logical: str,
        attributes: Mapping[str, str],
    ) -> SeedUser:
        """Create the user; its canonical and declared names."""
        created = self.originals(logical, attributes)
        if self.naming == "email":
            # The address is the username: Cognito stores it as the email attribute.
            address = created.pop("email", f"{logical}@{EMAIL_DOMAIN}")
            canonical = create_user(cognito, pool_id, address, created)
            return SeedUser(logical, canonical, address)
        if self.naming == "other_case":
            canonical = create_user(cognito, pool_id, logical.capitalize(), created)
            return SeedUser(logical, canonical, logical.upper())
        canonical = create_user(cognito, pool_id, logical, created)
        if self.naming == "alias":
            return SeedUser(logical, canonical, created["preferred_username"])
        return SeedUser(logical, canonical, logical)


def _verify(*attributes: str) -> dict[str, Any]:
    return {
        "AutoVerifiedAttributes": list(attributes),
        "UserAttributeUpdateSettings": {
            "AttributesRequireVerificationBeforeUpdate": list(attributes)
        },
    }


DEV_CUSTOM_ATTRIBUTE = {
    "Name": "clearance",
    "AttributeDataType": "String",
    "DeveloperOnlyAttribute": True,
    "Mutable": True,
}

CONFIGURATIONS: tuple[PoolConfiguration, ...] = (
    PoolConfiguration("default", "full standard schema, seed custom attributes"),
    PoolConfiguration(
        "email_username",
        "UsernameAttributes=[email], declared by address",
        pool_options={"UsernameAttributes": ["email"]},
        naming="email",
    ),
    PoolConfiguration(
        "aliases",
        "AliasAttributes email, phone_number, preferred_username; declared by alias",
        pool_options={"AliasAttributes": ["email", "phone_number", "preferred_username"]},
        naming="alias",
    ),
    PoolConfiguration(
        "case_insensitive",
        "CaseSensitive=False, declared in upper case",
        pool_options={"UsernameConfiguration": {"CaseSensitive": False}},
        naming="other_case",
    ),
    PoolConfiguration(
        "verify_email",
        "AttributesRequireVerificationBeforeUpdate=[email]",
        pool_options=_verify("email"),
    ),
    PoolConfiguration(
        "verify_phone",
        "AttributesRequireVerificationBeforeUpdate=[phone_number]",
        pool_options=_verify("phone_number"),
    ),
    PoolConfiguration(
        "required_attribute",
        "standard attribute name required",
        pool_options={
            "Schema": [
                {
                    "Name": REQUIRED_ATTRIBUTE,
                    "AttributeDataType": "String",
                    "Mutable": True,
                    "Required": True,
                }
            ]
        },
        attributes=(REQUIRED_ATTRIBUTE, "custom:plan"),
        user_extras={REQUIRED_ATTRIBUTE: "ORIG-name-{}"},
        # None: declared absent, which validation refuses for a required attribute.
        extra_values={REQUIRED_ATTRIBUTE: ("Name-Rand-A", "Name-Rand-B", None)},
    ),
    PoolConfiguration(
        "immutable_and_dev",
        "immutable custom:region_lock, developer-only dev:custom:clearance",
        custom_attributes=(*CUSTOM_ATTRIBUTES, DEV_CUSTOM_ATTRIBUTE),
        attributes=(DEV_ATTRIBUTE, "custom:plan"),
        user_extras={DEV_ATTRIBUTE: "ORIG-clearance-{}", IMMUTABLE_ATTRIBUTE: "ORIG-lock-{}"},
        extra_values={DEV_ATTRIBUTE: ("clearance-rand-a", "clearance-rand-b", None)},
    ),
    PoolConfiguration(
        "custom_message",
        "LambdaConfig.CustomMessage; ClientMetadata on every declaration",
        pool_options={"LambdaConfig": {"CustomMessage": CUSTOM_MESSAGE_TRIGGER}},
        client_metadata={"origin": "META-matrix-origin-7f3a", "ticket": "META-ticket-7f3a"},
    ),
)

BY_NAME: Mapping[str, PoolConfiguration] = {c.name: c for c in CONFIGURATIONS}
