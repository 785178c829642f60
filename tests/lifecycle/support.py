"""The lifecycle tests' world: the synthesized stack provisioned into moto, seed users with known
originals, the invariant checker, and template edits shaped as the construct emits them."""

from __future__ import annotations

import contextlib
import copy
import itertools
from collections.abc import Iterator, Mapping
from typing import Any, NamedTuple

import boto3
import pytest

from cfnlocal.assembly import SynthesizedStack
from cfnlocal.aws_faults import AwsCallRecorder, serialized_emulator
from cfnlocal.clock import VirtualClock
from cfnlocal.cloudformation import LocalStack, StackOperation
from cfnlocal.https_sink import ResponseSink
from cfnlocal.invariants import InvariantChecker, UserKey, live_attributes
from cfnlocal.seed_pool import create_user, create_user_pool

PLACEHOLDER_POOL = "eu-west-1_PLACEHOLDER0"
SEED_FILE_USERS = ("ci-bot", "e2e-tester")

ORIGINALS: dict[str, dict[str, str]] = {
    "ci-bot": {
        "custom:tenant_id": "tenant-original-1",
        "nickname": "nick-original-1",
        "given_name": "Given-Original-1",
    },
    "e2e-tester": {
        "locale": "fr-FR",
        "custom:plan": "plan-original-2",
        "email": "e2e-tester@original.example.com",
        "email_verified": "false",
    },
    "spare-user": {
        "custom:tenant_id": "tenant-original-3",
        "custom:plan": "plan-original-3",
    },
}

_POOLS = itertools.count(1)


def new_pool(cognito: Any) -> str:
    return create_user_pool(cognito, f"lifecycle-{next(_POOLS)}")


def reset_users(cognito: Any, dynamodb: Any, table: str, pool: str) -> None:
    """Give ``pool`` the seed users with their original attributes and an empty ledger: a
    fresh pool costs moto an RSA key import, so runs share one pool and start over instead."""
    for username, attributes in ORIGINALS.items():
        with contextlib.suppress(cognito.exceptions.UserNotFoundException):
            cognito.admin_delete_user(UserPoolId=pool, Username=username)
        create_user(cognito, pool, username, attributes)
        pk = f"USER#{pool}#{username}"
        items = dynamodb.query(
            TableName=table,
            KeyConditionExpression="pk = :pk",
            ExpressionAttributeValues={":pk": {"S": pk}},
            ConsistentRead=True,
        )["Items"]
        for item in items:
            dynamodb.delete_item(TableName=table, Key={"pk": item["pk"], "sk": item["sk"]})


def attributes_of(properties: Mapping[str, Any]) -> dict[str, str | None]:
    """A resource's declaration: name -> value, None for a declared-absent attribute."""
    declared: dict[str, str | None] = {
        item["Name"]: item["Value"] for item in properties.get("UserAttributes", [])
    }
    declared.update({name: None for name in properties.get("AbsentAttributes", [])})
    return declared


def declare(
    base: Mapping[str, Any],
    attributes: Mapping[str, str | None] | None = None,
    *,
    username: str | None = None,
) -> dict[str, Any]:
    """``base`` with another declaration and/or user, in the construct's shape (attributes
    sorted by name, absent ones listed in ``AbsentAttributes``)."""
    properties = copy.deepcopy(dict(base))
    if username is not None:
        properties["Username"] = username
    if attributes is not None:
        properties["UserAttributes"] = [
            {"Name": name, "Value": value}
            for name, value in sorted(attributes.items())
            if value is not None
        ]
        absent = sorted(name for name, value in attributes.items() if value is None)
        if absent:
            properties["AbsentAttributes"] = absent
        else:
            properties.pop("AbsentAttributes", None)
    return properties


def owner_of(physical_id: str) -> str | None:
    """The owner id our physical ids carry (``cua1.<owner>.<pool>.<username>``)."""
    parts = physical_id.split(".", 3)
    return parts[1] if len(parts) == 4 and parts[0] == "cua1" else None


class Run:
    """One isolated lifecycle: a fresh user pool with the seed users, on a fresh stack."""

    def __init__(self, stack: LocalStack, cognito: Any, dynamodb: Any, pool: str) -> None:
        self.stack = stack
        self.cognito = cognito
        self.pool = pool
        assert stack.ledger_table is not None
        reset_users(cognito, dynamodb, stack.ledger_table, pool)
        baseline = {
            (self.pool, username): live_attributes(cognito, (self.pool, username))
            for username in ORIGINALS
        }
        self.checker = InvariantChecker(cognito, dynamodb, stack.ledger_table, baseline)
        self.synthesized: dict[str, dict[str, Any]] = {
            logical: _with_pool(properties, self.pool)
            for logical, properties in stack.template.items()
        }
        self.logical_ids = {
            properties["Username"]: logical for logical, properties in self.synthesized.items()
        }
        stack.driver.sensitive_values.update(
            value for attributes in ORIGINALS.values() for value in attributes.values()
        )

    def user(self, username: str) -> UserKey:
        return (self.pool, username)

    def props(self, username: str) -> dict[str, Any]:
        """The synthesized resource's properties for a seed-file user."""
        return copy.deepcopy(self.synthesized[self.logical_ids[username]])

    def known_owners(self) -> set[str]:
        owners = {owner_of(state.physical_id) for state in self.stack.resources.values()}
        return {owner for owner in owners if owner is not None}

    def problems(self, *, settled: bool = True, drifted: Any = None) -> list[str]:
        return self.checker.problems(
            settled=settled,
            known_owners=self.known_owners() if settled else None,
            drifted=drifted,
        )

    def check(self, what: str, *, settled: bool = True) -> None:
        problems = self.problems(settled=settled)
        assert not problems, f"{what}: " + "; ".join(problems)

    def teardown(self, what: str) -> StackOperation:
        """delete-stack, then every user must equal its original exactly."""
        operation = self.stack.delete()
        problems = self.checker.restored_problems()
        assert not problems, f"{what}: after delete-stack: " + "; ".join(problems)
        return operation


def _with_pool(properties: Mapping[str, Any], pool: str) -> dict[str, Any]:
    return {
        key: (pool if value == PLACEHOLDER_POOL else copy.deepcopy(value))
        for key, value in properties.items()
    }


class Provisioned(NamedTuple):
    stack: LocalStack
    recorder: AwsCallRecorder
    clock: VirtualClock
    observer: boto3.Session
    """The session tests read Cognito and the ledger with (the recorder watches the handler's)."""


@contextlib.contextmanager
def provisioned(
    synthesized: SynthesizedStack,
    response_sink: ResponseSink,
    monkeypatch: pytest.MonkeyPatch,
    *,
    suffix: str,
) -> Iterator[Provisioned]:
    """The synthesized app provisioned into moto under a virtual clock, its handler's AWS calls
    recorded (and open to fault injection) through a fresh default session."""
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    recorder = AwsCallRecorder(boto3.DEFAULT_SESSION)
    observer = boto3.Session()
    with serialized_emulator(), VirtualClock() as clock:
        stack = LocalStack.provision(
            synthesized,
            response_sink,
            session=observer,
            clock=clock,
            recorder=recorder,
            suffix=suffix,
            # The template paces Cognito writes (2/s per environment, real sleeps); pacing
            # changes timing only, and these tests count AWS calls, not seconds.
            environment_overrides={"COGNITO_USER_UPDATE_RATE": "1000"},
        )
        yield Provisioned(stack, recorder, clock, observer)
