"""Constructs and the stack that declare Cognito user attributes (Custom::CognitoUserAttributes)."""

from .cognito_user_attributes import CognitoUserAttributes, OnDelete
from .seed_users_config import (
    SeedConfigError,
    SeedUser,
    deployment_region,
    load_seed_document,
    parse_seed_users,
)
from .seed_users_stack import SeedUsersStack

__all__ = [
    "CognitoUserAttributes",
    "OnDelete",
    "SeedConfigError",
    "SeedUser",
    "SeedUsersStack",
    "deployment_region",
    "load_seed_document",
    "parse_seed_users",
]
