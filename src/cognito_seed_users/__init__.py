"""CDK constructs that declare Cognito users' attributes (``Custom::CognitoUserAttributes``).

``CognitoUserAttributes`` sets one existing user's attributes on Create and Update and restores
the previous values on Delete; ``SeedUsers`` does it for any number of users (from
``parse_seed_users`` over a ``seed-users.yaml``), with one provider function and one ledger.
"""

from .cognito_user_attributes import (
    DEFAULT_UPDATE_QUOTA_SHARE,
    MAX_USER_POOLS,
    CognitoUserAttributes,
    CognitoUserAttributesProvider,
    OnDelete,
)
from .secret_reference import SecretReference
from .seed_users import (
    MAX_INLINE_USERS,
    MAX_USERS_PER_SHARD,
    Placement,
    SeedUsers,
    shard_of,
    user_logical_id,
)
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
