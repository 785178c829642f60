"""The ``seed-users`` tool against moto: a pool with two users, the ledger table, owners made
by the function's own lifecycle (as a deploy would), and a runner that captures the tool's
stdout and stderr.

The runner hands every output produced without ``--show-values`` to the suite's leak guard
(``tests/leak_guard.py``), which searches it at teardown for every sensitive value of the test:
the users' attribute values in moto (originals included), secret strings, and the declared and
ClientMetadata values of the seed files the tests write (``write_seed_file`` notes them). Every
``--json`` output is validated against the shipped schema.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import jsonschema
import pytest
import yaml
from user_attributes.cognito import CognitoUsers
from user_attributes.invocation import Deadline, Outcome, ResourceEvent
from user_attributes.ledger import Ledger
from user_attributes.lifecycle import AttributeLifecycle

from cfnlocal.events import stack_id as new_stack_id
from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool
from cognito_seed_users.cli import main
from cognito_seed_users.cli.output import SCHEMA_PATH
from cognito_seed_users.logical_ids import user_logical_id
from cognito_seed_users.resource_properties import resource_properties
from tests.leak_guard import DECLARED, METADATA, LeakGuard

LEDGER = "seed-users-ledger"
STACK = "CognitoSeedUsers"
SCHEMA = json.loads(SCHEMA_PATH.read_text())
ALICE = {
    "email": "alice-original-51c3@example.com",
    "email_verified": "true",
    "name": "ORIGINAL-Alice-Name-51c3",
}
BOB = {"nickname": "ORIGINAL-bob-nick-9e2d", "custom:plan": "ORIGINAL-plan-free-9e2d"}


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    def json(self) -> Any:
        return json.loads(self.out)


@pytest.fixture
def cognito() -> Any:
    return boto3.client("cognito-idp")


@pytest.fixture
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def cloudformation() -> Any:
    return boto3.client("cloudformation")


@pytest.fixture
def pool_id(cognito: Any, dynamodb: Any) -> str:
    create_ledger_table(dynamodb, LEDGER)
    pool = create_user_pool(cognito)
    create_user(cognito, pool, "alice", ALICE)
    create_user(cognito, pool, "bob", BOB)
    return pool


class Deployer:
    """Owners made as a deploy makes them: the function's lifecycle over real-shaped events
    (properties from the construct's ``resource_properties``, logical ids ``user_logical_id``)."""

    def __init__(self, cognito: Any, dynamodb: Any, stack_id: str) -> None:
        self.lifecycle = AttributeLifecycle(CognitoUsers(cognito), Ledger(dynamodb, LEDGER))
        self.stack_id = stack_id
        self.physical_ids: dict[str, str] = {}
        self.properties: dict[str, dict[str, object]] = {}

    def _deadline(self) -> Deadline:
        return Deadline(int(time.time() * 1000) + 60_000, now_ms=lambda: int(time.time() * 1000))

    def apply(
        self,
        pool: str,
        username: str,
        attributes: Mapping[str, str | None],
        *,
        logical_id: str | None = None,
        stack_id: str | None = None,
    ) -> Outcome:
        logical = logical_id or user_logical_id(pool, username)
        properties = resource_properties(
            user_pool_id=pool, username=username, attributes=dict(attributes)
        )
        sent = self.physical_ids.get(logical)
        event = ResourceEvent(
            request_type="Update" if sent else "Create",
            stack_id=stack_id or self.stack_id,
            logical_resource_id=logical,
            properties=properties,
            old_properties=self.properties.get(logical),
            physical_resource_id=sent,
            request_id=f"request-{time.monotonic_ns()}",
        )
        apply = self.lifecycle.update if sent else self.lifecycle.create
        outcome = apply(event, self._deadline())
        assert outcome.error is None, outcome.error
        self.physical_ids[logical] = outcome.physical_id
        self.properties[logical] = properties
        return outcome


@pytest.fixture
def stack_id() -> str:
    return new_stack_id(STACK)


@pytest.fixture
def deployer(cognito: Any, dynamodb: Any, stack_id: str) -> Deployer:
    return Deployer(cognito, dynamodb, stack_id)


@pytest.fixture
def seed_users(capsys: pytest.CaptureFixture[str], leak_guard: LeakGuard) -> Callable[..., Run]:
    """Run the tool in-process (moto's mock holds); ``--ledger-table`` is added unless given."""

    def run(*args: str, ledger: bool = True) -> Run:
        argv = list(args)
        if ledger and "--ledger-table" not in argv:
            argv += ["--ledger-table", LEDGER]
        capsys.readouterr()
        code = main(argv)
        out, err = capsys.readouterr()
        if "--show-values" not in argv:
            leak_guard.note_text("seed-users stdout", out, counter="seed-users outputs")
            leak_guard.note_text("seed-users stderr", err, counter="seed-users outputs")
        if "--json" in argv and code in (0, 2):
            jsonschema.validate(json.loads(out), SCHEMA)
        return Run(code, out, err)

    return run


@pytest.fixture
def write_seed_file(tmp_path: Path, leak_guard: LeakGuard) -> Callable[[dict[str, Any]], Path]:
    """Write a seed-users file; its values are sensitive for the leak guard."""

    def write(document: dict[str, Any]) -> Path:
        for user in document.get("users", []):
            for value in (user.get("attributes") or {}).values():
                if isinstance(value, str):
                    leak_guard.note_sensitive(value, DECLARED)
            for value in (user.get("clientMetadata") or {}).values():
                leak_guard.note_sensitive(value, METADATA)
        path = tmp_path / "seed-users.yaml"
        path.write_text(yaml.safe_dump(document), encoding="utf-8")
        return path

    return write


def revealed(document: object) -> list[str]:
    """Every value a JSON output reveals (``{"kind": "value", "value": ...}``)."""
    found: list[str] = []
    if isinstance(document, dict):
        if document.get("kind") == "value" and "value" in document:
            found.append(document["value"])
        for item in document.values():
            found.extend(revealed(item))
    elif isinstance(document, list):
        for item in document:
            found.extend(revealed(item))
    return found
