"""Where a seed user's resource goes and what it is called: pure functions of pool and username.

No CDK: the operator tool matches ledger owners to declarations by these logical ids.
"""

from __future__ import annotations

import hashlib
import re
from typing import Final

DEFAULT_SHARDS: Final = 64


def shard_of(user_pool_id: str, username: str, shards: int = DEFAULT_SHARDS) -> int:
    """The shard of a user: a hash of its pool and username, independent of every other user."""
    digest = hashlib.sha256(f"{user_pool_id}/{username}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % shards


def user_construct_id(user_pool_id: str, username: str) -> str:
    """Stable while the user's pool and name are; the digest keeps look-alike names apart."""
    readable = re.sub(r"[^A-Za-z0-9]+", "-", username).strip("-")[:40]
    digest = hashlib.sha256(f"{user_pool_id}/{username}".encode()).hexdigest()[:8]
    return f"User-{readable}-{digest}"


def user_logical_id(user_pool_id: str, username: str) -> str:
    """The user's CloudFormation logical id, the same in the stack and in any shard."""
    return re.sub(r"[^A-Za-z0-9]", "", user_construct_id(user_pool_id, username))
