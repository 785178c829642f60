"""Adapter for the four Cognito actions the handler performs, named after them."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Final

from botocore.exceptions import BotoCoreError, ClientError

from .aws_clients import error_code
from .errors import AwsCallFailed, PoolNotFound, UserNotFound
from .model import CanonicalUser, Target
from .schema import UserPool, user_pool

if TYPE_CHECKING:
    from mypy_boto3_cognito_idp import CognitoIdentityProviderClient

SCHEMA_CACHE_SECONDS: Final = 300.0
"""DescribeUserPool has a 15/s quota per account; a warm container asks once per pool per 5 min."""


class CognitoUsers:
    """AdminGetUser, DescribeUserPool (cached), AdminUpdateUserAttributes,
    AdminDeleteUserAttributes. Errors become ``AwsCallFailed`` naming the action and code;
    an AWS message that could echo a value we sent has that value redacted.

    ``before_write`` runs before each of the two writes (Cognito's UserUpdate quota category):
    the handler passes its pacing token bucket's ``acquire``.
    """

    def __init__(
        self,
        client: CognitoIdentityProviderClient,
        *,
        clock: Callable[[], float] = time.monotonic,
        before_write: Callable[[], object] | None = None,
    ) -> None:
        self._client = client
        self._clock = clock
        self._before_write = before_write
        self._pools: dict[str, tuple[float, UserPool]] = {}

    def admin_get_user(self, target: Target) -> CanonicalUser:
        """The user's canonical username and live attributes; ``UserNotFound`` if absent,
        ``PoolNotFound`` if the pool is."""
        with _calling("AdminGetUser"):
            response = self._client.admin_get_user(
                UserPoolId=target.user_pool_id, Username=target.username
            )
        return CanonicalUser(
            user_pool_id=target.user_pool_id,
            username=response["Username"],
            attributes={
                item["Name"]: item.get("Value", "") for item in response.get("UserAttributes", [])
            },
        )

    def describe_user_pool(self, user_pool_id: str) -> UserPool:
        """The pool's schema and verification settings, from this container's cache when fresh."""
        now = self._clock()
        cached = self._pools.get(user_pool_id)
        if cached is not None and now - cached[0] < SCHEMA_CACHE_SECONDS:
            return cached[1]
        with _calling("DescribeUserPool"):
            description = self._client.describe_user_pool(UserPoolId=user_pool_id)["UserPool"]
        pool = user_pool(description)
        self._pools[user_pool_id] = (now, pool)
        return pool

    def admin_update_user_attributes(
        self, user: CanonicalUser, values: Mapping[str, str], client_metadata: Mapping[str, str]
    ) -> None:
        extra = {"ClientMetadata": dict(client_metadata)} if client_metadata else {}
        if self._before_write is not None:
            self._before_write()
        with _calling(
            "AdminUpdateUserAttributes",
            sent=[*values.values(), *client_metadata.values()],
        ):
            self._client.admin_update_user_attributes(
                UserPoolId=user.user_pool_id,
                Username=user.username,
                UserAttributes=[{"Name": name, "Value": value} for name, value in values.items()],
                **extra,
            )

    def admin_delete_user_attributes(self, user: CanonicalUser, names: Iterable[str]) -> None:
        if self._before_write is not None:
            self._before_write()
        with _calling("AdminDeleteUserAttributes"):
            self._client.admin_delete_user_attributes(
                UserPoolId=user.user_pool_id,
                Username=user.username,
                UserAttributeNames=sorted(names),
            )


@contextmanager
def _calling(action: str, sent: Iterable[str] = ()) -> Iterator[None]:
    """Turn a failed call into ``UserNotFound``/``PoolNotFound`` (every call names a user or its
    pool) or ``AwsCallFailed``."""
    try:
        yield
    except ClientError as error:
        code = error_code(error)
        if code == "UserNotFoundException":
            raise UserNotFound(action, code, "the user does not exist in the user pool") from None
        # Cognito answers ResourceNotFoundException for a pool id that names no pool.
        if code == "ResourceNotFoundException":
            raise PoolNotFound(action, code, "the user pool does not exist") from None
        raise _failed(action, error, sent) from None
    except BotoCoreError as error:
        raise AwsCallFailed(action, type(error).__name__) from None


def _failed(action: str, error: ClientError, sent: Iterable[str]) -> AwsCallFailed:
    """Cognito's messages can quote what was sent: every sent value, however short, is
    redacted wherever it stands as a token of its own."""
    message = str(error.response.get("Error", {}).get("Message", ""))
    for value in sorted(set(sent), key=len, reverse=True):
        if value:
            message = re.sub(rf"(?<!\w){re.escape(value)}(?!\w)", "<redacted>", message)
    return AwsCallFailed(action, error_code(error), message[:160])
