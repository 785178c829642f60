"""Paced reads: the users (Cognito ``AdminGetUser``), their ledger partitions (``Query``), and
the list of partitions (``Scan``).

Cognito's UserRead quota (120 requests per second per account and Region: Amazon Cognito
Developer Guide, "Quotas in Amazon Cognito", category UserRead, which holds AdminGetUser) is
shared with production traffic (sign-ins read users too), so every ``AdminGetUser`` first
takes a token from the function's own ``TokenBucket`` at ``--rate`` (default 50/s, well under
the quota).
``--workers`` threads share the bucket: they hide each call's latency, the bucket bounds the
rate. DynamoDB reads are not paced: the ledger is this tool's own table.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final, TypeVar

from botocore.exceptions import BotoCoreError, ClientError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from user_attributes.aws_clients import error_code
from user_attributes.cognito import CognitoUsers
from user_attributes.errors import AwsCallFailed
from user_attributes.ledger import Ledger, partition_key
from user_attributes.model import CanonicalUser, Target, UserLedger
from user_attributes.pacing import TokenBucket
from user_attributes.schema import UserPool

from .errors import CliError
from .output import progress_wanted

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

DEFAULT_RATE: Final = 50.0
"""AdminGetUser calls per second: under half of Cognito's UserRead quota (120/s), which
production shares."""
DEFAULT_WORKERS: Final = 4
_PARTITION_PREFIX: Final = "USER#"

T = TypeVar("T")
R = TypeVar("R")


@dataclass(frozen=True)
class UserRead:
    """One user as the tool reads it: live attributes, pool settings, ledger partition."""

    user: CanonicalUser
    pool: UserPool
    ledger: UserLedger


class Reader:
    """The function's adapters (``CognitoUsers``, ``Ledger``) behind one paced front."""

    def __init__(
        self,
        cognito: CognitoUsers,
        ledger: Ledger,
        dynamodb: DynamoDBClient,
        *,
        rate: float = DEFAULT_RATE,
        workers: int = DEFAULT_WORKERS,
    ) -> None:
        self.cognito = cognito
        self.ledger = ledger
        self._dynamodb = dynamodb
        self.bucket = TokenBucket(rate)
        self.workers = workers
        self.user_reads = 0

    def user(self, target: Target) -> CanonicalUser:
        """``AdminGetUser`` after a token (``UserNotFound``/``PoolNotFound`` when absent)."""
        self.bucket.acquire()
        self.user_reads += 1
        return self.cognito.admin_get_user(target)

    def read(self, target: Target) -> UserRead:
        """The user (by a declared name or alias), its pool, and its ledger partition (by the
        canonical name, which the partition key uses)."""
        user = self.user(target)
        pool = self.cognito.describe_user_pool(target.user_pool_id)
        return UserRead(user, pool, self.ledger.query(user.user_pool_id, user.username))

    def partitions(self) -> list[Target]:
        """Every (pool, canonical username) the ledger holds items for, sorted by key.

        A Scan that projects only the key: the items themselves are read per partition by
        ``Ledger.query``, the function's own reader of the ledger format.
        """
        keys = {item["pk"]["S"] for item in self.scan_keys()}
        targets = (partition_target(key) for key in sorted(keys))
        return [target for target in targets if target is not None]

    def ledgers(self, targets: Sequence[Target]) -> list[UserLedger]:
        """Each target's ledger partition (``Ledger.query``), in order."""
        return self.map(
            targets,
            lambda target: self.ledger.query(target.user_pool_id, target.username),
            label="reading ledger",
        )

    def scan_keys(self, sort_key_prefix: str | None = None) -> Iterator[dict[str, Any]]:
        """The keys (``pk``, ``sk``) of every ledger item, or of those whose sort key starts
        with ``sort_key_prefix``: a Scan that projects only keys, page after page."""
        request: dict[str, Any] = {
            "TableName": self.ledger.table_name,
            "ProjectionExpression": "pk, sk",
        }
        if sort_key_prefix is not None:
            request["FilterExpression"] = "begins_with(sk, :prefix)"
            request["ExpressionAttributeValues"] = {":prefix": {"S": sort_key_prefix}}
        while True:
            try:
                page = self._dynamodb.scan(**request)
            except ClientError as error:
                if error_code(error) == "ResourceNotFoundException":
                    raise CliError(
                        f"ledger table {self.ledger.table_name} not found (check "
                        "--ledger-table and --region)"
                    ) from None
                raise AwsCallFailed("DynamoDB Scan", error_code(error)) from None
            except BotoCoreError as error:
                raise AwsCallFailed("DynamoDB Scan", type(error).__name__) from None
            yield from page.get("Items", [])
            if "LastEvaluatedKey" not in page:
                return
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def map(self, items: Sequence[T], work: Callable[[T], R], *, label: str) -> list[R]:
        """``work`` over ``items`` on ``workers`` threads, results in order; the first error
        raised stops the run and propagates. A progress bar on stderr for more than a few."""
        with _progress(len(items), label) as advance:
            if self.workers <= 1 or len(items) <= 1:
                results = []
                for item in items:
                    results.append(work(item))
                    advance()
                return results

            def tracked(item: T) -> R:
                result = work(item)
                advance()
                return result

            with ThreadPoolExecutor(self.workers, thread_name_prefix="seed-users-read") as pool:
                return list(pool.map(tracked, items))


def partition_target(key: str) -> Target | None:
    """The user a ledger partition key names (``partition_key`` inverted), or None for a key
    the ledger does not write. A pool id holds no ``#``; a username may."""
    kind, _, rest = key.partition("#")
    pool, _, username = rest.partition("#")
    if f"{kind}#" != _PARTITION_PREFIX or not pool or not username:
        return None
    return Target(pool, username) if partition_key(pool, username) == key else None


@contextmanager
def _progress(total: int, label: str) -> Iterator[Callable[[], None]]:
    if not progress_wanted(total):
        yield lambda: None
        return
    progress = Progress(
        TextColumn(label),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=Console(file=sys.stderr),
        transient=True,
    )
    task = progress.add_task(label, total=total)
    with progress:
        yield lambda: progress.advance(task)
