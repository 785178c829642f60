"""Call counting: every AWS API call the real handler makes, by service and operation.

The handler builds its boto3 clients from boto3's default session on its first event, and a
client copies the session's event hooks when it is made. So each test starts a fresh default
session (``boto3.setup_default_session()``), registers a ``before-call`` hook on it (one event
per API call, before botocore's retries) and a ``before-send`` hook (one per HTTP attempt), and
only then makes the execution environment (``LambdaContainer``) that will build the clients.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from cfnlocal.driver import CustomResourceDriver
from cfnlocal.events import stack_id
from cfnlocal.https_sink import ResponseSink
from cfnlocal.lambda_runtime import LambdaContainer
from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"
LEDGER = "ledger"


class CallCounter:
    """``calls``: (service, operation) of every API call; ``attempts``: every HTTP attempt."""

    def __init__(self, session: boto3.Session) -> None:
        self.calls: list[tuple[str, str]] = []
        self.attempts: list[tuple[str, str]] = []
        self._lock = threading.Lock()
        session.events.register("before-call", self._on_call)
        session.events.register("before-send", self._on_send)

    def _on_call(self, event_name: str, **_: Any) -> None:
        _, service, operation = event_name.split(".", 2)
        with self._lock:
            self.calls.append((service, operation))

    def _on_send(self, event_name: str, **_: Any) -> None:
        _, service, operation = ([*event_name.split(".", 2), "", ""])[:3]
        with self._lock:
            self.attempts.append((service, operation))

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()
            self.attempts.clear()

    def by_operation(self) -> Counter[str]:
        with self._lock:
            return Counter(operation for _, operation in self.calls)

    def services(self) -> set[str]:
        with self._lock:
            return {service for service, _ in self.calls}

    def counting(self, step: Callable[[], Any]) -> Counter[str]:
        """The calls ``step`` made, by operation."""
        self.reset()
        step()
        return self.by_operation()


@pytest.fixture
def counter(aws_isolation: None, monkeypatch: pytest.MonkeyPatch) -> Iterator[CallCounter]:
    monkeypatch.setattr(boto3, "DEFAULT_SESSION", None)
    boto3.setup_default_session()
    assert boto3.DEFAULT_SESSION is not None
    return CallCounter(boto3.DEFAULT_SESSION)


@pytest.fixture
def observer() -> boto3.Session:
    """The test's own session: its calls are not counted."""
    return boto3.Session()


@pytest.fixture
def cognito(observer: boto3.Session) -> Any:
    return observer.client("cognito-idp")


@pytest.fixture
def pool_id(observer: boto3.Session, cognito: Any) -> str:
    create_ledger_table(observer.client("dynamodb"), LEDGER)
    pool = create_user_pool(cognito)
    create_user(
        cognito,
        pool,
        "alice",
        {"custom:plan": "ORIG-plan-1f0a", "nickname": "ORIG-nick-1f0a"},
    )
    create_user(cognito, pool, "bob", {"custom:plan": "ORIG-plan-2b0b"})
    return pool


@pytest.fixture
def new_container(counter: CallCounter) -> Callable[[], LambdaContainer]:
    """A fresh execution environment; its clients come from the counted default session."""

    def make() -> LambdaContainer:
        return LambdaContainer(
            LAMBDA_DIR,
            environment={"LEDGER_TABLE_NAME": LEDGER, "COGNITO_USER_UPDATE_RATE": "1000"},
            timeout_s=60,
        )

    return make


@pytest.fixture
def driver(
    new_container: Callable[[], LambdaContainer], response_sink: ResponseSink
) -> CustomResourceDriver:
    return CustomResourceDriver(new_container(), response_sink, stack_id=stack_id("CallCounts"))
