"""Every crash point (issue 3, section 3).

For each scenario (a stack operation on the synthesized stack, one event of which is the
target), a clean run records every AWS call the target event makes (Cognito and the DynamoDB
ledger, through a hook on boto3's default session). Then, for each call and each fault, a fresh
run injects that fault into that call and lets CloudFormation, Lambda and SQS carry on as they
would: a worker that died leaves its message in flight, and SQS delivers it again after the
visibility timeout (the retry answers); a FAILED Create is deleted, a FAILED Update is rolled
back with the properties swapped, a failed rollback is continued, a failed delete-stack is
retried. Every target event is answered, the invariants must hold once the operation has
settled, and delete-stack must give every user back exactly its original attributes.

The compensation (undo) path is enumerated the same way: a 5xx on the claim write makes the
handler undo, and every call of the undo is then faulted in turn.

Faults, for every call: the process dies before it (``crash``); a ``TooManyRequestsException``
(DynamoDB: ``ThrottlingException``) storm that outlasts botocore's retries, failing this call
and every later call of the invocation; one 5xx; a hang until botocore's read timeout, never
applied. For writes also: the write took effect and then the process died (``crash-after``), or
its answer timed out (``timeout-applied``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from cfnlocal.aws_faults import AwsCall, Fault, FaultKind
from cfnlocal.cloudformation import FaultSpec, StackOperation, Step

from .support import Run, declare

WRITES = frozenset({"AdminUpdateUserAttributes", "AdminDeleteUserAttributes", "TransactWriteItems"})
READ_FAULTS: tuple[tuple[FaultKind, bool], ...] = (
    ("crash", False),  # the process dies before the call: SQS delivers the message again
    ("throttle", True),  # a TooManyRequestsException storm: this call and every later one
    ("server-error", False),  # one 5xx
    ("timeout", False),  # the call hangs until botocore's read timeout, never applied
)
WRITE_FAULTS = (
    *READ_FAULTS,
    ("crash-after", False),  # the write took effect, then the process died
    ("timeout-applied", False),  # the write took effect, its answer timed out
)
CRASHES = frozenset({"crash", "crash-after"})


def faults_for(call: AwsCall) -> tuple[tuple[FaultKind, bool], ...]:
    return WRITE_FAULTS if call.operation in WRITES else READ_FAULTS


# -- scenarios --------------------------------------------------------------------------------

SHARED = "CiBotShared"


def shared_props(run: Run) -> dict[str, Any]:
    """A second resource on ci-bot claiming some of the same attributes (two owners)."""
    return declare(
        run.props("ci-bot"),
        {
            "custom:tenant_id": "tenant-seeded-shared",
            "given_name": "Given-Seeded-Shared",
            "nickname": None,
        },
    )


def changed_ci(run: Run) -> dict[str, Any]:
    """ci-bot's declaration changed: a value changed, email (and its implicit flag) removed,
    an absent attribute now set, an attribute added."""
    return declare(
        run.props("ci-bot"),
        {"custom:tenant_id": "tenant-seeded-v2", "nickname": "nick-seeded-v2", "custom:seats": "7"},
    )


def ci_only(run: Run) -> dict[str, dict[str, Any]]:
    """The synthesized template's ci-bot resource alone: scenarios about one resource (and a
    second owner) leave e2e-tester's out, which halves each case's setup and teardown."""
    return {ci(run): run.props("ci-bot")}


def with_ci(run: Run, properties: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {ci(run): properties}


def ci(run: Run) -> str:
    return run.logical_ids["ci-bot"]


def nothing(run: Run) -> None:
    return None


def deploy_ci(run: Run) -> None:
    assert run.stack.deploy(ci_only(run)).status == "CREATE_COMPLETE"


def deploy_with_shared(run: Run) -> None:
    template = {**ci_only(run), SHARED: shared_props(run)}
    assert run.stack.deploy(template).status == "CREATE_COMPLETE"


UPDATE_DONE = frozenset({"UPDATE_COMPLETE", "UPDATE_ROLLBACK_COMPLETE"})
CREATE_DONE = frozenset({"CREATE_COMPLETE", "ROLLBACK_COMPLETE"})


@dataclass(frozen=True)
class Scenario:
    name: str
    setup: Callable[[Run], None]
    operation: Callable[[Run], StackOperation]
    target: Callable[[Run], Step]
    statuses: frozenset[str]
    fixed: Callable[[Run, Step], Sequence[Fault]] = lambda run, step: ()
    undo: bool = False
    """Also enumerate the compensation path (the target writes claims, then Cognito)."""


def _fixed_on(
    step_of: Callable[[Run], Step], *faults: Fault
) -> Callable[[Run, Step], Sequence[Fault]]:
    return lambda run, step: faults if step == step_of(run) else ()


SCENARIOS = (
    Scenario(
        "create-stack: first Create",
        nothing,
        lambda run: run.stack.deploy(run.synthesized),
        lambda run: Step("create", "Create", ci(run)),
        CREATE_DONE,
        undo=True,
    ),
    Scenario(
        "create-stack: second Create (the first is rolled back)",
        nothing,
        lambda run: run.stack.deploy(run.synthesized),
        lambda run: Step("create", "Create", run.logical_ids["e2e-tester"]),
        CREATE_DONE,
    ),
    Scenario(
        "Create of a second owner of claimed attributes",
        deploy_ci,
        lambda run: run.stack.deploy({**ci_only(run), SHARED: shared_props(run)}),
        lambda run: Step("create", "Create", SHARED),
        UPDATE_DONE,
    ),
    Scenario(
        "Update: change, add, remove, absent-to-value",
        deploy_ci,
        lambda run: run.stack.deploy(with_ci(run, changed_ci(run))),
        lambda run: Step("update", "Update", ci(run)),
        UPDATE_DONE,
        undo=True,
    ),
    Scenario(
        "Update of the second owner",
        deploy_with_shared,
        lambda run: run.stack.deploy(
            {
                **ci_only(run),
                SHARED: declare(
                    shared_props(run),
                    {"custom:tenant_id": "tenant-seeded-shared-v2", "locale": "de-CH"},
                ),
            }
        ),
        lambda run: Step("update", "Update", SHARED),
        UPDATE_DONE,
        undo=True,
    ),
    Scenario(
        "replacement (new user), then the cleanup Delete",
        deploy_ci,
        lambda run: run.stack.deploy(
            with_ci(run, declare(run.props("ci-bot"), username="spare-user"))
        ),
        lambda run: Step("update", "Update", ci(run)),
        UPDATE_DONE,
    ),
    Scenario(
        "refactor (logical id changed): Create of the new resource",
        deploy_ci,
        lambda run: run.stack.deploy({"CiBotRenamed": run.props("ci-bot")}),
        lambda run: Step("create", "Create", "CiBotRenamed"),
        UPDATE_DONE,
    ),
    Scenario(
        "stack rollback after our Update succeeded: the rollback Update",
        deploy_ci,
        lambda run: run.stack.deploy(with_ci(run, changed_ci(run)), fail_after=True),
        lambda run: Step("rollback", "Update", ci(run)),
        frozenset({"UPDATE_ROLLBACK_COMPLETE"}),
    ),
    Scenario(
        "stack rollback after a replacement: the rollback Update",
        deploy_ci,
        lambda run: run.stack.deploy(
            with_ci(run, declare(run.props("ci-bot"), username="spare-user")), fail_after=True
        ),
        lambda run: Step("rollback", "Update", ci(run)),
        frozenset({"UPDATE_ROLLBACK_COMPLETE"}),
    ),
    Scenario(
        "rollback Update after an Update whose undo failed (5xx storm)",
        deploy_ci,
        lambda run: run.stack.deploy(with_ci(run, changed_ci(run))),
        lambda run: Step("rollback", "Update", ci(run)),
        frozenset({"UPDATE_ROLLBACK_COMPLETE"}),
        fixed=_fixed_on(
            lambda run: Step("update", "Update", ci(run)),
            Fault("server-error", 0, storm=True, operation="AdminUpdateUserAttributes"),
        ),
    ),
    Scenario(
        "Delete (reported id) after a Create whose undo failed (5xx storm)",
        nothing,
        lambda run: run.stack.deploy({ci(run): run.props("ci-bot")}),
        lambda run: Step("rollback", "Delete", ci(run)),
        frozenset({"ROLLBACK_COMPLETE"}),
        fixed=_fixed_on(
            lambda run: Step("create", "Create", ci(run)),
            Fault("server-error", 0, storm=True, operation="AdminUpdateUserAttributes"),
        ),
    ),
    Scenario(
        # Every receive dies after the claim, before its write: the dead-letter consumer answers
        # FAILED with our physical id, and the rollback Delete releases what the attempts claimed.
        "Delete (our id) after a Create redriven to the dead-letter queue",
        nothing,
        lambda run: run.stack.deploy({ci(run): run.props("ci-bot")}),
        lambda run: Step("rollback", "Delete", ci(run)),
        frozenset({"ROLLBACK_COMPLETE"}),
        fixed=_fixed_on(
            lambda run: Step("create", "Create", ci(run)),
            Fault("crash", 0, operation="AdminUpdateUserAttributes", sticky=True),
        ),
    ),
    Scenario(
        "delete-stack: Delete of one of two owners",
        deploy_with_shared,
        lambda run: run.stack.delete(),
        lambda run: Step("delete", "Delete", SHARED),
        frozenset({"DELETE_COMPLETE"}),
    ),
    Scenario(
        "delete-stack: Delete of the last owner",
        deploy_ci,
        lambda run: run.stack.delete(),
        lambda run: Step("delete", "Delete", ci(run)),
        frozenset({"DELETE_COMPLETE"}),
    ),
)


# -- running one case -------------------------------------------------------------------------


@dataclass
class Case:
    calls: list[AwsCall] = field(default_factory=list)
    target_answered: bool | None = None
    target_receives: int = 0
    """How many times the worker received the target's message."""
    status: str = ""


def run_case(lifecycle: Any, scenario: Scenario, faults: Sequence[Fault]) -> Case:
    run = lifecycle.new_run()
    scenario.setup(run)
    if not faults:
        run.check("after setup")
    target = scenario.target(run)

    def plan(step: Step) -> FaultSpec | None:
        chosen = [*scenario.fixed(run, step), *(faults if step == target else ())]
        return FaultSpec(aws=chosen) if chosen else None

    run.stack.faults = plan
    operation = scenario.operation(run)
    run.stack.faults = None
    case = Case(status=operation.status)
    for (step, invocation), (_, calls) in zip(operation.invocations, operation.calls, strict=True):
        if step == target:
            case.calls = calls
            case.target_answered = invocation.answer is not None
            assert invocation.transported is not None, "the event bypassed the queue"
            case.target_receives = invocation.transported.receives
    assert case.target_answered is not None, f"the target event {target} was never sent"
    assert operation.status in scenario.statuses, f"stack ended {operation.status}"
    assert not operation.orphaned, "a cleanup Delete failed: CloudFormation forgot a resource"
    run.check(f"after {operation.kind} ({operation.status})")
    run.teardown("end of case")
    return case


def describe(calls: Sequence[AwsCall]) -> str:
    return ", ".join(f"{c.index}:{c.operation}" for c in calls)


@pytest.mark.parametrize("scenario", SCENARIOS, ids=[s.name for s in SCENARIOS])
def test_every_crash_point(lifecycle, scenario, report):
    clean = run_case(lifecycle, scenario, [])
    assert clean.calls, "the target event made no AWS call"
    failures: list[str] = []
    points = 0

    def inject(faults: list[Fault], where: AwsCall) -> Case | None:
        nonlocal points
        label = " + ".join(f.describe() for f in faults) + f" ({where.operation})"
        case = None
        try:
            case = run_case(lifecycle, scenario, faults)
            hit = [c for c in case.calls if c.fault is faults[-1]]
            assert hit, f"the fault was never injected (calls: {describe(case.calls)})"
            assert (hit[0].index, hit[0].operation) == (where.index, where.operation), (
                f"injected into {hit[0].operation}, expected {where.operation}"
            )
            dies = faults[-1].kind in CRASHES
            assert case.target_answered, "never answered: CloudFormation waits its ServiceTimeout"
            assert (case.target_receives > 1) == dies, (
                "a dead worker's message was not received again"
                if dies
                else f"an answered fault was received {case.target_receives} times"
            )
        except AssertionError as error:
            failures.append(f"{label}: {str(error).splitlines()[0]}")
        points += 1
        return case

    def enumerate_faults(call: AwsCall, before: Sequence[Fault] = ()) -> None:
        for kind, storm in faults_for(call):
            inject([*before, Fault(kind, call.index, storm)], call)

    for call in clean.calls:
        enumerate_faults(call)

    if scenario.undo:
        claim_write = _claim_write(clean.calls)
        trigger = Fault("server-error", claim_write.index)
        undo = run_case(lifecycle, scenario, [trigger])
        undo_calls = [c for c in undo.calls if c.index > claim_write.index]
        assert undo_calls, f"no undo after a failed claim write: {describe(undo.calls)}"
        for call in undo_calls:
            enumerate_faults(call, before=[trigger])
        report(f"{scenario.name}: undo calls", describe(undo_calls))

    report(f"{scenario.name}: calls", describe(clean.calls))
    report(f"{scenario.name}: injection points", points)
    assert not failures, f"{len(failures)} of {points} injection points broke:\n" + "\n".join(
        failures[:40]
    )
    assert points >= len(READ_FAULTS) * len(clean.calls)


def _claim_write(calls: Sequence[AwsCall]) -> AwsCall:
    """The first Cognito write after the ledger transaction: writing the declared values."""
    transact = next(c.index for c in calls if c.operation == "TransactWriteItems")
    return next(
        c
        for c in calls
        if c.index > transact and c.operation.startswith("Admin") and c.operation in WRITES
    )


def test_injection_points_add_up(lifecycle, report):
    """The enumeration covers every AWS action the handler uses."""
    seen: set[str] = set()
    for scenario in SCENARIOS[:3]:
        seen.update(c.operation for c in run_case(lifecycle, scenario, []).calls)
    report("AWS actions seen", sorted(seen))
    assert {
        "AdminGetUser",
        "DescribeUserPool",
        "AdminUpdateUserAttributes",
        "AdminDeleteUserAttributes",
        "Query",
        "TransactWriteItems",
    } <= seen
