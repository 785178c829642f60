"""Adapter for the ownership ledger (DynamoDB): one Query, one TransactWriteItems per step.

One partition per (pool, canonical user) holds that user's claims, owner records and
tombstones, so a single consistent Query reads all the core needs, and a single transaction
changes claims and the owner's record together: a crash can never leave an owner the ledger
only half knows.

Item layout (``pk`` = ``USER#<pool>#<username>``):
- ``CLAIM#<attribute>``: ``original`` (S) or ``original_absent``, ``owners`` (M: owner id ->
  ``{value | absent | ref, at}``: a secret is stored as its reference), ``version``;
- ``OWNER#<owner id>``: ``attributes`` (L), ``version``, ``created_by`` (the RequestId that
  created it), ``stack_id``, ``logical_resource_id`` and ``physical_id`` (where it comes from;
  absent in records written before they were kept);
- ``TOMBSTONE#<owner id>``: ``request_ids`` (SS: Create/Update requests whose owner a Delete
  released; a late duplicate delivery is refused), ``expires_at`` (DynamoDB TTL, epoch seconds);
- ``RELEASED#<owner id>``: ``released_at`` (epoch seconds): an operator released this owner by
  hand (``seed-users release --apply``); kept without expiry, since CloudFormation may send the
  owner's next Update at any time.
Items written by earlier versions may also hold ``lease_until_ms`` or ``until_ms``; nothing
reads them any more.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Final

from botocore.exceptions import BotoCoreError, ClientError

from .aws_clients import error_code
from .errors import AwsCallFailed, LedgerConflict
from .model import (
    ABSENT,
    NO_MARKS,
    Claim,
    Declared,
    OwnerOrigin,
    OwnerRecord,
    OwnerValue,
    ReleaseMarks,
    SecretRef,
    SecretSource,
    UserLedger,
    Value,
)
from .plan import ClaimChange, OwnerChange

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_dynamodb.type_defs import (
        AttributeValueTypeDef,
        DeleteTypeDef,
        PutTypeDef,
        TransactWriteItemTypeDef,
    )

MAX_TRANSACTION_ITEMS: Final = 100
TOMBSTONE_DAYS: Final = 7
"""Longer than Lambda keeps an asynchronous event (6 hours at most): no duplicate outlives it."""
_CONFLICT_CODES: Final = frozenset({"ConditionalCheckFailed", "TransactionConflict"})
_ORIGIN_FIELDS: Final = ("stack_id", "logical_resource_id", "physical_id")

Item = Mapping[str, "AttributeValueTypeDef"]


def partition_key(user_pool_id: str, username: str) -> str:
    return f"USER#{user_pool_id}#{username}"


class Ledger:
    """Query (the user's whole partition) and TransactWriteItems (one step's changes)."""

    def __init__(self, client: DynamoDBClient, table_name: str) -> None:
        self._client = client
        self._table = table_name

    @property
    def table_name(self) -> str:
        return self._table

    def query(self, user_pool_id: str, username: str) -> UserLedger:
        """Everything the ledger holds for one user, read consistently."""
        claims: dict[str, Claim] = {}
        owners: dict[str, OwnerRecord] = {}
        dead_requests: dict[str, frozenset[str]] = {}
        released: set[str] = set()
        request: dict[str, Any] = {
            "TableName": self._table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": partition_key(user_pool_id, username)}},
            "ConsistentRead": True,
        }
        while True:
            try:
                page = self._client.query(**request)
            except ClientError as error:
                raise _failed("Query", error) from None
            except BotoCoreError as error:
                raise AwsCallFailed("DynamoDB Query", type(error).__name__) from None
            for item in page.get("Items", []):
                kind, _, key = item["sk"]["S"].partition("#")
                if kind == "CLAIM":
                    claims[key] = _claim_from_item(item)
                elif kind == "OWNER":
                    owners[key] = _owner_from_item(item)
                elif kind == "TOMBSTONE" and "request_ids" in item:
                    dead_requests[key] = frozenset(item["request_ids"]["SS"])
                elif kind == "RELEASED":
                    released.add(key)
            if "LastEvaluatedKey" not in page:
                return UserLedger(
                    claims=claims,
                    owners=owners,
                    dead_requests=dead_requests,
                    released_by_hand=frozenset(released),
                )
            request["ExclusiveStartKey"] = page["LastEvaluatedKey"]

    def transact(
        self,
        user_pool_id: str,
        username: str,
        *,
        claims: tuple[ClaimChange, ...],
        owner: OwnerChange | None,
        marks: ReleaseMarks = NO_MARKS,
    ) -> None:
        """Apply claim and owner changes atomically, each conditioned on the version read, with
        a release's ``marks``: its dead requests (owner id -> RequestIds) added to those owners'
        tombstones, and the owners it released by hand marked as such.

        Raises ``LedgerConflict`` when another writer changed an item since it was read.
        """
        pk = partition_key(user_pool_id, username)
        items: list[TransactWriteItemTypeDef] = [self._claim_item(pk, change) for change in claims]
        if owner is not None:
            items.append(self._owner_item(pk, owner))
        for owner_id, requests in sorted(marks.dead_requests.items()):
            items.append(
                {
                    "Update": {
                        "TableName": self._table,
                        "Key": {"pk": {"S": pk}, "sk": {"S": f"TOMBSTONE#{owner_id}"}},
                        # ADD keeps the requests earlier Deletes declared dead.
                        "UpdateExpression": "SET expires_at = :expires ADD request_ids :requests",
                        "ExpressionAttributeValues": {
                            ":expires": {"N": str(int(time.time()) + TOMBSTONE_DAYS * 86_400)},
                            ":requests": {"SS": sorted(requests)},
                        },
                    }
                }
            )
        for owner_id in sorted(marks.released_by_hand):
            items.append(
                {
                    "Put": {
                        "TableName": self._table,
                        "Item": {
                            "pk": {"S": pk},
                            "sk": {"S": f"RELEASED#{owner_id}"},
                            "released_at": {"N": str(int(time.time()))},
                        },
                    }
                }
            )
        if not items:
            return
        if len(items) > MAX_TRANSACTION_ITEMS:
            raise AwsCallFailed(
                "TransactWriteItems",
                "TooManyItems",
                f"one change touches {len(items)} ledger items (limit {MAX_TRANSACTION_ITEMS}); "
                "split the declaration across deploys",
            )
        try:
            self._client.transact_write_items(TransactItems=items)
        except ClientError as error:
            reasons = error.response.get("CancellationReasons", [])
            conflicts = [r["Code"] for r in reasons if r.get("Code") in _CONFLICT_CODES]
            if error_code(error) == "TransactionCanceledException" and conflicts:
                raise LedgerConflict(conflicts[0]) from None
            raise _failed("TransactWriteItems", error) from None
        except BotoCoreError as error:
            raise AwsCallFailed("DynamoDB TransactWriteItems", type(error).__name__) from None

    def _claim_item(self, pk: str, change: ClaimChange) -> TransactWriteItemTypeDef:
        key: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": pk},
            "sk": {"S": f"CLAIM#{change.attribute}"},
        }
        return self._versioned_write(
            key,
            None if change.before is None else change.before.version,
            None if change.after is None else _claim_to_item(change.after),
        )

    def _owner_item(self, pk: str, change: OwnerChange) -> TransactWriteItemTypeDef:
        key: dict[str, AttributeValueTypeDef] = {
            "pk": {"S": pk},
            "sk": {"S": f"OWNER#{change.owner_id}"},
        }
        return self._versioned_write(
            key,
            None if change.before is None else change.before.version,
            None if change.after is None else _owner_to_item(change.after),
        )

    def _versioned_write(
        self,
        key: dict[str, AttributeValueTypeDef],
        expected_version: int | None,
        body: dict[str, AttributeValueTypeDef] | None,
    ) -> TransactWriteItemTypeDef:
        values: dict[str, AttributeValueTypeDef] = {}
        if expected_version is None:
            condition = "attribute_not_exists(pk)"
        else:
            condition = "version = :expected"
            values[":expected"] = {"N": str(expected_version)}
        if body is None:
            delete: DeleteTypeDef = {
                "TableName": self._table,
                "Key": key,
                "ConditionExpression": condition,
            }
            if values:
                delete["ExpressionAttributeValues"] = values
            return {"Delete": delete}
        put: PutTypeDef = {
            "TableName": self._table,
            "Item": {**key, **body},
            "ConditionExpression": condition,
        }
        if values:
            put["ExpressionAttributeValues"] = values
        return {"Put": put}


def _value_to_item(value: Declared) -> dict[str, AttributeValueTypeDef]:
    if isinstance(value, SecretRef):
        reference: dict[str, AttributeValueTypeDef] = {
            field: {"S": text}
            for field, text in (
                ("source", value.source.value),
                ("identifier", value.identifier),
                ("json_key", value.json_key),
                ("version_stage", value.version_stage),
                ("version_id", value.version_id),
            )
            if text is not None
        }
        return {"ref": {"M": reference}}
    return {"absent": {"BOOL": True}} if value is ABSENT else {"value": {"S": value}}


def _value_from_item(item: Mapping[str, AttributeValueTypeDef], key: str) -> Value:
    return item[key]["S"] if key in item else ABSENT


def _declared_from_item(item: Mapping[str, AttributeValueTypeDef]) -> Declared:
    if "ref" not in item:
        return _value_from_item(item, "value")
    reference = {field: text["S"] for field, text in item["ref"]["M"].items()}
    return SecretRef(
        SecretSource(reference["source"]),
        reference["identifier"],
        json_key=reference.get("json_key"),
        version_stage=reference.get("version_stage"),
        version_id=reference.get("version_id"),
    )


def _claim_to_item(claim: Claim) -> dict[str, AttributeValueTypeDef]:
    original: dict[str, AttributeValueTypeDef] = (
        {"original_absent": {"BOOL": True}}
        if claim.original is ABSENT
        else {"original": {"S": claim.original}}
    )
    owners: dict[str, AttributeValueTypeDef] = {
        owner: {"M": {**_value_to_item(held.value), "at": {"N": str(held.applied_at)}}}
        for owner, held in claim.owners.items()
    }
    return {**original, "owners": {"M": owners}, "version": {"N": str(claim.version)}}


def _claim_from_item(item: Item) -> Claim:
    owners = {
        owner: OwnerValue(_declared_from_item(held["M"]), int(held["M"]["at"]["N"]))
        for owner, held in item["owners"]["M"].items()
    }
    return Claim(
        original=_value_from_item(item, "original"),
        owners=owners,
        version=int(item["version"]["N"]),
    )


def _owner_to_item(owner: OwnerRecord) -> dict[str, AttributeValueTypeDef]:
    item: dict[str, AttributeValueTypeDef] = {
        "attributes": {"L": [{"S": name} for name in sorted(owner.attributes)]},
        "version": {"N": str(owner.version)},
        "created_by": {"S": owner.created_by},
    }
    for name in _ORIGIN_FIELDS:
        text = getattr(owner.origin, name)
        if text:
            item[name] = {"S": text}
    return item


def _owner_from_item(item: Item) -> OwnerRecord:
    return OwnerRecord(
        attributes=frozenset(entry["S"] for entry in item["attributes"]["L"]),
        version=int(item["version"]["N"]),
        created_by=item.get("created_by", {}).get("S", ""),
        origin=OwnerOrigin(**{name: item.get(name, {}).get("S", "") for name in _ORIGIN_FIELDS}),
    )


def _failed(action: str, error: ClientError) -> AwsCallFailed:
    return AwsCallFailed(action, error_code(error))
