"""The error matrix's world and its five phases, driven through the real ``index.handler``.

One user pool, ledger table, secret and SecureString parameter serve a whole module (moto runs
in-process for the module, see ``conftest``); each case starts over by re-creating the user
with its originals and emptying the ledger, on a new stack (new owner ids).

The declarations make every phase call every operation it can: the first one sets an
attribute the user lacks (restored by ``AdminDeleteUserAttributes``), keeps one it has absent
(``AdminDeleteUserAttributes`` on apply), and reads ``custom:plan`` from Secrets Manager and
``custom:tenant_id`` from an SSM SecureString; the second changes, adds and removes some.

Phases, each the event a fault is injected into, and CloudFormation's next event when it fails:

``create``           Create; a FAILED one is followed by the rollback Delete (reported id).
``update``           Update after a Create; a FAILED one by the rollback Update (swapped).
``delete``           Delete after a Create; a FAILED one by the retried Delete (delete-stack).
``rollback-update``  the rollback Update after an Update that succeeded (a later resource
                     failed the stack); a FAILED one by the same rollback Update again
                     (ContinueUpdateRollback).
``undo``             a Create whose last write fails (``UNDO_TRIGGER``), so the handler reverts
                     its writes: faults go to the undo's calls; then the rollback Delete.

Every target event runs in a cold execution environment, so it makes every call it can
(``DescribeUserPool`` is cached per container) with fresh clients (botocore's adaptive rate
limiter keeps state per client); the other events run in one warm environment. Once
settled the invariants are checked, then delete-stack deletes what CloudFormation still holds
and every user that exists must equal its originals, with nothing left in the ledger.
"""

from __future__ import annotations

import contextlib
import itertools
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

from cfnlocal.aws_faults import AwsCallRecorder, CallLog, Fault, RetryWaits
from cfnlocal.clock import VirtualClock
from cfnlocal.driver import CustomResourceDriver, Invocation, ResourceState
from cfnlocal.events import stack_id, stringify
from cfnlocal.https_sink import ResponseSink
from cfnlocal.invariants import InvariantChecker, live_attributes
from cfnlocal.lambda_runtime import LambdaContainer
from cfnlocal.seed_pool import create_user, create_user_pool

LAMBDA_DIR: Final = Path(__file__).resolve().parents[2] / "lambda"
WORKER_TIMEOUT_S: Final = 60.0
"""``cognito_seed_users.cognito_user_attributes.WORKER_TIMEOUT``, the timeout of the function
running ``index.handler`` (a test holds them equal)."""
LEDGER: Final = "ledger"
LOGICAL: Final = "AliceAttributes"
USERNAME: Final = "alice"
PHASES: Final = ("create", "update", "delete", "rollback-update", "undo")

ORIGINALS: Final = {
    "name": "ORIG-name-e8a1",
    "given_name": "ORIG-given-e8a1",
    "custom:plan": "ORIG-plan-e8a1",
    "custom:tenant_id": "ORIG-tenant-e8a1",
}
SECRET_NAME: Final = "seed/errors/alice"
SECRET_VALUES: Final = {"plan": "SECRET-plan-one-e8a1", "plan2": "SECRET-plan-two-e8a1"}
PARAMETER: Final = "/seed/errors/tenant"
PARAMETER_VALUE: Final = "SECRET-tenant-e8a1"
SENSITIVE: Final = (*ORIGINALS.values(), *SECRET_VALUES.values(), PARAMETER_VALUE)

UNDO_TRIGGER: Final = Fault(
    "error-response",
    0,
    operation="AdminDeleteUserAttributes",
    code="InvalidParameterException",
    message="Invalid attribute name given_name",
)
"""The Create's last write (keeping ``given_name`` absent) fails after the first one landed."""
UNDO_TRIGGER_HEAD: Final = "AdminDeleteUserAttributes failed: InvalidParameterException"

COGNITO_WRITES: Final = frozenset({"AdminUpdateUserAttributes", "AdminDeleteUserAttributes"})


@dataclass
class World:
    """What every case of a module shares (see ``conftest.world``)."""

    clock: VirtualClock
    recorder: AwsCallRecorder
    waits: RetryWaits
    sink: ResponseSink
    cognito: Any
    dynamodb: Any
    secret_arn: str
    pool_id: str = ""
    gone_pools: list[str] = field(default_factory=list)
    _stacks: itertools.count[int] = field(default_factory=itertools.count)

    _warm: LambdaContainer | None = None
    _cold: LambdaContainer | None = None

    def new_container(self) -> LambdaContainer:
        return LambdaContainer(
            LAMBDA_DIR, environment={"LEDGER_TABLE_NAME": LEDGER}, timeout_s=WORKER_TIMEOUT_S
        )

    def warm(self) -> LambdaContainer:
        """The execution environment of the events around the target (warm, shared)."""
        if self._warm is None:
            self._warm = self.new_container()
        return self._warm

    def cold(self) -> LambdaContainer:
        """An execution environment whose state is that of a cold start: ``index`` keeps all
        of it (helper, clients, the DescribeUserPool cache) in its cached ``_helper()``, so
        dropping that cache is a cold start without re-importing the code (tens of ms a case)."""
        if self._cold is None:
            self._cold = self.new_container()
        helper = getattr(self._cold.module, "_helper", None)
        if helper is None or not hasattr(helper, "cache_clear"):
            self._cold = self.new_container()  # index changed: import afresh
        else:
            helper.cache_clear()
        return self._cold

    def reset(self) -> None:
        """The user with its originals, an empty ledger; a new pool if a case deleted it."""
        if not self.pool_id:
            self.pool_id = create_user_pool(self.cognito, "error-matrix")
        with contextlib.suppress(self.cognito.exceptions.UserNotFoundException):
            self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=USERNAME)
        create_user(self.cognito, self.pool_id, USERNAME, ORIGINALS)
        for item in held_items(self.dynamodb, tombstones=True):
            self.dynamodb.delete_item(TableName=LEDGER, Key={"pk": item["pk"], "sk": item["sk"]})

    def delete_user(self) -> None:
        """Someone deletes the user (Cognito then answers ``UserNotFoundException``)."""
        self.cognito.admin_delete_user(UserPoolId=self.pool_id, Username=USERNAME)

    def delete_pool(self) -> None:
        """Someone deletes the user pool (``ResourceNotFoundException``)."""
        self.cognito.delete_user_pool(UserPoolId=self.pool_id)
        self.gone_pools.append(self.pool_id)
        self.pool_id = ""

    def user_exists(self, pool_id: str) -> bool:
        try:
            self.cognito.admin_get_user(UserPoolId=pool_id, Username=USERNAME)
        except (
            self.cognito.exceptions.UserNotFoundException,
            self.cognito.exceptions.ResourceNotFoundException,
        ):
            return False
        return True

    def first(self, pool_id: str) -> dict[str, Any]:
        return {
            "UserPoolId": pool_id,
            "Username": USERNAME,
            "UserAttributes": [
                {"Name": "nickname", "Value": "VAL-nick-one-e8a1"},
                {
                    "Name": "custom:plan",
                    "ValueFrom": {"SecretId": self.secret_arn, "JsonKey": "plan"},
                },
                {"Name": "custom:tenant_id", "ValueFrom": {"ParameterName": PARAMETER}},
            ],
            "AbsentAttributes": ["given_name"],
        }

    def second(self, pool_id: str) -> dict[str, Any]:
        return {
            "UserPoolId": pool_id,
            "Username": USERNAME,
            "UserAttributes": [
                {
                    "Name": "custom:plan",
                    "ValueFrom": {"SecretId": self.secret_arn, "JsonKey": "plan2"},
                },
                {"Name": "custom:tenant_id", "ValueFrom": {"ParameterName": PARAMETER}},
                {"Name": "locale", "Value": "VAL-locale-e8a1"},
                {"Name": "name", "Value": "VAL-name-two-e8a1"},
            ],
        }


def held_items(dynamodb: Any, *, tombstones: bool = False) -> list[dict[str, Any]]:
    """Claims and owner records (and tombstones, if asked) in the ledger table."""
    items: list[dict[str, Any]] = []
    request: dict[str, Any] = {"TableName": LEDGER, "ConsistentRead": True}
    while True:
        page = dynamodb.scan(**request)
        items += page.get("Items", [])
        if "LastEvaluatedKey" not in page:
            break
        request["ExclusiveStartKey"] = page["LastEvaluatedKey"]
    return [item for item in items if tombstones or not item["sk"]["S"].startswith("TOMBSTONE#")]


@dataclass(frozen=True)
class Site:
    """One call site: the ``nth`` call of ``operation`` in the target event (counted from the
    start of the invocation), at ``index`` among all its calls in the clean run."""

    operation: str
    nth: int
    index: int

    def __str__(self) -> str:
        return f"{self.operation}#{self.nth}"


@dataclass
class PhaseRun:
    phase: str
    target: Invocation
    calls: CallLog
    attributes: dict[str, str] | None
    """The user's attributes right after the target event (None: the user is gone)."""
    follow_up: Invocation | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def status(self) -> str:
        return self.target.answer.status if self.target.answer else "(no answer)"

    @property
    def reason(self) -> str:
        return self.target.answer.reason if self.target.answer else ""

    @property
    def elapsed_s(self) -> float:
        """Wall-clock time of the target event, virtual waits (retries, hangs) included."""
        return self.target.finished_at - self.target.started_at

    def sites(self) -> list[Site]:
        """The target event's call sites (for ``undo``, those after the failed write)."""
        counts: dict[str, int] = {}
        sites = []
        after = -1
        if self.phase == "undo":
            after = next(c.index for c in self.calls if c.fault is UNDO_TRIGGER)
        for call in self.calls:
            nth = counts.get(call.operation, 0)
            counts[call.operation] = nth + 1
            if call.index > after:
                sites.append(Site(call.operation, nth, call.index))
        return sites


def run_phase(world: World, phase: str, faults: Sequence[Fault]) -> PhaseRun:
    """One case: setup, the target event with ``faults``, CloudFormation's next event, checks."""
    world.reset()
    pool = world.pool_id
    driver = CustomResourceDriver(
        world.warm(),
        world.sink,
        stack_id=stack_id(f"ErrorMatrix{next(world._stacks)}"),
        new_container=world.new_container,
        clock=world.clock,
        sensitive_values=SENSITIVE,
    )
    baseline = live_attributes(world.cognito, (pool, USERNAME))
    first, second = world.first(pool), world.second(pool)
    cold = world.cold()

    def armed(send: Callable[[], Invocation]) -> tuple[Invocation, CallLog]:
        with world.recorder.armed(faults) as calls:
            invocation = send()
        return invocation, calls

    def attributes() -> dict[str, str] | None:
        return live_attributes(world.cognito, (pool, USERNAME)) if world.user_exists(pool) else None

    if phase in ("create", "undo"):
        target, calls = armed(lambda: driver.invoke("Create", LOGICAL, first, container=cold))
        run = PhaseRun(phase, target, calls, attributes())
        if target.answer is not None and target.succeeded:
            driver.resources[LOGICAL] = ResourceState(
                dict(stringify(first)), target.answer.physical_id
            )
        else:
            run.follow_up = driver.delete_failed_create(target)
    else:
        created = driver.create(LOGICAL, first)
        assert created.status == "SUCCESS", f"setup: {created.reason}"
        state = driver.resources[LOGICAL]
        if phase == "update":
            target, calls = armed(
                lambda: driver.invoke(
                    "Update",
                    LOGICAL,
                    second,
                    physical_id=state.physical_id,
                    old_properties=state.properties,
                    container=cold,
                )
            )
            run = PhaseRun(phase, target, calls, attributes())
            if target.answer is not None and target.succeeded:
                state.properties = dict(stringify(second))
            else:
                run.follow_up = driver.roll_back_update(
                    LOGICAL, failed_properties=dict(stringify(second))
                )
        elif phase == "delete":
            target, calls = armed(
                lambda: driver.invoke(
                    "Delete",
                    LOGICAL,
                    first,
                    physical_id=state.physical_id,
                    container=cold,
                )
            )
            run = PhaseRun(phase, target, calls, attributes())
            if not target.succeeded:
                run.follow_up = driver.invoke(
                    "Delete", LOGICAL, first, physical_id=state.physical_id
                )
            if target.succeeded or (run.follow_up is not None and run.follow_up.succeeded):
                driver.resources.pop(LOGICAL)
        else:  # rollback-update
            forward = driver.invoke(
                "Update",
                LOGICAL,
                second,
                physical_id=state.physical_id,
                old_properties=state.properties,
            )
            assert forward.succeeded, "setup: the Update before the rollback failed"
            target, calls = armed(
                lambda: driver.invoke(
                    "Update",
                    LOGICAL,
                    first,
                    physical_id=state.physical_id,
                    old_properties=dict(stringify(second)),
                    container=cold,
                )
            )
            run = PhaseRun(phase, target, calls, attributes())
            if not target.succeeded:
                run.follow_up = driver.roll_back_update(
                    LOGICAL, failed_properties=dict(stringify(second))
                )
    run.problems = _settle(world, driver, pool, baseline)
    return run


def _settle(
    world: World, driver: CustomResourceDriver, pool: str, baseline: dict[str, str]
) -> list[str]:
    """The invariants once CloudFormation has settled, then delete-stack restores everything."""
    exists = world.user_exists(pool)
    checker = InvariantChecker(
        world.cognito, world.dynamodb, LEDGER, {(pool, USERNAME): baseline} if exists else {}
    )
    owners = {state.physical_id.split(".")[1] for state in driver.resources.values()}
    referenced = _referenced_claims(world) if exists else {}
    problems = [
        f"settled: {problem}"
        # A gone user's owners are released by the Delete below, not checked against it.
        for problem in checker.problems(settled=True, known_owners=owners if exists else None)
        # The checker reads a claim held by a secret reference as absent: checked below.
        if not any(problem.startswith(f"invariant 2: {USERNAME}.{n} ") for n in referenced)
    ]
    if referenced:
        live = live_attributes(world.cognito, (pool, USERNAME))
        problems += [
            f"settled: invariant 2: {USERNAME}.{name} does not show its latest owner's "
            "referenced secret"
            for name, value in referenced.items()
            if live.get(name) != value
        ]
    for logical, state in list(driver.resources.items()):
        deleted = driver.invoke("Delete", logical, state.properties, physical_id=state.physical_id)
        if not deleted.succeeded:
            reason = deleted.answer.reason if deleted.answer else "no answer"
            problems.append(f"delete-stack: Delete answered FAILED: {reason}")
    if exists and world.user_exists(pool):
        live = live_attributes(world.cognito, (pool, USERNAME))
        changed = sorted(n for n in set(live) | set(baseline) if live.get(n) != baseline.get(n))
        if changed:
            problems.append(f"after delete-stack: not restored: {changed}")
    held = [item["sk"]["S"] for item in held_items(world.dynamodb)]
    if held:
        problems.append(f"after delete-stack: the ledger still holds {held}")
    return problems


def _referenced_claims(world: World) -> dict[str, str]:
    """Attributes whose latest owner declared a secret reference: name -> what it resolves to."""
    resolved = {}
    for item in held_items(world.dynamodb):
        kind, _, name = item["sk"]["S"].partition("#")
        owners = item.get("owners", {}).get("M", {})
        if kind != "CLAIM" or not owners:
            continue
        latest = max(owners.values(), key=lambda held: int(held["M"]["at"]["N"]))["M"]
        if "ref" in latest:
            reference = {key: text["S"] for key, text in latest["ref"]["M"].items()}
            resolved[name] = (
                SECRET_VALUES[reference["json_key"]]
                if reference["source"] == "secretsmanager"
                else PARAMETER_VALUE
            )
    return resolved


def describe(calls: CallLog) -> str:
    return ", ".join(f"{c.index}:{c.operation}" for c in calls)


def secret_string() -> str:
    return json.dumps(SECRET_VALUES)
