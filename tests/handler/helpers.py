"""Shared steps and observations for the handler scenarios."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from cfnlocal.driver import Answer, CustomResourceDriver, ResourceState, check_answer
from cfnlocal.events import make_event, stringify
from cfnlocal.seed_pool import user_attributes

LEDGER = "ledger"
ABSENT = "<absent>"


class SimulatedCrash(BaseException):
    """The Lambda process dies: not an ``Exception``, so neither the handler nor crhelper
    catches it, and no answer is sent."""


def attribute_is(name: str, value: str) -> Callable[[dict[str, Any]], bool]:
    """A fault predicate: the AdminUpdateUserAttributes call sets ``name`` to ``value``."""

    def when(params: dict[str, Any]) -> bool:
        return {"Name": name, "Value": value} in params.get("UserAttributes", [])

    return when


def declare(
    pool_id: str,
    username: str,
    attributes: Mapping[str, str] | None = None,
    *,
    absent: Iterable[str] = (),
    client_metadata: Mapping[str, str] | None = None,
    on_delete: str | None = None,
) -> dict[str, Any]:
    """A ``Custom::CognitoUserAttributes`` resource's properties, as the construct emits them."""
    properties: dict[str, Any] = {
        "UserPoolId": pool_id,
        "Username": username,
        "UserAttributes": [{"Name": n, "Value": v} for n, v in (attributes or {}).items()],
    }
    if absent:
        properties["AbsentAttributes"] = list(absent)
    if client_metadata is not None:
        properties["ClientMetadata"] = dict(client_metadata)
    if on_delete is not None:
        properties["OnDelete"] = on_delete
    return properties


# -- the ledger table -------------------------------------------------------------------------


def ledger_items(dynamodb: Any) -> list[dict[str, Any]]:
    """Every item of the ledger table, in a stable order."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": LEDGER, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        items.extend(page.get("Items", []))
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return sorted(items, key=lambda item: (item["pk"]["S"], item["sk"]["S"]))


def held_items(dynamodb: Any) -> list[dict[str, Any]]:
    """Claims and owner records: what still holds a user. Tombstones stay behind a Delete
    (until their TTL) only to refuse late duplicate deliveries."""
    return [item for item in ledger_items(dynamodb) if not item["sk"]["S"].startswith("TOMBSTONE#")]


def _of_kind(dynamodb: Any, kind: str, username: str | None) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for item in ledger_items(dynamodb):
        if username is not None and not item["pk"]["S"].endswith(f"#{username}"):
            continue
        item_kind, _, key = item["sk"]["S"].partition("#")
        if item_kind == kind:
            found[key] = item
    return found


def claims(dynamodb: Any, username: str | None = None) -> dict[str, dict[str, Any]]:
    """CLAIM items by attribute name (of one user, or of all)."""
    return _of_kind(dynamodb, "CLAIM", username)


def owner_records(dynamodb: Any, username: str | None = None) -> dict[str, dict[str, Any]]:
    """OWNER items by owner id (of one user, or of all)."""
    return _of_kind(dynamodb, "OWNER", username)


def originals(dynamodb: Any, username: str) -> dict[str, str]:
    """The original recorded by each of a user's claims (``ABSENT`` when it was absent)."""
    return {
        name: item["original"]["S"] if "original" in item else ABSENT
        for name, item in claims(dynamodb, username).items()
    }


def claim_owners(dynamodb: Any, username: str) -> dict[str, set[str]]:
    """The owner ids holding each of a user's claims."""
    return {name: set(item["owners"]["M"]) for name, item in claims(dynamodb, username).items()}


def owner_of(physical_id: str) -> str:
    """The owner id our physical id embeds (``cua1.<owner>.<pool>.<username>``)."""
    prefix, owner, _, _ = physical_id.split(".", 3)
    assert prefix == "cua1", physical_id
    return owner


# -- observations -----------------------------------------------------------------------------


def world(cognito: Any, dynamodb: Any, pool_id: str, *usernames: str) -> dict[str, Any]:
    """Everything a step could write: the users' attributes and the whole ledger."""
    return {
        "users": {name: user_attributes(cognito, pool_id, name) for name in usernames},
        "ledger": ledger_items(dynamodb),
    }


def assert_no_secret(texts: Iterable[str], secrets: Iterable[str], where: str) -> None:
    texts = list(texts)
    for secret in secrets:
        for text in texts:
            assert secret not in text, f"{where} contains a secret ({secret[:6]}...): {text[:300]}"


def answer_text(answer: Answer) -> str:
    return json.dumps(answer.body)


# -- CloudFormation events the driver does not model ------------------------------------------


def rollback_update(
    driver: CustomResourceDriver,
    logical_id: str,
    *,
    to: Mapping[str, object],
    attempted: Mapping[str, object],
    physical_id: str | None = None,
) -> Answer:
    """UPDATE_ROLLBACK_IN_PROGRESS: an Update back to ``to`` with old and new swapped."""
    state = driver.resources[logical_id]
    answer = driver.send(
        "Update",
        logical_id,
        to,
        physical_id=physical_id or state.physical_id,
        old_properties=attempted,
    )
    if answer.status == "SUCCESS":
        driver.resources[logical_id] = ResourceState(
            dict(stringify(to)), answer.physical_id, [*state.history, answer]
        )
    return answer


def deliver(
    driver: CustomResourceDriver, event: Mapping[str, Any], *, container: Any = None
) -> list[Answer]:
    """Invoke with ``event`` exactly as given (a re-delivery reuses it) and return the checked
    answers this invocation delivered."""
    sink = driver.sink
    before = len(sink.deliveries(event["RequestId"]))
    (container or driver.container).invoke(event)
    return [
        check_answer(delivery.body, delivery.size, event)
        for delivery in sink.deliveries(event["RequestId"])[before:]
    ]


def create_event(
    driver: CustomResourceDriver, logical_id: str, properties: Mapping[str, object]
) -> dict[str, Any]:
    request_id = str(uuid.uuid4())
    return make_event(
        "Create",
        stack_id=driver.stack_id,
        logical_id=logical_id,
        properties=properties,
        response_url=driver.sink.url(request_id),
        request_id=request_id,
        service_token=driver.service_token,
    )


def adopt(
    driver: CustomResourceDriver,
    logical_id: str,
    properties: Mapping[str, object],
    physical_id: str,
) -> None:
    """Make the driver (CloudFormation) remember a resource created outside ``driver.create``."""
    driver.resources[logical_id] = ResourceState(dict(stringify(properties)), physical_id)
