"""CDK constructs that declare Cognito users' attributes (``Custom::CognitoUserAttributes``).

``CognitoUserAttributes`` sets one existing user's attributes on Create and Update and restores
the previous values on Delete; ``SeedUsers`` does it for any number of users (from
``parse_seed_users`` over a ``seed-users.yaml``), with one provider function and one ledger.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .logical_ids import shard_of, user_logical_id
from .resource_properties import OnDelete
from .secret_reference import SecretReference
from .seed_users_config import (
    SEED_USERS_SCHEMA,
    SeedConfigError,
    SeedFile,
    SeedUser,
    deployment_region,
    load_seed_document,
    parse_seed_file,
    parse_seed_users,
)

if TYPE_CHECKING:
    from .cognito_user_attributes import (
        DEFAULT_UPDATE_QUOTA_SHARE,
        MAX_USER_POOLS,
        CognitoUserAttributes,
        CognitoUserAttributesProvider,
    )
    from .seed_users import MAX_INLINE_USERS, MAX_USERS_PER_SHARD, Placement, SeedUsers

# The constructs load the CDK, and with it the Node.js process jsii starts: they are imported
# on first use, so the seed-file parser and the operator tool (``seed-users``) run without it.
_CONSTRUCTS = {
    "DEFAULT_UPDATE_QUOTA_SHARE": "cognito_user_attributes",
    "MAX_USER_POOLS": "cognito_user_attributes",
    "CognitoUserAttributes": "cognito_user_attributes",
    "CognitoUserAttributesProvider": "cognito_user_attributes",
    "MAX_INLINE_USERS": "seed_users",
    "MAX_USERS_PER_SHARD": "seed_users",
    "Placement": "seed_users",
    "SeedUsers": "seed_users",
}


def __getattr__(name: str) -> object:
    module = _CONSTRUCTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{module}", __name__), name)


__version__ = "0.1.0"
"""The distribution's version: hatchling reads it from here (``pyproject.toml``)."""

__all__ = [
    "DEFAULT_UPDATE_QUOTA_SHARE",
    "MAX_INLINE_USERS",
    "MAX_USERS_PER_SHARD",
    "MAX_USER_POOLS",
    "SEED_USERS_SCHEMA",
    "CognitoUserAttributes",
    "CognitoUserAttributesProvider",
    "OnDelete",
    "Placement",
    "SecretReference",
    "SeedConfigError",
    "SeedFile",
    "SeedUser",
    "SeedUsers",
    "__version__",
    "deployment_region",
    "load_seed_document",
    "parse_seed_file",
    "parse_seed_users",
    "shard_of",
    "user_logical_id",
]
