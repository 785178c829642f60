"""``SeedUsers``: any number of seed users, in CloudFormation nested stacks when they do not fit
in one stack, each user at a place that never depends on the other users.

Placement is a pure function of the user's pool and username: a fixed number of hash shards
(``shard_of``), one nested stack per shard that has users (empty shards are not created). Adding
or removing a user never moves another one, and a user's logical id (``user_logical_id``) is the
same in whichever stack it lands, so the ledger's owner id (derived from the stack id and the
logical id) only changes when a user really changes stack.

One provider (function, permissions, pacing, ledger) in the stack that holds ``SeedUsers``
serves every shard: its function ARN is passed to each nested stack as a parameter, and each
nested stack depends on the Cognito policy of every pool its users are in (one policy per pool,
in the provider's stack), so a Delete still has permission.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from enum import StrEnum
from typing import Final

from aws_cdk import NestedStack, Stack
from aws_cdk import aws_cognito as cognito
from aws_cdk import aws_dynamodb as dynamodb
from constructs import Construct

from .cognito_user_attributes import CognitoUserAttributes, CognitoUserAttributesProvider
from .logical_ids import DEFAULT_SHARDS, shard_of, user_construct_id, user_logical_id
from .runtime_rules import reapply_token_problem
from .seed_users_config import SeedUser

MAX_INLINE_USERS: Final = 400
"""``Placement.AUTO`` keeps at most this many users in the stack itself (CloudFormation allows
500 resources per stack; the provider takes 8, the rest is headroom for the caller's own)."""
MAX_SHARDS: Final = 256
"""The parent stack holds one ``AWS::CloudFormation::Stack`` per non-empty shard."""
MAX_USERS_PER_SHARD: Final = 450
"""Of the 500 resources a nested stack may hold. With 64 shards a shard reaches this only around
25,000 users (20,000 users: the fullest shard holds about 350, a shard's mean being 312 and
its standard deviation 18); synth fails naming the shard before CloudFormation would. The
write budget (``write_budget``: 16,200 writes at the default share) binds first."""
MAX_SHARD_TEMPLATE_BYTES: Final = 900_000
"""CloudFormation reads a nested template from S3 up to 1,000,000 bytes; this leaves a margin
for what CDK adds to each resource (metadata, policies) beyond the properties counted here."""
_RESOURCE_OVERHEAD_BYTES: Final = 400


class Placement(StrEnum):
    """Where ``SeedUsers`` puts the users' resources."""

    AUTO = "auto"
    """``INLINE`` up to ``MAX_INLINE_USERS`` users, else ``NESTED``. Crossing the limit moves
    every user once (CloudFormation creates it in its shard, then deletes the old resource; the
    ledger treats that like a renamed resource: no value is restored in between). Pin
    ``NESTED`` for a set that may grow past the limit, and no user ever moves."""
    INLINE = "inline"
    """Every user in the stack that holds ``SeedUsers`` (at most ``MAX_INLINE_USERS``)."""
    NESTED = "nested"
    """Every user in the nested stack of its hash shard (``shard_of``)."""


class SeedUsers(Construct):
    """One ``Custom::CognitoUserAttributes`` per seed user, for any number of users.

    Up to ``MAX_INLINE_USERS`` users (``Placement.AUTO``) live in the stack that holds this
    construct; more are spread over ``shards`` nested stacks by a hash of pool and username.
    Removing a user from the list restores its original attributes on the next deploy (unless
    it says ``onDelete: retain``); so does an empty list for every user, and destroying the
    stack. With no users the provider (function, ledger) stays and nothing else is declared.

    A new ``reapply_token`` sends every user's resource an Update that rewrites its drifted
    values (``CognitoUserAttributes``); the same token as the previous deploy sends nothing.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        seed_users: Sequence[SeedUser],
        placement: Placement = Placement.AUTO,
        shards: int = DEFAULT_SHARDS,
        ledger: dynamodb.ITable | None = None,
        update_quota_share: float | None = None,
        reapply_token: str | None = None,
    ) -> None:
        """:param seed_users: the declarations (``parse_seed_users`` reads them from a file);
            each (pool, username) at most once, none to release every user.
        :param placement: see ``Placement``; ``AUTO`` by default.
        :param shards: how many hash shards ``NESTED`` spreads users over. Changing it moves
            most users to another nested stack (each move is one Create and one Delete).
        :param ledger: a ledger table shared across stacks; by default the stack's provider
            creates one.
        :param update_quota_share: the share of Cognito's UserUpdate quota the stack's provider
            may use (default 0.4, i.e. 10 writes per second).
        :param reapply_token: set as ``ReapplyToken`` on every user's resource (1 to 128
            printable characters). Changing it from one deploy to the next sends an Update to
            every resource, in the stack and in every shard, and each Update rewrites the
            values that drifted from the declaration (nothing else is written, no original
            or claim changes). An unchanged token sends no event; ``None`` (the default) leaves
            the property out. The Updates are paced like any deploy's writes.
        :raises ValueError: a user declared twice, too many users for the placement, or a shard
            over CloudFormation's per-stack limits; the message says which option to change.
        """
        super().__init__(scope, construct_id)
        if not 1 <= shards <= MAX_SHARDS:
            raise ValueError(f"{self.node.path}: shards must be between 1 and {MAX_SHARDS}")
        if reapply_token is not None:
            # Checked once here rather than by the first user's resource: the token is not
            # about any user, and an empty list declares no resource to check it.
            problem = reapply_token_problem(reapply_token)
            if problem is not None:
                raise ValueError(f"{self.node.path}: reapply_token: {problem}")
        self._reapply_token = reapply_token
        seen: set[tuple[str, str]] = set()
        for user in seed_users:
            key = (user.user_pool_id, user.username)
            if key in seen:
                raise ValueError(
                    f"{self.node.path}: user {user.username} in pool {user.user_pool_id} is "
                    "declared twice"
                )
            seen.add(key)
        self.placement = _resolve(placement, len(seed_users), self.node.path)
        self.shard_count = shards
        self.provider = CognitoUserAttributesProvider.of(
            Stack.of(self),
            ledger=ledger,
            update_quota_share=update_quota_share,
            requested_by=self.node.path,
        )
        self._pools: dict[str, cognito.IUserPool] = {}
        self.nested_stacks: dict[int, NestedStack] = {}
        """Shard number -> its nested stack (only shards that have users)."""
        self.users: dict[tuple[str, str], CognitoUserAttributes] = {}
        """(pool id, username) -> the user's construct."""
        if self.placement is Placement.INLINE:
            for user in seed_users:
                self._declare(self, user)
            return
        by_shard: dict[int, list[SeedUser]] = {}
        for user in seed_users:
            by_shard.setdefault(shard_of(user.user_pool_id, user.username, shards), []).append(user)
        width = len(str(shards - 1))
        for shard in sorted(by_shard):
            members = by_shard[shard]
            _check_shard(self.node.path, shard, shards, members, reapply_token)
            nested = NestedStack(
                self,
                f"Shard{shard:0{width}d}",
                description=(
                    f"Seed users, shard {shard} of {shards} (Custom::CognitoUserAttributes; "
                    f"provider in {Stack.of(self).stack_name})"
                ),
            )
            self.nested_stacks[shard] = nested
            for user in members:
                self._declare(nested, user)

    def _declare(self, scope: Construct, user: SeedUser) -> None:
        self.users[(user.user_pool_id, user.username)] = CognitoUserAttributes(
            scope,
            user_construct_id(user.user_pool_id, user.username),
            user_pool=self._pool(user.user_pool_id),
            username=user.username,
            attributes=user.attributes,
            client_metadata=user.client_metadata or None,
            on_delete=user.on_delete,
            provider=self.provider,
            logical_id=user_logical_id(user.user_pool_id, user.username),
            reapply_token=self._reapply_token,
        )

    def _pool(self, pool_id: str) -> cognito.IUserPool:
        """Pools are imported here, in the provider's stack, where the policy names them."""
        if pool_id not in self._pools:
            self._pools[pool_id] = cognito.UserPool.from_user_pool_id(
                self, f"Pool-{pool_id}", pool_id
            )
        return self._pools[pool_id]


def _resolve(placement: Placement, count: int, path: str) -> Placement:
    if placement is Placement.AUTO:
        return Placement.INLINE if count <= MAX_INLINE_USERS else Placement.NESTED
    if placement is Placement.INLINE and count > MAX_INLINE_USERS:
        raise ValueError(
            f"{path}: {count} users do not fit in one stack with placement inline (at most "
            f"{MAX_INLINE_USERS}); use placement nested (or auto)"
        )
    return placement


def _check_shard(
    path: str,
    shard: int,
    shards: int,
    members: Sequence[SeedUser],
    reapply_token: str | None,
) -> None:
    if len(members) > MAX_USERS_PER_SHARD:
        raise ValueError(
            f"{path}: shard {shard} of {shards} holds {len(members)} users (at most "
            f"{MAX_USERS_PER_SHARD} per nested stack); raise shards (this moves most users once)"
        )
    size = sum(_estimated_bytes(user, reapply_token) for user in members)
    if size > MAX_SHARD_TEMPLATE_BYTES:
        raise ValueError(
            f"{path}: shard {shard} of {shards} would be a template of about {size} bytes "
            f"(CloudFormation reads at most 1,000,000); raise shards (this moves most users once)"
        )


def _estimated_bytes(user: SeedUser, reapply_token: str | None) -> int:
    declared = user.resource_properties(reapply_token=reapply_token)
    return len(json.dumps(declared)) + _RESOURCE_OVERHEAD_BYTES
