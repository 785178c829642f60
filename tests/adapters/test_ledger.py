"""The DynamoDB ledger adapter against moto: round trips, conditions, tombstones, paging."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError, EndpointConnectionError
from user_attributes.errors import AwsCallFailed, LedgerConflict
from user_attributes.ledger import MAX_TRANSACTION_ITEMS, TOMBSTONE_DAYS, Ledger, partition_key
from user_attributes.model import (
    ABSENT,
    Claim,
    OwnerOrigin,
    OwnerRecord,
    OwnerValue,
    ReleaseMarks,
    SecretRef,
    SecretSource,
    UserLedger,
)
from user_attributes.plan import ClaimChange, OwnerChange, plan_reconcile

from cfnlocal.seed_pool import create_ledger_table

TABLE = "ledger"
POOL = "eu-west-1_AbCdEf123"
USER = "ci-bot"
O1 = "a" * 32
O2 = "b" * 32


@pytest.fixture
def client(boto_session: Any) -> Any:
    dynamodb = boto_session.client("dynamodb")
    create_ledger_table(dynamodb, TABLE)
    return dynamodb


@pytest.fixture
def ledger(client: Any) -> Ledger:
    return Ledger(client, TABLE)


def put(ledger: Ledger, claims: dict[str, Claim], owners: dict[str, OwnerRecord], user=USER):
    ledger.transact(
        POOL,
        user,
        claims=tuple(ClaimChange(name, None, claim) for name, claim in claims.items()),
        owner=None,
    )
    for owner_id, record in owners.items():
        ledger.transact(POOL, user, claims=(), owner=OwnerChange(owner_id, None, record))


def count_calls(client: Any, operation: str) -> list[dict[str, Any]]:
    calls: list[dict[str, Any]] = []
    client.meta.events.register(
        f"before-parameter-build.dynamodb.{operation}", lambda params, **_: calls.append(params)
    )
    return calls


def raise_on(client: Any, operation: str, error: Exception) -> None:
    def hook(**_: Any) -> None:
        raise error

    client.meta.events.register(f"before-call.dynamodb.{operation}", hook)


def cancelled(*codes: str) -> ClientError:
    return ClientError(
        {
            "Error": {"Code": "TransactionCanceledException", "Message": "cancelled"},
            "CancellationReasons": [{"Code": code} for code in codes],
        },
        "TransactWriteItems",
    )


# -- round trips --------------------------------------------------------------------------


def test_empty_partition_reads_as_an_empty_ledger(ledger):
    assert ledger.query(POOL, USER) == UserLedger()


def test_claims_and_owner_records_round_trip(ledger):
    claims = {
        "custom:plan": Claim("free", {O1: OwnerValue("pro", 1)}, 1),
        "nickname": Claim(ABSENT, {O1: OwnerValue("Al", 1), O2: OwnerValue(ABSENT, 4)}, 4),
        "email": Claim("seed@example.com", {O2: OwnerValue("new@example.com", 2)}, 2),
        "custom:odd#name": Claim(ABSENT, {O2: OwnerValue("x#y", 7)}, 7),
    }
    owners = {
        O1: OwnerRecord(frozenset({"custom:plan", "nickname"}), 3),
        O2: OwnerRecord(frozenset({"nickname", "email", "custom:odd#name"}), 1),
    }

    put(ledger, claims, owners)

    assert ledger.query(POOL, USER) == UserLedger(claims=claims, owners=owners)


def test_a_planned_step_reads_back_as_the_plans_ledger_after(ledger):
    live = {"custom:plan": "free", "email": "seed@example.com", "email_verified": "true"}
    plan = plan_reconcile(
        owner_id=O1,
        desired={"custom:plan": "pro", "nickname": ABSENT, "email": "new@example.com"},
        ledger=UserLedger(),
        live=live,
    )

    ledger.transact(POOL, USER, claims=plan.claims, owner=plan.owner)

    assert ledger.query(POOL, USER) == plan.ledger_after(UserLedger())


def test_update_and_delete_round_trip_through_transact(ledger):
    first = Claim("free", {O1: OwnerValue("pro", 1)}, 1)
    other = Claim(ABSENT, {O1: OwnerValue("Al", 1)}, 1)
    record = OwnerRecord(frozenset({"custom:plan", "nickname"}), 1)
    put(ledger, {"custom:plan": first, "nickname": other}, {O1: record})
    second = Claim("free", {O1: OwnerValue("pro", 1), O2: OwnerValue("team", 2)}, 2)
    new_record = OwnerRecord(frozenset({"custom:plan"}), 2)

    ledger.transact(
        POOL,
        USER,
        claims=(
            ClaimChange("custom:plan", first, second),
            ClaimChange("nickname", other, None),
        ),
        owner=OwnerChange(O1, record, new_record),
    )

    assert ledger.query(POOL, USER) == UserLedger(
        claims={"custom:plan": second}, owners={O1: new_record}
    )

    ledger.transact(POOL, USER, claims=(), owner=OwnerChange(O1, new_record, None))
    assert ledger.query(POOL, USER).owners == {}


def test_a_transaction_with_nothing_to_do_makes_no_call(ledger, client):
    calls = count_calls(client, "TransactWriteItems")

    ledger.transact(POOL, USER, claims=(), owner=None)

    assert calls == []


# -- conditions ---------------------------------------------------------------------------


def test_creating_an_existing_claim_raises_ledger_conflict(ledger):
    claim = Claim("free", {O1: OwnerValue("pro", 1)}, 1)
    put(ledger, {"custom:plan": claim}, {})
    duplicate = Claim("pro", {O2: OwnerValue("seeded-original", 1)}, 1)

    with pytest.raises(LedgerConflict):
        ledger.transact(
            POOL, USER, claims=(ClaimChange("custom:plan", None, duplicate),), owner=None
        )

    assert ledger.query(POOL, USER).claims == {"custom:plan": claim}


def test_creating_an_existing_owner_record_raises_ledger_conflict(ledger):
    record = OwnerRecord(frozenset({"custom:plan"}), 1)
    put(ledger, {}, {O1: record})

    with pytest.raises(LedgerConflict):
        ledger.transact(POOL, USER, claims=(), owner=OwnerChange(O1, None, record))


@pytest.mark.parametrize("delete", [False, True], ids=["stale-update", "stale-delete"])
def test_stale_claim_version_raises_ledger_conflict(ledger, delete):
    current = Claim("free", {O1: OwnerValue("pro", 1), O2: OwnerValue("team", 2)}, 2)
    put(ledger, {"custom:plan": current}, {})
    stale = Claim("free", {O1: OwnerValue("pro", 1)}, 1)
    after = None if delete else Claim("free", {O1: OwnerValue("enterprise", 2)}, 2)

    with pytest.raises(LedgerConflict):
        ledger.transact(POOL, USER, claims=(ClaimChange("custom:plan", stale, after),), owner=None)

    assert ledger.query(POOL, USER).claims == {"custom:plan": current}


@pytest.mark.parametrize("delete", [False, True], ids=["stale-update", "stale-delete"])
def test_stale_owner_version_raises_ledger_conflict(ledger, delete):
    current = OwnerRecord(frozenset({"custom:plan"}), 5)
    put(ledger, {}, {O1: current})
    stale = OwnerRecord(frozenset({"custom:plan"}), 4)
    after = None if delete else OwnerRecord(frozenset(), 5)

    with pytest.raises(LedgerConflict):
        ledger.transact(POOL, USER, claims=(), owner=OwnerChange(O1, stale, after))

    assert ledger.query(POOL, USER).owners == {O1: current}


def test_one_failed_condition_writes_nothing_of_the_transaction(ledger):
    current = Claim("free", {O1: OwnerValue("pro", 3)}, 3)
    put(ledger, {"custom:plan": current}, {})
    stale = Claim("free", {O1: OwnerValue("pro", 1)}, 1)

    with pytest.raises(LedgerConflict):
        ledger.transact(
            POOL,
            USER,
            claims=(
                ClaimChange("nickname", None, Claim(ABSENT, {O2: OwnerValue("Al", 1)}, 1)),
                ClaimChange("custom:plan", stale, None),
            ),
            owner=OwnerChange(O2, None, OwnerRecord(frozenset({"nickname"}), 1)),
        )

    assert ledger.query(POOL, USER) == UserLedger(claims={"custom:plan": current})


# -- tombstones ---------------------------------------------------------------------------


def test_tombstone_round_trips_with_a_ttl(ledger, client):
    ledger.transact(POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r1"})}))

    assert ledger.query(POOL, USER).dead_requests == {O1: frozenset({"r1"})}
    item = client.get_item(
        TableName=TABLE,
        Key={"pk": {"S": partition_key(POOL, USER)}, "sk": {"S": f"TOMBSTONE#{O1}"}},
    )["Item"]
    expires_in = int(item["expires_at"]["N"]) - time.time()
    assert TOMBSTONE_DAYS * 86_400 - 60 < expires_in <= TOMBSTONE_DAYS * 86_400


def test_tombstone_accumulates_dead_requests(ledger):
    ledger.transact(POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r1"})}))
    ledger.transact(POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r2"})}))

    assert ledger.query(POOL, USER).dead_requests == {O1: frozenset({"r1", "r2"})}


def test_release_by_hand_mark_round_trips_without_expiry(ledger, client):
    ledger.transact(
        POOL, USER, claims=(), owner=None, marks=ReleaseMarks(released_by_hand=frozenset({O1}))
    )

    assert ledger.query(POOL, USER).released_by_hand == frozenset({O1})
    item = client.get_item(
        TableName=TABLE,
        Key={"pk": {"S": partition_key(POOL, USER)}, "sk": {"S": f"RELEASED#{O1}"}},
    )["Item"]
    # CloudFormation may send the released owner's next Update at any time: no TTL.
    assert "expires_at" not in item
    assert abs(int(item["released_at"]["N"]) - time.time()) < 60


def test_tombstone_written_by_an_earlier_version_stays_readable(ledger, client):
    """Earlier versions kept a time window (``until_ms``) and wrote tombstones without
    requests; only the requests matter now."""
    for owner, extra in ((O1, {"request_ids": {"SS": ["r1"]}}), (O2, {})):
        client.put_item(
            TableName=TABLE,
            Item={
                "pk": {"S": partition_key(POOL, USER)},
                "sk": {"S": f"TOMBSTONE#{owner}"},
                "until_ms": {"N": "1700000000000"},
                **extra,
            },
        )

    assert ledger.query(POOL, USER) == UserLedger(dead_requests={O1: frozenset({"r1"})})


# -- partitions and paging ----------------------------------------------------------------


def test_query_reads_only_this_users_partition(ledger):
    mine = {"nickname": Claim(ABSENT, {O1: OwnerValue("mine", 1)}, 1)}
    theirs = {"nickname": Claim("x", {O2: OwnerValue("theirs", 1)}, 1)}
    put(ledger, mine, {O1: OwnerRecord(frozenset({"nickname"}), 1)})
    put(ledger, theirs, {O2: OwnerRecord(frozenset({"nickname"}), 1)}, user="ci-bot-2")
    ledger.transact(POOL, "ci", claims=(), owner=None, marks=ReleaseMarks({O2: frozenset({"r"})}))
    ledger.transact(
        "eu-west-1_Other99", USER, claims=(), owner=None, marks=ReleaseMarks({O2: frozenset({"r"})})
    )

    read = ledger.query(POOL, USER)

    assert read.claims == mine
    assert set(read.owners) == {O1}
    assert read.dead_requests == {}


def test_query_follows_pages_until_the_last(ledger, client):
    claims = {
        f"custom:attr{i:02}": Claim(ABSENT, {O1: OwnerValue(f"v{i}", 1)}, 1) for i in range(11)
    }
    record = OwnerRecord(frozenset(claims), 1)
    put(ledger, claims, {O1: record})
    ledger.transact(POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O2: frozenset({"r"})}))
    put(ledger, {"custom:other": claims["custom:attr00"]}, {}, user="ci-bot-2")

    def small_pages(params: dict[str, Any], **_: Any) -> None:
        params["Limit"] = 3

    client.meta.events.register("provide-client-params.dynamodb.Query", small_pages)
    calls = count_calls(client, "Query")

    read = ledger.query(POOL, USER)

    assert read == UserLedger(
        claims=claims, owners={O1: record}, dead_requests={O2: frozenset({"r"})}
    )
    assert len(calls) == 5  # 13 items, 3 a page: the last page is the partial fifth
    assert all(call["ConsistentRead"] for call in calls)
    assert "ExclusiveStartKey" not in calls[0]
    assert all("ExclusiveStartKey" in call for call in calls[1:])


# -- failures -----------------------------------------------------------------------------


def test_more_than_100_items_raises_aws_call_failed_before_any_call(ledger, client):
    calls = count_calls(client, "TransactWriteItems")
    claims = tuple(
        ClaimChange(f"custom:a{i}", None, Claim(ABSENT, {O1: OwnerValue("v", 1)}, 1))
        for i in range(MAX_TRANSACTION_ITEMS)
    )
    owner = OwnerChange(O1, None, OwnerRecord(frozenset(c.attribute for c in claims), 1))

    with pytest.raises(AwsCallFailed) as caught:
        ledger.transact(POOL, USER, claims=claims, owner=owner)

    assert caught.value.action == "TransactWriteItems"
    assert caught.value.code == "TooManyItems"
    assert "101" in str(caught.value)
    assert calls == []
    assert ledger.query(POOL, USER) == UserLedger()


def test_exactly_100_items_is_one_transaction(ledger):
    claims = tuple(
        ClaimChange(f"custom:a{i}", None, Claim(ABSENT, {O1: OwnerValue("v", 1)}, 1))
        for i in range(MAX_TRANSACTION_ITEMS - 1)
    )
    owner = OwnerChange(O1, None, OwnerRecord(frozenset(c.attribute for c in claims), 1))

    ledger.transact(POOL, USER, claims=claims, owner=owner)

    assert len(ledger.query(POOL, USER).claims) == MAX_TRANSACTION_ITEMS - 1


@pytest.mark.parametrize(
    ("error", "expected"),
    [
        pytest.param(cancelled("None", "TransactionConflict"), LedgerConflict, id="conflict"),
        pytest.param(cancelled("ConditionalCheckFailed"), LedgerConflict, id="condition"),
        pytest.param(cancelled("ThrottlingError"), AwsCallFailed, id="throttled-not-conflict"),
        pytest.param(cancelled(), AwsCallFailed, id="no-reasons"),
    ],
)
def test_only_condition_and_conflict_cancellations_are_ledger_conflicts(
    ledger, client, error, expected
):
    raise_on(client, "TransactWriteItems", error)

    with pytest.raises(expected) as caught:
        ledger.transact(
            POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r"})})
        )

    if expected is AwsCallFailed:
        assert str(caught.value) == "TransactWriteItems failed: TransactionCanceledException"


def test_missing_table_raises_aws_call_failed_naming_action_and_code(client):
    ledger = Ledger(client, "no-such-table")

    with pytest.raises(AwsCallFailed) as transact:
        ledger.transact(
            POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r"})})
        )
    with pytest.raises(AwsCallFailed) as query:
        ledger.query(POOL, USER)

    assert str(transact.value) == "TransactWriteItems failed: ResourceNotFoundException"
    assert str(query.value) == "Query failed: ResourceNotFoundException"


@pytest.mark.parametrize(
    ("operation", "call"),
    [
        pytest.param("Query", lambda ledger: ledger.query(POOL, USER), id="query"),
        pytest.param(
            "TransactWriteItems",
            lambda ledger: ledger.transact(
                POOL, USER, claims=(), owner=None, marks=ReleaseMarks({O1: frozenset({"r"})})
            ),
            id="transact",
        ),
    ],
)
def test_connection_errors_raise_aws_call_failed(ledger, client, operation, call):
    raise_on(client, operation, EndpointConnectionError(endpoint_url="https://dynamodb"))

    with pytest.raises(AwsCallFailed) as caught:
        call(ledger)

    assert caught.value.action == f"DynamoDB {operation}"
    assert caught.value.code == "EndpointConnectionError"


def test_secret_reference_round_trips_as_a_reference(ledger):
    reference = SecretRef(
        SecretSource.SECRETS_MANAGER,
        "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf",
        json_key="k",
        version_stage="AWSPREVIOUS",
    )
    claim = Claim(original=ABSENT, owners={"o1": OwnerValue(reference, 1)}, version=1)
    ledger.transact(POOL, USER, claims=(ClaimChange("custom:api_key", None, claim),), owner=None)

    assert ledger.query(POOL, USER).claims["custom:api_key"] == claim


def test_owner_record_round_trips_its_origin(ledger):
    origin = OwnerOrigin("arn:aws:cloudformation:eu-west-1:1:stack/s/1", "Bot", "cua1.x")
    record = OwnerRecord(frozenset({"nickname"}), version=1, origin=origin)
    put(ledger, {"nickname": Claim(ABSENT, {"o1": OwnerValue("v", 1)}, 1)}, {"o1": record})

    assert ledger.query(POOL, USER).owners["o1"].origin == origin


def test_owner_record_written_before_origins_were_kept_stays_readable(ledger, client):
    client.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": partition_key(POOL, USER)},
            "sk": {"S": "OWNER#o1"},
            "attributes": {"L": [{"S": "nickname"}]},
            "version": {"N": "3"},
            "lease_until_ms": {"N": "0"},
        },
    )

    record = ledger.query(POOL, USER).owners["o1"]

    assert record.version == 3
    assert record.origin == OwnerOrigin()
