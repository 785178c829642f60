"""``SeedUsersStack``: the seed-users file's declarations as one stack (and nested stacks)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from cognito_seed_users import Placement, SeedUser, SeedUsers

# Output values are small; past this the output gives counts instead of names.
_MAX_OUTPUT_LENGTH: Final = 1024


class SeedUsersStack(Stack):
    """A ``SeedUsers`` with the stack's provider and ledger, and an output naming the users.

    Removing a user from the list restores its original attributes on the next deploy (unless
    it says ``onDelete: retain``). An empty list restores all of them and keeps the provider
    for the next users; destroying the stack restores them too. The ledger table outlives the
    stack.

    ``reapply_token`` goes to ``SeedUsers``: a token different from the last deploy's sends
    every seed resource an Update that rewrites drifted values; the same token sends nothing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        seed_users: Sequence[SeedUser],
        placement: Placement = Placement.AUTO,
        update_quota_share: float | None = None,
        reapply_token: str | None = None,
        **kwargs: Any,  # noqa: ANN401 - Stack's own keyword arguments, passed through
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.seed_users = SeedUsers(
            self,
            "SeedUsers",
            seed_users=seed_users,
            placement=placement,
            update_quota_share=update_quota_share,
            reapply_token=reapply_token,
        )
        managed: dict[str, dict[str, list[str]]] = {}
        for user in seed_users:
            managed.setdefault(user.user_pool_id, {})[user.username] = sorted(user.attributes)
        summary = json.dumps(managed, sort_keys=True, separators=(",", ":"))
        if len(summary) > _MAX_OUTPUT_LENGTH:
            summary = f"users: {len(seed_users)}, pools: {len(managed)} (too many to list)"
        CfnOutput(
            self,
            "ManagedUsers",
            value=summary,
            description="Users (by pool) and the attribute names this stack manages; never values",
        )
