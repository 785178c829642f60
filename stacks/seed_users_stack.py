"""``SeedUsersStack``: the seed-users file's declarations as one stack."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import CfnOutput, Stack
from aws_cdk import aws_cognito as cognito
from constructs import Construct

from .cognito_user_attributes import CognitoUserAttributes
from .seed_users_config import SeedUser

# Output values are small; past this the output gives counts instead of names.
_MAX_OUTPUT_LENGTH: Final = 1024


class SeedUsersStack(Stack):
    """One ``CognitoUserAttributes`` per seed user, all sharing the stack's provider and ledger.

    Removing a user from the list restores its original attributes on the next deploy (unless
    it says ``onDelete: retain``); destroying the stack restores all of them. The ledger table
    outlives the stack.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        seed_users: Sequence[SeedUser],
        **kwargs: Any,  # noqa: ANN401 - Stack's own keyword arguments, passed through
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        pools: dict[str, cognito.IUserPool] = {}
        managed: dict[str, dict[str, list[str]]] = {}
        for user in seed_users:
            pool_id = user.user_pool_id
            if pool_id not in pools:
                pools[pool_id] = cognito.UserPool.from_user_pool_id(
                    self, f"Pool-{pool_id}", pool_id
                )
            CognitoUserAttributes(
                self,
                _user_construct_id(user),
                user_pool=pools[pool_id],
                username=user.username,
                attributes=user.attributes,
                client_metadata=user.client_metadata or None,
                on_delete=user.on_delete,
            )
            managed.setdefault(pool_id, {})[user.username] = sorted(user.attributes)
        summary = json.dumps(managed, sort_keys=True, separators=(",", ":"))
        if len(summary) > _MAX_OUTPUT_LENGTH:
            summary = f"users: {len(seed_users)}, pools: {len(pools)} (too many to list)"
        CfnOutput(
            self,
            "ManagedUsers",
            value=summary,
            description="Users (by pool) and the attribute names this stack manages; never values",
        )


def _user_construct_id(user: SeedUser) -> str:
    """Stable while the user's pool and name are; the digest keeps look-alike names apart."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", user.username).strip("-")[:40]
    digest = hashlib.sha256(f"{user.user_pool_id}/{user.username}".encode()).hexdigest()[:8]
    return f"User-{readable}-{digest}"
