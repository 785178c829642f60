"""Constructs and the stack that declare Cognito user attributes (Custom::CognitoUserAttributes)."""

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
    SeedConfigError,
    SeedUser,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)
from .seed_users_stack import SeedUsersStack

__all__ = [
    "DEFAULT_UPDATE_QUOTA_SHARE",
    "MAX_INLINE_USERS",
    "MAX_USERS_PER_SHARD",
    "MAX_USER_POOLS",
    "CognitoUserAttributes",
    "CognitoUserAttributesProvider",
    "OnDelete",
    "Placement",
    "SecretReference",
    "SeedConfigError",
    "SeedUser",
    "SeedUsers",
    "SeedUsersStack",
    "deployment_region",
    "load_seed_document",
    "parse_seed_users",
    "shard_of",
    "user_logical_id",
]
