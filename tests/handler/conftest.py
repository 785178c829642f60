"""Handler scenarios: the real ``index.handler`` from ``lambda/``, moto, and the HTTPS sink.

The handler builds its boto3 clients from boto3's default session on its first event, so hooks
that ``aws_calls`` registers on that session's event system see the handler's AWS calls (to
record their parameters or inject faults); they are removed after each test.
"""

from __future__ import annotations

import copy
import logging
import time
import traceback
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from cfnlocal.driver import Answer, CustomResourceDriver
from cfnlocal.events import stack_id
from cfnlocal.https_sink import ResponseSink
from cfnlocal.lambda_runtime import LambdaContainer
from cfnlocal.seed_pool import create_ledger_table, create_user, create_user_pool

from .helpers import LEDGER, SimulatedCrash

LAMBDA_DIR = Path(__file__).resolve().parents[2] / "lambda"

WRITE_OPERATIONS = (
    ("cognito-idp", "AdminUpdateUserAttributes"),
    ("cognito-idp", "AdminDeleteUserAttributes"),
    ("dynamodb", "TransactWriteItems"),
)


# -- AWS sessions and clients -----------------------------------------------------------------


_SHARED_SESSION: list[boto3.Session] = []


@pytest.fixture(autouse=True)
def default_session(aws_isolation: None) -> Iterator[boto3.Session]:
    """boto3's default session, shared by the tests of this folder (it caches service models,
    which keeps each cold start cheap), created inside the first test's isolated environment;
    ``aws_calls`` removes its hooks after each test."""
    if not _SHARED_SESSION:
        _SHARED_SESSION.append(boto3.Session())
    saved = boto3.DEFAULT_SESSION
    boto3.DEFAULT_SESSION = _SHARED_SESSION[0]
    yield _SHARED_SESSION[0]
    boto3.DEFAULT_SESSION = saved


@pytest.fixture
def cognito() -> Any:
    return boto3.client("cognito-idp")


@pytest.fixture
def dynamodb() -> Any:
    return boto3.client("dynamodb")


@pytest.fixture
def pool_id(cognito: Any, dynamodb: Any) -> str:
    create_ledger_table(dynamodb, LEDGER)
    return create_user_pool(cognito)


@pytest.fixture
def alice(cognito: Any, pool_id: str) -> str:
    """A seed user that already has some attributes."""
    return create_user(
        cognito,
        pool_id,
        "alice",
        {
            "email": "alice-orig-5c1e@example.com",
            "email_verified": "true",
            "name": "ORIG-name-Alice-5c1e",
            "custom:plan": "ORIG-plan-free-5c1e",
            "custom:region_lock": "ORIG-lock-eu-5c1e",
        },
    )


@pytest.fixture
def bob(cognito: Any, pool_id: str) -> str:
    """A second seed user (the target of a replacement)."""
    return create_user(
        cognito,
        pool_id,
        "bob",
        {"custom:plan": "ORIG-plan-basic-b0b2", "nickname": "ORIG-nick-b0b2"},
    )


# -- Lambda and CloudFormation stand-ins ------------------------------------------------------


class RecordingDriver(CustomResourceDriver):
    """The cfnlocal driver, keeping every checked answer it received."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.answers: list[Answer] = []

    def send(self, *args: Any, **kwargs: Any) -> Answer:
        answer = super().send(*args, **kwargs)
        self.answers.append(answer)
        return answer


@pytest.fixture
def new_container() -> Callable[[], LambdaContainer]:
    """A fresh execution environment (cold start), e.g. after a process died."""

    def make() -> LambdaContainer:
        return LambdaContainer(LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": LEDGER}, timeout_s=60)

    return make


@pytest.fixture
def container(new_container: Callable[[], LambdaContainer]) -> LambdaContainer:
    return new_container()


@pytest.fixture
def driver(container: LambdaContainer, response_sink: ResponseSink) -> RecordingDriver:
    return RecordingDriver(container, response_sink, stack_id=stack_id("SeedUsers"))


# -- AWS call recording and fault injection ---------------------------------------------------


@dataclass
class Call:
    operation: str
    params: dict[str, Any]


@dataclass
class _Fault:
    operation: str
    when: Callable[[dict[str, Any]], bool]
    raise_: Callable[[], BaseException]
    remaining: int


@dataclass
class AwsCalls:
    """Records the parameters of every write call made through boto3's default session, and
    injects one-shot faults before (the call never happens) or after (it did happen) a call."""

    calls: list[Call] = field(default_factory=list)
    _before: list[_Fault] = field(default_factory=list)
    _after: list[_Fault] = field(default_factory=list)

    def of(self, operation: str) -> list[dict[str, Any]]:
        return [call.params for call in self.calls if call.operation == operation]

    def cognito_writes(self) -> list[Call]:
        return [call for call in self.calls if call.operation.startswith("Admin")]

    def count(self) -> int:
        return len(self.calls)

    def fail_before(
        self,
        operation: str,
        when: Callable[[dict[str, Any]], bool] = lambda _: True,
        *,
        code: str = "InternalErrorException",
        message: str = "simulated failure",
        times: int = 1,
        fields: dict[str, Any] | None = None,
    ) -> None:
        """``fields``: modeled members of the error response (DynamoDB's
        ``CancellationReasons``)."""

        def error() -> BaseException:
            response: Any = {"Error": {"Code": code, "Message": message}, **(fields or {})}
            return ClientError(response, operation)

        self._before.append(_Fault(operation, when, error, times))

    def crash_after(
        self, operation: str, when: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> None:
        self._after.append(_Fault(operation, when, SimulatedCrash, 1))

    def record(self, operation: str, params: dict[str, Any]) -> None:
        self.calls.append(Call(operation, copy.deepcopy(params)))
        self._trigger(self._before, operation, params)

    def trigger_after(self, operation: str, params: dict[str, Any]) -> None:
        self._trigger(self._after, operation, params)

    def _trigger(self, faults: list[_Fault], operation: str, params: dict[str, Any]) -> None:
        for fault in faults:
            if fault.operation == operation and fault.remaining > 0 and fault.when(params):
                fault.remaining -= 1
                raise fault.raise_()


@pytest.fixture
def aws_calls(default_session: boto3.Session) -> Iterator[AwsCalls]:
    recorder = AwsCalls()
    events = default_session.events
    registered: list[tuple[str, Callable[..., None]]] = []
    for service, operation in WRITE_OPERATIONS:

        def before(
            params: dict[str, Any], context: dict[str, Any], _op: str = operation, **_: Any
        ) -> None:
            context["recorded_params"] = copy.deepcopy(params)
            recorder.record(_op, params)

        def after(context: dict[str, Any], _op: str = operation, **_: Any) -> None:
            recorder.trigger_after(_op, context["recorded_params"])

        registered.append((f"before-parameter-build.{service}.{operation}", before))
        registered.append((f"after-call.{service}.{operation}", after))
    for event_name, hook in registered:
        events.register(event_name, hook)
    yield recorder
    for event_name, hook in registered:
        events.unregister(event_name, hook)


# -- clock and logs ---------------------------------------------------------------------------


class Clock:
    """``time.time`` with an adjustable offset: lets a test wait out a dead invocation's
    deadline (as CloudFormation does before it gives up on a Create) without sleeping."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.offset = 0.0
        real = time.time
        monkeypatch.setattr(time, "time", lambda: real() + self.offset)

    def advance(self, seconds: float) -> None:
        self.offset += seconds


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    return Clock(monkeypatch)


class RecordEverything(logging.Handler):
    """Keeps every record that reaches the root logger, whatever its level, with its message,
    exception and stack text."""

    def __init__(self) -> None:
        super().__init__(level=logging.NOTSET)
        self.texts: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        parts = [record.getMessage()]
        if record.exc_info:
            parts.append("".join(traceback.format_exception(*record.exc_info)))
        if record.exc_text:
            parts.append(record.exc_text)
        if record.stack_info:
            parts.append(record.stack_info)
        self.texts.append(f"{record.name} {record.levelname}: " + "\n".join(parts))


@pytest.fixture
def log_texts() -> Iterator[list[str]]:
    handler = RecordEverything()
    root = logging.getLogger()
    root.addHandler(handler)
    yield handler.texts
    root.removeHandler(handler)
